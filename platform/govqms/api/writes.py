"""The API's writes where integration needs them, through the same services and permissions as the pages:
an objective's measurements, service results (the import's checks, all or nothing), completing an action,
and the agency's reply to a data call (its note; files stay on the page).

A POST may carry an ``Idempotency-Key`` (required for service results): a retry with the same key gets
the first answer back and writes nothing (:mod:`govqms.api.idempotency`). Each view checks the page's
permission and loads its record before it reads the body, so another agency's record is 404 whatever
the body says."""
from __future__ import annotations

from functools import wraps

from flask import abort, g, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.exceptions import UnprocessableEntity

from govqms.api.core import PageArgs, agency_blueprint, etag_of, page_schema, paged, require_match
from govqms.api.idempotency import KEY_HEADER, MAX_KEY, idempotent
from govqms.api.resources import ActionOut, action_out
from govqms.core.clock import today
from govqms.core.permissions import Action
from govqms.core.schemas import InputSchema, TrimmedString, length
from govqms.core.web import record_or_404
from govqms.datacalls.models import DataCallReply
from govqms.extensions import db
from govqms.improvement.models import Action as ActionRecord
from govqms.objectives.models import Objective

writes_api = agency_blueprint("api_writes", __name__, description=(
    "An agency's writes: measurements, service results, actions done, replies to data calls. A POST may send "
    "an Idempotency-Key: a retry with the same key answers the first answer again and writes nothing."))

ETAG = {"ETag": {"schema": {"type": "string"}, "description": "the version (If-Match of an update)"}}


def _key_parameter(required: bool) -> dict:
    return {"in": "header", "name": KEY_HEADER, "required": required,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY},
            "description": "new for each new request; the same for its retries (kept 24 hours)"}


