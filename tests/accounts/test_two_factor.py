"""Two-factor sign-in: enrolled from the account page with a QR code, then asked after the password;
a recovery code works once; a setting makes it mandatory for oversight accounts and operators; wrong
codes are throttled like passwords."""
from __future__ import annotations

import re

import pyotp
import pytest

from tests.conftest import PASSWORD, login


def enrol(client) -> tuple[str, list[str]]:
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and 'data-testid="totp-qr"' in page.text and "data:image/svg+xml" in page.text
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    wrong = client.post("/account/two-factor", data={"step": "confirm", "code": "000000"})
    assert wrong.status_code == 400
    done = client.post("/account/two-factor", data={"step": "confirm", "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li>([0-9a-f]{6}-[0-9a-f]{6})</li>", done.text)
    assert len(codes) == 10
    return secret, codes


def test_enrolment_then_sign_in_with_a_code(app, world, system_scope):
    client = login(app.test_client(), world.email("a1_secretary"))
    secret, _codes = enrol(client)
    assert 'data-testid="two-factor-on"' in client.get("/account/").text
    client.post("/logout")

    fresh = app.test_client()
    step = fresh.post("/login", data={"email": world.email("a1_secretary"), "password": PASSWORD,
                                      "next": f"/t/{world.a1}/"})
    assert step.status_code == 302 and step.location.endswith("/login/code")
    assert fresh.get(f"/t/{world.a1}/").status_code == 302  # not signed in before the code
    code_page = fresh.get("/login/code")
    assert code_page.status_code == 200 and 'name="code"' in code_page.text
    assert fresh.post("/login/code", data={"code": "123456"}).status_code == 401
    signed_in = fresh.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert signed_in.status_code == 302 and signed_in.location.endswith(f"/t/{world.a1}/")
    assert fresh.get(f"/t/{world.a1}/").status_code == 200


def test_a_recovery_code_works_once(app, world, system_scope):
    client = login(app.test_client(), world.email("a1_qmr"))
    _secret, codes = enrol(client)
    client.post("/logout")
    for expected in (302, 401):  # the same code twice: the second time it is spent
        browser = app.test_client()
        browser.post("/login", data={"email": world.email("a1_qmr"), "password": PASSWORD})
        assert browser.post("/login/code", data={"code": codes[0].upper()}).status_code == expected


def test_the_code_page_needs_a_fresh_password_step(app, world):
    client = app.test_client()
    response = client.get("/login/code")
    assert response.status_code == 302 and response.location.endswith("/login")


def test_wrong_codes_are_throttled_like_passwords(app, world, system_scope):
    client = login(app.test_client(), world.email("a1_head"))
    enrol(client)
    client.post("/logout")
    browser = app.test_client()
    browser.post("/login", data={"email": world.email("a1_head"), "password": PASSWORD})
    statuses = [browser.post("/login/code", data={"code": "000000"}).status_code
                for _ in range(app.config["LOGIN_SLOW_AFTER"] + 2)]
    assert statuses[0] == 401 and 429 in statuses


@pytest.fixture
def mandatory(app):
    app.config["TWO_FACTOR_REQUIRED_FOR"] = ("oversight", "operator")
    yield
    app.config["TWO_FACTOR_REQUIRED_FOR"] = ()


def test_mandatory_for_overseers_and_operators(app, world, system_scope, mandatory):
    overseer = login(app.test_client(), world.email("p1_overseer"))
    blocked = overseer.get(f"/o/{world.p1}/")
    assert blocked.status_code == 302 and blocked.location.endswith("/account/two-factor")
    enrol(overseer)
    assert overseer.get(f"/o/{world.p1}/").status_code == 200
    off = overseer.post("/account/two-factor/off", data={"password": PASSWORD})
    assert off.status_code == 302 and 'data-testid="two-factor-on"' in overseer.get("/account/").text  # kept
    operator = login(app.test_client(), world.email("operator"))
    assert operator.get("/admin/").status_code == 302
    staff = login(app.test_client(), world.email("a1_staff"))  # an agency's staff: not required
    assert staff.get(f"/t/{world.a1}/").status_code == 200
