"""Sign-in through an OpenID Connect provider, end to end against a real one.

The provider is the certified ``oidc-provider`` (npm), run by the machine's Node.js from
tests/accounts/oidc_provider/ on a free loopback port; its only part of ours is the sign-in page (a
login form checking the test's account store) and consent given without a screen to the registered
client. The app is served by werkzeug on another loopback port, and ``requests`` plays the browser:
it follows the redirects between the two and posts the provider's login form. Discovery, PKCE, the
code exchange, the ID token's signature and nonce, userinfo: all real.

Outside CI these tests skip when Node.js or npm is missing, saying so; under CI=true that fails them.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import select
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.conftest import PASSWORD, served, service_unavailable

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "govqms-test"
CLIENT_SECRET = secrets.token_urlsafe(32)
PROVIDER_PASSWORD = "provider password"
LABEL = "Cổng định danh tỉnh"
TIMEOUT = 15

# What the provider answers for each login (the province's account store).
PROVIDER_ACCOUNTS = {
    # the a1 secretary's address, in other capitals: matched as the app normalises emails
    "secretary": {"email": "A1.Secretary@Test.GovQMS.vn", "email_verified": True, "name": "Secretary"},
    "stranger": {"email": "nobody@example.org", "email_verified": True, "name": "Stranger"},
    "unverified": {"email": "a1.staff@test.govqms.vn", "email_verified": False, "name": "Unverified"},
    "viewer": {"email": "a1.viewer@test.govqms.vn", "email_verified": True, "name": "Viewer"},
    "newcomer": {"email": "moi.sso@test.govqms.vn", "email_verified": True, "name": "Người Mới"},
}

DOWN = "Dịch vụ đăng nhập không phản hồi"
FAILED = "Dịch vụ đăng nhập chưa xác nhận được bạn là ai"
NO_ACCOUNT = "Không có tài khoản đang hoạt động nào ứng với nobody@example.org"
UNVERIFIED = "Dịch vụ đăng nhập chưa xác minh địa chỉ a1.staff@test.govqms.vn"
NOT_TAKEN_UP = "Tài khoản moi.sso@test.govqms.vn chưa được nhận"


# --- the provider ---------------------------------------------------------------------------

def node_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        service_unavailable("Node.js (node and npm)", "install nodejs and npm to run the OpenID Connect provider")
    return node, npm


def install_provider(npm: str) -> None:
    """`make test` installs it (Makefile); a test run straight from pytest installs it here."""
    if (PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR, capture_output=True,
                            text=True, timeout=300)
    if result.returncode != 0:
        service_unavailable("oidc-provider (npm ci)", result.stderr.strip()[-500:])


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def running_provider(redirect_uri: str, log: Path):
    """oidc-provider on a free loopback port (it picks the port and prints its issuer), stopped afterwards."""
    node, npm = node_tools()
    install_provider(npm)
    config = {
        "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [redirect_uri],
                     "grant_types": ["authorization_code"], "response_types": ["code"]}],
        "accounts": {login: {"password": PROVIDER_PASSWORD, "claims": claims}
                     for login, claims in PROVIDER_ACCOUNTS.items()},
    }
    with open(log, "w") as stderr:
        process = subprocess.Popen([node, "provider.js"], cwd=PROVIDER_DIR, stdout=subprocess.PIPE, stderr=stderr,
                                   text=True, env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)})
    provider = Provider("", process, log)
    try:
        ready, _, _ = select.select([process.stdout], [], [], TIMEOUT)
        line = process.stdout.readline() if ready else ""
        if not line:
            provider.stop()
            pytest.fail(f"oidc-provider did not start: {log.read_text()[-2000:]}", pytrace=False)
        provider.issuer = json.loads(line)["issuer"]
        yield provider
    finally:
        provider.stop()


# --- the app, served for real ---------------------------------------------------------------

@pytest.fixture(scope="module")
def server_url(app):
    """The app on a free loopback port (the provider redirects the browser to it), from a thread."""
    with served(app, "oidc-app-server") as url:
        yield url


@pytest.fixture(scope="module")
def provider(server_url, tmp_path_factory):
    with running_provider(f"{server_url}/login/sso/callback", tmp_path_factory.mktemp("oidc") / "provider.log") as p:
        yield p


def configure(app, monkeypatch, issuer: str, server_url: str = "http://127.0.0.1:5000", **settings) -> None:
    """The installation's settings for the provider, for this test only."""
    values = {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
              "OIDC_LABEL": LABEL, "OIDC_CLAIM": "email", "OIDC_AUTOLINK_INVITED": False,
              "OIDC_TIMEOUT_SECONDS": 5, "BASE_URL": server_url, **settings}
    for key, value in values.items():
        monkeypatch.setitem(app.config, key, value)


