"""The inspection checklist pre-fills from the agency's records (issue 19, item 5): each item judged on
the inspection's day by the same computation as the status page, the new item on the previous
inspection's corrective actions, the minutes form pre-selected but saving exactly what the inspector
submits, a signed checklist never recomputed, and a page whose cost does not grow with the records."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from tests.compliance.test_scenarios import Builder, _aware
from tests.inspections.test_plan_follow_up import inspection_of, make_plan, plan_inspection

D = dt.date
YEAR = 2026
DAY = D(2026, 6, 15)  # the inspection's first planned day: the day its checklist is judged on


# --- records -------------------------------------------------------------------------------------

class Records(Builder):
    """An agency's records, dated, written as the services would have written them over time."""

    def __init__(self, db, world, key: str):
        from govqms.tenancy.models import Tenant

        tenant = db.session.get(Tenant, world.tenant_ids[key]) if key in world.tenant_ids else db.session.scalar(
            select(Tenant).where(Tenant.slug == key))
        super().__init__(db, tenant.id, tenant.jurisdiction_id)
        self.tenant = tenant

    def work_procedure(self, created: dt.date, covered: bool = True, declared: bool = True) -> None:
        """An administrative procedure of the catalogue, with (or without) the work procedure covering it."""
        from govqms.documents.models import Document
        from govqms.procedures.models import AdminProcedure

        number = len(self.procedures)
        document = None
        if covered:
            document = Document(tenant_id=self.tenant_id, code=f"QT-{number:03}", title=f"Quy trình {number}",
                                kind="work_procedure", status="effective", effective_on=created)
            self.db.session.add(document)
            self.db.session.flush()
        row = AdminProcedure(tenant_id=self.tenant_id, code=f"TTHC-{number:03}", name=f"Thủ tục {number}",
                             work_procedure_id=document.id if document else None)
        self.db.session.add(row)
        self.db.session.flush()
        row.created_at = _aware(created)
        self.procedures.append((row.id, declared))
        self.db.session.flush()

    def nonconformity(self, *, source: str, found: dt.date, due: dt.date | None, verified: dt.date | None = None,
                      closed: dt.date | None = None):
        from govqms.improvement.models import Nonconformity

        nc = Nonconformity(tenant_id=self.tenant_id, source=source, found_on=found, description="Phát hiện",
                           due_on=due, verified_on=verified, closed_on=closed,
                           status="closed" if closed else "verified" if verified else "open")
        self.db.session.add(nc)
        self.db.session.flush()
        return nc

    def previous_inspection(self, *, minutes: dt.date, received: dt.date | None = None,
                            decided: dt.date | None = None, status: str = "minutes_signed",
                            findings: list[tuple[dt.date | None]] = ()):
        """An earlier inspection with its report's dates, and one nonconformity per finding, each verified
        effective on the date given (None: still open)."""
        from govqms.core.clock import add_months
        from govqms.inspections.models import Inspection, InspectionPlan

        plan = self.db.session.scalar(select(InspectionPlan).where(
            InspectionPlan.jurisdiction_id == self.jurisdiction_id, InspectionPlan.year == minutes.year))
        if plan is None:
            plan = InspectionPlan(jurisdiction_id=self.jurisdiction_id, year=minutes.year)
            self.db.session.add(plan)
            self.db.session.flush()
        due = add_months(minutes, 2)
        recorded = []
        for number, verified in enumerate(findings):
            nc = self.nonconformity(source="provincial_inspection", found=minutes, due=due, verified=verified)
            recorded.append({"description": f"Phát hiện {number}", "clause": "", "nc_id": nc.id})
        inspection = Inspection(tenant_id=self.tenant_id, plan_id=plan.id, form="on_site", status=status,
                                held_on=minutes, minutes_on=minutes, report_due_on=due, report_received_on=received,
                                report_decided_on=decided, checklist={}, findings=recorded)
        self.db.session.add(inspection)
        self.db.session.flush()
        return inspection

    def staff(self, email: str, trained_on: dt.date | None) -> None:
        from govqms.accounts.models import User
        from govqms.competence.models import Qualification, StaffProfile

        user = self.db.session.scalar(select(User).where(User.email == email))
        self.db.session.add(StaffProfile(tenant_id=self.tenant_id, user_id=user.id, job_title="Chuyên viên"))
        if trained_on:
            self.db.session.add(Qualification(tenant_id=self.tenant_id, user_id=user.id, kind="awareness",
                                              course="Nhận thức TCVN ISO 9001:2015", completed_on=trained_on))
        self.db.session.flush()

    def service(self, month: int, *, on_time: int, late: int) -> None:
        from govqms.performance.models import ServiceResult

        self.db.session.add(ServiceResult.of_month(YEAR, month, tenant_id=self.tenant_id, received=on_time + late,
                                                   resolved_early=0, resolved_on_time=on_time, resolved_late=late,
                                                   pending=0))
        self.db.session.flush()

    def held_review(self, held: dt.date, *, chair: str, confirmed: bool, decisions: list[tuple]):
        """A management review held on *held*, with improvement decisions (due, done or None)."""
        from govqms.improvement.models import Action
        from govqms.reviews.models import ManagementReview

        review = ManagementReview(tenant_id=self.tenant_id, year=held.year, meeting_on=held, held_on=held, chair=chair,
                                  inputs={}, notes={}, effectiveness_confirmed=confirmed,
                                  confirmed_on=held if confirmed else None)
        self.db.session.add(review)
        self.db.session.flush()
        self.db.session.add_all([Action(tenant_id=self.tenant_id, review_id=review.id, category="improvement",
                                        description="Cải tiến", due_on=due, done_on=done,
                                        status="done" if done else "open") for due, done in decisions])
        self.db.session.flush()


