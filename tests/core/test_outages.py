"""What a user sees when the database goes away under a request: a page that needs nothing from it,
never a server error page; and a request whose work is committed stays answered even if the
connection dies while the session is closed."""
from __future__ import annotations

import sqlalchemy.exc


def test_a_database_outage_mid_request_is_a_503_page_that_needs_no_database(world, login_as, monkeypatch):
    from govqms.tenancy import services

    def lost(*args, **kwargs):
        raise sqlalchemy.exc.OperationalError("select 1", {}, Exception("server closed the connection unexpectedly"))

    client = login_as("a1_secretary")
    monkeypatch.setattr(services, "member_roles", lost)
    page = client.get(f"/t/{world.a1}/members/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "không kết nối được cơ sở dữ liệu" in page.text.lower()


def test_a_committed_request_is_answered_when_closing_its_session_fails(app, world, login_as, monkeypatch):
    from govqms.extensions import db

    client = login_as("a1_secretary")
    original = type(db).__mro__[1]._teardown_session

    def dies(self, exc):
        original(self, exc)
        raise sqlalchemy.exc.OperationalError("ROLLBACK", {}, Exception("terminating connection"))

    monkeypatch.setattr(type(db).__mro__[1], "_teardown_session", dies)
    response = client.post(f"/t/{world.a1}/units/new", data={"code": "CLOSE", "name": "Tổ đóng phiên"})
    assert response.status_code == 302  # the unit is saved and the user told so
