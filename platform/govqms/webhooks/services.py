"""Subscriptions, events and their delivery.

**Events** (:func:`emit`) are recorded as one delivery per matching subscription in the transaction of
the change that caused them (an outbox): the agency's own subscriptions and those of the jurisdictions
above it (its own and their ancestors). Once that transaction commits, one job per delivery is enqueued
(:func:`govqms.jobs.services.enqueue`; without Redis the job runs at once); a change rolled back sends
nothing. Every minute :func:`enqueue_due` enqueues again what is due and has no job under way (a retry,
or a delivery whose process died before its job was enqueued).

**Delivery** (:func:`deliver`): the JSON body, signed (``sending.signature``); a 2xx answer delivers
it; anything else is recorded and tried again after :data:`RETRY_DELAYS`, then marked failed. An
address that may not be called (``sending.UnsafeAddress``) fails at once.

Subscriptions owned by a jurisdiction have no agency: the services find them by the jurisdiction the
view has checked, and the database's policies let only the overseers of that jurisdiction (or of one
above it) read or change them.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import event as sa_event, func, or_, select
from sqlalchemy.orm import Session

from govqms.core import activity
from govqms.core.db import utcnow
from govqms.core.errors import Refused
from govqms.core.listing import page_of
from govqms.core.tenancy import TenantScope, scoped
from govqms.extensions import db
from govqms.jobs.services import enqueue
from govqms.tenancy.models import Jurisdiction, Tenant
from govqms.webhooks import keys, sending
from govqms.webhooks.models import EVENTS, PING, WebhookDelivery, WebhookSubscription

#: The pause before each new attempt after a failed one: 6 attempts over about a day.
RETRY_DELAYS = (dt.timedelta(minutes=1), dt.timedelta(minutes=10), dt.timedelta(hours=1),
                dt.timedelta(hours=4), dt.timedelta(hours=18))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
#: A delivery whose job has not run this long after it was due is enqueued again by :func:`enqueue_due`.
GRACE = dt.timedelta(minutes=2)
#: session.info: the deliveries recorded in the transaction, to enqueue once it commits
_PENDING = "govqms_webhook_deliveries"


class WebhookRefused(Refused):
    """The step is not possible now; the message says why."""


@dataclass(frozen=True)
class Owner:
    """One agency or one jurisdiction: whose subscriptions a page shows and changes."""

    tenant_id: int | None = None
    jurisdiction_id: int | None = None

    @classmethod
    def of(cls, tenant: Tenant | None = None, jurisdiction: Jurisdiction | None = None) -> "Owner":
        if (tenant is None) == (jurisdiction is None):
            raise ValueError("a subscription has one owner: an agency or a jurisdiction")
        return cls(tenant_id=tenant.id) if tenant is not None else cls(jurisdiction_id=jurisdiction.id)

    def criteria(self, model):
        if self.tenant_id is not None:
            return model.tenant_id == self.tenant_id
        return (model.tenant_id.is_(None)) & (model.jurisdiction_id == self.jurisdiction_id)


# --- subscriptions -------------------------------------------------------------------------------

def subscriptions_of(owner: Owner) -> list[tuple[WebhookSubscription, WebhookDelivery | None]]:
    """The owner's live subscriptions, each with its latest delivery (two queries)."""
    subscriptions = list(db.session.scalars(
        select(WebhookSubscription).where(owner.criteria(WebhookSubscription),
                                          WebhookSubscription.archived_at.is_(None))
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)))
    latest = {}
    if subscriptions:
        newest = (select(func.max(WebhookDelivery.id)).where(
            WebhookDelivery.subscription_id.in_([s.id for s in subscriptions]), owner.criteria(WebhookDelivery))
            .group_by(WebhookDelivery.subscription_id))
        latest = {d.subscription_id: d for d in db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.id.in_(newest)))}
    return [(s, latest.get(s.id)) for s in subscriptions]


def subscription_of(owner: Owner, subscription_id: int) -> WebhookSubscription | None:
    """The owner's live subscription of that id, or None (another owner's, archived, or no such id)."""
    if not isinstance(subscription_id, int) or not 0 < subscription_id < 2**31:
        return None
    return db.session.scalar(select(WebhookSubscription).where(
        WebhookSubscription.id == subscription_id, owner.criteria(WebhookSubscription),
        WebhookSubscription.archived_at.is_(None)))


