"""Data-call deadlines on the timeline and in the calendar feeds."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from govqms.calendars.schedule import Event, source
from govqms.datacalls.models import DataCall, DataCallReply
from govqms.extensions import db


@source("data_call", _l("Data-call deadline"))
def _deadlines(ids, start, end):
    for slot, call in db.session.execute(
            select(DataCallReply, DataCall).join(DataCall, DataCall.id == DataCallReply.call_id)
            .where(DataCallReply.tenant_id.in_(ids), DataCall.archived_at.is_(None),
                   DataCall.deadline.between(start, end))):
        yield Event("data_call", call.deadline, slot.tenant_id, call.title, f"data-call-{slot.id}",
                    link=("agency_data_calls.answer", {"reply_id": slot.id}))
