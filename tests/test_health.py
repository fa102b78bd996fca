"""GET /healthz: the database and Redis, open to anyone, telling no more than an error's class name."""
from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from tests.conftest import (
    REDIS_URL,
    redis_available,
    service_unavailable,
    test_config as config_for,  # (a name pytest would collect)
)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthy_without_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "redis": "not configured"}}
    assert response.headers["Cache-Control"] == "no-store"


def test_open_to_anyone_without_a_session_cookie(client):
    response = client.get("/healthz")
    assert response.status_code == 200  # not sent to the login page
    assert "Set-Cookie" not in response.headers


def test_not_throttled(app, client):
    for _ in range(3 * app.config["LOGIN_LOCK_AFTER"]):
        assert client.get("/healthz", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200


def test_redis_checked_when_configured(app, client, monkeypatch):
    problem = redis_available()
    if problem:
        service_unavailable("Redis", problem)
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_redis_down_fails_with_the_error_class_only(app, client, monkeypatch):
    port = closed_port()
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{port}/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "fail" and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "ConnectionError"
    assert str(port) not in response.text and "127.0.0.1" not in response.text


@pytest.mark.committed  # its own app and engine, not the test's rolled-back connection
def test_database_down_fails_with_the_error_class_only(backend, tmp_path):
    from govqms import create_app

    if backend.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'missing-folder' / 'govqms.db'}"
    else:
        url = sa.engine.make_url(backend.app_url).set(port=closed_port()).render_as_string(hide_password=False)
    unreachable = create_app(config_for(url))
    response = unreachable.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body == {"status": "fail", "checks": {"database": "OperationalError", "redis": "not configured"}}
    assert "missing-folder" not in response.text and "connect" not in response.text.lower()


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_reads_only(client, method):
    assert client.open("/healthz", method=method).status_code == 405
