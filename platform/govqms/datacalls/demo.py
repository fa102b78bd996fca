"""Demo: the data call of seed 000 in the demo province (review every procedure, report by 25/07),
sent to every active agency and answered by some of them, on time or late."""
from __future__ import annotations

import datetime as dt

from govqms.core.demo import DemoContext, acting, demo_step, month_day
from govqms.core.tenancy import writing_for
from govqms.datacalls import services
from govqms.extensions import db
from govqms.tenancy.services import jurisdiction_by_code


@demo_step(85)
def data_call(ctx: DemoContext) -> int:
    words, place = ctx.section("data_call"), ctx.section("inspections")
    today = ctx.today
    province = jurisdiction_by_code(place["province"])
    overseer = ctx.user(place["overseer"])
    if province is None or overseer is None:
        return 0
    if any(call.title == words["title"] for call in services.calls_page(province, {"page": 1}).items):
        return 0
    deadline = month_day(today.year, words["deadline"])
    with acting(overseer):
        call = services.send(province, title=words["title"], request=words["request"], deadline=deadline,
                             tenants=services.agencies_in_reach(province), user_id=overseer.id,
                             on=min(month_day(today.year, words["sent"]), today))
        for slot, tenant in services.replies_of(call):
            days_before = words["answers"].get(tenant.slug)
            answered = deadline - dt.timedelta(days=days_before) if days_before is not None else None
            if answered is not None and answered <= today:
                with writing_for(tenant.id, db.session):
                    services.reply(slot, note=words["reply"], files=[], user_id=None, on=answered)
    return 1
