"""Calendar feeds: secret iCalendar addresses that Outlook and Google Calendar subscribe to."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from govqms.core.db import AwareDateTime, Base, utcnow


class CalendarFeed(Base):
    """One subscription address of one person, for an agency or a jurisdiction.

    Only a hash of the token is stored: the address is shown once, when it is made. Revoking
    it, or losing access to what it shows, stops it at once.
    """

    __tablename__ = "calendar_feed"
    __audited__ = True
    __activity_redact__ = frozenset({"token_hash"})
    __table_args__ = (
        CheckConstraint("(tenant_id is null) != (jurisdiction_id is null)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True, nullable=False)
    # Not tenant data (it is found by its token, before any scope): a reference, not TenantScoped.
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id", ondelete="CASCADE"),
                                                        index=True)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), default=utcnow, nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    def activity_tenant_id(self) -> None:
        # A person's subscription, not a QMS record: logged as a platform entry.
        return None
