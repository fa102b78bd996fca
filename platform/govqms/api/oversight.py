"""The overseer's views through the API, under ``/api/v1/jurisdictions/<code>``: the year's schedule of
the agencies, the inspections of a year's plan, the data calls sent with their replies, and the reports as
jobs (queued as the reports page queues them, followed and downloaded with the token)."""
from __future__ import annotations

import datetime as dt
from io import BytesIO

from flask import abort, g, send_file, url_for
from flask_babel import get_locale, gettext as _
from marshmallow import Schema, fields, validate

from govqms.api.core import PageArgs, PageMeta, jurisdiction_blueprint, page_schema, paged
from govqms.api.idempotency import KEY_HEADER, MAX_KEY, idempotent
from govqms.core.clock import today
from govqms.core.listing import ListPage
from govqms.core.schemas import InputSchema
from govqms.core.web import jurisdiction_record_or_404
from govqms.datacalls.models import DataCall
from govqms.reports.documents import YEAR_KINDS

oversight_api = jurisdiction_blueprint("api_oversight", __name__, description=(
    "An overseer's views of a jurisdiction: schedule, inspections, data calls and replies, reports as jobs."))

YEAR = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100),
                      metadata={"description": "the year (this year by default)"})


def _year(args: dict) -> int:
    return args.get("year") or today().year


def _agencies() -> dict:
    """The agencies below the jurisdiction by id (whose schedule and inspections these are)."""
    from govqms.calendars.services import jurisdiction_tenants

    return {tenant.id: tenant for tenant in jurisdiction_tenants(g.jurisdiction)}


# --- the schedule ----------------------------------------------------------------------------------------

class ScheduleArgs(PageArgs):
    year = YEAR
    kind = fields.String(load_default=None, validate=validate.Length(max=40),
                         metadata={"description": "one kind of event (internal_audit, management_review…)"})
    agency_kind = fields.String(load_default=None, validate=validate.Length(max=40),
                                metadata={"description": "the agencies of one kind"})


class EventOut(Schema):
    kind = fields.String()
    kind_label = fields.String()
    start = fields.Date()
    end = fields.Date(allow_none=True)
    agency = fields.String(allow_none=True, metadata={"description": "the agency's slug"})
    agency_name = fields.String(allow_none=True)
    title = fields.String()
    detail = fields.String()
    url = fields.String(allow_none=True, metadata={"description": "the record's page"})


@oversight_api.route("/schedule")
@oversight_api.arguments(ScheduleArgs, location="query")
@oversight_api.response(200, page_schema("EventPage", EventOut))
def schedule(args):
    """The year's events of the agencies below the jurisdiction.

    Audits, reviews, certifications, inspections, data calls' deadlines…, in date order, as the schedule
    page lists them."""
    from govqms.calendars import schedule as calendar
    from govqms.calendars.services import event_url

    year = _year(args)
    tenants = _agencies()
    kind = args["kind"]
    if kind is not None and kind not in calendar.KIND_LABELS:
        abort(422, _("Unknown kind of event: %(kind)s.", kind=kind))
    shown = [t.id for t in tenants.values() if not args["agency_kind"] or t.kind == args["agency_kind"]]
    events = calendar.events(shown, dt.date(year, 1, 1), dt.date(year, 12, 31), kinds={kind} if kind else None)

    def out(event) -> dict:
        tenant = tenants.get(event.tenant_id)
        return {"kind": event.kind, "kind_label": str(calendar.KIND_LABELS.get(event.kind, event.kind)),
                "start": event.start, "end": event.end, "agency": tenant.slug if tenant else None,
                "agency_name": tenant.name if tenant else None, "title": event.title, "detail": event.detail,
                "url": event_url(event, tenants, external=True)}

    return paged(EventOut(), ListPage(events, args["page"], args["per_page"]), out)


# --- inspections ------------------------------------------------------------------------------------------

class InspectionArgs(PageArgs):
    year = YEAR


class InspectionOut(Schema):
    id = fields.Integer()
    agency = fields.String()
    agency_name = fields.String()
    form = fields.String(metadata={"description": "paper or on_site"})
    status = fields.String(metadata={"description": "planned, minutes_signed, report_received, accepted, "
                                                    "not_accepted"})
    not_yet_recorded = fields.Boolean(metadata={"description": "still planned though its planned time is over"})
    inspecting_unit = fields.String()
    planned_start = fields.Date(allow_none=True)
    planned_end = fields.Date(allow_none=True)
    decision_number = fields.String()
    held_on = fields.Date(allow_none=True)
    minutes_on = fields.Date(allow_none=True)
    report_due_on = fields.Date(allow_none=True)
    report_received_on = fields.Date(allow_none=True)
    report_decided_on = fields.Date(allow_none=True)
    url = fields.String(metadata={"description": "the inspection's page"})


