"""Idempotency keys: a script that did not hear the answer to its POST sends it again with the same
``Idempotency-Key`` header, and gets the first answer back instead of a second write.

The first answer (status and body) is kept per token and key for :data:`KEEP`: a retry with the same key
and the same request is answered from it (``Idempotent-Replayed: true``) without running the view; the
same key with another request is 422. The key is recorded in the transaction of the write itself, before
the view runs, so two requests with one key cannot both write: the second waits for the first's commit
(PostgreSQL's unique index) and then replays its answer, or is told (409) that it is still running.
Only successful answers are kept: after a refusal (invalid input, say) the same key may be sent again.

The table is the token's, not an agency's (a token reaches one agency or one jurisdiction): it has no
``tenant_id`` and no row-level policy, like the token itself.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import wraps

from flask import Response, abort, g, request
from flask_babel import gettext as _
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from govqms.core.db import AwareDateTime, Base, utcnow
from govqms.extensions import db

HEADER = "Idempotent-Replayed"
KEY_HEADER = "Idempotency-Key"
MAX_KEY = 100
#: How long a key and its answer are kept (a client retries within minutes; a day is generous).
KEEP = dt.timedelta(hours=24)
#: The answer's headers worth giving back on a replay.
KEPT_HEADERS = ("Location", "ETag", "Content-Type")


class IdempotentRequest(Base):
    """A POST of a token under a key, and once it succeeded, its answer."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(MAX_KEY), nullable=False)
    #: SHA-256 of the method, the path and the body: the same key with another request is refused
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    #: the answer: empty while the request runs (or if its process died after its write was committed)
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[str | None] = mapped_column(Text)  # JSON of KEPT_HEADERS
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), default=utcnow, nullable=False, index=True)


def fingerprint() -> str:
    """The request as the key vouches for it: method, path and body (JSON compared by meaning, not by
    spacing or key order)."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        body = raw
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _key() -> str | None:
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return None
    key = key.strip()
    if not 1 <= len(key) <= MAX_KEY:
        abort(422, _("An Idempotency-Key has 1 to %(max)s characters.", max=MAX_KEY))
    return key


def _stored(token_id: int, key: str) -> IdempotentRequest | None:
    return db.session.scalar(select(IdempotentRequest).where(IdempotentRequest.token_id == token_id,
                                                            IdempotentRequest.key == key))


def _answer_of(stored: IdempotentRequest, wanted: str) -> Response:
    """The stored answer to a request sent again; 422 if the key came with another request, 409 if the
    first is still running."""
    if stored.fingerprint != wanted:
        abort(422, _("This Idempotency-Key was used with another request: use a new key for a new request."))
    if stored.status is None:
        abort(409, _("A request with this Idempotency-Key is still being processed: try again in a moment."))
    response = Response(stored.body, status=stored.status)
    for name, value in json.loads(stored.headers or "{}").items():
        response.headers[name] = value
    response.headers[HEADER] = "true"
    return response


def idempotent(required: bool = False):
    """The view answers once per ``Idempotency-Key`` of its token (428 without one when *required*).
    Put it between ``route`` and ``arguments``: a replay neither reads the body again nor writes."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = _key()
            if key is None:
                if required:
                    abort(428, _("Send an Idempotency-Key header (1 to %(max)s characters, new for each new "
                                 "request): a retry with the same key never writes twice.", max=MAX_KEY))
                return view(*args, **kwargs)
            token_id, wanted = g.api_token.id, fingerprint()
            stored = _stored(token_id, key)
            if stored is not None:
                return _answer_of(stored, wanted)
            claim = IdempotentRequest(token_id=token_id, key=key, fingerprint=wanted)
            db.session.add(claim)
            try:
                db.session.flush()  # another request with this key: wait for it, then fail here
            except IntegrityError:
                db.session.rollback()
                return _answer_of(_stored(token_id, key), wanted)
            try:
                response = view(*args, **kwargs)
            except BaseException:
                db.session.rollback()
                _forget(token_id, key)
                raise
            if not 200 <= response.status_code < 300:
                db.session.rollback()
                _forget(token_id, key)
                return response
            claim = _stored(token_id, key)
            if claim is None:  # the view rolled back its own transaction before it wrote and succeeded
                claim = IdempotentRequest(token_id=token_id, key=key, fingerprint=wanted)
                db.session.add(claim)
            claim.status, claim.body = response.status_code, response.get_data(as_text=True)
            claim.headers = json.dumps({name: response.headers[name] for name in KEPT_HEADERS
                                        if name in response.headers})
            db.session.commit()
            return response

        return wrapper

    return decorator


def _forget(token_id: int, key: str) -> None:
    """A request that did not succeed leaves no key behind (if the view had committed its claim)."""
    db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.token_id == token_id,
                                                       IdempotentRequest.key == key,
                                                       IdempotentRequest.status.is_(None)))
    db.session.commit()


def forget_expired(now: dt.datetime) -> int:
    """Remove the keys older than :data:`KEEP`; how many."""
    removed = db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < now - KEEP))
    return removed.rowcount or 0
