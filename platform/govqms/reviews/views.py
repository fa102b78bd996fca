"""Management reviews: inputs compiled by the app, the meeting's notes and decisions, confirmation, minutes."""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from govqms.core.clock import today
from govqms.core.forms import conflict_errors, form_status, process_form
from govqms.core.permissions import Action as Permission
from govqms.core.schemas import first_errors
from govqms.core.storage import get_storage
from govqms.core.uploads import UploadRefused, check_upload
from govqms.core.web import record_or_404, requires
from govqms.extensions import db
from govqms.improvement import services as improvement
from govqms.improvement.schemas import ActionSchema
from govqms.jobs.services import enqueue
from govqms.reviews import services
from govqms.reviews.models import ManagementReview
from govqms.reviews.schemas import HeldSchema, NotesSchema, ReviewSchema
from govqms.signatures.services import checks_of_records
from govqms.tenancy.blueprints import workspace_blueprint
from govqms.tenancy.services import members

bp = workspace_blueprint("reviews", __name__, "/reviews")


@bp.app_context_processor
def _helpers():
    from govqms.improvement.models import DECISION_LABELS
    from govqms.reviews.summary import section_lines, section_titles

    return {"section_lines": section_lines, "section_titles": section_titles, "DECISION_LABELS": DECISION_LABELS}


@bp.route("/")
@requires(Permission.IMPROVEMENT_VIEW)
def index():
    reviews = services.reviews_of(g.tenant.id)
    return render_template("reviews/index.html", reviews=reviews)


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.REVIEWS_MANAGE)
def create():
    def on_valid(data):
        review = services.create_review(g.tenant.id, **data)
        db.session.commit()
        flash(_("Review created; its inputs were compiled from the records."), "success")
        return redirect(url_for(".detail", review_id=review.id))

    initial = {"year": today().year, "meeting_on": today().strftime("%d/%m/%Y")}
    form, errors, done = process_form(ReviewSchema(), initial, on_valid)
    if done is not None:
        return done
    return render_template("reviews/form.html", form=form, errors=errors), 400 if errors else 200




def _page(review: ManagementReview, errors=None, form=None, status: int = 200):
    decisions = services.decisions_of(review)
    signed = checks_of_records(review.tenant_id, [review], "signed_minutes_key", "signed_minutes_name")
    return render_template("reviews/detail.html", review=review, decisions=decisions, sections=services.SECTIONS,
                           signed_check=signed.get(review.id),
                           people=members(g.tenant.id), errors=errors or {}, form=form or {}, today=today()), status


@bp.route("/<int:review_id>")
@requires(Permission.IMPROVEMENT_VIEW)
def detail(review_id: int):
    return _page(record_or_404(ManagementReview, review_id))


@bp.route("/<int:review_id>/notes", methods=["POST"])
@requires(Permission.REVIEWS_MANAGE)
def notes(review_id: int):
    review = record_or_404(ManagementReview, review_id)
    conflict = conflict_errors(review)
    if conflict:
        return _page(review, conflict, request.form.to_dict(), form_status(conflict))
    try:
        data = NotesSchema().load(request.form.to_dict())
    except ValidationError as err:
        return _page(review, first_errors(err.messages), request.form.to_dict(), 400)
    services.save_notes(review, {section: request.form.get(f"note-{section}", "") for section in services.SECTIONS},
                        data["conclusion"])
    db.session.commit()
    flash(_("Notes saved."), "success")
    return redirect(url_for(".detail", review_id=review_id))


@bp.route("/<int:review_id>/recompile", methods=["POST"])
@requires(Permission.REVIEWS_MANAGE)
def recompile(review_id: int):
    review = record_or_404(ManagementReview, review_id)
    if review.effectiveness_confirmed:
        abort(403)  # a confirmed review's inputs are the record of that meeting
    services.recompile(review)
    db.session.commit()
    flash(_("Inputs compiled again from today's records."), "success")
    return redirect(url_for(".detail", review_id=review_id))


@bp.route("/<int:review_id>/decisions", methods=["POST"])
@requires(Permission.REVIEWS_MANAGE)
def decision(review_id: int):
    review = record_or_404(ManagementReview, review_id)
    form = request.form.to_dict()
    try:
        data = ActionSchema().load(form)
        if data["category"] is None:
            raise ValidationError({"category": [_("Choose a category.")]})
        if data["owner_id"] is not None and data["owner_id"] not in {p.id for p in members(g.tenant.id)}:
            raise ValidationError({"owner_id": [_("Choose a member of the agency.")]})
        improvement.add_action(g.tenant.id, review_id=review.id, **data)
    except ValidationError as err:
        return _page(review, first_errors(err.messages), form, 400)
    db.session.commit()
    flash(_("Decision recorded with its action."), "success")
    return redirect(url_for(".detail", review_id=review_id))


@bp.route("/<int:review_id>/held", methods=["POST"])
@requires(Permission.REVIEWS_MANAGE)
def held(review_id: int):
    review = record_or_404(ManagementReview, review_id)
    form = request.form.to_dict()
    try:
        services.hold(review, HeldSchema().load(form)["held_on"])
    except ValidationError as err:
        return _page(review, first_errors(err.messages), form, 400)
    except services.ReviewRefused as err:  # the date typed is refused: the page again, with the reason
        flash(str(err), "danger")
        return redirect(url_for(".detail", review_id=review_id))
    db.session.commit()
    flash(_("The management review is recorded as held."), "success")
    return redirect(url_for(".detail", review_id=review_id))


@bp.route("/<int:review_id>/confirm", methods=["POST"])
@requires(Permission.REVIEWS_CONFIRM)
def confirm(review_id: int):
    review = record_or_404(ManagementReview, review_id)
    services.confirm_effectiveness(review, current_user.id)
    db.session.commit()
    flash(_("The effectiveness of the QMS for %(year)s is confirmed.", year=review.year), "success")
    return redirect(url_for(".detail", review_id=review_id))


@bp.route("/<int:review_id>/signed-minutes")
@requires(Permission.IMPROVEMENT_VIEW)
def signed_minutes(review_id: int):
    review = record_or_404(ManagementReview, review_id)
    if review.signed_minutes_key is None:
        abort(404)
    return send_file(BytesIO(get_storage().get(review.signed_minutes_key)), mimetype="application/pdf",
                     as_attachment=True, download_name=review.signed_minutes_name or "minutes.pdf")


@bp.route("/<int:review_id>/signed-minutes", methods=["POST"])
@requires(Permission.REVIEWS_MANAGE)
def upload_signed_minutes(review_id: int):
    """The minutes as the chair signed them digitally (a PDF): kept with the review, signatures verified."""
    review = record_or_404(ManagementReview, review_id)
    try:
        services.attach_signed_minutes(review, check_upload(request.files.get("file"), ("pdf",)))
    except UploadRefused as err:
        db.session.rollback()
        return _page(review, {"signed_minutes": str(err)}, None, 400)
    except services.ReviewRefused as err:
        db.session.rollback()
        return _page(review, {"signed_minutes": str(err)}, None, 409)
    db.session.commit()
    flash(_("The signed minutes are uploaded."), "success")
    return redirect(url_for(".detail", review_id=review_id) + "#signed-minutes")


@bp.route("/<int:review_id>/docx", methods=["POST"])
@requires(Permission.IMPROVEMENT_VIEW)
def minutes(review_id: int):
    review = record_or_404(ManagementReview, review_id)
    job = enqueue("reviews.minutes_docx", tenant_id=g.tenant.id, user_id=current_user.id, review_id=review.id,
                  locale=str(get_locale()))
    return redirect(url_for("jobs.show", job_id=job.id))