class PlanOut(Schema):
    year = fields.Integer()
    decision_number = fields.String()
    approved_on = fields.Date(allow_none=True)


class InspectionsOut(Schema):
    year = fields.Integer()
    plan = fields.Nested(PlanOut, allow_none=True, metadata={"description": "none while the year has no plan"})
    items = fields.List(fields.Nested(InspectionOut))
    page = fields.Nested(PageMeta)


@oversight_api.route("/inspections")
@oversight_api.arguments(InspectionArgs, location="query")
@oversight_api.response(200, InspectionsOut)
def inspections(args):
    """The inspections of the year's plan, by agency name, each with its state (as the plan's page shows them)."""
    from govqms.inspections import services

    year = _year(args)
    plan = services.plan_for(g.jurisdiction, year)
    lines = services.plan_lines(plan, today()) if plan else []

    def out(line) -> dict:
        inspection = line.inspection
        return {"id": inspection.id, "agency": line.tenant.slug, "agency_name": line.tenant.name,
                "form": inspection.form, "status": inspection.status, "not_yet_recorded": line.not_yet_recorded,
                "inspecting_unit": inspection.inspecting_unit, "planned_start": inspection.planned_start,
                "planned_end": inspection.planned_end, "decision_number": inspection.decision_number,
                "held_on": inspection.held_on, "minutes_on": inspection.minutes_on,
                "report_due_on": inspection.report_due_on, "report_received_on": inspection.report_received_on,
                "report_decided_on": inspection.report_decided_on,
                "url": url_for("inspections.detail", inspection_id=inspection.id,
                               jurisdiction_code=g.jurisdiction.code, _external=True)}

    page = paged(InspectionOut(), ListPage(lines, args["page"], args["per_page"]), out)
    return {"year": year, "plan": plan, **page}


# --- data calls ------------------------------------------------------------------------------------------

class TallyOut(Schema):
    on_time = fields.Integer()
    late = fields.Integer()
    awaited = fields.Integer(metadata={"description": "not answered, deadline not reached"})
    missing = fields.Integer(metadata={"description": "not answered, deadline passed"})


class CallOut(Schema):
    id = fields.Integer()
    title = fields.String()
    request = fields.String()
    sent_on = fields.Date()
    deadline = fields.Date()
    tally = fields.Nested(TallyOut, metadata={"description": "how the replies stand"})
    url = fields.String(metadata={"description": "the data call's page"})


class CallReplyOut(Schema):
    id = fields.Integer()
    agency = fields.String()
    agency_name = fields.String()
    state = fields.String(metadata={"description": "on_time, late, awaited or missing"})
    submitted_on = fields.Date(allow_none=True)
    revisions = fields.Integer()
    note = fields.String()
    files = fields.Integer(metadata={"description": "how many files are attached (downloaded on the page)"})


class CallDetailOut(CallOut):
    replies = fields.List(fields.Nested(CallReplyOut), metadata={"description": "every agency's reply, by name"})


def _call_out(call, tally: dict) -> dict:
    return {"id": call.id, "title": call.title, "request": call.request, "sent_on": call.sent_on,
            "deadline": call.deadline, "tally": tally,
            "url": url_for("data_calls.detail", call_id=call.id, jurisdiction_code=g.jurisdiction.code,
                           _external=True)}


@oversight_api.route("/data-calls")
@oversight_api.arguments(PageArgs, location="query")
@oversight_api.response(200, page_schema("DataCallPage", CallOut))
def data_calls(args):
    """The data calls the jurisdiction sent (not withdrawn), latest first, with how their replies stand."""
    from govqms.datacalls import services
    from govqms.datacalls.models import DataCallReply

    page = services.calls_page(g.jurisdiction, {"page": args["page"]}, per_page=args["per_page"])
    tallies = services.tallies(DataCall, DataCallReply, [call.id for call in page.items], today())
    return paged(CallOut(), page, lambda call: _call_out(call, tallies[call.id]))


