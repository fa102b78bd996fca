"""``GET /healthz``: can this process reach what it needs to serve?

Open to anyone (no sign-in, no session cookie, no throttling), so it answers no more than
``ok`` or the class name of the error for each service; the details go to the log.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from govqms.extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

NOT_CONFIGURED = "not configured"
#: A probe must answer quickly even when a service hangs.
TIMEOUT_SECONDS = 2


@bp.route("/healthz")
def healthz():
    checks = {"database": _database(), "redis": _redis()}
    healthy = all(result in ("ok", NOT_CONFIGURED) for result in checks.values())
    body = {"status": "ok" if healthy else "fail", "checks": checks}
    if checks["redis"] != NOT_CONFIGURED and checks["database"] == "ok":
        body["waiting_jobs"] = _waiting_jobs()  # recorded while Redis was out, not yet on the queue
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _database() -> str:
    try:
        db.session.execute(text("select 1"))
        db.session.rollback()
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return _failed("database", exc)
    return "ok"


def _redis() -> str:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return NOT_CONFIGURED
    from redis import Redis

    client = Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return _failed("redis", exc)
    finally:
        client.close()
    return "ok"


def _waiting_jobs() -> int | None:
    from govqms.jobs.services import waiting_in_outbox

    try:
        return waiting_in_outbox()
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        _failed("outbox", exc)
        return None
    finally:
        db.session.rollback()


def _failed(service: str, exc: Exception) -> str:
    log.warning("health check: %s unavailable: %s", service, exc)
    return type(exc).__name__
