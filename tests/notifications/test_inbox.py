"""The inbox: unread count in the navigation, one's own notifications only, settings."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select


@pytest.fixture
def inbox(world, system_scope):
    """Notifications for a user: make(handle, n) adds n of them, leading to the agency's actions."""
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.notifications.services import notify_many

    def make(handle: str, count: int, start: int = 0, slug: str | None = None):
        user = db.session.scalar(select(User).where(User.email == world.email(handle)))
        notify_many([(user.id, "action", f"action:{i}:2026-12-01", "before-7",
                      {"title": f"Việc số {i}", "agency": "Sở Khoa học và Công nghệ Một"}, dt.date(2026, 12, 1),
                      ("improvement.actions", {"tenant_slug": slug or world.a1}))
                     for i in range(start, start + count)])
        db.session.commit()
        return user

    return make


def test_unread_count_in_the_navigation_and_open_marks_read(world, login_as, inbox):
    from govqms.extensions import db
    from govqms.notifications.models import Notification

    user = inbox("a1_staff", 3)
    client = login_as("a1_staff")
    home = client.get(f"/t/{world.a1}/")
    assert 'data-testid="unread-count">3' in home.text
    page = client.get("/inbox/")
    assert page.status_code == 200 and page.text.count('data-testid="notification"') == 3
    assert "Việc số 2" in page.text and "Sở Khoa học và Công nghệ Một" in page.text
    first = db.session.scalars(select(Notification).where(Notification.user_id == user.id)).first()
    response = client.get(f"/inbox/{first.id}")
    assert response.status_code == 302 and response.location.endswith(f"/t/{world.a1}/improvement/actions/")
    assert 'data-testid="unread-count">2' in client.get("/inbox/").text
    assert client.get("/inbox/?unread=1").text.count('data-testid="notification"') == 2
    response = client.post("/inbox/read", data={})
    assert response.status_code == 302
    assert 'data-testid="unread-count"' not in client.get("/inbox/").text
    assert "No unread notification" in client.get("/inbox/?unread=1").text or \
        "Không có thông báo chưa đọc" in client.get("/inbox/?unread=1").text


def test_nobody_reads_anothers_notification(world, login_as, inbox):
    from govqms.extensions import db
    from govqms.notifications.models import Notification

    other = inbox("b1_secretary", 1, slug=world.b1)
    theirs = db.session.scalar(select(Notification).where(Notification.user_id == other.id))
    for handle in ("a1_secretary", "p1_overseer", "operator"):
        client = login_as(handle)
        assert client.get(f"/inbox/{theirs.id}").status_code == 404
        assert "Việc số 0" not in client.get("/inbox/").text
        client.post("/inbox/read", data={"ids": [str(theirs.id)]})
    db.session.refresh(theirs)
    assert theirs.read_at is None


def test_inbox_needs_sign_in(client):
    assert client.get("/inbox/").status_code == 302


def test_inbox_pages_cost_the_same_whatever_the_inbox_holds(world, login_as, inbox, count_queries):
    inbox("a1_staff", 2)
    client = login_as("a1_staff")
    client.get("/inbox/")
    with count_queries() as few:
        assert client.get("/inbox/").status_code == 200
    inbox("a1_staff", 60, start=100)
    with count_queries() as many:
        page = client.get("/inbox/")
    assert many.count == few.count
    assert "?page=2" in page.text  # paginated


def test_settings_choose_the_delivery(world, login_as, system_scope):
    from govqms.accounts.models import User
    from govqms.extensions import db

    client = login_as("a1_staff")
    assert client.get("/inbox/settings").status_code == 200
    bad = client.post("/inbox/settings", data={"mode": "hourly"})
    assert bad.status_code == 400 and "is-invalid" in bad.text
    assert client.post("/inbox/settings", data={"mode": "digest"}).status_code == 302
    user = db.session.scalar(select(User).where(User.email == world.email("a1_staff")))
    assert user.notify_mode == "digest"


def test_settings_need_the_csrf_token(app, world, login_as):
    client = login_as("a1_staff")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/inbox/settings", data={"mode": "digest"}).status_code == 400
        assert client.post("/inbox/read", data={}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
