"""The legal change log: legal texts, the documents they affect, and whether the QMS followed in time."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from govqms.core.clock import today
from govqms.core.forms import archive_flow, form_status, process_form
from govqms.core.listing import list_args
from govqms.core.permissions import Action
from govqms.core.web import record_or_404, requires
from govqms.extensions import db
from govqms.legal import services
from govqms.legal.models import LegalChange
from govqms.legal.schemas import LegalChangeSchema
from govqms.tenancy.blueprints import workspace_blueprint

bp = workspace_blueprint("legal", __name__, "/legal")


@bp.route("/")
@requires(Action.DOCUMENTS_VIEW)
def index():
    page = services.changes_page(g.tenant.id, list_args())
    on = today()
    statuses = {c.id: services.status(c, on) for c in page.items}
    return render_template("legal/index.html", page=page, statuses=statuses, labels=services.STATUS_LABELS,
                           deadline=services.deadline)




def _form(change: LegalChange | None):
    documents = services.documents_in_force(g.tenant.id)
    initial = {}
    if change is not None:
        initial = {"number": change.number, "title": change.title, "note": change.note,
                   "effective_on": change.effective_on.strftime("%d/%m/%Y"),
                   "qms_updated_on": change.qms_updated_on.strftime("%d/%m/%Y") if change.qms_updated_on else "",
                   "document_ids": [str(link.document_id) for link in change.links]}

    def on_valid(data):
        unknown = set(data["document_ids"]) - {d.id for d in documents}
        if unknown:
            return {"document_ids": _("Choose documents from the list.")}
        document_ids = data.pop("document_ids")
        services.save(change or LegalChange(tenant_id=g.tenant.id), document_ids, **data)
        db.session.commit()
        flash(_("Legal change %(number)s saved.", number=data["number"]), "success")
        return redirect(url_for(".index"))

    form, errors, done = process_form(LegalChangeSchema(), initial, on_valid, list_fields=("document_ids",),
                                      record=change)
    if done is not None:
        return done
    return render_template("legal/form.html", change=change, form=form, errors=errors,
                           documents=documents), form_status(errors)


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.CATALOGUES_MANAGE)
def create():
    return _form(None)


@bp.route("/<int:change_id>/edit", methods=["GET", "POST"])
@requires(Action.CATALOGUES_MANAGE)
def edit(change_id: int):
    return _form(record_or_404(LegalChange, change_id))


@bp.route("/<int:change_id>/archive", methods=["GET", "POST"])
@requires(Action.CATALOGUES_MANAGE)
def archive(change_id: int):
    change = record_or_404(LegalChange, change_id)
    return archive_flow(change, title=_("Archive %(number)s?", number=change.number),
                        message=_("It leaves the legal change log; the entry and its history are kept."),
                        done=_("%(number)s archived.", number=change.number))
