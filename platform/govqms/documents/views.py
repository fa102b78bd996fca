"""The document register, a document's page with its revisions and history, and each workflow step."""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from govqms.core.clock import today
from govqms.core.forms import conflict_errors, form_status
from govqms.core.listing import list_args
from govqms.core.permissions import Action
from govqms.core.schemas import first_errors
from govqms.core.storage import get_storage
from govqms.core.uploads import UploadRefused, check_upload
from govqms.core.web import record_or_404, requires
from govqms.documents import services
from govqms.documents.models import (
    DOCUMENT_STATUS_LABELS,
    KIND_LABELS,
    REVISION_STATUS_LABELS,
    Document,
    ReviewOutcome,
    Revision,
    RevisionFile,
)
from govqms.documents.schemas import (
    ApproveSchema,
    CommentSchema,
    DocumentFilter,
    DocumentSchema,
    DraftSchema,
    ObsoleteSchema,
    PeriodicReviewSchema,
    ReturnSchema,
)
from govqms.extensions import db
from govqms.jobs.services import enqueue
from govqms.signatures.services import checks_of_records
from govqms.tenancy.blueprints import workspace_blueprint
from govqms.tenancy.services import active_units

bp = workspace_blueprint("documents", __name__, "/documents")
ALLOWED_FILES = ("pdf", "docx", "xlsx", "odt")


@bp.app_context_processor
def _labels():
    return {"DOC_KIND_LABELS": KIND_LABELS, "REVISION_STATUS_LABELS": REVISION_STATUS_LABELS,
            "DOCUMENT_STATUS_LABELS": DOCUMENT_STATUS_LABELS}


def current_locale() -> str:
    return str(get_locale())


def _units():
    return active_units(g.tenant.id)


def _filter_args(filters: dict) -> dict:
    """The filters as query-string arguments, for pager and sort links."""
    return {"q": filters["q"] or None, "kind": filters["kind"], "unit": filters["unit_id"],
            "status": filters["status"], "overdue": "1" if filters["review_overdue"] else None,
            "sort": filters["sort"]}


@bp.route("/")
@requires(Action.DOCUMENTS_VIEW)
def register():
    filters = list_args(DocumentFilter)
    page = services.register_page(g.tenant.id, filters)
    return render_template("documents/register.html", page=page, filters=filters, args=_filter_args(filters),
                           units=_units(), today=today(),
                           overdue=services.overdue_reviews(g.tenant.id))


@bp.route("/export", methods=["POST"])
@requires(Action.DOCUMENTS_VIEW)
def export():
    filters = list_args(DocumentFilter, request.form)  # the register's filters, as hidden fields of its form
    job = enqueue("documents.export_register", tenant_id=g.tenant.id, user_id=current_user.id,
                  q=filters["q"] or None, kind=filters["kind"], status=filters["status"], unit_id=filters["unit_id"],
                  review_overdue=filters["review_overdue"], sort=filters["sort"], locale=current_locale())
    return redirect(url_for("jobs.show", job_id=job.id))


#: a document is loaded with its revisions and their files (the pages show them all)
WITH_REVISIONS = selectinload(Document.revisions).selectinload(Revision.files)


def _revision(document: Document, revision_id: int) -> Revision:
    """The revision *revision_id* of *document* (404 if it is another document's)."""
    return services.revision_of(document, revision_id) or abort(404)


def _document_form(document: Document | None):
    form = ({"code": document.code, "title": document.title, "kind": document.kind,
             "owner_unit_id": document.owner_unit_id or "", "review_interval_months": document.review_interval_months}
            if document else {"review_interval_months": 12})
    errors = {}
    if request.method == "POST":
        form = request.form.to_dict()
        errors = conflict_errors(document)
        try:
            data = None if errors else DocumentSchema().load(form)
        except ValidationError as err:
            errors = first_errors(err.messages)
        else:
            errors = errors or services.form_problems(g.tenant.id, data, document)
            if not errors:
                if document is None:
                    document = services.create_document(g.tenant.id, drafter_id=current_user.id, **data)
                    flash(_("Document %(code)s created with a first draft.", code=data["code"]), "success")
                else:
                    services.update_document(document, **data)
                    flash(_("Document %(code)s saved.", code=data["code"]), "success")
                db.session.commit()
                return redirect(url_for(".detail", document_id=document.id))
    return render_template("documents/form.html", document=document, form=form, errors=errors,
                           units=_units()), form_status(errors)


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.DOCUMENTS_DRAFT)
def create():
    return _document_form(None)


