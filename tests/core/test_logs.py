"""Structured logs: request id in and out, the request's context on every record, jobs' ids."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest
from sqlalchemy import select

from govqms.jobs.services import task

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


class Captured:
    def __init__(self, stream: io.StringIO):
        self._stream = stream

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self._stream.getvalue().splitlines() if line.strip()]

    def access(self) -> list[dict]:
        return [line for line in self.lines() if line["logger"] == "govqms.access"]


@pytest.fixture
def captured():
    """JSON lines of every record, through the same filter and formatter as production."""
    from govqms.core.logs import ContextFilter, JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    # Tests run at WARNING; the access lines are INFO. A migration run in this process
    # (migrations/env.py's fileConfig) also disables the loggers that existed then.
    saved = {}
    for name in ("govqms.access", "govqms.health.views", "tests.logs"):
        logger = logging.getLogger(name)
        saved[name] = (logger.level, logger.disabled)
        logger.setLevel(logging.INFO)
        logger.disabled = False
    try:
        yield Captured(stream)
    finally:
        root.removeHandler(handler)
        for name, (level, disabled) in saved.items():
            logging.getLogger(name).setLevel(level)
            logging.getLogger(name).disabled = disabled


def user_id(email: str) -> int:
    from govqms.accounts.models import User
    from govqms.extensions import db

    return db.session.scalar(select(User.id).where(User.email == email))


def test_access_line_has_request_id_tenant_user_and_status(app, world, login_as, captured, system_scope):
    client = login_as("a1_secretary")
    response = client.get(f"/t/{world.a1}/units/")
    assert response.status_code == 200
    (line,) = [line for line in captured.access() if line["path"] == f"/t/{world.a1}/units/"]
    assert GENERATED_ID.fullmatch(line["request_id"]) and response.headers["X-Request-ID"] == line["request_id"]
    assert line["tenant"] == world.a1 and line["tenant_id"] == world.tenant_ids["a1"]
    assert line["user_id"] == user_id(world.email("a1_secretary"))
    assert line["method"] == "GET" and line["status"] == 200 and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["message"].startswith(f"GET /t/{world.a1}/units/ 200 ")


def test_each_request_gets_its_own_id(client, captured):
    first, second = client.get("/login"), client.get("/login")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert [line["request_id"] for line in captured.access()] == [first.headers["X-Request-ID"],
                                                                  second.headers["X-Request-ID"]]


def test_sane_incoming_id_is_kept(client, captured):
    response = client.get("/login", headers={"X-Request-ID": "2f1c9e0a-proxy.id_42"})
    assert response.headers["X-Request-ID"] == "2f1c9e0a-proxy.id_42"
    assert captured.access()[-1]["request_id"] == "2f1c9e0a-proxy.id_42"


@pytest.mark.parametrize("incoming", ["short", "has space inside", "x" * 129, "<script>alert(1)</script>",
                                      'forged"}, {"level": "x', "ünïcode-request-id"])
def test_bad_incoming_id_is_replaced(client, captured, incoming):
    response = client.get("/login", headers={"X-Request-ID": incoming})
    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])
    assert captured.access()[-1]["request_id"] == response.headers["X-Request-ID"]


def test_records_during_the_request_carry_its_context(app, client, captured, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    (warning,) = [line for line in captured.lines() if line["logger"] == "govqms.health.views"]
    assert warning["level"] == "WARNING" and warning["request_id"] == response.headers["X-Request-ID"]
    assert warning["method"] == "GET" and warning["path"] == "/healthz" and "tenant" not in warning
    assert captured.access()[-1]["status"] == 503


def test_secrets_in_urls_are_not_logged(client, captured):
    client.get("/invite/the-secret-invitation-token")
    client.get("/calendar/the-secret-feed-token.ics")
    text = json.dumps(captured.lines())
    assert "the-secret" not in text
    assert {line["path"] for line in captured.access()} == {"/invite/[redacted]", "/calendar/[redacted].ics"}


def test_nothing_logged_outside_a_request_carries_one(app, captured):
    logging.getLogger("tests.logs").warning("between requests")
    (line,) = captured.lines()
    assert line["message"] == "between requests" and "request_id" not in line and "job_id" not in line


@task("tests.log_a_line")
def log_a_line(job, tenant_id):
    logging.getLogger("tests.logs").warning("working for tenant %s", tenant_id)


def test_job_records_carry_job_and_tenant_ids(world, captured, system_scope):
    from govqms.jobs import services

    job = services.enqueue("tests.log_a_line", tenant_id=world.tenant_ids["a1"], user_id=None)
    (line,) = [line for line in captured.lines() if line["message"].startswith("working for tenant")]
    assert line["job_id"] == job.id and line["tenant_id"] == world.tenant_ids["a1"]


def test_text_format_is_readable(app, world, login_as):
    from govqms.core.logs import ContextFilter, TextFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(TextFormatter())
    access = logging.getLogger("govqms.access")
    saved = access.level, access.disabled
    access.setLevel(logging.INFO)
    access.disabled = False
    access.addHandler(handler)
    try:
        response = login_as("a1_head").get(f"/t/{world.a1}/", headers={"X-Request-ID": "text-format-0001"})
    finally:
        access.removeHandler(handler)
        access.level, access.disabled = saved
    line = stream.getvalue().strip().splitlines()[-1]
    assert response.status_code == 200
    assert re.fullmatch(rf"\S+ \S+ INFO govqms\.access \[request_id=text-format-0001 tenant={world.a1} "
                        rf"tenant_id=\d+ user_id=\d+\] GET /t/{world.a1}/ 200 [\d.]+ms", line), line


def test_log_format_follows_the_environment(monkeypatch, tmp_path):
    from govqms.config import ConfigError, load_config

    monkeypatch.setenv("GOVQMS_SECRET_KEY", "x" * 40)
    monkeypatch.delenv("GOVQMS_LOG_FORMAT", raising=False)
    monkeypatch.setenv("GOVQMS_ENV", "production")
    assert load_config(tmp_path)["LOG_FORMAT"] == "json"
    monkeypatch.setenv("GOVQMS_ENV", "development")
    assert load_config(tmp_path)["LOG_FORMAT"] == "text"
    monkeypatch.setenv("GOVQMS_LOG_FORMAT", "json")
    assert load_config(tmp_path)["LOG_FORMAT"] == "json"
    monkeypatch.setenv("GOVQMS_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="GOVQMS_LOG_FORMAT"):
        load_config(tmp_path)


def test_the_servers_request_lines_carry_no_token(app, caplog):
    """The development server's own request lines (werkzeug) mask invitation and calendar tokens."""
    import logging

    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('%s - - "%s" %s -', "127.0.0.1",
                                           "GET /invite/Zq3-secret_token HTTP/1.1", "200")
        logging.getLogger("werkzeug").info("GET /calendar/abc123DEF.ics?x=1 HTTP/1.1 200")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Zq3-secret_token" not in text and "abc123DEF" not in text
    assert "/invite/[redacted]" in text and "/calendar/[redacted].ics" in text
