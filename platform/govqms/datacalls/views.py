"""Data calls: the overseer sends and follows them; each agency answers its own."""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from govqms.core.clock import today
from govqms.core.conflicts import stale_form
from govqms.core.forms import CONFLICT, conflict_errors, form_data
from govqms.core.listing import list_args
from govqms.core.permissions import Action
from govqms.core.schemas import first_errors
from govqms.core.storage import get_storage
from govqms.core.uploads import UploadRefused, check_upload
from govqms.core.web import jurisdiction_record_or_404, record_or_404, requires
from govqms.datacalls import (
    schedule as _schedule,  # noqa: F401  (registers the timeline source)
    services,
)
from govqms.datacalls.models import STATE_LABELS, DataCall, DataCallReply, UnitCall, UnitCallReply
from govqms.datacalls.schemas import DataCallSchema, ReplySchema, RequestFilter, UnitCallSchema
from govqms.extensions import db
from govqms.notifications.services import deliver_soon
from govqms.tenancy.blueprints import oversight_blueprint, workspace_blueprint
from govqms.tenancy.models import KIND_LABELS
from govqms.tenancy.services import active_units

bp = oversight_blueprint("data_calls", __name__, "/data-calls")
agency = workspace_blueprint("agency_data_calls", __name__, "/data-calls")
blueprints = [bp, agency]
FILE_TYPES = ("pdf", "docx", "xlsx", "odt", "ods")
MAX_FILES = 10


def _download(key: str | None, name: str | None):
    if not key:
        abort(404)
    return send_file(BytesIO(get_storage().get(key)), as_attachment=True, download_name=name or "file")


def _request_form(schema, list_field: str) -> tuple[dict, object]:
    """Load a request form (subject, what is asked, deadline, recipients, template): the data and the
    checked template; raises ValidationError or UploadRefused, with nothing stored."""
    data = schema().load(form_data((list_field,)))
    if data["deadline"] < today():
        raise ValidationError({"deadline": [_("The deadline cannot be in the past.")]})
    upload = request.files.get("template")
    return data, check_upload(upload, FILE_TYPES) if upload and upload.filename else None


def _save_reply(slot) -> None:
    """Check the reply form and its files and save the reply; raises ValidationError or UploadRefused."""
    data = ReplySchema().load(request.form)
    uploads = [f for f in request.files.getlist("files") if f and f.filename]
    if len(uploads) + len(slot.files) > MAX_FILES:
        raise UploadRefused(_("At most %(n)s files per reply.", n=MAX_FILES))
    checked = [check_upload(f, FILE_TYPES) for f in uploads]
    if not checked and not slot.files and not data["note"]:
        raise UploadRefused(_("Attach the report or write the answer."))
    services.reply(slot, note=data["note"], files=checked, user_id=current_user.id)
    _tell_now()
    flash(_("Your reply was sent."), "success")


def _tell_now() -> None:
    """Commit the write with the job that emails those it told (the outbox: together or not at all)."""
    job = deliver_soon()
    db.session.commit()
    if job is not None and job.waiting_for_queue:
        flash(_("The emails will go out as soon as the background service is back."), "info")


# --- the overseer ---------------------------------------------------------------------------------