@bp.route("/<int:document_id>/edit", methods=["GET", "POST"])
@requires(Action.DOCUMENTS_DRAFT)
def edit(document_id: int):
    return _document_form(record_or_404(Document, document_id, WITH_REVISIONS))


def _history(document: Document):
    return services.history_of(document)


@bp.route("/<int:document_id>")
@requires(Action.DOCUMENTS_VIEW)
def detail(document_id: int):
    document = record_or_404(Document, document_id, WITH_REVISIONS)
    reviews = services.reviews_of(document)
    return render_template("documents/detail.html", document=document, history=_history(document), reviews=reviews,
                           related=services.related_to(document),
                           open_revision=services.open_revision(document), today=today(),
                           current=services.current_revision(document), signed=_signed(document.revisions))


def _signed(revisions) -> dict:
    """The signature checks of the revisions' PDFs, by file id."""
    return checks_of_records(g.tenant.id, [f for r in revisions for f in r.files], "storage_key", "filename")


def _step(document_id: int, revision_id: int, run, success: str, schema=None):
    """Run one workflow step: the record is found first (404), then the form is checked;
    refusals come back as a message with nothing changed."""
    document = record_or_404(Document, document_id, WITH_REVISIONS)
    revision = _revision(document, revision_id)
    data = {}
    if schema is not None:
        try:
            data = schema.load(request.form.to_dict())
        except ValidationError as err:
            for message in first_errors(err.messages).values():
                flash(message, "danger")
            return detail(document_id), 400
    run(revision, data)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for(".detail", document_id=document_id))


@bp.route("/<int:document_id>/revisions", methods=["POST"])
@requires(Action.DOCUMENTS_DRAFT)
def new_revision(document_id: int):
    document = record_or_404(Document, document_id, WITH_REVISIONS)
    revision = services.new_draft(document, current_user.id)
    db.session.commit()
    flash(_("Revision %(n)s opened as a draft.", n=revision.number), "success")
    return redirect(url_for(".edit_revision", document_id=document_id, revision_id=revision.id))


@bp.route("/<int:document_id>/revisions/<int:revision_id>/edit", methods=["GET", "POST"])
@requires(Action.DOCUMENTS_DRAFT)
def edit_revision(document_id: int, revision_id: int):
    document = record_or_404(Document, document_id, WITH_REVISIONS)
    revision = _revision(document, revision_id)
    if revision.frozen:
        abort(403)
    form = {"change_summary": revision.change_summary,
            "effective_on": revision.effective_on.strftime("%d/%m/%Y") if revision.effective_on else ""}
    errors = {}
    if request.method == "POST":
        form = request.form.to_dict()
        errors = conflict_errors(revision)
        try:
            if errors:
                raise ValidationError({})  # saved by someone else meanwhile: the form again, with its input
            data = DraftSchema().load(form)
            services.update_draft(revision, **data)
        except ValidationError as err:
            errors = errors or first_errors(err.messages)
        else:
            db.session.commit()
            flash(_("Draft saved."), "success")
            return redirect(url_for(".edit_revision", document_id=document_id, revision_id=revision_id))
    return _revision_page(document, revision, form, errors), form_status(errors)


def _revision_page(document: Document, revision: Revision, form: dict, errors: dict):
    return render_template("documents/revision.html", document=document, revision=revision, form=form,
                           errors=errors, allowed=ALLOWED_FILES, signed=_signed([revision]))


@bp.route("/<int:document_id>/revisions/<int:revision_id>/files", methods=["POST"])
@requires(Action.DOCUMENTS_DRAFT)
def upload(document_id: int, revision_id: int):
    document = record_or_404(Document, document_id, WITH_REVISIONS)
    revision = _revision(document, revision_id)
    try:
        checked = check_upload(request.files.get("file"), ALLOWED_FILES)
        services.add_file(revision, checked)
    except UploadRefused as err:
        flash(str(err), "danger")
        form = {"change_summary": revision.change_summary,
                "effective_on": revision.effective_on.strftime("%d/%m/%Y") if revision.effective_on else ""}
        return _revision_page(document, revision, form, {}), 400
    db.session.commit()
    flash(_("%(name)s attached.", name=checked.filename), "success")
    return redirect(url_for(".edit_revision", document_id=document_id, revision_id=revision_id))


