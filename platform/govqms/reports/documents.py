"""What each document of an overseer says, computed from the records: the context its form is
rendered with (the format itself is :mod:`govqms.official`).

The page's buttons, the jobs and ``govqms report`` all call :func:`produce`, so a document is the same
whichever way it is asked for.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import force_locale
from sqlalchemy import select

from govqms.core.clock import today
from govqms.core.text import sort_key
from govqms.extensions import db
from govqms.official import render
from govqms.official.issuing import (
    FILE_NAMES,
    LANGUAGE,
    Produced,
    base_context,
    paragraphs_of,
    template_bytes,
)
from govqms.reports.models import NARRATIVE_FIELDS, ReportText
from govqms.tenancy.models import Jurisdiction, Tenant

#: The kinds ``govqms report`` and the reports page produce for a jurisdiction's year.
YEAR_KINDS = ("yearly", "inspection-summary", "inspection-plan")
#: The kinds produced for one inspection.
INSPECTION_KINDS = ("inspection-decision", "inspection-minutes", "report-request")
#: The kinds whose narrative sections the overseer writes in the app.
NARRATED_KINDS = ("yearly", "inspection-summary")


def report_text(jurisdiction: Jurisdiction, year: int, kind: str) -> ReportText | None:
    return db.session.scalar(select(ReportText).where(ReportText.jurisdiction_id == jurisdiction.id,
                                                      ReportText.year == year, ReportText.kind == kind))


def _narrative(jurisdiction: Jurisdiction, year: int, kind: str, empty: str) -> tuple[dict[str, list[str]], str]:
    saved = report_text(jurisdiction, year, kind)
    return ({field: paragraphs_of(getattr(saved, field, "") if saved else "", empty) for field in NARRATIVE_FIELDS},
            saved.number if saved else "")


def _figure_rows(kind: str, values: dict, context: dict) -> list[dict]:
    spec = render.form(kind)["figures"]
    base = values.get(spec["base"]) or 0
    rows = []
    for stt, row in enumerate(spec["rows"], start=1):
        count = values.get(row["count"], 0)
        rows.append({"stt": stt, "label": render.text(row["label"], context), "count": count,
                     "rate": (count / base if base else None) if row.get("rate") else None})
    return rows


def _plan_context(plan) -> dict:
    return {"decision_number": plan.decision_number if plan else "", "approved_on": plan.approved_on if plan else None,
            "year": plan.year if plan else None}


# --- a jurisdiction's year --------------------------------------------------------------------------

def yearly(jurisdiction: Jurisdiction, year: int) -> dict:
    """Annex II of QĐ 19/2014: the December report to the Ministry."""
    from govqms.inspections.services import plan_for
    from govqms.oversight.report import figures as year_figures

    figures = year_figures(jurisdiction, year)
    narrative, number = _narrative(jurisdiction, year, "yearly", render.form("yearly").get("empty", ""))
    context = base_context(jurisdiction, "yearly", today(), number)
    inspections = {**figures.inspection_counts,
                   "inspected": figures.inspection_counts["inspected_on_paper"]
                   + figures.inspection_counts["inspected_on_site"]}
    context.update(year=year, on=figures.on, narrative=narrative, inspections=inspections,
                   in_scope=figures.counts["in_scope"], plan=_plan_context(plan_for(jurisdiction, year)))
    context["figures"] = _figure_rows("yearly", {**figures.counts, **figures.inspection_counts}, context)
    rows = sorted(figures.rows, key=lambda r: sort_key(r.tenant.name))
    context["agencies"] = [
        {"stt": stt, "name": r.tenant.name, "edition": r.edition or "", "declared_on": r.declared_on,
         "last_audit": r.last_audit, "last_review": r.last_review,
         "confirmed": bool(r.confirmed_years and year in r.confirmed_years),
         "overdue": r.actions_overdue}
        for stt, r in enumerate(rows, start=1)]
    return context


def inspection_summary(jurisdiction: Jurisdiction, year: int) -> dict:
    """The November summary of the year's inspections, citing the plan's decision."""
    from govqms.inspections.models import FORM_LABELS, STATUS_LABELS
    from govqms.inspections.services import plan_for
    from govqms.oversight.report import figures as year_figures

    figures = year_figures(jurisdiction, year)
    narrative, number = _narrative(jurisdiction, year, "inspection-summary",
                                   render.form("inspection-summary").get("empty", ""))
    context = base_context(jurisdiction, "inspection-summary", today(), number)
    counts = {**figures.inspection_counts,
              "inspected": figures.inspection_counts["inspected_on_paper"]
              + figures.inspection_counts["inspected_on_site"]}
    context.update(year=year, on=figures.on, narrative=narrative, inspections=counts,
                   plan=_plan_context(plan_for(jurisdiction, year)))
    context["figures"] = _figure_rows("inspection-summary", counts, context)
    with force_locale(LANGUAGE):
        lines = sorted(figures.inspections, key=lambda pair: sort_key(pair[1].name))
        context["agencies"] = [
            {"stt": stt, "name": tenant.name, "form": str(FORM_LABELS[i.form]), "held_on": i.held_on,
             "findings": len(i.findings), "report_due_on": i.report_due_on, "status": str(STATUS_LABELS[i.status])}
            for stt, (i, tenant) in enumerate(lines, start=1)]
    return context


def _period(start: dt.date | None, end: dt.date | None) -> str:
    if start and end and end != start:
        return f"{render.day(start)} – {render.day(end)}"
    return render.day(start or end)


def inspection_plan(jurisdiction: Jurisdiction, year: int) -> dict:
    """Mẫu 19 KHKT: the year's plan, every agency with its form, time, unit and cost."""
    from govqms.inspections.checklist import ART36
    from govqms.inspections.models import FORM_LABELS, InspectionForm
    from govqms.inspections.services import plan_for, plan_lines

    plan = plan_for(jurisdiction, year)
    if plan is None:
        raise LookupError(f"{jurisdiction.code} has no inspection plan for {year}")
    on = plan.approved_on or today()
    context = base_context(jurisdiction, "inspection-plan", on)
    lines = sorted(plan_lines(plan, today()), key=lambda line: sort_key(line.tenant.name))
    on_site = sum(1 for line in lines if line.inspection.form == InspectionForm.ON_SITE)
    with force_locale(LANGUAGE):
        context.update(
            year=year, plan=_plan_context(plan),
            checks=[f"- {label};" for _key, label in ART36],
            counts={"paper": len(lines) - on_site, "on_site": on_site,
                    "on_site_rate": on_site / len(lines) if lines else None,
                    "cost": sum(line.inspection.cost for line in lines)},
            agencies=[{"stt": stt, "name": line.tenant.name, "form": str(FORM_LABELS[line.inspection.form]),
                       "period": _period(line.inspection.planned_start, line.inspection.planned_end),
                       "unit": line.inspection.inspecting_unit or context["issuer"]["unit_name"],
                       "cost": line.inspection.cost, "note": ""}
                      for stt, line in enumerate(lines, start=1)])
    return context


