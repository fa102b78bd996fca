"""End to end, in a real browser: sign in, open the agency, switch the language and back."""
from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

AGENCY = "Sở Khoa học và Công nghệ Một"

pytestmark = [pytest.mark.e2e, pytest.mark.committed, pytest.mark.sqlite_only]


@pytest.fixture
def restore_locale(app, world):
    """The test commits: whatever happens, the secretary's stored language goes back to Vietnamese."""
    yield
    from govqms.accounts.models import User
    from govqms.core.activity import Actor, acting_as
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db

    with app.app_context(), scoped(TenantScope.system()), acting_as(Actor(None, "tests")):
        user = db.session.execute(db.select(User).filter_by(email=world.email("a1_secretary"))).scalar_one()
        if user.locale != "vi":
            user.locale = "vi"
            db.session.commit()


def test_sign_in_open_agency_and_switch_language(live_server, page, world, request, restore_locale):
    from playwright.sync_api import expect

    html = page.locator("html")
    try:
        # Sign in, in Vietnamese (the default).
        page.goto(f"{live_server}/login")
        expect(html).to_have_attribute("lang", "vi")
        expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
        page.locator("#f-email").fill(world.email("a1_secretary"))
        page.locator("#f-password").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()

        # Home lists the agency; open it.
        expect(page).to_have_url(f"{live_server}/")
        agency = page.get_by_role("link", name=AGENCY)
        expect(agency).to_be_visible()
        agency.click()
        expect(page.get_by_role("heading", level=1, name=AGENCY)).to_be_visible()
        workspace_url = page.url
        assert workspace_url != f"{live_server}/"

        # English, and it sticks across a reload (stored on the user).
        page.get_by_test_id("lang-en").click()
        expect(html).to_have_attribute("lang", "en")
        expect(page).to_have_url(workspace_url)
        expect(page.locator("nav").get_by_role("link", name="Documents", exact=True)).to_be_visible()
        expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_have_count(1)
        page.reload()
        expect(html).to_have_attribute("lang", "en")
        expect(page.get_by_test_id("lang-vi")).to_be_visible()

        # The home page in English, kept as an artifact.
        page.locator("a.navbar-brand").click()
        expect(page).to_have_url(f"{live_server}/")
        expect(page.get_by_role("heading", name="Your agencies")).to_be_visible()
        screenshot(page, "home-en")

        # Back to Vietnamese, so the committed state is as before.
        page.get_by_test_id("lang-vi").click()
        expect(html).to_have_attribute("lang", "vi")
        expect(page.get_by_role("heading", name="Cơ quan của bạn")).to_be_visible()
        expect(page.get_by_test_id("lang-en")).to_be_visible()
        expect(page).to_have_title(re.compile("Trang chủ"))
    except Exception:
        path = screenshot(page, request.node.name)
        print(f"screenshot of the failure: {path}")
        raise
