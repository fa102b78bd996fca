from __future__ import annotations

from flask_babel import force_locale, gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from govqms.extensions import db
from govqms.improvement.models import DECISION_LABELS, Action
from govqms.jobs.services import task
from govqms.official.issuing import LANGUAGE, agency_context, paragraphs_of, produce_for_agency
from govqms.reviews.models import ManagementReview
from govqms.reviews.summary import section_lines, section_titles
from govqms.tenancy.models import Tenant


def minutes_context(tenant: Tenant, review_id: int) -> dict:
    """What the minutes say: the inputs with the discussion, the decisions, the conclusion and the
    head's confirmation."""
    review = db.session.scalar(select(ManagementReview).where(ManagementReview.id == review_id,
                                                              ManagementReview.tenant_id == tenant.id))
    context = agency_context(tenant, "review-minutes", review.meeting_on)
    decisions = db.session.scalars(select(Action).where(Action.tenant_id == tenant.id, Action.review_id == review.id)
                                   .options(selectinload(Action.owner)).order_by(Action.id)).all()
    with force_locale(LANGUAGE):
        titles = section_titles()
        inputs = []
        for number, (key, lines) in enumerate(section_lines(review.inputs), start=1):
            inputs.append(f"{number}. {titles[key]}")
            inputs += [f"- {line}" for line in lines]
            if review.notes.get(key):
                inputs.append(f"- {review.notes[key]}")
        rows = [{"stt": stt, "category": str(DECISION_LABELS.get(a.category, "")), "description": a.description,
                 "owner": a.owner.name if a.owner else "", "due_on": a.due_on}
                for stt, a in enumerate(decisions, start=1)]
    context.update(review={"year": review.year, "meeting_on": review.meeting_on, "chair": review.chair,
                           "attendees": review.attendees,
                           "confirmed_on": review.confirmed_on if review.effectiveness_confirmed else None},
                   inputs=inputs or [context["empty"]], decisions=rows, year=review.year,
                   conclusion=paragraphs_of(review.conclusion, context["empty"]))
    return context


@task("reviews.minutes_docx")
def minutes_docx(job, tenant_id: int, review_id: int, locale: str = "vi") -> None:
    """Minutes of the management review (biên bản họp xem xét của lãnh đạo) as DOCX, in the
    administrative format of ND 30/2020 (:mod:`govqms.official`)."""
    with force_locale(locale):
        job.progress(1, 2, _("Writing the document"))
    tenant = db.session.get(Tenant, tenant_id)
    document = produce_for_agency(tenant, "review-minutes", review_id, minutes_context(tenant, review_id))
    job.set_result(document.data, document.file_name, document.mimetype)