def good_records(db, world) -> Records:
    """a1: every computable item met on DAY."""
    records = Records(db, world, "a1")
    records.work_procedure(D(2021, 1, 1))
    records.declaration(D(2022, 1, 1), "2015", {"notified": D(2022, 1, 5), "posted": D(2022, 1, 6),
                                                "published": D(2022, 1, 7)})
    records.work_procedure(D(2024, 3, 1))  # the scope widened, declared again
    records.declaration(D(2025, 3, 1), "2015", {"notified": D(2025, 3, 5), "posted": D(2025, 3, 6),
                                                "published": D(2025, 3, 7)})
    records.audit(D(2026, 3, 10))
    records.held_review(D(2026, 1, 20), chair="Giám đốc Trần Văn Bình", confirmed=True,
                        decisions=[(D(2026, 4, 30), D(2026, 4, 20))])
    records.legal(D(2026, 1, 1), D(2026, 2, 1))
    records.consultant(D(2027, 6, 30))
    records.previous_inspection(minutes=D(2025, 6, 10), received=D(2025, 8, 1), decided=D(2025, 8, 5),
                                status="accepted", findings=[D(2025, 9, 1)])
    records.staff(world.email("a1_secretary"), D(2024, 5, 1))
    records.staff(world.email("a1_staff"), D(2025, 5, 2))
    records.nonconformity(source="complaint", found=D(2026, 2, 1), due=D(2026, 3, 1), verified=D(2026, 2, 20))
    records.service(3, on_time=40, late=0)
    db.session.commit()
    return records


def bad_records(db, world) -> Records:
    """a2: every computable item not met on DAY."""
    records = Records(db, world, "a2")
    records.work_procedure(D(2016, 1, 1))
    records.declaration(D(2017, 3, 20), "2008", {"notified": D(2017, 3, 25)})
    records.work_procedure(D(2024, 3, 1), covered=False, declared=False)  # outside the declared scope
    records.audit(D(2025, 4, 15))  # 14 months before DAY
    records.nonconformity(source="self_found", found=D(2026, 1, 5), due=D(2026, 3, 1))
    records.legal(D(2026, 1, 1), None)  # due 01/04/2026, never applied
    records.consultant(D(2026, 1, 1))
    records.previous_inspection(minutes=D(2025, 6, 10), received=D(2025, 9, 1), decided=D(2025, 9, 5),
                                status="accepted", findings=[None, D(2025, 12, 1)])
    records.nonconformity(source="complaint", found=D(2026, 2, 1), due=D(2026, 3, 1))
    records.held_review(D(2024, 12, 1), chair="Phó Giám đốc", confirmed=False, decisions=[])
    records.held_review(D(2025, 12, 1), chair="Phó Giám đốc", confirmed=False, decisions=[(D(2026, 2, 1), None)])
    records.service(3, on_time=37, late=3)
    db.session.commit()
    return records