# --- one inspection ---------------------------------------------------------------------------------

def _team(text: str, empty: str) -> tuple[list[str], str]:
    """The team as typed (a member a line, the leader first) and the leader's name."""
    members = [line.strip(" -\t") for line in (text or "").splitlines() if line.strip(" -\t")]
    leader = members[0].split(",")[0].split(" - ")[0].strip() if members else ""
    return [f"- {member}" for member in members] or [empty], leader


def _inspection_context(jurisdiction: Jurisdiction, kind: str, inspection, tenant: Tenant, plan, on: dt.date,
                        number: str) -> dict:
    context = base_context(jurisdiction, kind, on, number)
    team, leader = _team(inspection.team, context["empty"])
    context.update(
        year=plan.year, plan=_plan_context(plan), agency={"name": tenant.name}, team=team, leader=leader,
        inspection={"decision_number": inspection.decision_number, "decision_on": inspection.decision_on,
                    "planned_start": inspection.planned_start, "planned_end": inspection.planned_end,
                    "held_on": inspection.held_on, "unit": inspection.inspecting_unit,
                    "report_due_on": inspection.report_due_on})
    return context


def inspection_decision(jurisdiction: Jurisdiction, inspection, tenant: Tenant, plan) -> dict:
    """Mẫu 20 QĐKT, the decision to inspect on site."""
    return _inspection_context(jurisdiction, "inspection-decision", inspection, tenant, plan,
                               inspection.decision_on or today(), inspection.decision_number)