@bp.route("/")
@requires(Action.OVERSIGHT_VIEW)
def index():
    page = services.calls_page(g.jurisdiction, list_args(RequestFilter))
    return render_template("datacalls/index.html", page=page, today=today(),
                           tallies=services.tallies(DataCall, DataCallReply, [c.id for c in page.items], today()),
                           can_send=g.access.can(Action.DATA_CALLS_SEND))


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.DATA_CALLS_SEND)
def new():
    agencies = services.agencies_in_reach(g.jurisdiction)
    form, errors = {"tenant_ids": [str(t.id) for t in agencies]}, {}
    if request.method == "POST":
        form = form_data(("tenant_ids",))
        try:
            data, template = _request_form(DataCallSchema, "tenant_ids")
            tenants = services.recipients_in_reach(g.jurisdiction, data["tenant_ids"])
            if not tenants:  # none chosen of those in reach (another jurisdiction's, or merged away)
                raise ValidationError({"tenant_ids": [_("Choose at least one agency of your jurisdiction.")]})
            call = services.send(g.jurisdiction, title=data["title"], request=data["request"],
                                 deadline=data["deadline"], tenants=tenants, user_id=current_user.id,
                                 template=template)
            _tell_now()
            flash(_("The data call was sent to %(n)s agencies.", n=len(tenants)), "success")
            return redirect(url_for(".detail", call_id=call.id))
        except ValidationError as error:
            errors = first_errors(error.messages)
        except UploadRefused as refused:
            errors["template"] = str(refused)
    return render_template("datacalls/new.html", agencies=agencies, form=form, errors=errors,
                           KIND_LABELS=KIND_LABELS), (422 if errors else 200)


@bp.route("/<int:call_id>/")
@requires(Action.OVERSIGHT_VIEW)
def detail(call_id: int):
    call = jurisdiction_record_or_404(DataCall, call_id)
    return render_template("datacalls/detail.html", call=call, replies=services.replies_of(call), today=today(),
                           STATE_LABELS=STATE_LABELS)


@bp.route("/<int:call_id>/template")
@requires(Action.OVERSIGHT_VIEW)
def template(call_id: int):
    call = jurisdiction_record_or_404(DataCall, call_id)
    return _download(call.template_key, call.template_name)


@bp.route("/<int:call_id>/replies/<int:reply_id>/files/<int:index>")
@requires(Action.OVERSIGHT_VIEW)
def reply_file(call_id: int, reply_id: int, index: int):
    call = jurisdiction_record_or_404(DataCall, call_id)
    slot = services.reply_to(call, reply_id)
    if slot is None or not 0 <= index < len(slot.files):
        abort(404)
    return _download(slot.files[index]["key"], slot.files[index]["name"])


# --- the agency ----------------------------------------------------------------------------------

@agency.route("/")
@requires(Action.IMPROVEMENT_VIEW)
def index_for_agency():
    page = services.received_page(g.tenant.id, list_args(RequestFilter))
    return render_template("datacalls/agency_index.html", page=page, calls=services.calls_of(page.items),
                           today=today(), STATE_LABELS=STATE_LABELS)


@agency.route("/<int:reply_id>/", methods=["GET", "POST"])
@requires(Action.IMPROVEMENT_VIEW)
def answer(reply_id: int):
    slot = record_or_404(DataCallReply, reply_id)
    call = services.call_of(slot)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not g.access.can(Action.DATA_CALLS_REPLY):
            abort(403)
        errors = conflict_errors(slot)
    if request.method == "POST" and not errors:
        try:
            _save_reply(slot)
            return redirect(url_for(".answer", reply_id=slot.id))
        except ValidationError as error:
            errors = first_errors(error.messages)
        except UploadRefused as refused:
            errors["files"] = str(refused)
    return render_template("datacalls/answer.html", slot=slot, call=call, errors=errors, today=today(),
                           form=request.form, STATE_LABELS=STATE_LABELS,
                           can_reply=g.access.can(Action.DATA_CALLS_REPLY)), \
        (409 if CONFLICT in errors else 422 if errors else 200)


@agency.route("/<int:reply_id>/template")
@requires(Action.IMPROVEMENT_VIEW)
def agency_template(reply_id: int):
    call = services.call_of(record_or_404(DataCallReply, reply_id))
    return _download(call.template_key, call.template_name)


@agency.route("/<int:reply_id>/files/<int:index>")
@requires(Action.IMPROVEMENT_VIEW)
def agency_file(reply_id: int, index: int):
    slot = record_or_404(DataCallReply, reply_id)
    if not 0 <= index < len(slot.files):
        abort(404)
    return _download(slot.files[index]["key"], slot.files[index]["name"])