def create(owner: Owner, *, url: str, events: list[str], user_id: int | None) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret, in clear: to show once, never again."""
    secret = keys.new_secret()
    subscription = WebhookSubscription(tenant_id=owner.tenant_id, jurisdiction_id=owner.jurisdiction_id, url=url,
                                       events=sorted(set(events)), secret_encrypted=keys.encrypt(secret),
                                       created_by_id=user_id)
    db.session.add(subscription)
    db.session.flush()
    return subscription, secret


def rotate_secret(subscription: WebhookSubscription) -> str:
    """A new secret replaces the old one at once (deliveries from now on are signed with it)."""
    secret = keys.new_secret()
    subscription.secret_encrypted = keys.encrypt(secret)
    activity.label(subscription, "rotate_secret")
    db.session.flush()
    return secret


def set_active(subscription: WebhookSubscription, active: bool) -> WebhookSubscription:
    subscription.active = active
    activity.label(subscription, "enable" if active else "disable")
    db.session.flush()
    return subscription


def deliveries_page(subscription: WebhookSubscription, args: dict, per_page: int = 25):
    """The subscription's delivery log, newest first (the subscription was loaded for its owner)."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    return page_of(query.order_by(WebhookDelivery.id.desc()), args, per_page=per_page)


def send_ping(subscription: WebhookSubscription) -> WebhookDelivery:
    """A test event to this subscription only (sent once the transaction commits)."""
    tenant = db.session.get(Tenant, subscription.tenant_id) if subscription.tenant_id else None
    jurisdiction = db.session.get(Jurisdiction, tenant.jurisdiction_id if tenant else subscription.jurisdiction_id)
    event_id = str(uuid.uuid4())
    payload = _payload(PING, event_id, tenant, jurisdiction, {"subscription": subscription.id})
    delivery = _record(subscription, PING, event_id, payload)
    db.session.flush()
    _enqueue_after_commit([delivery.id])
    return delivery


# --- events --------------------------------------------------------------------------------------

def link(endpoint: str, **values) -> str:
    """An absolute link for a payload, built on ``GOVQMS_BASE_URL``: from the URL map alone, without a
    request context (a job has none, and pushing one inside a request would run its teardown)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


class Links:
    """Absolute links for an event's data, in the agency or jurisdiction of the event."""

    def __init__(self, tenant: Tenant | None, jurisdiction: Jurisdiction | None):
        self._tenant, self._jurisdiction = tenant, jurisdiction

    def agency(self, endpoint: str, **values) -> str | None:
        return link(endpoint, tenant_slug=self._tenant.slug, **values) if self._tenant is not None else None

    def jurisdiction(self, endpoint: str, **values) -> str | None:
        if self._jurisdiction is None:
            return None
        return link(endpoint, jurisdiction_code=self._jurisdiction.code, **values)


EventData = dict | Callable[[Links], dict]


def _payload(event: str, event_id: str, tenant: Tenant | None, jurisdiction: Jurisdiction | None,
             data: dict) -> dict:
    return {
        "id": event_id,
        "event": event,
        "occurred_at": utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "agency": {"slug": tenant.slug, "name": tenant.name} if tenant is not None else None,
        "jurisdiction": ({"code": jurisdiction.code, "name": jurisdiction.name}
                         if jurisdiction is not None else None),
        "data": data,
    }


def _record(subscription: WebhookSubscription, event: str, event_id: str, payload: dict) -> WebhookDelivery:
    delivery = WebhookDelivery(subscription_id=subscription.id, tenant_id=subscription.tenant_id,
                               jurisdiction_id=subscription.jurisdiction_id, event=event, event_id=event_id,
                               payload=payload, next_attempt_at=utcnow())
    db.session.add(delivery)
    return delivery


def emit(event: str, *, tenant_id: int | None = None, jurisdiction_id: int | None = None, data: EventData,
         recipients: Iterable[int] = ()) -> list[int]:
    """Record *event* for every active subscription that wants it, in the current transaction; their
    jobs are enqueued once it commits. An agency's event (*tenant_id*) goes to the agency's own
    subscriptions and to those of its jurisdiction and the jurisdictions above; a jurisdiction's event
    (*jurisdiction_id*) to the subscriptions of that jurisdiction and those above, and to the own
    subscriptions of the agencies in *recipients* (a data call's addressees). Returns the deliveries' ids.
    *data* may be a function of :class:`Links`, called only when a subscription wants the event.

    Subscriptions of jurisdictions are not the acting person's to read, so they are found in the
    platform's scope, after the caller's own changes are flushed in the caller's scope."""
    if event not in EVENTS:
        raise KeyError(f"unknown webhook event {event!r}")
    db.session.flush()
    event_id = str(uuid.uuid4())
    recipients = sorted(set(recipients))
    with scoped(TenantScope.system(), db.session):
        tenant = db.session.get(Tenant, tenant_id) if tenant_id is not None else None
        jurisdiction = db.session.get(Jurisdiction, tenant.jurisdiction_id if tenant else jurisdiction_id)
        if jurisdiction is None:
            return []
        chain = select(Jurisdiction.id).where(Jurisdiction.path.in_(jurisdiction.ancestor_paths()))
        owners = [WebhookSubscription.jurisdiction_id.in_(chain)]
        own_agencies = [tenant_id] if tenant_id is not None else recipients
        if own_agencies:
            owners.append(WebhookSubscription.tenant_id.in_(own_agencies))
        subscriptions = [s for s in db.session.scalars(
            select(WebhookSubscription).where(or_(*owners), WebhookSubscription.active.is_(True),
                                              WebhookSubscription.archived_at.is_(None))
            .order_by(WebhookSubscription.id)) if s.wants(event)]
        agencies = {t.id: t for t in db.session.scalars(select(Tenant).where(
            Tenant.id.in_({s.tenant_id for s in subscriptions if s.tenant_id is not None})))}
        if subscriptions and callable(data):
            data = data(Links(tenant, jurisdiction))
        deliveries = []
        for subscription in subscriptions:
            # a data call's addressee reads its own copy, which names it as the agency
            agency = tenant or agencies.get(subscription.tenant_id)
            payload = _payload(event, event_id, agency, jurisdiction, data)
            deliveries.append(_record(subscription, event, event_id, payload))
        db.session.flush()
        ids = [d.id for d in deliveries]
    _enqueue_after_commit(ids)
    return ids