@oversight_api.route("/data-calls/<int:call_id>")
@oversight_api.response(200, CallDetailOut)
def data_call(call_id: int):
    """One data call with every agency's reply and its state."""
    from govqms.datacalls import services
    from govqms.datacalls.models import DataCallReply

    call = jurisdiction_record_or_404(DataCall, call_id)
    on = today()
    replies = [{"id": reply.id, "agency": tenant.slug, "agency_name": tenant.name,
                "state": str(reply.state(call.deadline, on)), "submitted_on": reply.submitted_on,
                "revisions": reply.revisions, "note": reply.note, "files": len(reply.files)}
               for reply, tenant in services.replies_of(call)]
    tally = services.tallies(DataCall, DataCallReply, [call.id], on)[call.id]
    return {**_call_out(call, tally), "replies": replies}


# --- reports as jobs ------------------------------------------------------------------------------------

class ReportIn(InputSchema):
    kind = fields.String(required=True, validate=validate.OneOf(YEAR_KINDS), metadata={
        "description": "yearly (the yearly report), inspection-summary, or inspection-plan"})
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    fmt = fields.String(load_default="docx", validate=validate.OneOf(["docx", "xlsx"]))


class JobOut(Schema):
    id = fields.String()
    task = fields.String()
    status = fields.String(metadata={"description": "queued, running, finished, failed, cancelled"})
    progress = fields.Integer(metadata={"description": "percent"})
    message = fields.String(allow_none=True)
    done = fields.Boolean()
    url = fields.String(metadata={"description": "this job, to ask again"})
    download = fields.String(allow_none=True, metadata={"description": "the file, once the job has finished"})


def _job_out(job) -> dict:
    from govqms.jobs.models import JobStatus

    finished = job.status == JobStatus.FINISHED and job.result is not None
    return {"id": job.id, "task": job.task, "status": job.status, "progress": job.progress, "message": job.message,
            "done": job.done, "url": url_for("api_oversight.job", job_id=job.id, _external=True),
            "download": url_for("api_oversight.job_download", job_id=job.id, _external=True) if finished else None}


@oversight_api.route("/reports", methods=["POST"])
@idempotent()
@oversight_api.arguments(ReportIn)
@oversight_api.response(202, JobOut, headers={"Location": {"schema": {"type": "string"},
                                                           "description": "the job"}})
@oversight_api.doc(parameters=[{"in": "header", "name": KEY_HEADER, "required": False,
                                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY}}])
def make_report(data):
    """Queue a document of the jurisdiction's year, as the reports page does.

    Follow the job at its URL (Location), then download the file. The inspection plan needs the year's plan
    made first (409)."""
    from govqms.inspections.services import plan_for
    from govqms.jobs.services import enqueue

    if data["kind"] == "inspection-plan" and plan_for(g.jurisdiction, data["year"]) is None:
        abort(409, _("There is no inspection plan for %(year)s yet: make it first.", year=data["year"]))
    job = enqueue("oversight.yearly_report", tenant_id=None, user_id=g.api_user.id,
                  jurisdiction_id=g.jurisdiction.id, year=data["year"], kind=data["kind"], fmt=data["fmt"],
                  locale=str(get_locale()))
    out = _job_out(job)
    return out, 202, {"Location": out["url"]}


def _job_or_404(job_id: str):
    """A job the token's person started for this jurisdiction (as the job pages check its owner); else 404."""
    from govqms.jobs.services import visible_job

    job = visible_job(job_id, g.api_user) if len(job_id) <= 36 else None
    if job is None or job.user_id != g.api_user.id or job.tenant_id is not None \
            or (job.params or {}).get("jurisdiction_id") != g.jurisdiction.id:
        abort(404)
    return job


@oversight_api.route("/jobs/<job_id>")
@oversight_api.response(200, JobOut)
def job(job_id: str):
    """A report's job: its state, and its download link once it has finished."""
    return _job_out(_job_or_404(job_id))


@oversight_api.route("/jobs/<job_id>/download")
@oversight_api.response(200, {"type": "string", "format": "binary"}, content_type="application/octet-stream",
                        description="The file")
def job_download(job_id: str):
    """The file a finished job made (404 before)."""
    from govqms.jobs.models import JobStatus

    job = _job_or_404(job_id)
    if job.status != JobStatus.FINISHED or job.result is None:
        abort(404, _("The job has not finished, or made no file."))
    return send_file(BytesIO(job.result), mimetype=job.result_mimetype or "application/octet-stream",
                     as_attachment=True, download_name=job.result_name or f"{job.id}.bin", max_age=0)


blueprints = [oversight_api]
