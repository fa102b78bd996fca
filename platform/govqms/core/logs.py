"""Structured logs: every record says which request or job it belongs to.

Each request gets an id: the incoming ``X-Request-ID`` when it is a sane token (nginx sends its
``$request_id``), otherwise a new one. It is echoed in the response's ``X-Request-ID``. Records
logged while the request runs carry that id, the method and path, the tenant (the slug of a
``/t/<slug>/`` URL, and the tenant id once the request is scoped to one agency) and the user id;
one access line per request (logger ``govqms.access``) adds the status and the duration. A job
run by the worker carries its job id and tenant id (:func:`job_logging` around the runner).

``GOVQMS_LOG_FORMAT=json`` (the production default) writes one JSON object per line, for the log
collector; ``text`` writes readable lines. Standard library logging only: the fields come from a
:class:`ContextFilter` on the one handler this module puts on the root logger.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import re
import sys
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from flask import g, has_app_context, request

REQUEST_ID_HEADER = "X-Request-ID"
ACCESS_LOGGER = "govqms.access"
#: What a record may carry about where it happened, in the order a text line shows them.
CONTEXT_FIELDS = ("request_id", "method", "path", "tenant", "tenant_id", "user_id", "job_id")

# Ids from a proxy or a client are kept only when they cannot garble a log line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
_TENANT_PATH = re.compile(r"/t/([^/]+)(?:/|$)")
# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", *CONTEXT_FIELDS}


@dataclass(frozen=True)
class RequestInfo:
    request_id: str
    method: str
    path: str
    tenant: str | None
    started: float


_request: ContextVar[RequestInfo | None] = ContextVar("govqms_log_request", default=None)
_job: ContextVar[dict | None] = ContextVar("govqms_log_job", default=None)


# --- where a record happened ---------------------------------------------------------------------

def request_id_from(incoming: str | None) -> str:
    """The incoming id when it is a sane token, else a new one (32 hex digits, like nginx's)."""
    if incoming and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    info = _request.get()
    return info.request_id if info is not None else None


def job_logging(func):
    """Wrap the job runner ``func(job_id, …)``: what is logged while it runs carries the job id,
    and the tenant id once the runner names it with :func:`bind_job`."""

    @functools.wraps(func)
    def wrapper(job_id, *args, **kwargs):
        token = _job.set({"job_id": job_id})
        try:
            return func(job_id, *args, **kwargs)
        finally:
            _job.reset(token)

    return wrapper


def bind_job(**fields) -> None:
    """Add fields (``tenant_id=…``) to the running job's log context; nothing outside a job."""
    current = _job.get()
    if current is not None:
        current.update({key: value for key, value in fields.items() if value is not None})


def context_fields() -> dict:
    """The fields of the request and the job being run, as far as they are known."""
    from govqms.core.activity import current_actor
    from govqms.core.tenancy import current_scope

    fields: dict = {}
    info = _request.get()
    if info is not None:
        fields.update(request_id=info.request_id, method=info.method, path=info.path, tenant=info.tenant)
    fields.update(_job.get() or {})
    if fields.get("tenant_id") is None:
        fields["tenant_id"] = _scoped_tenant(current_scope())
    user_id = current_actor().user_id
    if user_id is None and info is not None:
        user_id = _signed_in_user_id()
    fields["user_id"] = user_id
    return fields


def _scoped_tenant(scope) -> int | None:
    if scope.writable is not None:
        return scope.writable
    if scope.visible is not None and len(scope.visible) == 1:
        return next(iter(scope.visible))
    return None


def _signed_in_user_id() -> int | None:
    """The user Flask-Login has loaded for this request (after sign-in, say), without a query:
    a log filter must never touch the database."""
    if not has_app_context():
        return None
    user = g.get("_login_user")
    if user is None or getattr(user, "is_anonymous", True):
        return None
    from sqlalchemy import inspect

    state = inspect(user, raiseerr=False)
    identity = state.identity if state is not None else None
    return identity[0] if identity else None


class ContextFilter(logging.Filter):
    """Puts the request and job fields on every record (``None`` when not known); a field given
    explicitly through ``extra=`` is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            fields = context_fields()
        except Exception:  # noqa: BLE001 - logging must never fail because its context did
            fields = {}
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, fields.get(name))
        return True


# --- how a record is written ---------------------------------------------------------------------

class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the context fields that are
    known, anything passed through ``extra=`` (status, duration_ms…), and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        for name, value in record.__dict__.items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2026-11-20 09:15:02,113 INFO govqms.access [request_id=… tenant=… user_id=7] GET … 200 12.5ms``"""

    SHOWN = ("request_id", "tenant", "tenant_id", "user_id", "job_id")

    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(f"{name}={value}" for name in self.SHOWN
                           if (value := getattr(record, name, None)) is not None)
        line = f"{self.formatTime(record)} {record.levelname} {record.name} "
        line += (f"[{context}] " if context else "") + record.getMessage()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def make_formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def formatter_from_environment() -> logging.Formatter:
    """The formatter ``GOVQMS_LOG_FORMAT`` asks for, outside the app (gunicorn's own log lines)."""
    from govqms.config import log_format

    return make_formatter(log_format(os.environ.get("GOVQMS_ENV", "development")))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (as ``logging.lastResort`` does),
    so a replaced stderr (a test's capture, a closed stream at exit) is never held on to."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


#: The URLs that carry a secret (an invitation link, a calendar feed address), as other loggers than the
#: app's write them (the development server's request lines).
_SECRET_IN_URL = (re.compile(r"(/invite/)[^/\s?\"']+"), re.compile(r"(/calendar/)[^/\s?\"']+(?=\.ics)"))


def redact_secrets(text: str) -> str:
    for pattern in _SECRET_IN_URL:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class SecretFilter(logging.Filter):
    """Masks the secrets of URLs in a record (its message and its arguments) before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_secrets(a) if isinstance(a, str) else a for a in record.args)
        return True


def configure(log_format: str, level: int = logging.INFO) -> logging.Handler:
    """Give the root logger its one GovQMS handler (once per process) in *log_format*."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    handler.setFormatter(make_formatter(log_format))
    root.setLevel(level)
    for name in ("werkzeug", "gunicorn.access"):  # request lines written by the servers themselves
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretFilter) for f in logger.filters):
            logger.addFilter(SecretFilter())
    return handler