@bp.route("/<int:document_id>/revisions/<int:revision_id>/files/<int:file_id>/remove", methods=["POST"])
@requires(Action.DOCUMENTS_DRAFT)
def remove_file(document_id: int, revision_id: int, file_id: int):
    def run(revision, data):
        stored = next((f for f in revision.files if f.id == file_id), None)
        if stored is None:
            abort(404)
        services.remove_file(revision, stored)

    return _step(document_id, revision_id, run, _("File removed."))


@bp.route("/<int:document_id>/revisions/<int:revision_id>/submit", methods=["POST"])
@requires(Action.DOCUMENTS_DRAFT)
def submit(document_id: int, revision_id: int):
    return _step(document_id, revision_id, lambda r, data: services.submit(r, current_user.id),
                 _("Sent for review."))


@bp.route("/<int:document_id>/revisions/<int:revision_id>/review", methods=["POST"])
@requires(Action.DOCUMENTS_REVIEW)
def review(document_id: int, revision_id: int):
    return _step(document_id, revision_id,
                 lambda r, data: services.record_review(r, current_user.id, data["comment"]),
                 _("Review recorded."), CommentSchema())


@bp.route("/<int:document_id>/revisions/<int:revision_id>/return", methods=["POST"])
@requires(Action.DOCUMENTS_REVIEW)
def return_draft(document_id: int, revision_id: int):
    return _step(document_id, revision_id,
                 lambda r, data: services.return_to_draft(r, current_user.id, data["comment"]),
                 _("Returned to the drafter."), ReturnSchema())


@bp.route("/<int:document_id>/revisions/<int:revision_id>/approve", methods=["POST"])
@requires(Action.DOCUMENTS_APPROVE)
def approve(document_id: int, revision_id: int):
    return _step(document_id, revision_id,
                 lambda r, data: services.approve(r, current_user.id, data["effective_on"]),
                 _("Approved."), ApproveSchema())


@bp.route("/<int:document_id>/revisions/<int:revision_id>/activate", methods=["POST"])
@requires(Action.DOCUMENTS_APPROVE)
def activate(document_id: int, revision_id: int):
    return _step(document_id, revision_id, lambda r, data: services.make_effective(r),
                 _("The revision is in force."))


@bp.route("/<int:document_id>/obsolete", methods=["GET", "POST"])
@requires(Action.DOCUMENTS_APPROVE)
def obsolete(document_id: int):
    document = record_or_404(Document, document_id, WITH_REVISIONS)
    form, errors = {"obsolete_on": today().strftime("%d/%m/%Y")}, {}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            data = ObsoleteSchema().load(form)
            services.make_obsolete(document, data["obsolete_on"], data["reason"])
        except ValidationError as err:
            errors = first_errors(err.messages)
        else:
            db.session.commit()
            flash(_("%(code)s is obsolete. It stays in the register as history.", code=document.code), "info")
            return redirect(url_for(".detail", document_id=document_id))
    return render_template("documents/obsolete.html", document=document, form=form, errors=errors), \
        400 if errors else 200


@bp.route("/<int:document_id>/periodic-review", methods=["GET", "POST"])
@requires(Action.DOCUMENTS_DRAFT)
def periodic_review(document_id: int):
    document = record_or_404(Document, document_id, WITH_REVISIONS)
    form = {"reviewed_on": today().strftime("%d/%m/%Y"), "outcome": ReviewOutcome.NO_CHANGE}
    errors = {}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            data = PeriodicReviewSchema().load(form)
            services.conclude_review(document, current_user.id, outcome=data["outcome"], on=data["reviewed_on"],
                                     note=data["note"])
        except ValidationError as err:
            errors = first_errors(err.messages)
        else:
            db.session.commit()
            flash(_("Periodic review recorded."), "success")
            return redirect(url_for(".detail", document_id=document_id))
    return render_template("documents/periodic_review.html", document=document, form=form, errors=errors), \
        400 if errors else 200


@bp.route("/files/<int:file_id>")
@requires(Action.DOCUMENTS_VIEW)
def download(file_id: int):
    stored = record_or_404(RevisionFile, file_id)
    return send_file(BytesIO(get_storage().get(stored.storage_key)), mimetype=stored.mimetype, as_attachment=True,
                     download_name=stored.filename, etag=stored.sha256, max_age=0)

