"""A subscription of a URL to events, owned by one agency or one jurisdiction, and its delivery log."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govqms.core.db import AwareDateTime, Base, Timestamps, utcnow

#: The events a subscription may choose, with what they mean (``ping`` is only ever sent by hand).
EVENTS: dict[str, Any] = {
    "document.effective": _l("A document revision takes effect"),
    "nonconformity.opened": _l("A nonconformity is opened"),
    "nonconformity.closed": _l("A nonconformity is closed"),
    "status.level_changed": _l("An agency's overall compliance level changes"),
    "data_call.sent": _l("A data call is sent"),
    "data_call.answered": _l("A data call is answered"),
    "inspection.minutes_signed": _l("Inspection minutes are signed"),
}
PING = "ping"


class WebhookSubscription(Timestamps, Base):
    """A URL that receives the chosen events of one agency (``tenant_id``) or of one jurisdiction
    (``jurisdiction_id``: its own events and those of every agency below it). The secret the deliveries
    are signed with is kept encrypted (``webhooks.secrets``) and shown only when it is made."""

    __tablename__ = "webhook_subscription"
    __table_args__ = (CheckConstraint("(tenant_id IS NULL) <> (jurisdiction_id IS NULL)", name="one_owner"),)
    __audited__ = True
    __activity_redact__ = frozenset({"secret_encrypted"})

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id", ondelete="RESTRICT"),
                                                        index=True)
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    events: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    secret_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    archived_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    def wants(self, event: str) -> bool:
        return self.active and self.archived_at is None and event in (self.events or [])


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


DELIVERY_STATE_LABELS = {DeliveryState.PENDING: _l("Pending"), DeliveryState.DELIVERED: _l("Delivered"),
                         DeliveryState.FAILED: _l("Failed")}


class WebhookDelivery(Base):
    """One event sent (or to send) to one subscription: the log its owner reads. ``tenant_id`` and
    ``jurisdiction_id`` are the subscription's owner, so the log is walled in like the subscription."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (CheckConstraint("(tenant_id IS NULL) <> (jurisdiction_id IS NULL)", name="one_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscription.id", ondelete="CASCADE"),
                                                 index=True, nullable=False)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id", ondelete="RESTRICT"),
                                                        index=True)
    event: Mapped[str] = mapped_column(String(64), nullable=False)
    #: the event's id (one event delivered to several subscriptions has one id): X-GovQMS-Delivery
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_status: Mapped[int | None] = mapped_column(Integer)
    #: what went wrong, or the start of the receiver's answer (truncated)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), default=utcnow, nullable=False)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    failed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    #: when the next attempt is due (empty once delivered or failed)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime(), index=True)

    @property
    def state(self) -> DeliveryState:
        if self.delivered_at is not None:
            return DeliveryState.DELIVERED
        if self.failed_at is not None:
            return DeliveryState.FAILED
        return DeliveryState.PENDING
