"""The records catalogue: what records the QMS keeps, where, by whom and for how long."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from govqms.core.forms import archive_flow, form_status, process_form
from govqms.core.listing import list_args
from govqms.core.permissions import Action
from govqms.core.web import record_or_404, requires
from govqms.extensions import db
from govqms.records import services
from govqms.records.models import RecordEntry
from govqms.records.schemas import RecordEntrySchema, RecordFilter
from govqms.tenancy.blueprints import workspace_blueprint
from govqms.tenancy.services import active_units

bp = workspace_blueprint("records", __name__, "/records")


@bp.route("/")
@requires(Action.DOCUMENTS_VIEW)
def index():
    args = list_args(RecordFilter)
    return render_template("records/index.html", page=services.entries_page(g.tenant.id, args),
                           archived=args["archived"])


def _choices():
    documents = services.documents_of(g.tenant.id)
    units = active_units(g.tenant.id)
    return documents, units




def _form(entry: RecordEntry | None):
    documents, units = _choices()
    fields_ = ("name", "document_id", "location", "keeper_unit_id", "keeper", "retention", "note")
    initial = {k: getattr(entry, k) if getattr(entry, k) is not None else "" for k in fields_} if entry else {}

    def on_valid(data):
        problems = services.form_problems(data, documents, units)
        if problems:
            return problems
        services.save(g.tenant.id, entry, data)
        db.session.commit()
        flash(_("Record %(name)s saved.", name=data["name"]), "success")
        return redirect(url_for(".index"))

    form, errors, done = process_form(RecordEntrySchema(), initial, on_valid, record=entry)
    if done is not None:
        return done
    return render_template("records/form.html", entry=entry, form=form, errors=errors, documents=documents,
                           units=units), form_status(errors)


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.CATALOGUES_MANAGE)
def create():
    return _form(None)


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@requires(Action.CATALOGUES_MANAGE)
def edit(entry_id: int):
    return _form(record_or_404(RecordEntry, entry_id))


@bp.route("/<int:entry_id>/archive", methods=["GET", "POST"])
@requires(Action.CATALOGUES_MANAGE)
def archive(entry_id: int):
    entry = record_or_404(RecordEntry, entry_id)
    return archive_flow(entry, title=_("Archive %(name)s?", name=entry.name),
                        message=_("It leaves the records catalogue; the entry and its history are kept."),
                        done=_("%(name)s archived.", name=entry.name))