# --- requests ------------------------------------------------------------------------------------

def _begin_request() -> None:
    match = _TENANT_PATH.match(request.path)
    info = RequestInfo(request_id=request_id_from(request.headers.get(REQUEST_ID_HEADER)),
                       method=request.method, path=_loggable_path(request.path),
                       tenant=match.group(1) if match else None, started=time.perf_counter())
    g.log_context_token = _request.set(info)


def _access_line(response):
    info = _request.get()
    if info is None:
        return response
    response.headers[REQUEST_ID_HEADER] = info.request_id
    duration_ms = round((time.perf_counter() - info.started) * 1000, 1)
    logging.getLogger(ACCESS_LOGGER).info(
        "%s %s %s %.1fms", info.method, info.path, response.status_code, duration_ms,
        extra={"status": response.status_code, "duration_ms": duration_ms, "remote_addr": request.remote_addr},
    )
    return response


def _loggable_path(path: str) -> str:
    """The path with the secrets some URLs carry (an invitation link, a calendar feed address)
    masked; the URL is matched before ``before_request``, so its arguments are known."""
    for name, value in (request.view_args or {}).items():
        if name.endswith("token") and isinstance(value, str) and value:
            path = path.replace(value, "[redacted]")
    return path


def _end_request(exc) -> None:
    token = g.pop("log_context_token", None)
    if token is not None:
        _request.reset(token)


def init_app(app) -> None:
    """Log in the configured format and give every request its id and access line. Called first
    in ``create_app``, so the id exists before any other ``before_request`` runs and the access
    line, registered first, is written after every other ``after_request``."""
    configure(app.config["LOG_FORMAT"],
              logging.WARNING if app.config["GOVQMS_ENV"] == "testing" else logging.INFO)
    app.before_request(_begin_request)
    app.after_request(_access_line)
    app.teardown_request(_end_request)
