"""One-off news the modules announce: who is told when a data call is sent or answered."""
from __future__ import annotations

from govqms.notifications import services
from govqms.notifications.reminders import KEEPERS, keepers
from govqms.tenancy.services import overseers_of, recipients_with_role


def data_call_sent(call, slots: list[tuple[object, object]], sender: str) -> int:
    """Each agency's ISO secretary learns of a data call addressed to it."""
    roles = recipients_with_role([tenant.id for _slot, tenant in slots], KEEPERS)
    params = {"title": call.title, "deadline": call.deadline.isoformat(), "sender": sender}
    items = [(user_id, "data_call_sent", f"data-call:{slot.id}:sent", "event", params, call.deadline,
              ("agency_data_calls.answer", {"reply_id": slot.id, "tenant_slug": tenant.slug}))
             for slot, tenant in slots for user_id in keepers(roles.get(tenant.id, {}))]
    return services.notify_many(items)


def data_call_replied(call, slot, tenant, jurisdiction_code: str) -> int:
    """The overseer who sent the call (or, if gone, the jurisdiction's overseers) learns of a reply."""
    overseers = set(overseers_of([call.jurisdiction_id]).get(call.jurisdiction_id, []))
    people = {call.created_by_id} if call.created_by_id in overseers else overseers
    return services.notify(people, kind="data_call_replied", event_key=f"data-call-reply:{slot.id}",
                           params={"title": call.title, "agency": tenant.name}, due_on=call.deadline,
                           link=("data_calls.detail", {"call_id": call.id, "jurisdiction_code": jurisdiction_code}))
