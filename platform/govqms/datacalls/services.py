"""Send a data call, reply to it, and read who answered."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from govqms.core.clock import today
from govqms.core.storage import PLATFORM_FILES, get_storage
from govqms.core.tenancy import writing_for
from govqms.core.uploads import CheckedFile
from govqms.datacalls.models import DataCall, DataCallReply, UnitCall, UnitCallReply
from govqms.extensions import db
from govqms.notifications import events
from govqms.tenancy.models import Jurisdiction, Tenant, TenantStatus
from govqms.tenancy.services import subtree_tenants_query


def recipients_in_reach(jurisdiction: Jurisdiction, tenant_ids: list[int]) -> list[Tenant]:
    """The chosen agencies that are active and below *jurisdiction*; others are dropped."""
    return list(db.session.scalars(subtree_tenants_query(jurisdiction).where(
        Tenant.status == TenantStatus.ACTIVE, Tenant.id.in_(tenant_ids or [0])).order_by(Tenant.name)))


def send(jurisdiction: Jurisdiction, *, title: str, request: str, deadline: dt.date, tenants: list[Tenant],
         user_id: int | None, template: CheckedFile | None = None) -> DataCall:
    call = DataCall(jurisdiction_id=jurisdiction.id, title=title, request=request, deadline=deadline,
                    sent_on=today(), created_by_id=user_id)
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
    return call


def reply(slot: DataCallReply, *, note: str, files: list[CheckedFile], user_id: int | None) -> DataCallReply:
    """Submit (or complete) the agency's reply. The first submission's date decides on time or
    late; later corrections are counted and logged, the date stays."""
    stored = [{"key": get_storage().put(slot.tenant_id, f.data), "name": f.filename, "size": f.size} for f in files]
    slot.note = note
    slot.files = [*slot.files, *stored]
    first = slot.submitted_on is None
    if first:
        slot.submitted_on, slot.submitted_by_id = today(), user_id
    else:
        slot.revisions += 1
    db.session.flush()
    if first and isinstance(slot, DataCallReply):  # a unit's reply stays inside the agency
        call = db.session.get(DataCall, slot.call_id)
        jurisdiction = db.session.get(Jurisdiction, call.jurisdiction_id)
        events.data_call_replied(call, slot, db.session.get(Tenant, slot.tenant_id), jurisdiction.code)
    return slot


def replies_of(call: DataCall) -> list[tuple[DataCallReply, Tenant]]:
    return list(db.session.execute(
        select(DataCallReply, Tenant).join(Tenant, Tenant.id == DataCallReply.tenant_id)
        .where(DataCallReply.call_id == call.id).order_by(Tenant.name)))


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
    from govqms.tenancy.models import Unit

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
