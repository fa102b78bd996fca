from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from govqms.core.db import AwareDateTime, Base, Timestamps, utcnow


class User(UserMixin, Timestamps, Base):
    __tablename__ = "user"
    __audited__ = True
    __activity_redact__ = frozenset({"password_hash", "totp_secret"})
    __activity_ignore__ = frozenset({"last_login_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    locale: Mapped[str] = mapped_column(String(8), default="vi", nullable=False)
    #: "immediate": an email per notification; "digest": one email a day (govqms.notifications)
    notify_mode: Mapped[str] = mapped_column(String(12), default="immediate", server_default="immediate",
                                             nullable=False)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    #: two-factor sign-in: the TOTP secret (base32), set at enrolment; in force once confirmed
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    @property
    def two_factor(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive accounts cannot sign in
        return self.active

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method=method)
        self.password_changed_at = utcnow()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserSession(Base):
    """A signed-in browser, kept on the server: the cookie carries only its token, so signing out, a
    password change or a deactivation ends it at once, and the user sees and ends their others."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user_id_ended_at", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    #: sha256 of the token the cookie carries (the token itself is never stored)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), default=utcnow, nullable=False)
    last_seen_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), default=utcnow, nullable=False)
    ended_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    #: how the user proved who they are: "password", "password+totp", "oidc"…
    method: Mapped[str] = mapped_column(String(32), nullable=False)
    address: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    user_agent: Mapped[str] = mapped_column(String(255), default="", nullable=False)


class RecoveryCode(Base):
    """A one-time code that replaces the second factor when the phone is lost. Only its hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())


class LoginAttempt(Base):
    """A sign-in attempt, kept to throttle guessing per account and per address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), nullable=False)
    address: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), default=utcnow, nullable=False)
    success: Mapped[bool] = mapped_column(Boolean, nullable=False)


class Invitation(Base):
    """A one-time link to set a password. Only a hash of the token is stored."""

    __tablename__ = "invitation"
    __audited__ = True
    __activity_redact__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def usable(self, now: dt.datetime) -> bool:
        return self.used_at is None and self.expires_at > now