def guarded(action: Action, refusal, model=None, argument: str | None = None):
    """The page's permission (403, saying *refusal*), then the record of the URL in this agency (404;
    passed to the view as ``record``), before the body is read."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not g.access.can(action):
                abort(403, str(refusal))
            if model is not None:
                kwargs["record"] = record_or_404(model, kwargs.pop(argument))
            return view(*args, **kwargs)

        return wrapper

    return decorator


# --- measurements ------------------------------------------------------------------------------------

class MeasurementIn(InputSchema):
    period_index = fields.Integer(required=True, validate=validate.Range(min=1, max=366), metadata={
        "description": "the period of the objective's year: 1 (the year), 1–2 (half-years), 1–4 (quarters), 1–12"})
    value = fields.Float(required=True, allow_nan=False)
    note = TrimmedString(load_default="", validate=validate.Length(max=2000))


class RecordedMeasurementOut(Schema):
    id = fields.Integer()
    objective_id = fields.Integer()
    period_index = fields.Integer()
    value = fields.Float()
    note = fields.String()
    recorded_by = fields.String(allow_none=True)
    url = fields.String(metadata={"description": "the objective's page"})


def measurement_out(measurement) -> dict:
    from govqms.accounts.models import User

    user = db.session.get(User, measurement.recorded_by_id) if measurement.recorded_by_id else None
    return {"id": measurement.id, "objective_id": measurement.objective_id, "period_index": measurement.period_index,
            "value": measurement.value, "note": measurement.note, "recorded_by": user.email if user else None,
            "url": url_for("objectives.detail", objective_id=measurement.objective_id, tenant_slug=g.tenant.slug,
                           _external=True)}


@writes_api.route("/objectives/<int:objective_id>/measurements", methods=["POST"])
@guarded(Action.MEASUREMENTS_RECORD, _l("Your role does not allow recording measurements here."),
         Objective, "objective_id")
@idempotent()
@writes_api.arguments(MeasurementIn)
@writes_api.response(201, RecordedMeasurementOut)
@writes_api.doc(parameters=[_key_parameter(False)])
def record_measurement(data, record):
    """Record (or correct) the value of one period of a typed objective, as its page does."""
    from govqms.objectives import services

    try:
        measurement = services.record_measurement(record, user_id=g.api_user.id, **data)
    except services.MeasurementRefused as refused:
        db.session.rollback()
        abort(422, str(refused))
    db.session.commit()
    return measurement_out(measurement)


# --- service results -----------------------------------------------------------------------------------

#: At most this many rows in one push (a province's one-stop report of a year has a few thousand).
MAX_ROWS = 20_000
COUNTS = ("received", "resolved", "resolved_early", "resolved_on_time", "resolved_late", "pending",
          "pending_not_due", "pending_overdue")


class ResultRowIn(InputSchema):
    """One row of a one-stop report, as the import reads it from a spreadsheet."""

    period = TrimmedString(required=True, validate=length(100), metadata={
        "description": "a month (03/2026), a quarter (Q1/2026), a half-year (first half of 2026), a year (2026) "
                       "or a range (15/12/2025 - 14/03/2026), as the import reads them"})
    field = TrimmedString(load_default=None, validate=validate.Length(max=255), metadata={
        "description": "the field; with procedure codes, the catalogue's field of the procedure"})
    procedure_code = TrimmedString(load_default=None, validate=validate.Length(max=64))
    procedure_name = TrimmedString(load_default=None, validate=validate.Length(max=500))
    received = fields.Integer(required=True)
    resolved = fields.Integer(load_default=None, metadata={"description": "if given, early + on time + late"})
    resolved_early = fields.Integer(required=True)
    resolved_on_time = fields.Integer(required=True)
    resolved_late = fields.Integer(required=True)
    pending = fields.Integer(load_default=None, metadata={
        "description": "in progress; or give pending_not_due and pending_overdue"})
    pending_not_due = fields.Integer(load_default=None)
    pending_overdue = fields.Integer(load_default=None)

    @validates_schema
    def _pending_given(self, data, **kwargs):
        if data.get("pending") is None and data.get("pending_not_due") is None and data.get("pending_overdue") is None:
            raise ValidationError(_("Give pending, or pending_not_due and pending_overdue."), "pending")


class ResultTotals(Schema):
    received = fields.Integer()
    early = fields.Integer()
    on_time = fields.Integer()
    late = fields.Integer()
    pending = fields.Integer()


class ResultSpan(Schema):
    start = fields.Date()
    end = fields.Date()


class ResultsOut(Schema):
    period = fields.Nested(ResultSpan, metadata={"description": "from the first day to the last of the rows"})
    periods = fields.List(fields.String(), metadata={"description": "each period stored, named"})
    stored = fields.Integer()
    replaced = fields.Integer(metadata={"description": "rows stored before within these periods, replaced"})
    replaced_periods = fields.List(fields.String())
    totals = fields.Nested(ResultTotals)


def _row_errors(refused, columns: list[str]) -> dict:
    """The import's errors (row as a spreadsheet numbers it, the header being row 1; column by its header)
    by index of the rows sent and field, as marshmallow says them."""
    from govqms.performance.services import FIELDS

    named = {str(label): key for key, label in FIELDS.items()} | {key: key for key in columns}
    errors: dict[str, dict[str, list[str]]] = {}
    for error in refused.errors:
        index = str(error.row - 2) if error.row >= 2 else "_schema"
        errors.setdefault(index, {}).setdefault(named.get(error.column, "_schema"), []).append(error.message)
    return errors


def _unprocessable(errors: dict) -> UnprocessableEntity:
    """422 with the errors by row and field, as for a body that does not load: nothing was recorded."""
    error = UnprocessableEntity(_("Nothing recorded: correct the rows named and send them all again."))
    error.data = {"messages": {"json": errors}}
    return error


@writes_api.route("/service-results", methods=["POST"])
@guarded(Action.PERFORMANCE_MANAGE, _l("Your role does not allow recording service results here."))
@idempotent(required=True)
@writes_api.arguments(ResultRowIn(many=True), description="the rows of a one-stop report, as the import reads them")
@writes_api.response(201, ResultsOut)
@writes_api.doc(parameters=[_key_parameter(True)])
def record_service_results(rows):
    """Record service results, as the import does: all rows or none.

    Every row is checked (whole numbers, early + on time + late + pending within received, a period begun,
    no row twice, periods that neither overlap nor cover in part a period stored before), then all are stored
    or none (422, with each row's errors). The periods sent replace what was stored within them. An
    Idempotency-Key is required: a retry never doubles the figures."""
    from govqms.core import layout
    from govqms.core.imports import ImportRefused
    from govqms.performance import services

    if not rows:
        raise _unprocessable({"_schema": [_("Send at least one row.")]})
    if len(rows) > MAX_ROWS:
        raise _unprocessable({"_schema": [_("At most %(n)s rows at a time.", n=MAX_ROWS)]})
    given = [{key for key, value in row.items() if value is not None} for row in rows]
    columns = [key for key in ("period", "field", "procedure_code", "procedure_name", *COUNTS)
               if any(key in keys for keys in given)]
    uneven = {str(index): {key: [_("Give this in every row, or in none.")] for key in columns if key not in keys}
              for index, keys in enumerate(given) if not set(columns) <= keys}
    if uneven:
        raise _unprocessable(uneven)
    table = [list(columns), *[[row[key] for key in columns] for row in rows]]
    mapping = {key: index for index, key in enumerate(columns)}
    found = layout.Layout(header_rows=[0], labels=list(columns), mapping=mapping, data_start=1)
    try:
        outcome = services.plan(g.tenant.id, table, mapping, found=found)
    except ImportRefused as refused:
        db.session.rollback()
        raise _unprocessable(_row_errors(refused, columns)) from None
    if outcome.skipped:  # a heading, a total or a signature line: in a push, every row is a row of figures
        raise _unprocessable({str(s.row - 2): {"_schema": [_("Not a row of figures (%(reason)s).", reason=s.reason)]}
                              for s in outcome.skipped})
    services.store(g.tenant.id, outcome)
    db.session.commit()
    found = outcome.periods
    return {"period": {"start": min(p.start for p in found), "end": max(p.end for p in found)},
            "periods": [p.label() for p in found], "stored": outcome.stored, "replaced": outcome.replaced,
            "replaced_periods": outcome.replaced_periods, "totals": outcome.as_dict()["totals"]}


# --- actions -------------------------------------------------------------------------------------------

class CompleteIn(InputSchema):
    note = TrimmedString(load_default="", validate=validate.Length(max=5000), metadata={"description": "what was done"})


@writes_api.route("/actions/<int:action_id>/complete", methods=["POST"])
@guarded(Action.ACTIONS_UPDATE_OWN, _l("Your role does not allow updating actions here."),
         ActionRecord, "action_id")
@idempotent()
@writes_api.arguments(CompleteIn)
@writes_api.response(200, ActionOut)
@writes_api.doc(parameters=[_key_parameter(False)])
def complete_action(data, record):
    """Mark an action done, today.

    As on the page: its owner, or a keeper of the system for anyone's. An action already done: 409."""
    from govqms.improvement import services

    if record.owner_id != g.api_user.id and not g.access.can(Action.NONCONFORMITIES_MANAGE):
        abort(403, _("Only the action's owner, or a keeper of the system, marks it done."))
    try:
        services.complete_action(record, data["note"])
    except services.ImprovementRefused as refused:
        db.session.rollback()
        abort(409, str(refused))
    db.session.commit()
    return action_out(record)


# --- replies to data calls ------------------------------------------------------------------------------

class ReplyFileOut(Schema):
    name = fields.String()
    size = fields.Integer(allow_none=True)


class DataCallOut(Schema):
    id = fields.Integer()
    title = fields.String()
    request = fields.String()
    sent_on = fields.Date()
    deadline = fields.Date()


class ReplyOut(Schema):
    id = fields.Integer()
    data_call = fields.Nested(DataCallOut)
    state = fields.String(metadata={"description": "on_time, late, awaited (not answered yet) or missing (overdue)"})
    note = fields.String()
    submitted_on = fields.Date(allow_none=True)
    revisions = fields.Integer(metadata={"description": "corrections sent after the first reply"})
    files = fields.List(fields.Nested(ReplyFileOut), metadata={"description": "attached on the page"})
    url = fields.String(metadata={"description": "the reply's page (where files are attached)"})


def reply_out(slot, call) -> dict:
    return {"id": slot.id, "data_call": call, "state": str(slot.state(call.deadline, today())), "note": slot.note,
            "submitted_on": slot.submitted_on, "revisions": slot.revisions,
            "files": [{"name": f.get("name"), "size": f.get("size")} for f in slot.files],
            "url": url_for("agency_data_calls.answer", reply_id=slot.id, tenant_slug=g.tenant.slug, _external=True)}


@writes_api.route("/data-calls")
@writes_api.arguments(PageArgs, location="query")
@writes_api.response(200, page_schema("ReplyPage", ReplyOut))
def data_calls(args):
    """The data calls the agency received (not withdrawn), latest deadline first, each with its reply."""
    from govqms.datacalls import services

    page = services.received_page(g.tenant.id, {"page": args["page"]}, per_page=args["per_page"])
    calls = services.calls_of(page.items)
    return paged(ReplyOut(), page, lambda slot: reply_out(slot, calls[slot.call_id]))


@writes_api.route("/data-calls/<int:reply_id>")
@writes_api.response(200, ReplyOut, headers=ETAG)
def data_call_reply(reply_id: int):
    """The agency's reply to one data call, with its ETag (the If-Match of a reply)."""
    from govqms.datacalls import services

    slot = record_or_404(DataCallReply, reply_id)
    return reply_out(slot, services.call_of(slot)), 200, {"ETag": etag_of(slot)}


class ReplyIn(InputSchema):
    note = TrimmedString(required=True, validate=length(20_000), metadata={"description": "the answer"})


@writes_api.route("/data-calls/<int:reply_id>/reply", methods=["POST"])
@guarded(Action.DATA_CALLS_REPLY, _l("Your role does not allow replying to data calls here."),
         DataCallReply, "reply_id")
@idempotent()
@writes_api.arguments(ReplyIn)
@writes_api.response(200, ReplyOut, headers=ETAG)
@writes_api.doc(parameters=[_key_parameter(False)])
def reply_to_data_call(data, record):
    """Send (or correct) the agency's written answer to a data call.

    With If-Match: the ETag read (428 without, 412 if someone replied since). The first reply's day decides
    on time or late; files are attached on the page."""
    from govqms.datacalls import services
    from govqms.notifications.services import deliver_soon

    require_match(record)
    services.reply(record, note=data["note"], files=[], user_id=g.api_user.id)
    deliver_soon()  # commits the reply with the job that emails those it told
    db.session.commit()
    return reply_out(record, services.call_of(record)), 200, {"ETag": etag_of(record)}


blueprints = [writes_api]
