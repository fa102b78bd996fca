"""Signing in, throttling guesses, changing passwords and language."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from govqms.accounts.models import Invitation, LoginAttempt, User
from govqms.core.db import utcnow
from govqms.extensions import db


@dataclass(frozen=True)
class Throttle:
    """Whether a sign-in may be tried now, and if not, until when."""

    retry_at: dt.datetime | None = None
    locked: bool = False

    @property
    def allowed(self) -> bool:
        return self.retry_at is None

    def seconds_left(self, now: dt.datetime) -> int:
        return 0 if self.retry_at is None else max(1, int((self.retry_at - now).total_seconds() + 0.999))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _failures(condition, since) -> tuple[int, dt.datetime | None]:
    last_success = select(func.max(LoginAttempt.at)).where(condition, LoginAttempt.success.is_(True))
    count, last = db.session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            condition,
            LoginAttempt.success.is_(False),
            LoginAttempt.at >= since,
            LoginAttempt.at > func.coalesce(last_success.scalar_subquery(), since),
        )
    ).one()
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.timezone.utc)
    return count, last


#: The longest wait repeated failures from one address (for any accounts) impose: they slow guessing
#: from there, never lock it (a whole office behind one public address stays able to sign in).
MAX_SLOWDOWN = dt.timedelta(seconds=60)


def throttle_for(email: str, address: str, now: dt.datetime | None = None) -> Throttle:
    """Repeated failures for an account slow its sign-in, then lock it for a while. Failures from one
    address (for any accounts) only slow that address: they never lock out the others who share it."""
    cfg = current_app.config
    now = now or utcnow()
    since = now - dt.timedelta(seconds=cfg["LOGIN_WINDOW_SECONDS"])
    worst = Throttle()
    keys = ((LoginAttempt.email == email, True), (LoginAttempt.address == address, False))
    for condition, may_lock in keys:
        count, last = _failures(condition, since)
        if last is None or count < cfg["LOGIN_SLOW_AFTER"]:
            continue
        if may_lock and count >= cfg["LOGIN_LOCK_AFTER"]:
            retry_at, locked = last + dt.timedelta(seconds=cfg["LOGIN_LOCK_SECONDS"]), True
        else:
            wait = min(dt.timedelta(seconds=2 ** min(count - cfg["LOGIN_SLOW_AFTER"], 16)), MAX_SLOWDOWN)
            retry_at, locked = last + wait, False
        if retry_at > now and (worst.retry_at is None or retry_at > worst.retry_at):
            worst = Throttle(retry_at, locked)
    return worst


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    throttle: Throttle


def authenticate(email: str, password: str, address: str) -> LoginResult:
    email = normalise_email(email)
    throttle = throttle_for(email, address)
    if not throttle.allowed:
        return LoginResult(None, throttle)  # not even checked: guessing gains nothing
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    ok = user is not None and user.active and user.check_password(password)
    db.session.add(LoginAttempt(email=email, address=address, success=ok))
    if ok:
        user.last_login_at = utcnow()
    db.session.commit()
    return LoginResult(user if ok else None, Throttle())


def record_attempt(email: str, address: str, ok: bool) -> None:
    """A sign-in step tried (a password, a second-factor code): counted by the throttle. Committed."""
    db.session.add(LoginAttempt(email=normalise_email(email), address=address, success=ok))
    db.session.commit()


def change_password(user: User, current: str, new: str) -> bool:
    """A new password ends every other session of the account (this browser's stays signed in)."""
    from govqms.accounts import sessions

    if not user.check_password(current):
        return False
    user.set_password(new, method=current_app.config["PASSWORD_HASH_METHOD"])
    sessions.end_all(user.id, keep=sessions.current())
    db.session.commit()
    return True


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise ValueError(locale)
    user.locale = locale
    db.session.commit()


def create_user(email: str, name: str, password: str | None = None, *, is_operator: bool = False) -> User:
    user = User(email=normalise_email(email), name=name, is_operator=is_operator)
    if password:
        user.set_password(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    db.session.add(user)
    db.session.flush()
    return user


# --- invitations --------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_invitation(user: User, created_by_id: int | None = None) -> str:
    """A new one-time link token for *user*; earlier unused links stop working."""
    now = utcnow()
    for old in db.session.scalars(select(Invitation).where(Invitation.user_id == user.id,
                                                          Invitation.used_at.is_(None))):
        old.expires_at = min(old.expires_at, now)
    token = secrets.token_urlsafe(32)
    db.session.add(Invitation(user_id=user.id, token_hash=_token_hash(token), created_by_id=created_by_id,
                              expires_at=now + dt.timedelta(days=current_app.config["INVITATION_DAYS"])))
    db.session.flush()
    return token


def invitation_link(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/invite/{token}"


def find_invitation(token: str) -> Invitation | None:
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token)))
    if invitation is None or not invitation.usable(utcnow()):
        return None
    return invitation


def accept_invitation(invitation: Invitation, password: str) -> User:
    user = invitation.user
    user.set_password(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    invitation.used_at = utcnow()
    db.session.commit()
    return user


def send_invitation(user: User, token: str) -> bool:
    """Email the link in the user's language; False when mail is not configured."""
    from flask_babel import force_locale, gettext as _

    from govqms.core.mail import send_mail

    with force_locale(user.locale):
        subject = _("Your GovQMS account")
        body = _("Hello %(name)s,\n\nAn account has been prepared for you in GovQMS. Choose your password "
                 "with this link (it works once and expires in %(days)s days):\n\n%(link)s\n",
                 name=user.name, days=current_app.config["INVITATION_DAYS"], link=invitation_link(token))
    return send_mail(user.email, subject, body)
