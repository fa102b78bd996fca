"""API tokens: a person's, limited to one agency or one jurisdiction, to reading or to reading and
writing, until a day; stored as a hash, shown once."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govqms.core.db import AwareDateTime, Base, Timestamps

#: What a token may do: read, or read and write (through the same permissions as the pages).
ACCESS = ("read", "write")
#: The longest a token lives, in days.
MAX_DAYS = 366


class ApiToken(Timestamps, Base):
    __tablename__ = "api_token"
    __audited__ = True
    __table_args__ = (CheckConstraint("(agency_id IS NULL) <> (jurisdiction_id IS NULL)", name="one_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True, nullable=False)
    # the one agency or the one jurisdiction it reaches. Not a tenant's record (no ``tenant_id``, no
    # row-level policy): it is its owner's, listed on their own page, and it is read by its hash before
    # any scope exists, to authenticate a request; what it reaches is then scoped like a page.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id", ondelete="CASCADE"))
    access: Mapped[str] = mapped_column(String(8), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)  # shown in lists: gq_ab12cd…
    expires_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    user = relationship("User", viewonly=True)
    agency = relationship("Tenant", viewonly=True)
    jurisdiction = relationship("Jurisdiction", viewonly=True)

    @property
    def writes(self) -> bool:
        return self.access == "write"
