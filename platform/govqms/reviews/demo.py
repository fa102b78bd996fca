"""Demo: the management review of each of the last two years in the agencies with a history (inputs
compiled from their records, decisions as actions, effectiveness confirmed), and the recent review of
the agency shown all in order."""
from __future__ import annotations

import datetime as dt

from govqms.core.demo import DemoContext, acting, demo_step, month_day
from govqms.improvement import services as improvement
from govqms.reviews import services
from govqms.tenancy.services import members


@demo_step(60)
def management_reviews(ctx: DemoContext) -> int:
    words = ctx.section("reviews")
    added = 0
    for agency in ctx.histories():
        tenant, drafter, reviewer, approver = agency.tenant, agency.drafter, agency.reviewer, agency.approver
        if services.reviews_of(tenant.id):
            continue
        owners = {"drafter": drafter, "reviewer": reviewer, "approver": approver}
        for year in (ctx.today.year - 2, ctx.today.year - 1):
            meeting = dt.date(year, 12, 10)
            with acting(drafter):
                review = services.create_review(
                    tenant.id, year=year, meeting_on=meeting, chair=approver.name,
                    attendees=f"{approver.name}, {reviewer.name}, {drafter.name}, {words['other_attendees']}")
                services.save_notes(review, {}, words["conclusion"])
                for decision in words["decisions"]:
                    improvement.add_action(tenant.id, review_id=review.id, category=decision["category"],
                                           owner_id=owners[decision["owner"]].id, description=decision["description"],
                                           due_on=month_day(year + 1, decision["due"]))
            with acting(approver):
                services.confirm_effectiveness(review, approver.id, on=meeting)
            added += 1
    return added


@demo_step(61)
def review_in_order(ctx: DemoContext) -> int:
    """The agency shown all in order held its review a month ago, its effectiveness confirmed."""
    words = ctx.section("state_records")
    added = 0
    for slug, state in ctx.section("states").items():
        tenant = ctx.tenant(slug)
        if state != "green" or tenant is None or services.reviews_of(tenant.id):
            continue
        with ctx.in_agency(tenant):
            held = ctx.today - dt.timedelta(days=30)
            review = services.create_review(tenant.id, year=ctx.today.year, meeting_on=held,
                                            chair=words["review_chair"], attendees="")
            services.save_notes(review, {}, words["review_conclusion"])
            head = members(tenant.id)[0]
            services.confirm_effectiveness(review, head.id, on=held)
        added += 1
    return added
