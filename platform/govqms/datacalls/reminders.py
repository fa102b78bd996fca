"""What data calls remind people of: replies awaited by a deadline, and, the day after it, the sender
of who did not reply."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from govqms.datacalls.models import DataCall, DataCallReply
from govqms.extensions import db
from govqms.notifications import services
from govqms.notifications.reminders import Due, daily_step, due_source
from govqms.tenancy.models import Jurisdiction
from govqms.tenancy.services import overseers_of


@due_source("data_call")
def _data_calls(ids, today, until):
    for reply, call in db.session.execute(
            select(DataCallReply, DataCall).join(DataCall, DataCall.id == DataCallReply.call_id)
            .where(DataCallReply.tenant_id.in_(ids), DataCallReply.submitted_on.is_(None),
                   DataCall.archived_at.is_(None), DataCall.deadline <= until)):
        yield Due("data_call", f"data-call:{reply.id}:{call.deadline.isoformat()}", reply.tenant_id,
                  call.deadline, {"title": call.title}, ("agency_data_calls.answer", {"reply_id": reply.id}))


@daily_step
def data_call_deadlines(today: dt.date) -> int:
    """Tell the sender of each data call whose deadline passed yesterday how many agencies did not reply."""
    rows = db.session.execute(
        select(DataCall, func.count(DataCallReply.id))
        .join(DataCallReply, DataCallReply.call_id == DataCall.id)
        .where(DataCall.archived_at.is_(None), DataCall.deadline < today,
               DataCall.deadline >= today - dt.timedelta(days=7), DataCallReply.submitted_on.is_(None))
        .group_by(DataCall.id)).all()
    codes = dict(db.session.execute(select(Jurisdiction.id, Jurisdiction.code).where(
        Jurisdiction.id.in_({call.jurisdiction_id for call, _ in rows}))).all()) if rows else {}
    overseers = overseers_of(codes)
    items = []
    for call, missing in rows:
        people = set(overseers.get(call.jurisdiction_id, []))
        if call.created_by_id:
            people.add(call.created_by_id)
        for user_id in people:
            items.append((user_id, "data_call_missing", f"data-call-missing:{call.id}:{call.deadline.isoformat()}",
                          "event", {"title": call.title, "missing": missing}, call.deadline,
                          ("data_calls.detail",
                           {"call_id": call.id, "jurisdiction_code": codes[call.jurisdiction_id]})))
    return services.notify_many(items)