def inspection_minutes(jurisdiction: Jurisdiction, inspection, tenant: Tenant, plan) -> dict:
    """Mẫu 21 BBKT, with the checklist's results and the findings."""
    from govqms.inspections.checklist import ART36, RESULTS

    spec = render.form("inspection-minutes")
    context = _inspection_context(jurisdiction, "inspection-minutes", inspection, tenant, plan,
                                  inspection.minutes_on or inspection.held_on or today(), "")
    with force_locale(LANGUAGE):
        checklist = []
        for stt, (key, label) in enumerate(ART36, start=1):
            saved = (inspection.checklist or {}).get(key) or {}
            result = saved.get("result")
            checklist.append({"stt": stt, "label": str(label), "result": str(RESULTS[result]) if result in RESULTS
                              else "", "note": saved.get("note", "")})
    findings = [f"{n}. {f['clause'] + ': ' if f.get('clause') else ''}{f['description']}"
                for n, f in enumerate(inspection.findings or [], start=1)]
    if not findings:
        findings = [spec.get("no_findings", "")] if inspection.minutes_on else [context["empty"]]
    context.update(checklist=checklist, findings=findings,
                   conclusion=paragraphs_of(inspection.conclusion, context["empty"]),
                   agency_people=[render.text(line, context) for line in spec.get("agency_people", [])])
    return context


def report_request(jurisdiction: Jurisdiction, inspection, tenant: Tenant, plan) -> dict:
    """The written request to an agency inspected on paper for its report."""
    spec = render.form("report-request")
    context = _inspection_context(jurisdiction, "report-request", inspection, tenant, plan,
                                  inspection.request_on or today(), inspection.request_number)
    context.update(deadline=inspection.request_deadline, contact="")
    context["documents_asked"] = [render.text(line, context) for line in spec.get("documents_asked", [])]
    return context


def context_for(jurisdiction: Jurisdiction, kind: str, *, year: int | None = None, inspection_id: int | None = None
                ) -> dict:
    if kind in YEAR_KINDS:
        year = year or today().year
        return {"yearly": yearly, "inspection-summary": inspection_summary,
                "inspection-plan": inspection_plan}[kind](jurisdiction, year)
    from govqms.inspections.services import inspection_in_reach

    found = inspection_in_reach(jurisdiction, inspection_id) if inspection_id else None
    if found is None:
        raise LookupError(f"no inspection {inspection_id} in {jurisdiction.code}")
    inspection, tenant, plan = found
    return {"inspection-decision": inspection_decision, "inspection-minutes": inspection_minutes,
            "report-request": report_request}[kind](jurisdiction, inspection, tenant, plan)


def produce(jurisdiction: Jurisdiction, kind: str, fmt: str = "docx", *, year: int | None = None,
            inspection_id: int | None = None) -> Produced:
    """The document of *kind* for the jurisdiction, as DOCX (its template rendered) or XLSX (its tables)."""
    if kind not in render.KINDS or fmt not in ("docx", "xlsx"):
        raise KeyError(f"{kind} as {fmt}")
    context = context_for(jurisdiction, kind, year=year, inspection_id=inspection_id)
    suffix = str(context["year"]) if kind in YEAR_KINDS else str(inspection_id)
    name = f"{FILE_NAMES[kind]}-{jurisdiction.code}-{suffix}.{fmt}"
    if fmt == "xlsx":
        return Produced(render.render_xlsx(kind, context), name, render.XLSX)
    return Produced(render.render_docx(template_bytes(jurisdiction.id, kind), context), name, render.DOCX)
