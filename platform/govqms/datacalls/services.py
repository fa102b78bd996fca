"""Send a data call, reply to it, and read who answered."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from govqms.core.clock import today
from govqms.core.db import vi_order
from govqms.core.listing import page_of
from govqms.core.storage import PLATFORM_FILES, get_storage
from govqms.core.tenancy import writing_for
from govqms.core.uploads import CheckedFile
from govqms.datacalls.models import DataCall, DataCallReply, UnitCall, UnitCallReply
from govqms.extensions import db
from govqms.notifications import events
from govqms.tenancy.models import Jurisdiction, Tenant, Unit
from govqms.tenancy.services import active_below, active_below_query
from govqms.webhooks.services import emit, link

#: Requests on a page of the lists of data calls and of requests to units.
PER_PAGE = 30


def agencies_in_reach(jurisdiction: Jurisdiction) -> list[Tenant]:
    """The active agencies below *jurisdiction*, by name: whom a data call may be sent to."""
    return active_below(jurisdiction)


def recipients_in_reach(jurisdiction: Jurisdiction, tenant_ids: list[int]) -> list[Tenant]:
    """The chosen agencies that are active and below *jurisdiction*; others are dropped."""
    return list(db.session.scalars(active_below_query(jurisdiction).where(Tenant.id.in_(tenant_ids or [0]))))


def calls_page(jurisdiction: Jurisdiction, args: dict, per_page: int = PER_PAGE):
    """The data calls *jurisdiction* sent and did not withdraw, latest first: a page."""
    query = select(DataCall).where(DataCall.jurisdiction_id == jurisdiction.id, DataCall.archived_at.is_(None))
    return page_of(query, args, per_page=per_page, orderings={"sent": (DataCall.sent_on.desc(), DataCall.id.desc())})


def received_page(tenant_id: int, args: dict, per_page: int = PER_PAGE):
    """The agency's replies to data calls not withdrawn, latest deadline first: a page of
    :class:`DataCallReply` (their calls by :func:`calls_of`)."""
    query = (select(DataCallReply).join(DataCall, DataCall.id == DataCallReply.call_id)
             .where(DataCallReply.tenant_id == tenant_id, DataCall.archived_at.is_(None)))
    return page_of(query, args, per_page=per_page,
                   orderings={"deadline": (DataCall.deadline.desc(), DataCall.id.desc())})


def calls_of(slots: list[DataCallReply]) -> dict[int, DataCall]:
    """The data calls *slots* answer, by id (one query)."""
    return {call.id: call for call in db.session.scalars(select(DataCall).where(
        DataCall.id.in_([slot.call_id for slot in slots] or [0])))}


def call_of(slot: DataCallReply) -> DataCall:
    """The data call an agency's reply answers (a call is the jurisdiction's, outside any agency's scope)."""
    return db.session.get(DataCall, slot.call_id)


def reply_to(call: DataCall | UnitCall, reply_id: int) -> DataCallReply | UnitCallReply | None:
    """The reply *reply_id* to *call* (an agency's to a data call, a unit's to a request to units);
    None when it answers another request."""
    model = DataCallReply if isinstance(call, DataCall) else UnitCallReply
    return db.session.scalar(select(model).where(model.id == reply_id, model.call_id == call.id))


def send(jurisdiction: Jurisdiction, *, title: str, request: str, deadline: dt.date, tenants: list[Tenant],
         user_id: int | None, template: CheckedFile | None = None, on: dt.date | None = None) -> DataCall:
    """Send a data call to *tenants*, each with its empty reply; sent today unless *on* (the demo's
    history) says otherwise."""
    call = DataCall(jurisdiction_id=jurisdiction.id, title=title, request=request, deadline=deadline,
                    sent_on=on or today(), created_by_id=user_id)
    if template is not None:
        call.template_key, call.template_name = get_storage().put(PLATFORM_FILES, template.data), template.filename
    db.session.add(call)
    db.session.flush()
    slots = []
    for tenant in tenants:  # each agency's empty reply, in its own file
        with writing_for(tenant.id, db.session):
            slot = DataCallReply(tenant_id=tenant.id, call_id=call.id)
            db.session.add(slot)
            db.session.flush()
            slots.append((slot, tenant))
    events.data_call_sent(call, slots, sender=jurisdiction.name)
    emit("data_call.sent", jurisdiction_id=jurisdiction.id, recipients=[t.id for t in tenants],
         data=lambda links: _call_event(call, jurisdiction.code, links))
    return call


def _call_event(call: DataCall, jurisdiction_code: str, links, slot: DataCallReply | None = None) -> dict:
    """What a webhook tells of a data call (and of the agency's reply)."""
    data = {"data_call": {"id": call.id, "title": call.title, "sent_on": call.sent_on.isoformat(),
                          "deadline": call.deadline.isoformat(),
                          "url": link("data_calls.detail", jurisdiction_code=jurisdiction_code, call_id=call.id)}}
    if slot is not None:
        data["reply"] = {"id": slot.id, "submitted_on": slot.submitted_on.isoformat(), "files": len(slot.files),
                         "on_time": slot.submitted_on <= call.deadline,
                         "url": links.agency("agency_data_calls.answer", reply_id=slot.id)}
    return data