def _enqueue_after_commit(delivery_ids: list[int]) -> None:
    if delivery_ids:
        db.session.info.setdefault(_PENDING, []).extend(delivery_ids)


def _after_commit(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if not ids:
        return
    # The committed session may not be used again here: a fresh one (an application context of its own)
    # records the jobs, as a worker would.
    with current_app.app_context():
        for delivery_id in ids:
            enqueue("webhooks.deliver", tenant_id=None, user_id=None, delivery_id=delivery_id)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def install() -> None:
    if not sa_event.contains(Session, "after_commit", _after_commit):
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_rollback", _after_rollback)


install()


# --- delivery ------------------------------------------------------------------------------------

def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def deliver(delivery_id: int, now: dt.datetime | None = None) -> WebhookDelivery | None:
    """One attempt of a delivery that is due (none for one delivered, failed, not yet due, or whose
    subscription was archived or disabled since). Runs in the platform's scope (the job's)."""
    now = now or utcnow()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.delivered_at or delivery.failed_at:
        return None
    if delivery.next_attempt_at is None or delivery.next_attempt_at > now + dt.timedelta(seconds=1):
        return None  # a second job for an attempt already made
    subscription = db.session.get(WebhookSubscription, delivery.subscription_id)
    if subscription.archived_at is not None or (not subscription.active and delivery.event != PING):
        delivery.next_attempt_at, delivery.failed_at = None, now
        delivery.last_error = "not sent: the subscription was disabled or archived"
        return delivery
    try:
        secret = keys.decrypt(subscription.secret_encrypted)
    except InvalidToken:  # encrypted under another SECRET_KEY (a key rotated, an agency's archive imported)
        delivery.next_attempt_at, delivery.failed_at = None, now
        delivery.last_error = "not sent: the secret cannot be read with this SECRET_KEY; make a new secret"
        return delivery
    body = body_of(delivery)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": sending.USER_AGENT,
        "X-GovQMS-Event": delivery.event,
        "X-GovQMS-Delivery": delivery.event_id,
        "X-GovQMS-Timestamp": timestamp,
        "X-GovQMS-Signature": sending.signature(secret, timestamp, body),
    }
    delivery.attempts += 1
    delivery.last_attempt_at = now
    try:
        answer = sending.post(subscription.url, body, headers)
    except sending.UnsafeAddress as refused:
        delivery.last_status, delivery.last_error = None, f"refused: {refused}"
        delivery.next_attempt_at, delivery.failed_at = None, now
        return delivery
    delivery.last_status = answer.status
    delivery.last_error = None if answer.ok else answer.excerpt or None
    if answer.ok:
        delivery.next_attempt_at, delivery.delivered_at = None, now
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.next_attempt_at, delivery.failed_at = None, now
    else:
        delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempts - 1]
    return delivery


def due_deliveries(now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Deliveries whose attempt is due and whose job, if any, should have run by now."""
    cutoff = (now or utcnow()) - GRACE
    return list(db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.next_attempt_at.is_not(None), WebhookDelivery.next_attempt_at <= cutoff)
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)))


def enqueue_due(now: dt.datetime | None = None) -> int:
    """Enqueue a job for every delivery that is due (the schedule runs this every minute): retries,
    and deliveries whose job was never enqueued (the process died right after the commit)."""
    due = due_deliveries(now)
    db.session.commit()
    for delivery_id in due:
        enqueue("webhooks.deliver", tenant_id=None, user_id=None, delivery_id=delivery_id)
    return len(due)