def suggestions_for(key: str, world, on: dt.date = DAY, inspection=None):
    from govqms.extensions import db
    from govqms.inspections.models import Inspection
    from govqms.inspections.prefill import prefill
    from govqms.tenancy.models import Tenant

    tenant = db.session.get(Tenant, world.tenant_ids[key]) if key in world.tenant_ids else db.session.scalar(
        select(Tenant).where(Tenant.slug == key))
    return prefill(inspection or Inspection(id=0, tenant_id=tenant.id), tenant, on)


def results(suggestions) -> dict[str, str]:
    return {key: s.result for key, s in suggestions.items()}


# --- the items, from the records -------------------------------------------------------------------

def test_the_new_item_follows_the_review_audit_and_corrective_actions():
    from govqms.inspections.checklist import ART36_KEYS

    assert ART36_KEYS == ["scope", "training", "conformity", "processes", "review_audit_capa", "previous_actions",
                          "complaints", "improvement", "leadership", "confirmation", "declaration", "legal_updates",
                          "redeclaration", "consultant"]


def test_records_that_meet_each_item(world, system_scope):
    from govqms.extensions import db

    good_records(db, world)
    found = suggestions_for("a1", world)
    assert list(found) == [
        "scope", "training", "conformity", "processes", "review_audit_capa", "previous_actions", "complaints",
        "improvement", "leadership", "confirmation", "declaration", "legal_updates", "redeclaration", "consultant"]
    assert results(found) == {
        "scope": "met", "training": "met", "conformity": "met", "processes": "met", "review_audit_capa": "met",
        "previous_actions": "met", "complaints": "met", "improvement": "met", "leadership": "",
        "confirmation": "met", "declaration": "met", "legal_updates": "met", "redeclaration": "met",
        "consultant": "met"}
    notes = {key: s.note for key, s in found.items()}
    assert "10/03/2026" in notes["review_audit_capa"] and "20/01/2026" in notes["review_audit_capa"]
    assert all(day in notes["previous_actions"] for day in ("10/06/2025", "10/08/2025", "01/08/2025", "05/08/2025"))
    assert all(day in notes["declaration"] for day in ("01/03/2025", "05/03/2025", "06/03/2025", "07/03/2025"))
    assert "01/03/2025" in notes["redeclaration"] and "01/01/2022" in notes["redeclaration"]
    assert "20/01/2026" in notes["leadership"] and "Giám đốc Trần Văn Bình" in notes["leadership"]
    assert "15/06/2026" in notes["scope"] and " 2 " in notes["scope"]  # the catalogue's two procedures that day
    assert "01/03/2025" in notes["conformity"] and "20/01/2026" in notes["confirmation"]
    assert "01/01/2026" in notes["legal_updates"]
    assert "02/05/2025" in notes["training"] and "30/06/2027" in notes["consultant"]  # the latest course
    assert "40" in notes["processes"] and "100.0" in notes["processes"]


def test_records_that_fail_each_item(world, system_scope):
    from govqms.extensions import db

    bad_records(db, world)
    found = suggestions_for("a2", world)
    assert results(found) == {
        "scope": "not_met", "training": "", "conformity": "not_met", "processes": "not_met",
        "review_audit_capa": "not_met", "previous_actions": "not_met", "complaints": "not_met",
        "improvement": "not_met", "leadership": "", "confirmation": "not_met", "declaration": "not_met",
        "legal_updates": "not_met", "redeclaration": "not_met", "consultant": "not_met"}
    notes = {key: s.note for key, s in found.items()}
    assert "15/04/2025" in notes["review_audit_capa"]  # the audit 14 months before the inspection
    assert "01/12/2025" in notes["review_audit_capa"]  # the last review, held in time, is cited too
    assert "01/09/2025" in notes["previous_actions"] and "10/08/2025" in notes["previous_actions"]  # late report
    assert "20/03/2017" in notes["declaration"] and "25/03/2017" in notes["declaration"]  # notified, never posted
    assert "2008" in notes["conformity"] and "30/06/2021" in notes["conformity"]
    assert "01/01/2026" in notes["consultant"]
    assert "3" in notes["processes"] and "92.5" in notes["processes"]