@pytest.fixture
def sso(app, monkeypatch, provider, server_url):
    configure(app, monkeypatch, provider.issuer, server_url)
    return provider


def through_provider(server_url: str, issuer: str, login: str, password: str = PROVIDER_PASSWORD,
                     browser: requests.Session | None = None,
                     login_url: str | None = None) -> tuple[requests.Session, requests.Response]:
    """Click the login page's button, sign in on the provider's page; the page the browser lands on."""
    browser = browser or requests.Session()
    login_page = browser.get(login_url or f"{server_url}/login", timeout=TIMEOUT)
    button = re.search(r'data-testid="sso"\s+href="([^"]+)"', login_page.text)
    assert button, "no sign-in button on the login page"
    at_provider = browser.get(urljoin(server_url, button.group(1).replace("&amp;", "&")), timeout=TIMEOUT)
    assert at_provider.status_code == 200 and at_provider.url.startswith(issuer), at_provider.text[:500]
    action = re.search(r'<form method="post" action="([^"]+)"', at_provider.text).group(1)
    landed = browser.post(urljoin(at_provider.url, action), data={"login": login, "password": password},
                          timeout=TIMEOUT)
    return browser, landed


def flashed(page: requests.Response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page.text).split())


# --- without a provider configured ----------------------------------------------------------

def test_without_an_issuer_there_is_no_button_and_no_route(client):
    assert "/login/sso" not in client.get("/login").text
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404


