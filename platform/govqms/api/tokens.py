"""Issuing, finding and revoking API tokens, and the rate limit of each."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time

from flask import current_app
from sqlalchemy import select

from govqms.api.models import MAX_DAYS, ApiToken
from govqms.core.db import utcnow
from govqms.core.errors import Refused
from govqms.extensions import db

PREFIX = "gq_"


class TokenRefused(Refused):
    """The token was not issued; the message says why."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(user, *, name: str, access: str, days: int, agency=None, jurisdiction=None) -> tuple[ApiToken, str]:
    """A new token and its secret, which is shown once and never stored (only its SHA-256)."""
    if (agency is None) == (jurisdiction is None) or not 1 <= days <= MAX_DAYS:
        raise TokenRefused(name)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, user_id=user.id, agency_id=agency.id if agency else None,
                     jurisdiction_id=jurisdiction.id if jurisdiction else None, access=access,
                     token_hash=digest(secret), prefix=secret[:10], expires_at=utcnow() + dt.timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    return token, secret


def tokens_of(user_id: int) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                   .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))


def revoke(token: ApiToken) -> None:
    token.revoked_at = token.revoked_at or utcnow()
    db.session.flush()


def usable(secret: str | None) -> ApiToken | None:
    """The token a request presents, if it exists, is not revoked and has not expired."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None or token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    return token


def mark_used(token: ApiToken) -> None:
    """Last use, kept to the minute (a busy script does not write on every request)."""
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        db.session.execute(ApiToken.__table__.update().where(ApiToken.id == token.id).values(last_used_at=now))
        db.session.commit()


# --- rate limit ------------------------------------------------------------------------------------

_local: dict[tuple[str, int], int] = {}
_lock = threading.Lock()


def over_limit(token: ApiToken) -> int | None:
    """Seconds to wait when the token has made its ``API_RATE_LIMIT`` requests this minute, else None.
    Counted in Redis when it is configured (every process shares the count), else in this process; keyed
    by the token's hash, which no other token ever has (ids come back after a rollback)."""
    key_of = token.token_hash[:24]
    limit = current_app.config.get("API_RATE_LIMIT", 120)
    now = time.time()
    window = int(now // 60)
    wait = 60 - int(now % 60)
    from govqms.jobs.services import redis_connection

    connection = redis_connection()
    if connection is not None:
        key = f"govqms:api-rate:{key_of}:{window}"
        count = connection.incr(key)
        if count == 1:
            connection.expire(key, 120)
    else:
        with _lock:
            for stale in [k for k in _local if k[1] < window]:
                del _local[stale]
            _local[(key_of, window)] = count = _local.get((key_of, window), 0) + 1
    return wait if count > limit else None
