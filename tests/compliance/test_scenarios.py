"""Every compliance rule at its boundaries, from real records, on SQLite and PostgreSQL.

Each scenario names the legal clause it tests, the records an agency holds (with their dates), the
day it is judged on, and the result (and due date, where it matters) of one rule. The records are
written to the database and judged by :func:`govqms.compliance.engine.evaluate`, so the scenario
covers the queries that gather the facts as well as the rule: the day before, on and after every
deadline, leap days and month-end clamping, and a past day judged with what was true that day.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

D = dt.date
AUDIT = "QĐ 19/2014/QĐ-TTg Art. 4; TT 26/2014: internal audit at least once a year"
REVIEW = "QĐ 19/2014/QĐ-TTg Art. 4; TT 26/2014: management review at least once a year"
DECLARATION = "QĐ 19/2014/QĐ-TTg Art. 6: declaration, notification, posting, publication, re-declaration"
EDITION = "TCVN ISO 9001:2015 transition by 30/06/2021"
LEGAL = "TT 26/2014/TT-BKHCN: QMS updated within 3 months of a legal change"
INSPECTION = "TT 26/2014/TT-BKHCN Art. 39: corrective actions reported within 2 months of the minutes"
OVERDUE = "ISO 9001 10.2 / QĐ 19/2014 Art. 4: nonconformities and actions by their due dates"
OTHER = "ISO 9001 6.1 and 9.3.3: actions on risks and review decisions by their due dates"
DOCUMENTS = "ISO 9001 7.5.2: documents reviewed by their periodic review date"
CERTIFICATION = "QĐ 19/2014/QĐ-TTg (voluntary certification): surveillance years 1-2, recertification in year 3"
DATA_CALLS = "TT 26/2014/TT-BKHCN Art. 33-34: reports requested by the overseer by their deadline"
CONFIRMATION = "TT 26/2014/TT-BKHCN Art. 36: the head's confirmation of effectiveness each year"
CONSULTANT = "TT 26/2014/TT-BKHCN Art. 36: the consultant's card valid (3 years)"

DONE_2022 = {"notified": D(2022, 1, 5), "posted": D(2022, 1, 5), "published": D(2022, 1, 5)}


@dataclass
class Scenario:
    name: str
    clause: str
    on: dt.date
    rule: str
    result: str
    records: list[tuple] = field(default_factory=list)
    due: dt.date | None = None
    reason_has: str | None = None

    def __str__(self) -> str:
        return self.name


def declared(day=None, edition="2015", **steps):
    day = day or D(2022, 1, 1)
    return ("declaration", day, edition, {**DONE_2022, **steps} if day.year == 2022 else steps)


S = Scenario
SCENARIOS = [
    # --- 1. internal audit within 12 months --------------------------------------------------
    S("audit exactly 12 months ago is due today", AUDIT, D(2026, 11, 29), "internal_audit", "due_soon",
      [("audit", D(2025, 11, 29))], due=D(2026, 11, 29)),
    S("audit 12 months and a day ago is overdue", AUDIT, D(2026, 11, 29), "internal_audit", "overdue",
      [("audit", D(2025, 11, 28))]),
    S("audit due in 30 days is due soon", AUDIT, D(2026, 11, 29), "internal_audit", "due_soon",
      [("audit", D(2025, 12, 29))]),
    S("audit due in 31 days is ok", AUDIT, D(2026, 11, 29), "internal_audit", "ok", [("audit", D(2025, 12, 30))]),
    S("no audit is overdue", AUDIT, D(2026, 11, 29), "internal_audit", "overdue"),
    S("an audit ending after the day judged does not count", AUDIT, D(2026, 6, 1), "internal_audit", "overdue",
      [("audit", D(2026, 6, 10)), ("audit", D(2025, 5, 1))]),
    S("leap day audit: due 28/02 the next year", AUDIT, D(2025, 2, 28), "internal_audit", "due_soon",
      [("audit", D(2024, 2, 29))], due=D(2025, 2, 28)),
    S("leap day audit: overdue on 01/03", AUDIT, D(2025, 3, 1), "internal_audit", "overdue",
      [("audit", D(2024, 2, 29))]),
    # --- 2. management review within 12 months -----------------------------------------------
    S("review held exactly 12 months ago is due today", REVIEW, D(2026, 11, 29), "management_review", "due_soon",
      [("review", D(2025, 11, 29), None)], due=D(2026, 11, 29)),
    S("review held 12 months and a day ago is overdue", REVIEW, D(2026, 11, 29), "management_review", "overdue",
      [("review", D(2025, 11, 28), None)]),
    S("a planned review does not count", REVIEW, D(2026, 11, 29), "management_review", "overdue",
      [("review", None, None, D(2026, 11, 1))]),
    S("a review held after the day judged does not count", REVIEW, D(2026, 6, 1), "management_review", "overdue",
      [("review", D(2026, 6, 10), None), ("review", D(2025, 5, 20), None)]),
    S("the latest held review counts", REVIEW, D(2026, 11, 29), "management_review", "ok",
      [("review", D(2024, 12, 15), None), ("review", D(2026, 1, 20), None)], due=D(2027, 1, 20)),
    S("leap day review: due 28/02/2025", REVIEW, D(2025, 2, 27), "management_review", "due_soon",
      [("review", D(2024, 2, 29), None)], due=D(2025, 2, 28)),
    # --- 3. declaration covering the current scope ------------------------------------------
    S("no declaration", DECLARATION, D(2026, 11, 29), "declaration", "overdue"),
    S("declared, notified, posted and published, scope covered", DECLARATION, D(2026, 11, 29), "declaration", "ok",
      [("procedure", D(2021, 1, 1), None, True), declared()]),
    S("a declaration dated after the day judged does not count", DECLARATION, D(2026, 11, 29), "declaration",
      "overdue", [declared(D(2026, 12, 1), notified=D(2026, 12, 1), posted=D(2026, 12, 1),
                           published=D(2026, 12, 1))]),
    S("scope widened: a procedure added after the declaration", DECLARATION, D(2026, 11, 29), "declaration",
      "overdue", [("procedure", D(2021, 1, 1), None, True), declared(), ("procedure", D(2024, 3, 1), None, False)],
      reason_has="1"),
    S("scope narrowed: a declared procedure withdrawn since", DECLARATION, D(2026, 11, 29), "declaration",
      "overdue", [("procedure", D(2021, 1, 1), D(2025, 6, 1), True), ("procedure", D(2021, 1, 1), None, True),
                  declared()]),
    S("narrowed after the day judged: covered on that day", DECLARATION, D(2025, 5, 31), "declaration", "ok",
      [("procedure", D(2021, 1, 1), D(2025, 6, 1), True), ("procedure", D(2021, 1, 1), None, True), declared()]),
    S("widened after the day judged: covered on that day", DECLARATION, D(2024, 2, 28), "declaration", "ok",
      [("procedure", D(2021, 1, 1), None, True), declared(), ("procedure", D(2024, 3, 1), None, False)]),
    S("DOST never notified", DECLARATION, D(2026, 11, 29), "declaration", "overdue",
      [declared(notified=None)], reason_has="Sở KH&CN"),
    S("never published on the website", DECLARATION, D(2026, 11, 29), "declaration", "overdue",
      [declared(published=None)]),
    S("not yet posted 10 days after declaring: due soon", DECLARATION, D(2026, 11, 29), "declaration", "due_soon",
      [declared(D(2026, 11, 19), notified=D(2026, 11, 20), published=D(2026, 11, 20))], due=D(2026, 12, 19)),
    S("notified only after the day judged", DECLARATION, D(2023, 1, 1), "declaration", "overdue",
      [declared(D(2022, 1, 1), "2015", notified=D(2023, 6, 1), posted=D(2022, 1, 2), published=D(2022, 1, 2))]),
    S("a 2008 declaration after the transition: declare again", DECLARATION, D(2026, 11, 29), "declaration",
      "overdue", [declared(D(2017, 3, 20), "2008", notified=D(2017, 3, 25), posted=D(2017, 3, 21),
                           published=D(2017, 3, 21))]),
    S("a 2008 declaration before the transition deadline", DECLARATION, D(2020, 6, 1), "declaration", "ok",
      [declared(D(2017, 3, 20), "2008", notified=D(2017, 3, 25), posted=D(2017, 3, 21), published=D(2017, 3, 21))]),
    S("an archived declaration does not count", DECLARATION, D(2026, 11, 29), "declaration", "overdue",
      [("declaration", D(2022, 1, 1), "2015", {**DONE_2022, "archived": True})]),
    # --- 4. edition from the declaration or certificate in force -----------------------------
    S("declared on 2015", EDITION, D(2026, 11, 29), "edition", "ok", [declared()]),
    S("declared on 2008, the day after the deadline", EDITION, D(2021, 7, 1), "edition", "overdue",
      [declared(D(2017, 3, 20), "2008")], due=D(2021, 6, 30)),
    S("declared on 2008, on the deadline", EDITION, D(2021, 6, 30), "edition", "due_soon",
      [declared(D(2017, 3, 20), "2008")]),
    S("declared on 2008, 31 days before the deadline", EDITION, D(2021, 5, 30), "edition", "ok",
      [declared(D(2017, 3, 20), "2008")]),
    S("no declaration nor certificate: no edition", EDITION, D(2026, 11, 29), "edition", "not_applicable"),
    S("a 2015 certificate after a 2008 declaration", EDITION, D(2026, 11, 29), "edition", "ok",
      [declared(D(2017, 3, 20), "2008"), ("certificate", D(2025, 1, 10), D(2028, 1, 9), "2015", [])],
      reason_has="giấy chứng nhận"),
    S("2008 on the eve of the 2015 re-declaration", EDITION, D(2022, 4, 14), "edition", "overdue",
      [declared(D(2017, 3, 20), "2008"), declared(D(2022, 4, 15))]),
    S("2015 from the day of the re-declaration", EDITION, D(2022, 4, 15), "edition", "ok",
      [declared(D(2017, 3, 20), "2008"), declared(D(2022, 4, 15))]),
    S("a past day takes the edition declared then", EDITION, D(2019, 6, 1), "edition", "ok",
      [declared(D(2017, 3, 20), "2008"), declared(D(2022, 4, 15))], reason_has="2008"),
    # --- 5. legal changes applied within 3 months --------------------------------------------
    S("unapplied change due today", LEGAL, D(2026, 11, 29), "legal_changes", "due_soon",
      [("legal", D(2026, 8, 29), None)], due=D(2026, 11, 29)),
    S("unapplied change one day over", LEGAL, D(2026, 11, 29), "legal_changes", "overdue",
      [("legal", D(2026, 8, 28), None)]),
    S("applied in time", LEGAL, D(2026, 11, 29), "legal_changes", "ok", [("legal", D(2026, 1, 1), D(2026, 2, 1))],
      reason_has="trong vòng 3 tháng"),
    S("applied late: all applied, and said so", LEGAL, D(2026, 11, 29), "legal_changes", "ok",
      [("legal", D(2026, 1, 1), D(2026, 6, 1))], reason_has="quá 3 tháng"),
    S("applied after the day judged: not applied on that day", LEGAL, D(2026, 5, 1), "legal_changes", "overdue",
      [("legal", D(2026, 1, 1), D(2026, 6, 1))]),
    S("month end: effective 30/11, due 28/02", LEGAL, D(2026, 2, 28), "legal_changes", "due_soon",
      [("legal", D(2025, 11, 30), None)], due=D(2026, 2, 28)),
    S("month end: overdue on 01/03", LEGAL, D(2026, 3, 1), "legal_changes", "overdue",
      [("legal", D(2025, 11, 30), None)]),
    S("leap year: effective 30/11/2023, due 29/02/2024", LEGAL, D(2024, 2, 29), "legal_changes", "due_soon",
      [("legal", D(2023, 11, 30), None)], due=D(2024, 2, 29)),
    S("no legal change recorded", LEGAL, D(2026, 11, 29), "legal_changes", "ok"),
    S("a change taking effect next year", LEGAL, D(2026, 11, 29), "legal_changes", "ok",
      [("legal", D(2027, 1, 1), None)], due=D(2027, 4, 1)),
    # --- 6. corrective-action report after an inspection -------------------------------------
    S("no inspection minutes", INSPECTION, D(2026, 11, 29), "inspection_actions", "not_applicable"),
    S("report due today, 2 months after the minutes", INSPECTION, D(2026, 11, 29), "inspection_actions",
      "due_soon", [("inspection", "province", D(2026, 9, 29), None, None, "minutes_signed")], due=D(2026, 11, 29)),
    S("report one day late", INSPECTION, D(2026, 11, 29), "inspection_actions", "overdue",
      [("inspection", "province", D(2026, 9, 28), None, None, "minutes_signed")]),
    S("received on time and accepted", INSPECTION, D(2026, 11, 29), "inspection_actions", "ok",
      [("inspection", "province", D(2026, 6, 10), D(2026, 8, 1), D(2026, 8, 20), "accepted")], reason_has="đúng hạn"),
    S("received late and accepted", INSPECTION, D(2026, 11, 29), "inspection_actions", "ok",
      [("inspection", "province", D(2026, 6, 10), D(2026, 9, 1), D(2026, 9, 20), "accepted")], reason_has="trễ hạn"),
    S("report not accepted", INSPECTION, D(2026, 11, 29), "inspection_actions", "overdue",
      [("inspection", "province", D(2026, 6, 10), D(2026, 8, 1), D(2026, 8, 20), "not_accepted")]),
    S("report received after the day judged", INSPECTION, D(2026, 8, 15), "inspection_actions", "overdue",
      [("inspection", "province", D(2026, 6, 10), D(2026, 9, 1), D(2026, 9, 20), "accepted")]),
    S("accepted after the day judged: awaited on that day", INSPECTION, D(2026, 8, 5), "inspection_actions", "ok",
      [("inspection", "province", D(2026, 6, 10), D(2026, 8, 1), D(2026, 8, 20), "accepted")],
      reason_has="đang chờ"),
    S("a ministry's inspection is worded as the ministry's", INSPECTION, D(2026, 11, 29), "inspection_actions",
      "overdue", [("inspection", "ministry", D(2026, 6, 10), None, None, "minutes_signed")],
      reason_has="Ban chỉ đạo ISO của Bộ"),
    S("a province's inspection is worded as the DOST's", INSPECTION, D(2026, 11, 29), "inspection_actions",
      "overdue", [("inspection", "province", D(2026, 6, 10), None, None, "minutes_signed")],
      reason_has="Sở Khoa học và Công nghệ"),
    S("minutes signed after the day judged", INSPECTION, D(2026, 6, 1), "inspection_actions", "not_applicable",
      [("inspection", "province", D(2026, 6, 10), None, None, "minutes_signed")]),
    S("actions implemented but never reported", INSPECTION, D(2026, 11, 29), "inspection_actions", "overdue",
      [("inspection", "province", D(2026, 8, 1), None, None, "minutes_signed"),
       ("nc", D(2026, 8, 1), D(2026, 10, 1), None, None), ("action", D(2026, 9, 1), D(2026, 9, 5), "nc")]),
    S("the latest inspection governs", INSPECTION, D(2026, 11, 29), "inspection_actions", "ok",
      [("inspection", "ministry", D(2025, 6, 10), None, None, "minutes_signed"),
       ("inspection", "province", D(2026, 6, 10), D(2026, 8, 1), D(2026, 8, 20), "accepted")]),
    # --- 7. nonconformities and corrective actions -------------------------------------------
    S("a nonconformity past its due date with no action", OVERDUE, D(2026, 11, 29), "actions", "overdue",
      [("nc", D(2026, 9, 1), D(2026, 11, 1), None, None)], reason_has="1 sự không phù hợp"),
    S("a nonconformity due in 10 days", OVERDUE, D(2026, 11, 29), "actions", "due_soon",
      [("nc", D(2026, 9, 1), D(2026, 12, 9), None, None)]),
    S("a nonconformity closed before the day judged", OVERDUE, D(2026, 11, 29), "actions", "ok",
      [("nc", D(2026, 9, 1), D(2026, 11, 1), D(2026, 10, 20), None)]),
    S("a nonconformity closed after the day judged", OVERDUE, D(2026, 11, 15), "actions", "overdue",
      [("nc", D(2026, 9, 1), D(2026, 11, 1), D(2026, 11, 20), None)]),
    S("a nonconformity verified before the day judged", OVERDUE, D(2026, 11, 29), "actions", "ok",
      [("nc", D(2026, 9, 1), D(2026, 11, 1), None, D(2026, 10, 30))]),
    S("a nonconformity whose actions are all done", OVERDUE, D(2026, 11, 29), "actions", "ok",
      [("nc", D(2026, 9, 1), D(2026, 11, 1), None, None), ("action", D(2026, 10, 15), D(2026, 10, 10), "nc")]),
    S("a corrective action past its due date", OVERDUE, D(2026, 11, 29), "actions", "overdue",
      [("nc", D(2026, 9, 1), None, None, None), ("action", D(2026, 11, 28), None, "nc")]),
    S("a corrective action due today", OVERDUE, D(2026, 11, 29), "actions", "due_soon",
      [("nc", D(2026, 9, 1), None, None, None), ("action", D(2026, 11, 29), None, "nc")]),
    S("a corrective action done after the day judged was overdue then", OVERDUE, D(2026, 10, 1), "actions",
      "overdue", [("nc", D(2026, 8, 1), None, None, None), ("action", D(2026, 9, 15), D(2026, 10, 20), "nc")]),
    S("a corrective action done before the day judged", OVERDUE, D(2026, 11, 1), "actions", "ok",
      [("nc", D(2026, 8, 1), None, None, None), ("action", D(2026, 9, 15), D(2026, 10, 20), "nc")]),
    S("an overdue risk action is not a corrective action", OVERDUE, D(2026, 11, 29), "actions", "ok",
      [("action", D(2026, 10, 1), None, "risk")]),
    # --- 7b. actions on risks and review decisions -------------------------------------------
    S("an overdue risk action", OTHER, D(2026, 11, 29), "other_actions", "overdue",
      [("action", D(2026, 10, 1), None, "risk")]),
    S("an overdue review decision", OTHER, D(2026, 11, 29), "other_actions", "overdue",
      [("action", D(2026, 10, 1), None, "review")]),
    S("a review decision done in time", OTHER, D(2026, 11, 29), "other_actions", "ok",
      [("action", D(2026, 10, 1), D(2026, 9, 20), "review")]),
    # --- 8. documents reviewed on time -------------------------------------------------------
    S("issued 12 months ago, never reviewed: due today", DOCUMENTS, D(2025, 1, 10), "document_reviews",
      "due_soon", [("document", D(2024, 1, 10), [], None)], due=D(2025, 1, 10)),
    S("issued 12 months and a day ago: overdue", DOCUMENTS, D(2025, 1, 11), "document_reviews", "overdue",
      [("document", D(2024, 1, 10), [], None)]),
    S("reviewed since its issue: the review counts", DOCUMENTS, D(2025, 6, 1), "document_reviews", "ok",
      [("document", D(2024, 1, 10), [D(2025, 1, 5)], None)], due=D(2026, 1, 5)),
    S("a review after the day judged does not count", DOCUMENTS, D(2025, 2, 1), "document_reviews", "overdue",
      [("document", D(2024, 1, 10), [D(2025, 3, 1)], None)]),
    S("an obsolete document is not reviewed", DOCUMENTS, D(2025, 6, 1), "document_reviews", "ok",
      [("document", D(2022, 1, 10), [], D(2024, 1, 1))]),
    S("a document issued after the day judged", DOCUMENTS, D(2023, 6, 1), "document_reviews", "ok",
      [("document", D(2024, 1, 10), [], None)]),
    # --- 9. certification --------------------------------------------------------------------
    S("last year of the cycle: recertification, not a third surveillance", CERTIFICATION, D(2026, 11, 29),
      "certification", "due_soon",
      [("certificate", D(2023, 12, 1), D(2026, 11, 30), "2015", [("surveillance", D(2024, 11, 15)),
                                                                 ("surveillance", D(2025, 11, 10))])],
      due=D(2026, 11, 30), reason_has="tái chứng nhận"),
    S("expired without recertification nor declaration", CERTIFICATION, D(2026, 12, 1), "certification",
      "overdue", [("certificate", D(2023, 12, 1), D(2026, 11, 30), "2015", [])]),
    S("lapsed long ago, the agency declares since: history", CERTIFICATION, D(2026, 11, 29), "certification",
      "not_applicable", [("certificate", D(2012, 5, 4), D(2015, 5, 3), "2008", []), declared()]),
    S("marked not renewed: history", CERTIFICATION, D(2026, 11, 29), "certification", "not_applicable",
      [("certificate", D(2021, 5, 4), D(2024, 5, 3), "2015", [], D(2024, 5, 3), "not_renewed")]),
    S("withdrawn later: in force before the withdrawal", CERTIFICATION, D(2025, 1, 2), "certification", "overdue",
      [("certificate", D(2023, 12, 1), D(2026, 11, 30), "2015", [], D(2025, 6, 1), "withdrawn")]),
    S("withdrawn: history from that day", CERTIFICATION, D(2025, 6, 1), "certification", "not_applicable",
      [("certificate", D(2023, 12, 1), D(2026, 11, 30), "2015", [], D(2025, 6, 1), "withdrawn")]),
    S("year 1: first surveillance due 12 months after issue", CERTIFICATION, D(2026, 11, 29), "certification",
      "due_soon", [("certificate", D(2025, 12, 1), D(2028, 11, 30), "2015", [])], due=D(2026, 12, 1)),
    S("year 1: first surveillance missed", CERTIFICATION, D(2026, 11, 29), "certification", "overdue",
      [("certificate", D(2025, 11, 1), D(2028, 10, 31), "2015", [])]),
    S("year 2: 12 months after the first surveillance", CERTIFICATION, D(2026, 11, 29), "certification", "overdue",
      [("certificate", D(2024, 12, 1), D(2027, 11, 30), "2015", [("surveillance", D(2025, 11, 20))])],
      due=D(2026, 11, 20)),
    S("a surveillance held after the day judged does not count", CERTIFICATION, D(2025, 12, 5), "certification",
      "overdue", [("certificate", D(2024, 12, 1), D(2027, 11, 30), "2015", [("surveillance", D(2025, 12, 20))])]),
    S("not certified", CERTIFICATION, D(2026, 11, 29), "certification", "not_applicable"),
    S("recertification audit held, new certificate awaited", CERTIFICATION, D(2026, 11, 29), "certification",
      "ok", [("certificate", D(2023, 12, 1), D(2026, 12, 31), "2015", [("recertification", D(2026, 11, 1))])]),
    # --- 10. data calls ----------------------------------------------------------------------
    S("a data call past its deadline, not answered", DATA_CALLS, D(2026, 11, 29), "data_calls", "overdue",
      [("call", D(2026, 10, 1), D(2026, 11, 28), None)]),
    S("a data call due today", DATA_CALLS, D(2026, 11, 29), "data_calls", "due_soon",
      [("call", D(2026, 10, 1), D(2026, 11, 29), None)]),
    S("answered late: answered, and said so", DATA_CALLS, D(2026, 11, 29), "data_calls", "ok",
      [("call", D(2026, 10, 1), D(2026, 10, 20), D(2026, 10, 25))], reason_has="muộn"),
    S("answered after the day judged", DATA_CALLS, D(2026, 10, 22), "data_calls", "overdue",
      [("call", D(2026, 10, 1), D(2026, 10, 20), D(2026, 10, 25))]),
    S("a data call sent after the day judged", DATA_CALLS, D(2026, 9, 1), "data_calls", "not_applicable",
      [("call", D(2026, 10, 1), D(2026, 10, 20), None)]),
    # --- 11. head's confirmation of effectiveness --------------------------------------------
    S("confirmed this year at a held review", CONFIRMATION, D(2026, 11, 29), "confirmation", "ok",
      [("review", D(2026, 3, 10), D(2026, 3, 10))]),
    S("confirmed at a review held after the day judged", CONFIRMATION, D(2026, 3, 1), "confirmation", "overdue",
      [("review", D(2026, 3, 10), D(2026, 3, 10))]),
    S("confirmed after the day judged", CONFIRMATION, D(2026, 3, 15), "confirmation", "overdue",
      [("review", D(2026, 3, 10), D(2026, 3, 20))]),
    S("last year's confirmation, a month before the year ends", CONFIRMATION, D(2026, 12, 1), "confirmation",
      "due_soon", [("review", D(2025, 12, 10), D(2025, 12, 10))], due=D(2026, 12, 31)),
    S("last year's confirmation missing", CONFIRMATION, D(2026, 11, 29), "confirmation", "overdue",
      [("review", D(2025, 12, 10), None)]),
    S("a planned review cannot carry a confirmation", CONFIRMATION, D(2026, 11, 29), "confirmation", "overdue",
      [("review", None, D(2026, 3, 10), D(2026, 3, 10))]),
    # --- consultant --------------------------------------------------------------------------
    S("the consultant's card has expired", CONSULTANT, D(2026, 11, 29), "consultant", "overdue",
      [("consultant", D(2026, 6, 30))]),
    S("the consultant's card is valid", CONSULTANT, D(2026, 11, 29), "consultant", "ok",
      [("consultant", D(2027, 6, 30))]),
    S("the card expired after the day judged", CONSULTANT, D(2026, 1, 1), "consultant", "ok",
      [("consultant", D(2026, 6, 30))]),
    S("no consultant", CONSULTANT, D(2026, 11, 29), "consultant", "not_applicable"),
]


def _aware(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9), ZoneInfo("Asia/Ho_Chi_Minh"))


class Builder:
    """Writes a scenario's records into one agency, the way the services would have over time."""

    def __init__(self, db, tenant_id: int, jurisdiction_id: int):
        self.db, self.tenant_id, self.jurisdiction_id = db, tenant_id, jurisdiction_id
        self.procedures: list[tuple[int, bool]] = []
        self.last_nc = None
        self.plans: dict[tuple[str, int], int] = {}

    def add(self, record: tuple) -> None:
        getattr(self, record[0])(*record[1:])
        self.db.session.flush()

    def audit(self, ended):
        from govqms.audits.models import Audit

        self.db.session.add(Audit(tenant_id=self.tenant_id, year=ended.year, title="x", planned_start=ended,
                                  planned_end=ended, actual_start=ended, actual_end=ended, status="reported",
                                  clauses=[], unit_ids=[], process_ids=[], team_ids=[]))

    def review(self, held, confirmed, meeting=None):
        from govqms.reviews.models import ManagementReview

        meeting = meeting or held
        self.db.session.add(ManagementReview(
            tenant_id=self.tenant_id, year=meeting.year, meeting_on=meeting, held_on=held, chair="x", inputs={},
            notes={}, effectiveness_confirmed=confirmed is not None, confirmed_on=confirmed))

    def procedure(self, created, archived, declared):
        from govqms.procedures.models import AdminProcedure

        row = AdminProcedure(tenant_id=self.tenant_id, code=f"P{len(self.procedures)}", name="x",
                             archived_at=_aware(archived) if archived else None)
        self.db.session.add(row)
        self.db.session.flush()
        row.created_at = _aware(created)
        self.procedures.append((row.id, declared))

    def declaration(self, decided, edition, steps):
        from govqms.conformity.models import Declaration, DeclarationProcedure

        row = Declaration(tenant_id=self.tenant_id, decision_number="1", decided_on=decided, edition=edition,
                          dost_notified_on=steps.get("notified"), posted_on=steps.get("posted"),
                          published_on=steps.get("published"),
                          archived_at=_aware(decided) if steps.get("archived") else None)
        self.db.session.add(row)
        self.db.session.flush()
        self.db.session.add_all([
            DeclarationProcedure(tenant_id=self.tenant_id, declaration_id=row.id, procedure_id=pid)
            for pid, declared in self.procedures if declared])

    def legal(self, effective, applied):
        from govqms.legal.models import LegalChange

        self.db.session.add(LegalChange(tenant_id=self.tenant_id, number="1", title="x", effective_on=effective,
                                        qms_updated_on=applied))

    def inspection(self, level, minutes, received, decided, status):
        from govqms.inspections.models import Inspection, InspectionPlan
        from govqms.tenancy.models import Jurisdiction

        key = (level, minutes.year)
        if key not in self.plans:
            jurisdiction_id = self.jurisdiction_id
            if level == "ministry":
                ministry = Jurisdiction(code=f"bo-{minutes.year}", name="Bộ Thử", level="ministry",
                                        parent_id=None)
                self.db.session.add(ministry)
                self.db.session.flush()
                jurisdiction_id = ministry.id
            plan = InspectionPlan(jurisdiction_id=jurisdiction_id, year=minutes.year)
            self.db.session.add(plan)
            self.db.session.flush()
            self.plans[key] = plan.id
        from govqms.core.clock import add_months

        self.db.session.add(Inspection(
            tenant_id=self.tenant_id, plan_id=self.plans[key], minutes_on=minutes, report_due_on=add_months(minutes, 2),
            report_received_on=received, report_decided_on=decided, status=status, checklist={}, findings=[]))

    def nc(self, found, due, closed, verified):
        from govqms.improvement.models import Nonconformity

        self.last_nc = Nonconformity(tenant_id=self.tenant_id, source="self_found", found_on=found, description="x",
                                     due_on=due, closed_on=closed, verified_on=verified,
                                     status="closed" if closed else "verified" if verified else "open")
        self.db.session.add(self.last_nc)

    def action(self, due, done, kind):
        from govqms.improvement.models import Action, Risk
        from govqms.reviews.models import ManagementReview

        links = {}
        if kind == "nc":
            links["nonconformity_id"] = self.last_nc.id
        elif kind == "risk":
            risk = Risk(tenant_id=self.tenant_id, kind="risk", description="x", likelihood=2, impact=2)
            self.db.session.add(risk)
            self.db.session.flush()
            links["risk_id"] = risk.id
        else:
            review = ManagementReview(tenant_id=self.tenant_id, year=due.year, meeting_on=D(2020, 1, 1),
                                      held_on=D(2020, 1, 1), chair="x", inputs={}, notes={})
            self.db.session.add(review)
            self.db.session.flush()
            links["review_id"] = review.id
        self.db.session.add(Action(tenant_id=self.tenant_id, description="x", due_on=due, done_on=done,
                                   status="done" if done else "open", **links))

    def document(self, issued, reviews, obsolete):
        from govqms.core.clock import add_months
        from govqms.documents.models import Document, DocumentReview, Revision

        base = max([issued, *reviews])
        document = Document(tenant_id=self.tenant_id, code=f"QT-{issued:%y%m%d}", title="x", kind="system_procedure",
                            status="obsolete" if obsolete else "effective", effective_on=issued,
                            obsolete_on=obsolete, last_reviewed_on=max(reviews) if reviews else None,
                            next_review_on=None if obsolete else add_months(base, 12))
        self.db.session.add(document)
        self.db.session.flush()
        self.db.session.add(Revision(tenant_id=self.tenant_id, document_id=document.id, number=1, status="effective",
                                     effective_on=issued, approved_at=_aware(issued)))
        self.db.session.add_all([DocumentReview(tenant_id=self.tenant_id, document_id=document.id, reviewed_on=day,
                                                outcome="no_change") for day in reviews])

    def certificate(self, issued, expires, edition, audits, ended=None, reason=None):
        from govqms.conformity.models import Certificate, ExternalAudit

        certificate = Certificate(tenant_id=self.tenant_id, body="QUACERT", number="HT 1", edition=edition,
                                  issued_on=issued, expires_on=expires, ended_on=ended, end_reason=reason)
        self.db.session.add(certificate)
        self.db.session.flush()
        self.db.session.add_all([ExternalAudit(tenant_id=self.tenant_id, certificate_id=certificate.id, kind=kind,
                                               planned_on=held, held_on=held) for kind, held in audits])

    def call(self, sent, deadline, submitted):
        from govqms.datacalls.models import DataCall, DataCallReply

        call = DataCall(jurisdiction_id=self.jurisdiction_id, title="x", deadline=deadline, sent_on=sent)
        self.db.session.add(call)
        self.db.session.flush()
        self.db.session.add(DataCallReply(tenant_id=self.tenant_id, call_id=call.id, submitted_on=submitted))

    def consultant(self, expires):
        from govqms.conformity.models import Consultant

        self.db.session.add(Consultant(tenant_id=self.tenant_id, name="Nguyễn Tư Vấn", card_expires_on=expires))


def test_there_are_enough_scenarios_and_each_names_its_clause():
    from govqms.compliance.engine import RULES

    assert len(SCENARIOS) >= 80
    assert all(s.clause for s in SCENARIOS)
    assert {s.rule for s in SCENARIOS} == {key for key, _label, _judge in RULES}, "every rule has scenarios"
    assert len({s.name for s in SCENARIOS}) == len(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_scenario(scenario: Scenario, app, world, system_scope):
    from govqms.compliance.engine import evaluate
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == world.a2))
    builder = Builder(db, tenant.id, tenant.jurisdiction_id)
    for record in scenario.records:
        builder.add(record)
    db.session.flush()
    check = next(c for c in evaluate([tenant.id], scenario.on)[tenant.id].checks if c.rule == scenario.rule)
    assert check.result == scenario.result, f"{scenario.clause}: {check.reason}"
    if scenario.due is not None:
        assert check.due_on == scenario.due, f"{scenario.clause}: {check.reason}"
    if scenario.reason_has is not None:
        assert scenario.reason_has in check.reason, check.reason