def test_an_agency_without_records_leaves_items_to_check_on_site(world, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Tenant

    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "p1"))
    db.session.add(Tenant(slug="a-new", name="Xã mới", kind="commune", jurisdiction=p1))
    db.session.commit()
    found = suggestions_for("a-new", world)
    assert results(found) == {
        "scope": "", "training": "", "conformity": "", "processes": "", "review_audit_capa": "not_met",
        "previous_actions": "not_applicable", "complaints": "", "improvement": "", "leadership": "",
        "confirmation": "not_met", "declaration": "not_met", "legal_updates": "", "redeclaration": "not_applicable",
        "consultant": ""}
    assert all(s.note for s in found.values()), "every item says what the records show or what to check on site"


def test_a_single_declaration_covering_the_catalogue_needs_no_new_one(world, system_scope):
    from govqms.extensions import db

    records = Records(db, world, "a2")
    records.work_procedure(D(2021, 1, 1))
    records.declaration(D(2022, 1, 1), "2015", {"notified": D(2022, 1, 5)})
    db.session.commit()
    found = suggestions_for("a2", world)
    assert found["redeclaration"].result == "not_applicable" and "01/01/2022" in found["redeclaration"].note
    assert found["declaration"].result == "not_met" and "05/01/2022" in found["declaration"].note
    assert found["scope"].result == "met" and found["conformity"].result == "met"
    # the same records judged before the declaration: nothing declared yet
    before = suggestions_for("a2", world, D(2021, 12, 31))
    assert before["declaration"].result == "not_met" and before["redeclaration"].result == "not_applicable"


PREVIOUS = [
    # (name, report received, decided, status, findings verified on, expected result)
    ("report on time and accepted, findings verified effective", D(2025, 8, 1), D(2025, 8, 5), "accepted",
     [D(2025, 9, 1), D(2025, 10, 1)], "met"),
    ("report on time and accepted, no finding", D(2025, 8, 1), D(2025, 8, 5), "accepted", [], "met"),
    ("report late", D(2025, 8, 11), D(2025, 8, 20), "accepted", [D(2025, 9, 1)], "not_met"),
    ("a finding still open", D(2025, 8, 1), D(2025, 8, 5), "accepted", [D(2025, 9, 1), None], "not_met"),
    ("no report", None, None, "minutes_signed", [], "not_met"),
    ("report not accepted", D(2025, 8, 1), D(2025, 8, 5), "not_accepted", [D(2025, 9, 1)], "not_met"),
    ("acceptance awaited", D(2025, 8, 1), None, "report_received", [D(2025, 9, 1)], ""),
    ("verified effective only after the inspection's day", D(2025, 8, 1), D(2025, 8, 5), "accepted",
     [D(2026, 7, 1)], "not_met"),
    ("accepted only after the inspection's day", D(2025, 8, 1), D(2026, 7, 1), "accepted", [D(2025, 9, 1)], ""),
]


@pytest.mark.parametrize(("name", "received", "decided", "status", "verified", "expected"), PREVIOUS,
                         ids=[case[0] for case in PREVIOUS])
def test_the_previous_inspections_corrective_actions(world, system_scope, name, received, decided, status, verified,
                                                     expected):
    from govqms.extensions import db

    records = Records(db, world, "a2")
    records.previous_inspection(minutes=D(2025, 6, 10), received=received, decided=decided, status=status,
                                findings=verified)
    db.session.commit()
    found = suggestions_for("a2", world)["previous_actions"]
    assert found.result == expected, found.note
    assert "10/06/2025" in found.note and "10/08/2025" in found.note
    if received:
        assert received.strftime("%d/%m/%Y") in found.note


def test_only_an_earlier_inspection_counts_as_the_previous_one(world, system_scope):
    from govqms.extensions import db

    records = Records(db, world, "a2")
    signed_later = records.previous_inspection(minutes=D(2026, 9, 1), findings=[None])
    assert suggestions_for("a2", world)["previous_actions"].result == "not_applicable"  # its minutes came after DAY
    # the inspection being prepared is never its own previous one
    assert suggestions_for("a2", world, D(2026, 12, 1), inspection=signed_later)["previous_actions"].result == \
        "not_applicable"
    records.previous_inspection(minutes=D(2024, 6, 10), received=D(2024, 7, 1), decided=D(2024, 7, 2),
                                status="accepted", findings=[])
    db.session.commit()
    found = suggestions_for("a2", world, D(2026, 12, 1), inspection=signed_later)["previous_actions"]
    assert found.result == "met" and "10/06/2024" in found.note