def test_a_provider_that_never_answers_is_reported_after_the_timeout(app, client, monkeypatch):
    """A provider that accepts the connection but says nothing: the short timeout, then the message."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        configure(app, monkeypatch, f"http://127.0.0.1:{silent.getsockname()[1]}", OIDC_TIMEOUT_SECONDS=1)
        started = time.monotonic()
        response = client.get("/login/sso", follow_redirects=True)
        elapsed = time.monotonic() - started
    assert response.status_code == 200 and response.request.path == "/login"
    assert DOWN in response.text and LABEL in response.text  # the button stays: the provider may come back
    assert elapsed < 4


# --- against the real provider --------------------------------------------------------------

@pytest.mark.sqlite_only  # a served app and a provider process: the protocol is under test, not the database
class TestAgainstTheProvider:
    def test_matching_account_signs_in_and_opens_its_workspace(self, sso, server_url, world):
        browser, landed = through_provider(server_url, sso.issuer, "secretary")
        assert landed.status_code == 200 and landed.url == f"{server_url}/", flashed(landed)[:500]
        assert "Sở Khoa học và Công nghệ Một" in landed.text
        workspace = browser.get(f"{server_url}/t/{world.a1}/", timeout=TIMEOUT)
        assert workspace.status_code == 200 and workspace.url == f"{server_url}/t/{world.a1}/"

    def test_the_page_asked_for_is_opened_after_signing_in(self, sso, server_url, world):
        browser = requests.Session()
        asked = browser.get(f"{server_url}/t/{world.a1}/", timeout=TIMEOUT)
        assert asked.url.startswith(f"{server_url}/login?next=")
        _, landed = through_provider(server_url, sso.issuer, "secretary", browser=browser, login_url=asked.url)
        # the login page's button carried ?next=, kept in the session while the browser was away
        assert landed.status_code == 200 and landed.url == f"{server_url}/t/{world.a1}/"

    def test_unknown_account_is_refused_with_a_message(self, sso, server_url):
        browser, landed = through_provider(server_url, sso.issuer, "stranger")
        assert landed.url == f"{server_url}/login" and landed.status_code == 200
        assert NO_ACCOUNT in flashed(landed)
        assert browser.get(f"{server_url}/", timeout=TIMEOUT, allow_redirects=False).status_code == 302

    def test_deactivated_account_is_refused(self, sso, server_url, world, system_scope):
        from sqlalchemy import select

        from govqms.accounts.models import User
        from govqms.extensions import db

        viewer = db.session.scalar(select(User).where(User.email == world.email("a1_viewer")))
        viewer.active = False
        db.session.commit()
        browser, landed = through_provider(server_url, sso.issuer, "viewer")
        assert landed.url == f"{server_url}/login"
        assert "Không có tài khoản đang hoạt động nào ứng với a1.viewer@test.govqms.vn" in flashed(landed)
        assert browser.get(f"{server_url}/", timeout=TIMEOUT, allow_redirects=False).status_code == 302

    def test_an_address_the_provider_has_not_verified_is_refused(self, sso, server_url):
        browser, landed = through_provider(server_url, sso.issuer, "unverified")
        assert landed.url == f"{server_url}/login" and UNVERIFIED in flashed(landed)
        assert browser.get(f"{server_url}/", timeout=TIMEOUT, allow_redirects=False).status_code == 302

    def test_a_callback_without_its_state_is_refused(self, sso, server_url):
        """A forged or replayed callback (state not issued to this browser) signs no one in."""
        browser = requests.Session()
        landed = browser.get(f"{server_url}/login/sso/callback?code=forged&state=forged", timeout=TIMEOUT)
        assert landed.url == f"{server_url}/login" and FAILED in flashed(landed)
        assert browser.get(f"{server_url}/", timeout=TIMEOUT, allow_redirects=False).status_code == 302

    def test_invited_account_is_linked_only_when_the_setting_is_on(self, app, monkeypatch, sso, server_url,
                                                                    world, system_scope):
        from sqlalchemy import select

        from govqms.accounts.models import Invitation, User
        from govqms.accounts.services import issue_invitation
        from govqms.extensions import db
        from govqms.tenancy.models import Membership

        user = User(email="moi.sso@test.govqms.vn", name="Người Mới", locale="vi")
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, tenant_id=world.tenant_ids["a1"], role="staff"))
        issue_invitation(user)
        db.session.commit()
        user_id = user.id

        _, refused = through_provider(server_url, sso.issuer, "newcomer")
        assert refused.url == f"{server_url}/login" and NOT_TAKEN_UP in flashed(refused)

        monkeypatch.setitem(app.config, "OIDC_AUTOLINK_INVITED", True)
        browser, landed = through_provider(server_url, sso.issuer, "newcomer")
        assert landed.url == f"{server_url}/" and "Sở Khoa học và Công nghệ Một" in landed.text
        assert browser.get(f"{server_url}/t/{world.a1}/", timeout=TIMEOUT).status_code == 200
        db.session.expire_all()
        invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == user_id))
        assert invitation.used_at is not None  # the link in the email no longer works
        assert db.session.get(User, user_id).password_hash is None  # no password was made up

    def test_with_the_provider_stopped_password_sign_in_still_works(self, app, monkeypatch, server_url, world,
                                                                     tmp_path):
        with running_provider(f"{server_url}/login/sso/callback", tmp_path / "provider.log") as own:
            configure(app, monkeypatch, own.issuer, server_url)
            _, landed = through_provider(server_url, own.issuer, "secretary")
            assert landed.url == f"{server_url}/"  # it was up, and signed the secretary in
            own.stop()

            browser = requests.Session()
            login_page = browser.get(f"{server_url}/login", timeout=TIMEOUT)
            assert LABEL in login_page.text
            down = browser.get(f"{server_url}/login/sso", timeout=TIMEOUT)
            assert down.url == f"{server_url}/login" and DOWN in flashed(down)

            signed_in = browser.post(f"{server_url}/login", timeout=TIMEOUT,
                                     data={"email": world.email("a1_secretary"), "password": PASSWORD})
            assert signed_in.status_code == 200 and signed_in.url == f"{server_url}/"
            assert browser.get(f"{server_url}/t/{world.a1}/", timeout=TIMEOUT).status_code == 200
