"""Signing in and out: the one way a browser session begins and ends, whatever proved who the user is
(a password, a second factor, an identity provider).

A session is kept on the server (:class:`UserSession`): the signed cookie carries only a random token,
whose hash names the row. Each request checks the row (not ended, within its lifetime and idle time),
so signing out, a password change, an administrator's deactivation or the removal of a role end the
account's sessions at once, and a user sees and ends their other sessions from the account page.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app, request, session
from flask_login import login_user, logout_user
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from govqms.accounts.models import UserSession
from govqms.core.db import utcnow
from govqms.extensions import db

#: The key of the session's token in the signed cookie.
TOKEN = "sid"
#: A session's last activity is written at most this often (not on every request).
TOUCH_EVERY = dt.timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["PERMANENT_SESSION_LIFETIME"])


def idle_timeout() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def fresh_session() -> None:
    """A new cookie session at each sign-in step (no fixation): nothing is kept but the chosen language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def begin_session(user, method: str = "password") -> UserSession:
    """*user* is signed in, in a fresh session (no fixation: nothing of the anonymous session is kept
    but the chosen language), recorded on the server. *method* says how they proved who they are."""
    fresh_session()
    token = secrets.token_urlsafe(32)
    record = UserSession(user_id=user.id, token_hash=_hash(token), method=method[:32],
                         address=(request.remote_addr or "")[:64],
                         user_agent=(request.user_agent.string or "")[:255])
    db.session.add(record)
    user.last_login_at = utcnow()
    db.session.commit()
    session[TOKEN] = token
    session.permanent = True
    login_user(user)
    return record


def current() -> UserSession | None:
    token = session.get(TOKEN)
    if not isinstance(token, str) or not token:
        return None
    return db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))


def validate(user) -> bool:
    """Whether this request's session of *user* is still valid; its last activity is recorded (at most
    once a minute). Called when the user is loaded for a request, before the view writes anything."""
    record = current()
    now = utcnow()
    if (record is None or record.user_id != user.id or record.ended_at is not None
            or record.created_at + lifetime() <= now or record.last_seen_at + idle_timeout() <= now):
        if record is not None and record.ended_at is None:
            record.ended_at = now
            db.session.commit()
        return False
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
        db.session.commit()
    return True


def end_session() -> None:
    """Sign out of this browser: its session ends on the server too."""
    record = current()
    if record is not None and record.ended_at is None:
        record.ended_at = utcnow()
        db.session.commit()
    logout_user()
    session.clear()


def end_all(user_id: int, *, keep: UserSession | None = None) -> int:
    """End every session of the account (but *keep*, this browser's, when given): a password change,
    a deactivation, a role removed. Returns how many ended. The caller commits."""
    statement = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep is not None:
        statement = statement.where(UserSession.id != keep.id)
    return db.session.execute(statement.values(ended_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount or 0


def open_sessions(user_id: int) -> list[UserSession]:
    """The account's sessions still valid, the latest active first (the account page lists them)."""
    now = utcnow()
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user_id,
                                                        UserSession.ended_at.is_(None))
                              .order_by(UserSession.last_seen_at.desc())).all()
    return [r for r in rows if r.created_at + lifetime() > now and r.last_seen_at + idle_timeout() > now]


def end_one(user_id: int, session_id: int) -> bool:
    """End one of the user's own sessions (another browser); False if it is not theirs or over."""
    ended = db.session.execute(update(UserSession).where(
        UserSession.id == session_id, UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    return bool(ended)


def forget_expired(now: dt.datetime) -> int:
    """Sessions over for more than a week are removed (the nightly cleanup)."""
    cutoff = now - dt.timedelta(days=7)
    stale = db.session.scalars(select(UserSession.id).where(
        (UserSession.ended_at < cutoff) | (UserSession.last_seen_at < cutoff))).all()
    if stale:
        db.session.execute(UserSession.__table__.delete().where(UserSession.id.in_(stale)))
    return len(stale)


def _end_sessions_on(connection, user_ids: set[int]) -> None:
    if user_ids:
        connection.execute(update(UserSession).where(UserSession.user_id.in_(sorted(user_ids)),
                                                     UserSession.ended_at.is_(None)).values(ended_at=utcnow()))


#: Changes that end an account's sessions, told by the packages that hold them (tenancy: a role removed
#: or changed). Each takes the flushing session and returns the user ids concerned.
ENDING_CHANGES: list = []


def ends_sessions(func):
    ENDING_CHANGES.append(func)
    return func


@ends_sessions
def _deactivated(session_) -> set[int]:
    from sqlalchemy import inspect

    from govqms.accounts.models import User

    found = set()
    for obj in session_.dirty:
        if isinstance(obj, User):
            history = inspect(obj).attrs.active.history
            if history.deleted and history.deleted[0] and not obj.active:
                found.add(obj.id)
    return found


@event.listens_for(Session, "after_flush")
def _end_sessions_of_changed_accounts(session_, flush_context) -> None:
    """A deactivation, or a role removed or changed, ends the account's sessions in the same transaction:
    the next request of any of its browsers is signed out."""
    ids: set[int] = set()
    for found in ENDING_CHANGES:
        ids |= found(session_)
    _end_sessions_on(session_.connection(), ids)