# --- the minutes form -------------------------------------------------------------------------------

def _english(client):
    assert client.post("/language", data={"locale": "en"}).status_code == 302
    return client


@pytest.fixture
def overseer(world, login_as, system_scope):
    client = _english(login_as("p1_overseer"))
    make_plan(client, world, YEAR)
    for key in ("a1", "a2"):
        plan_inspection(client, world, inspection_of(world, key, YEAR), start=DAY, end=DAY + dt.timedelta(days=1),
                        form="on_site")
    return client


def _url(world, inspection) -> str:
    return f"/o/{world.p1}/inspections/{inspection.id}/"


def _row(page_text: str, key: str) -> str:
    return re.search(rf'<tr data-item="{key}"[^>]*>.*?</tr>', page_text, re.S).group(0)


def _checked(page_text: str, key: str) -> str | None:
    found = re.search(rf'name="check-{key}" value="(\w+)"[^>]*\bchecked\b', _row(page_text, key))
    return found.group(1) if found else None


def _note(page_text: str, key: str) -> str:
    return html.unescape(re.search(rf'<textarea[^>]*name="note-{key}"[^>]*>(.*?)</textarea>', _row(page_text, key),
                                   re.S).group(1))


def _items(page_text: str) -> list[str]:
    return re.findall(r'<tr data-item="(\w+)"', page_text)


def test_the_minutes_form_is_prefilled_and_saves_what_is_submitted(world, overseer):
    from govqms.extensions import db

    bad_records(db, world)
    inspection = inspection_of(world, "a2", YEAR)
    page = overseer.get(_url(world, inspection))
    assert page.status_code == 200
    assert "Pre-filled from the records on 15/06/2026; confirm or change each item." in page.text
    assert _items(page.text)[4:6] == ["review_audit_capa", "previous_actions"]
    assert "Effectiveness of the corrective actions after the previous inspection" in page.text
    assert _checked(page.text, "review_audit_capa") == "not_met"
    assert "15/04/2025" in _note(page.text, "review_audit_capa")  # the audit 14 months before
    assert _checked(page.text, "previous_actions") == "not_met"
    assert "01/09/2025" in _note(page.text, "previous_actions")  # its late report
    assert _checked(page.text, "training") is None and "Pre-filled: Not met" in _row(page.text, "scope")
    assert "To check on site" in _row(page.text, "training") and _note(page.text, "training")

    submitted = {"step": "minutes", "held_on": "16/06/2026", "minutes_on": "15/06/2026", "signed": "true",
                 "check-review_audit_capa": "met",
                 "note-review_audit_capa": "Đã đánh giá nội bộ bổ sung ngày 01/06/2026",
                 "check-training": "not_met", "note-training": "Chưa tập huấn tài liệu sửa đổi",
                 "check-previous_actions": "not_met", "note-previous_actions": "",
                 "findings": "7.2: Chưa đào tạo"}
    refused = overseer.post(_url(world, inspection), data=submitted)  # the minutes signed before the inspection
    assert refused.status_code == 422 and "invalid-feedback d-block" in refused.text
    assert _checked(refused.text, "review_audit_capa") == "met"  # the inspector's choice, not the suggestion
    assert _note(refused.text, "review_audit_capa") == "Đã đánh giá nội bộ bổ sung ngày 01/06/2026"
    assert _checked(refused.text, "training") == "not_met" and _note(refused.text, "previous_actions") == ""
    assert _checked(refused.text, "scope") is None  # not submitted: not put back from the suggestion
    assert "Pre-filled: Not met" in _row(refused.text, "review_audit_capa")  # the suggestion stays visible
    assert inspection_of(world, "a2", YEAR).status == "planned"

    saved = overseer.post(_url(world, inspection), data={**submitted, "minutes_on": "16/06/2026"})
    assert saved.status_code == 302
    recorded = inspection_of(world, "a2", YEAR)
    assert recorded.status == "minutes_signed"
    assert recorded.checklist == {
        "review_audit_capa": {"result": "met", "note": "Đã đánh giá nội bộ bổ sung ngày 01/06/2026"},
        "training": {"result": "not_met", "note": "Chưa tập huấn tài liệu sửa đổi"},
        "previous_actions": {"result": "not_met", "note": ""}}

    # the signed checklist shows what was saved, whatever the records say since
    Records(db, world, "a2").audit(D(2026, 6, 1))
    db.session.commit()
    page = overseer.get(_url(world, recorded))
    assert 'data-testid="prefilled"' not in page.text and 'name="check-' not in page.text
    assert re.findall(r'<tr data-item="(\w+)" data-result="(\w+)"', page.text) == [
        ("training", "not_met"), ("review_audit_capa", "met"), ("previous_actions", "not_met")]
    assert "Đã đánh giá nội bộ bổ sung ngày 01/06/2026" in page.text and "15/04/2025" not in page.text


