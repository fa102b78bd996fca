"""The compiled inputs as readable lines, shared by the review page and the minutes."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _, lazy_gettext as _l


def section_titles() -> dict:
    return {
        "previous_actions": _l("Status of actions from the previous review"),
        "changes": _l("Changes relevant to the QMS: documents and legal texts"),
        "objectives": _l("Quality objectives and their results"),
        "satisfaction": _l("Satisfaction of citizens and organisations"),
        "service_results": _l("Results of administrative-procedure handling"),
        "audits": _l("Internal audit results"),
        "nonconformities": _l("Nonconformities and corrective actions"),
        "risks": _l("Risks and opportunities"),
        "resources": _l("Resources"),
        "improvement": _l("Opportunities for improvement"),
    }


def _day(iso: str) -> str:
    return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")


def _pct(value) -> str:
    return "—" if value is None else f"{value:g}%"


def section_lines(inputs: dict) -> list[tuple[str, list[str]]]:
    """Each input section with its lines, in the order of ISO 9001 clause 9.3.2."""
    if not inputs:
        return []
    prev, changes, objectives = inputs["previous_actions"], inputs["changes"], inputs["objectives"]
    service, satisfaction, audits = inputs["service_results"], inputs["satisfaction"], inputs["audits"]
    ncs, risks = inputs["nonconformities"], inputs["risks"]
    out = [
        ("previous_actions", [_("Review of %(date)s: %(total)s action(s), %(done)s done, %(open)s open, %(overdue)s "
                                "overdue.", date=_day(prev["review"]), total=prev["total"], done=prev["done"],
                                open=prev["open"], overdue=prev["overdue"])] if prev["review"]
         else [_("No earlier management review.")]),
        ("changes", [_("%(n)s document revision(s) issued in the year; %(overdue)s document(s) past their review "
                       "date.", n=changes["revisions_issued"], overdue=changes["document_reviews_overdue"]),
                     _("%(n)s legal change(s) took effect in the year; %(overdue)s not applied within 3 months.",
                       n=changes["legal_changes"], overdue=changes["legal_overdue"])]),
        ("objectives", [_("%(total)s objective(s): %(on)s on track, %(risk)s at risk, %(missed)s missed.",
                          total=objectives["total"], on=objectives["on_track"], risk=objectives["at_risk"],
                          missed=objectives["missed"])]
         + [f"{o['statement']} ({o['target']}): {o['reason']}" for o in objectives["items"]]),
        ("satisfaction", [_("%(satisfied)s satisfied of %(responses)s responses (%(rate)s).",
                            satisfied=satisfaction["satisfied"], responses=satisfaction["responses"],
                            rate=_pct(satisfaction["rate"]))]),
        ("service_results", [_("%(received)s dossier(s) received: %(early)s early, %(on_time)s on time, %(late)s late, "
                               "%(pending)s pending; on-time rate %(rate)s.", received=service["received"],
                               early=service["early"], on_time=service["on_time"], late=service["late"],
                               pending=service["pending"], rate=_pct(service["on_time_rate"]))]),
        ("audits", [_("%(reported)s of %(planned)s internal audit(s) reported; findings: %(major)s major and %(minor)s "
                      "minor nonconformities, %(obs)s observations, %(ofi)s opportunities.",
                      reported=audits["reported"], planned=audits["planned"], major=audits["findings"]["major_nc"],
                      minor=audits["findings"]["minor_nc"], obs=audits["findings"]["observation"],
                      ofi=audits["findings"]["opportunity"])]),
        ("nonconformities", [_("%(found)s nonconformity(ies) found in the year; %(open)s not closed; %(actions)s open "
                               "action(s) of which %(overdue)s overdue.", found=ncs["found_this_year"],
                               open=ncs["open_nonconformities"], actions=ncs["open_actions"],
                               overdue=ncs["overdue_actions"])]),
        ("risks", [_("%(total)s entries: %(high)s high, %(medium)s medium, %(low)s low; %(opp)s opportunities.",
                     total=risks["total"], high=risks["high"], medium=risks["medium"], low=risks["low"],
                     opp=risks["opportunities"])]),
        ("resources", []),
        ("improvement", []),
    ]
    return out
