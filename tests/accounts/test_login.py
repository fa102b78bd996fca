from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD


def test_login_page_is_vietnamese_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text
    assert "Đăng nhập" in page.text


def test_login_lands_on_home_listing_tenants_and_jurisdictions(app, world):
    client = app.test_client()
    response = client.post("/login", data={"email": world.email("a1_secretary"), "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"
    home = client.get("/")
    assert "Sở Khoa học và Công nghệ Một" in home.text
    assert "Sở Khoa học và Công nghệ Hai" not in home.text

    overseer = app.test_client()
    overseer.post("/login", data={"email": world.email("p1_overseer"), "password": PASSWORD})
    assert "Tỉnh Một" in overseer.get("/").text


def test_login_email_is_case_insensitive(client, world):
    response = client.post("/login", data={"email": world.email("a1_head").upper(), "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(client, world):
    response = client.post("/login", data={"email": world.email("a1_head"), "password": "nope"})
    assert response.status_code == 401
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "nope"})
    assert unknown.status_code == 401
    assert "Email hoặc mật khẩu" in response.text


def test_missing_fields_are_named(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert response.text.count("invalid-feedback") == 2


def test_next_only_redirects_inside_the_site(client, world):
    evil = client.post("/login", data={"email": world.email("a1_head"), "password": PASSWORD,
                                       "next": "https://evil.example/"})
    assert evil.location == "/"


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(f"/t/{world.a1}/")
    assert response.status_code == 302 and "/login" in response.location


def test_logout_needs_post(login_as):
    client = login_as("a1_head")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


class TestThrottling:
    def fail(self, client, email, address="10.0.0.1"):
        return client.post("/login", data={"email": email, "password": "wrong"},
                           environ_base={"REMOTE_ADDR": address})

    def test_repeated_failures_slow_then_lock(self, app, client, world):
        email = world.email("a1_staff")
        slow_after = app.config["LOGIN_SLOW_AFTER"]
        for _ in range(slow_after):
            assert self.fail(client, email).status_code == 401
        # now slowed: even the right password is not checked until the delay passes
        slowed = client.post("/login", data={"email": email, "password": PASSWORD},
                             environ_base={"REMOTE_ADDR": "10.0.0.1"})
        assert slowed.status_code == 429

    def test_lock_after_many_failures(self, app, world, system_scope):
        from govqms.accounts.models import LoginAttempt
        from govqms.accounts.services import throttle_for
        from govqms.core.db import utcnow
        from govqms.extensions import db

        email = world.email("a1_viewer")
        now = utcnow()
        for i in range(app.config["LOGIN_LOCK_AFTER"]):
            db.session.add(LoginAttempt(email=email, address=f"10.1.0.{i}", success=False,
                                        at=now - dt.timedelta(seconds=60 - i)))
        db.session.flush()
        state = throttle_for(email, "10.9.9.9", now=now)
        assert state.locked and not state.allowed
        assert state.seconds_left(now) > app.config["LOGIN_LOCK_SECONDS"] - 120
        later = now + dt.timedelta(seconds=app.config["LOGIN_LOCK_SECONDS"] + 1)
        assert throttle_for(email, "10.9.9.9", now=later).allowed

    def test_failures_from_one_address_throttle_that_address(self, app, client, world):
        for i in range(app.config["LOGIN_SLOW_AFTER"]):
            self.fail(client, f"guess{i}@example.org", address="10.2.2.2")
        response = client.post("/login", data={"email": world.email("a1_head"), "password": PASSWORD},
                               environ_base={"REMOTE_ADDR": "10.2.2.2"})
        assert response.status_code == 429
        other = app.test_client().post("/login", data={"email": world.email("a1_head"), "password": PASSWORD},
                                       environ_base={"REMOTE_ADDR": "10.3.3.3"})
        assert other.status_code == 302

    def test_success_resets_the_account_count(self, app, client, world):
        email = world.email("a1_qmr")
        for _ in range(app.config["LOGIN_SLOW_AFTER"] - 1):
            self.fail(client, email, address="10.4.4.4")
        ok = client.post("/login", data={"email": email, "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "10.5.5.5"})
        assert ok.status_code == 302
        client.post("/logout")
        assert self.fail(client, email, address="10.6.6.6").status_code == 401


class TestCsrf:
    @pytest.fixture
    def csrf_on(self, app):
        app.config["WTF_CSRF_ENABLED"] = True
        try:
            yield
        finally:
            app.config["WTF_CSRF_ENABLED"] = False

    def test_post_without_token_is_rejected(self, csrf_on, app, world):
        client = app.test_client()
        response = client.post("/login", data={"email": world.email("a1_head"), "password": PASSWORD})
        assert response.status_code == 400
        assert "Biểu mẫu đã hết hạn" in response.text

    def test_post_with_token_is_accepted(self, csrf_on, app, world):
        import re

        client = app.test_client()
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = client.post("/login", data={"email": world.email("a1_head"), "password": PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 302

    def test_workspace_forms_need_the_token_too(self, csrf_on, app, world):
        from tests.conftest import login

        client = app.test_client()
        app.config["WTF_CSRF_ENABLED"] = False
        login(client, world.email("a1_secretary"))
        app.config["WTF_CSRF_ENABLED"] = True
        response = client.post(f"/t/{world.a1}/units/new", data={"code": "CSRF", "name": "x"})
        assert response.status_code == 400


class TestPassword:
    def test_change_password(self, app, login_as, world):
        client = login_as("a1_auditor")
        bad = client.post("/account/password", data={"current_password": "wrong", "new_password": "a-new-long-pass",
                                                     "confirm_password": "a-new-long-pass"})
        assert bad.status_code == 400
        short = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "short",
                                                       "confirm_password": "short"})
        assert short.status_code == 400
        differ = client.post("/account/password", data={"current_password": PASSWORD,
                                                        "new_password": "a-new-long-pass",
                                                        "confirm_password": "another-long-pass"})
        assert differ.status_code == 400
        ok = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "a-new-long-pass",
                                                    "confirm_password": "a-new-long-pass"})
        assert ok.status_code == 302
        client.post("/logout")
        assert client.post("/login", data={"email": world.email("a1_auditor"),
                                           "password": "a-new-long-pass"}).status_code == 302

    def test_passwords_are_hashed_and_redacted_in_the_log(self, app, world, system_scope):
        from govqms.accounts.models import User
        from govqms.core.activity import ActivityEntry
        from govqms.extensions import db

        user = db.session.scalar(select(User).where(User.email == world.email("a1_head")))
        assert user.password_hash and PASSWORD not in user.password_hash
        user.set_password("another secret pass", method="pbkdf2:sha256:1000")
        db.session.flush()
        entry = db.session.scalars(select(ActivityEntry).where(
            ActivityEntry.entity == "user", ActivityEntry.entity_id == str(user.id))
            .order_by(ActivityEntry.id.desc())).first()
        assert entry.changes["password_hash"] == ["***", "***"]


def test_language_choice_is_kept_per_user(app, login_as, world):
    client = login_as("a1_head")
    client.post("/language", data={"locale": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/").text
    fresh = login_as("a1_head")  # another browser, same user
    assert '<html lang="en">' in fresh.get("/").text
    assert "Units" in fresh.get(f"/t/{world.a1}/").text
    fresh.post("/language", data={"locale": "vi"})
    assert "Đơn vị" in fresh.get(f"/t/{world.a1}/").text


def test_anonymous_language_choice_kept_in_session(client):
    client.post("/language", data={"locale": "en", "next": "/login"})
    assert "Sign in" in client.get("/login").text
    client.post("/language", data={"locale": "xx"})
    assert "Sign in" in client.get("/login").text