def reply(slot: DataCallReply, *, note: str, files: list[CheckedFile], user_id: int | None,
          on: dt.date | None = None) -> DataCallReply:
    """Submit (or complete) the agency's reply, today unless *on* (the demo's history) says otherwise.
    The first submission's date decides on time or late; later corrections are counted and logged,
    the date stays."""
    stored = [{"key": get_storage().put(slot.tenant_id, f.data), "name": f.filename, "size": f.size} for f in files]
    slot.note = note
    slot.files = [*slot.files, *stored]
    first = slot.submitted_on is None
    if first:
        slot.submitted_on, slot.submitted_by_id = on or today(), user_id
    else:
        slot.revisions += 1
    db.session.flush()
    if first and isinstance(slot, DataCallReply):  # a unit's reply stays inside the agency
        call = db.session.get(DataCall, slot.call_id)
        jurisdiction = db.session.get(Jurisdiction, call.jurisdiction_id)
        events.data_call_replied(call, slot, db.session.get(Tenant, slot.tenant_id), jurisdiction.code)
        emit("data_call.answered", tenant_id=slot.tenant_id,
             data=lambda links: _call_event(call, jurisdiction.code, links, slot))
    return slot


def replies_of(call: DataCall) -> list[tuple[DataCallReply, Tenant]]:
    return list(db.session.execute(
        select(DataCallReply, Tenant).join(Tenant, Tenant.id == DataCallReply.tenant_id)
        .where(DataCallReply.call_id == call.id).order_by(vi_order(Tenant.name))))


def tallies(call_model, reply_model, call_ids: list[int], on: dt.date) -> dict[int, dict[str, int]]:
    """Per request: how many replies are on time, late, awaited and missing (one query). Serves data
    calls (DataCall, DataCallReply) and requests to units (UnitCall, UnitCallReply)."""
    out: dict[int, dict[str, int]] = {i: {"on_time": 0, "late": 0, "awaited": 0, "missing": 0} for i in call_ids}
    for slot, deadline in db.session.execute(
            select(reply_model, call_model.deadline).join(call_model, call_model.id == reply_model.call_id)
            .where(reply_model.call_id.in_(call_ids or [0]))):
        out[slot.call_id][slot.state(deadline, on)] += 1
    return out

# --- a department head's calls to its own units ---------------------------------------------------

def send_to_units(tenant_id: int, *, title: str, request: str, deadline: dt.date, unit_ids: list[int],
                  user_id: int | None, template: CheckedFile | None = None) -> UnitCall:
    """Units are the agency's own (the scope and the composite references make sure of it)."""
    units = list(db.session.scalars(select(Unit).where(Unit.tenant_id == tenant_id, Unit.id.in_(unit_ids or [0]),
                                                       Unit.archived_at.is_(None))))
    call = UnitCall(tenant_id=tenant_id, title=title, request=request, deadline=deadline, sent_on=today(),
                    created_by_id=user_id)
    if template is not None:
        call.template_key, call.template_name = get_storage().put(tenant_id, template.data), template.filename
    db.session.add(call)
    db.session.flush()
    db.session.add_all([UnitCallReply(tenant_id=tenant_id, call_id=call.id, unit_id=unit.id) for unit in units])
    db.session.flush()
    return call


def may_answer_for_unit(access, user_id: int, tenant_id: int, unit_id: int) -> bool:
    """The agency's keepers answer for any unit; other members for the unit of their staff profile."""
    from govqms.competence.models import StaffProfile
    from govqms.core.permissions import Action

    if access.can(Action.DATA_CALLS_REPLY):
        return True
    if not access.can(Action.ACTIONS_UPDATE_OWN):  # viewers and overseers only read
        return False
    return db.session.scalar(select(StaffProfile.unit_id).where(
        StaffProfile.tenant_id == tenant_id, StaffProfile.user_id == user_id)) == unit_id


def unit_calls_page(tenant_id: int, args: dict):
    """The agency's requests to its units not withdrawn, latest first: a page."""
    query = select(UnitCall).where(UnitCall.tenant_id == tenant_id, UnitCall.archived_at.is_(None))
    return page_of(query, args, per_page=PER_PAGE, orderings={"sent": (UnitCall.sent_on.desc(), UnitCall.id.desc())})


def unit_replies_of(call: UnitCall) -> list[tuple[UnitCallReply, Unit]]:
    """Each unit's reply to *call*, with its unit, by unit code."""
    return list(db.session.execute(select(UnitCallReply, Unit).join(
        Unit, (Unit.id == UnitCallReply.unit_id) & (Unit.tenant_id == UnitCallReply.tenant_id))
        .where(UnitCallReply.call_id == call.id, UnitCallReply.tenant_id == call.tenant_id).order_by(Unit.code)))
