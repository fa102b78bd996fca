from __future__ import annotations

import pytest


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_production_requires_secret_key(monkeypatch):
    from govqms import create_app
    from govqms.config import ConfigError

    monkeypatch.setenv("GOVQMS_ENV", "production")
    monkeypatch.delenv("GOVQMS_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="GOVQMS_SECRET_KEY"):
        create_app()


def test_production_cookies_and_hsts(monkeypatch, backend):
    from govqms import create_app

    monkeypatch.setenv("GOVQMS_ENV", "production")
    monkeypatch.setenv("GOVQMS_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("GOVQMS_DATABASE_URL", backend.app_url)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/login", base_url="https://govqms.example")
    assert "max-age" in response.headers["Strict-Transport-Security"]
    cookie = response.headers.get("Set-Cookie", "")
    assert not cookie or ("Secure" in cookie and "HttpOnly" in cookie)


def test_development_secret_key_is_generated_once(tmp_path, monkeypatch):
    from govqms.config import load_config

    monkeypatch.delenv("GOVQMS_SECRET_KEY", raising=False)
    first = load_config(tmp_path)["SECRET_KEY"]
    assert len(first) >= 32
    assert load_config(tmp_path)["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_upload_size_limit_is_configurable(monkeypatch, tmp_path):
    from govqms.config import ConfigError, load_config

    monkeypatch.setenv("GOVQMS_MAX_UPLOAD_MB", "3")
    assert load_config(tmp_path)["MAX_UPLOAD_BYTES"] == 3 * 1024 * 1024
    assert load_config(tmp_path)["MAX_CONTENT_LENGTH"] > 3 * 1024 * 1024  # room for the form around the file
    monkeypatch.setenv("GOVQMS_MAX_UPLOAD_MB", "lots")
    with pytest.raises(ConfigError):
        load_config(tmp_path)


def test_error_pages_in_both_languages(app, login_as):
    client = login_as("a1_head")
    assert "Không tìm thấy trang" in client.get("/no/such/page").text or client.get("/no/such/page").status_code == 404
    client.post("/language", data={"locale": "en"})
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "Page not found" in page.text
    client.post("/language", data={"locale": "vi"})
    page = client.get("/no/such/page")
    assert page.status_code == 404 and '<html lang="vi">' in page.text and "Page not found" not in page.text


def test_trusted_proxy_gives_the_client_address_to_throttling(monkeypatch, backend):
    from govqms import create_app

    monkeypatch.setenv("GOVQMS_TRUSTED_PROXIES", "1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": backend.app_url, "GOVQMS_ENV": "testing"})
    seen = {}

    @app.get("/_probe_address")
    def _probe():  # registered only on this throwaway app
        from govqms.accounts.views import client_address

        seen["address"] = client_address()
        return "ok"

    app.test_client().get("/_probe_address", headers={"X-Forwarded-For": "203.0.113.9"},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen["address"] == "203.0.113.9"


def test_favicon_served_locally(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"


def test_behind_pgbouncer_no_statement_is_prepared(monkeypatch, tmp_path):
    from govqms.config import ConfigError, load_config

    monkeypatch.setenv("GOVQMS_DATABASE_URL", "postgresql://app@db/govqms")
    assert "connect_args" not in load_config(tmp_path)["SQLALCHEMY_ENGINE_OPTIONS"]
    monkeypatch.setenv("GOVQMS_DATABASE_POOLER", "pgbouncer")
    options = load_config(tmp_path)["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"] == {"prepare_threshold": None} and options["pool_pre_ping"]
    monkeypatch.setenv("GOVQMS_DATABASE_POOLER", "odyssey")
    with pytest.raises(ConfigError, match="GOVQMS_DATABASE_POOLER"):
        load_config(tmp_path)