def test_every_overseer_reaching_the_inspection_gets_the_prefilled_form(world, overseer, login_as):
    from govqms.extensions import db

    good_records(db, world)
    inspection = inspection_of(world, "a1", YEAR)
    for handle in ("p1_overseer", "national_overseer"):
        for client in (login_as(handle), _english(login_as(handle))):  # Vietnamese by default, and English
            page = client.get(_url(world, inspection))
            assert page.status_code == 200, handle
            assert 'data-testid="prefilled" data-on="2026-06-15"' in page.text and "15/06/2026" in page.text
            assert _checked(page.text, "previous_actions") == "met" and "05/08/2025" in _note(page.text,
                                                                                             "previous_actions")
            assert _checked(page.text, "leadership") is None and "Trần Văn Bình" in _note(page.text, "leadership")
    for handle in ("p2_overseer", "a1_secretary", "a1_head"):  # another province; the agency itself
        assert login_as(handle).get(_url(world, inspection)).status_code == 404, handle
        assert login_as(handle).post(_url(world, inspection), data={"step": "minutes"}).status_code == 404, handle


def test_a_reader_who_cannot_record_the_minutes_sees_the_checklist_read_only(world, overseer, monkeypatch):
    from govqms.core.permissions import OVERSIGHT_ROLE_ACTIONS, Action
    from govqms.extensions import db
    from govqms.tenancy.models import OversightRoleKind

    bad_records(db, world)
    inspection = inspection_of(world, "a2", YEAR)
    monkeypatch.setitem(OVERSIGHT_ROLE_ACTIONS, OversightRoleKind.OVERSEER, frozenset({Action.OVERSIGHT_VIEW}))
    page = overseer.get(_url(world, inspection))
    assert page.status_code == 200 and 'name="check-' not in page.text
    assert "For preparation: the checklist pre-filled from the records on 15/06/2026" in page.text
    preview = page.text.split('data-testid="checklist-preview"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'data-item="(\w+)" data-suggested="(\w*)"', preview)[4:6] == [
        ("review_audit_capa", "not_met"), ("previous_actions", "not_met")]
    assert "15/04/2025" in preview and "Pre-filled: Not met" in preview and "To check on site" in preview
    assert overseer.post(_url(world, inspection), data={"step": "minutes"}).status_code == 403


def test_the_page_costs_the_same_queries_whatever_the_records(world, overseer, count_queries):
    from govqms.extensions import db

    inspection = inspection_of(world, "a2", YEAR)
    records = Records(db, world, "a2")
    records.declaration(D(2022, 1, 1), "2015", {})

    def pile(n: int, minutes: dt.date) -> None:
        for _ in range(n):
            records.work_procedure(D(2023, 1, 1), covered=len(records.procedures) % 2 == 0)
            records.nonconformity(source="complaint", found=D(2026, 2, 1), due=D(2026, 3, 1))
            records.nonconformity(source="self_found", found=D(2026, 2, 1), due=D(2026, 3, 1))
            records.legal(D(2026, 1, 1), None)
        records.previous_inspection(minutes=minutes, received=minutes + dt.timedelta(days=20),
                                    decided=minutes + dt.timedelta(days=21), status="accepted", findings=[None] * n)
        db.session.commit()

    def queries():
        overseer.get(_url(world, inspection))
        with count_queries() as counter:
            page = overseer.get(_url(world, inspection))
        assert page.status_code == 200
        return counter.count, page

    pile(2, D(2024, 6, 10))
    few, page = queries()
    assert "2 still open" in _note(page.text, "previous_actions")
    pile(30, D(2025, 6, 10))  # the previous inspection now, with 30 findings
    many, page = queries()
    assert "30 still open" in _note(page.text, "previous_actions") and "32 complaint(s)" in _note(page.text,
                                                                                                   "complaints")
    assert few == many, (few, many)