# --- a department head's calls to its own units ---------------------------------------------------

units_bp = workspace_blueprint("unit_calls", __name__, "/unit-calls")
blueprints.append(units_bp)


@units_bp.route("/")
@requires(Action.IMPROVEMENT_VIEW)
def unit_index():
    page = services.unit_calls_page(g.tenant.id, list_args(RequestFilter))
    tallies = services.tallies(UnitCall, UnitCallReply, [c.id for c in page.items], today())
    return render_template("datacalls/unit_index.html", page=page, tallies=tallies, today=today(),
                           can_send=g.access.can(Action.UNIT_CALLS_SEND))


@units_bp.route("/new", methods=["GET", "POST"])
@requires(Action.UNIT_CALLS_SEND)
def unit_new():
    units = active_units(g.tenant.id)
    form, errors = {"unit_ids": [str(u.id) for u in units]}, {}
    if request.method == "POST":
        form = form_data(("unit_ids",))
        try:
            data, template = _request_form(UnitCallSchema, "unit_ids")
            call = services.send_to_units(g.tenant.id, title=data["title"], request=data["request"],
                                          deadline=data["deadline"], unit_ids=data["unit_ids"],
                                          user_id=current_user.id, template=template)
            db.session.commit()
            flash(_("The request was sent to the units."), "success")
            return redirect(url_for(".unit_detail", unit_call_id=call.id))
        except ValidationError as error:
            errors = first_errors(error.messages)
        except UploadRefused as refused:
            errors["template"] = str(refused)
    return render_template("datacalls/unit_new.html", units=units, form=form, errors=errors), (422 if errors else 200)


@units_bp.route("/<int:unit_call_id>/")
@requires(Action.IMPROVEMENT_VIEW)
def unit_detail(unit_call_id: int):
    call = record_or_404(UnitCall, unit_call_id)
    return render_template("datacalls/unit_detail.html", call=call, replies=services.unit_replies_of(call),
                           today=today(), STATE_LABELS=STATE_LABELS)


@units_bp.route("/<int:unit_call_id>/template")
@requires(Action.IMPROVEMENT_VIEW)
def unit_template(unit_call_id: int):
    call = record_or_404(UnitCall, unit_call_id)
    return _download(call.template_key, call.template_name)


@units_bp.route("/<int:unit_call_id>/replies/<int:unit_reply_id>", methods=["POST"])
@requires(Action.IMPROVEMENT_VIEW)
def unit_answer(unit_call_id: int, unit_reply_id: int):
    call = record_or_404(UnitCall, unit_call_id)
    slot = services.reply_to(call, unit_reply_id)
    if slot is None:
        abort(404)
    if not services.may_answer_for_unit(g.access, current_user.id, g.tenant.id, slot.unit_id):
        abort(403)
    conflict = stale_form(slot)
    if conflict:  # answered by someone else since the page was opened: back, with what changed and theirs
        flash(" ".join([conflict, _("Your answer, not saved: %(text)s", text=request.form.get("note", "")[:500])]),
              "danger")
        return redirect(url_for(".unit_detail", unit_call_id=call.id) + f"#reply-{slot.id}"), 303
    try:
        _save_reply(slot)
    except (ValidationError, UploadRefused) as problem:
        message = str(problem) if isinstance(problem, UploadRefused) else "; ".join(
            first_errors(problem.messages).values())
        flash(message, "danger")
    return redirect(url_for(".unit_detail", unit_call_id=call.id) + f"#reply-{slot.id}")


@units_bp.route("/<int:unit_call_id>/replies/<int:unit_reply_id>/files/<int:index>")
@requires(Action.IMPROVEMENT_VIEW)
def unit_file(unit_call_id: int, unit_reply_id: int, index: int):
    slot = services.reply_to(record_or_404(UnitCall, unit_call_id), unit_reply_id)
    if slot is None or not 0 <= index < len(slot.files):
        abort(404)
    return _download(slot.files[index]["key"], slot.files[index]["name"])
