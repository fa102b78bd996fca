"""The in-app inbox: one row per user and event, the email's state beside it.

A notification is what one user is told about one event at one step (30 days before, on the
day, overdue…). The unique (user, event, step) is what makes reminders exactly-once: a job that
runs twice, or is retried after a crash, finds the row already there and tells nobody again.
The text is not stored: it is rendered from ``kind`` and ``params`` in the reader's language.
"""
from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govqms.core.db import AwareDateTime, Base, utcnow


class EmailState(StrEnum):
    NONE = "none"        # no email for this one (mail not configured when it was created)
    PENDING = "pending"  # to be sent: now (immediate) or with the next digest
    SENDING = "sending"  # claimed by a sender; if it stays here the sender died (never resent)
    SENT = "sent"
    FAILED = "failed"


class DeliveryMode(StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("user_id", "event_key", "step"),
        Index("ix_notification_user_read", "user_id", "read_at"),
        Index("ix_notification_email_state", "email_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    #: what happened, for the message: reminder kinds ("action", "document_review", "rule"…) or events
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    #: the thing the reminder is about, with its due date: a new due date starts new reminders
    event_key: Mapped[str] = mapped_column(String(200), nullable=False)
    #: "before-30", "before-7", "due", "overdue" or "event"
    step: Mapped[str] = mapped_column(String(16), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    #: where the notification leads: endpoint and its arguments
    link_endpoint: Mapped[str | None] = mapped_column(String(100))
    link_args: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), default=utcnow, nullable=False)
    read_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    email_state: Mapped[str] = mapped_column(String(12), default=EmailState.NONE, nullable=False)
    email_attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    emailed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    email_error: Mapped[str | None] = mapped_column(Text)
    #: the job that recorded it, and the one whose attempt emailed it: a job's summary counts all its attempts
    created_by_job: Mapped[str | None] = mapped_column(String(36), index=True)
    emailed_by_job: Mapped[str | None] = mapped_column(String(36), index=True)

    user = relationship("User")

    def __repr__(self) -> str:
        return f"<Notification {self.user_id} {self.event_key} {self.step}>"
