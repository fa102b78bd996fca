"""Sessions are kept on the server: a cookie replayed after sign-out or after a password change is
refused, a deactivation or a role removed ends every session of the account, a user sees and ends
their other sessions, and sessions end after their lifetime and idle time."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.conftest import PASSWORD, login


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def test_a_cookie_replayed_after_sign_out_is_refused(app, world):
    client = login(app.test_client(), world.email("a1_secretary"))
    register = f"/t/{world.a1}/documents/"
    assert client.get(register).status_code == 200
    copied = _cookie(client)
    client.post("/logout")
    replayed = _replay(app, copied).get(register)
    assert replayed.status_code == 302 and "/login" in replayed.location


def test_a_password_change_ends_the_other_browsers(app, world, system_scope):
    laptop = login(app.test_client(), world.email("a1_secretary"))
    phone = login(app.test_client(), world.email("a1_secretary"))
    copied = _cookie(phone)
    changed = laptop.post("/account/password", data={"current_password": PASSWORD, "new_password": "mot-khau-moi-2026",
                                                     "confirm_password": "mot-khau-moi-2026"})
    assert changed.status_code == 302
    assert laptop.get(f"/t/{world.a1}/").status_code == 200  # the browser that changed it stays in
    assert phone.get(f"/t/{world.a1}/").status_code == 302  # the other is signed out
    assert _replay(app, copied).get(f"/t/{world.a1}/").status_code == 302


def test_deactivation_and_a_role_removed_end_every_session(app, world, system_scope):
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.tenancy.models import Membership

    viewer = login(app.test_client(), world.email("a1_viewer"))
    staff = login(app.test_client(), world.email("a1_staff"))
    assert viewer.get(f"/t/{world.a1}/").status_code == 200 and staff.get(f"/t/{world.a1}/").status_code == 200
    user = db.session.scalar(select(User).where(User.email == world.email("a1_viewer")))
    user.active = False
    membership = db.session.scalar(select(Membership).join(User, User.id == Membership.user_id)
                                   .where(User.email == world.email("a1_staff")))
    db.session.delete(membership)
    db.session.commit()
    assert viewer.get(f"/t/{world.a1}/").status_code == 302
    assert staff.get(f"/t/{world.a1}/").status_code == 302  # signed out: signs in again with the roles left


def test_a_user_sees_and_ends_their_other_sessions(app, world, system_scope):
    from govqms.accounts.models import UserSession
    from govqms.extensions import db

    laptop = login(app.test_client(), world.email("a1_head"))
    phone = login(app.test_client(), world.email("a1_head"))
    tablet = login(app.test_client(), world.email("a1_head"))
    page = laptop.get("/account/")
    assert page.status_code == 200 and page.text.count("data-session=") == 3
    ids = sorted(s.id for s in db.session.scalars(select(UserSession).where(UserSession.ended_at.is_(None))))
    this_one = db.session.scalar(select(UserSession).order_by(UserSession.id).where(UserSession.id == ids[0]))
    assert laptop.post(f"/account/sessions/{ids[1]}/end").status_code == 302
    assert phone.get("/").status_code == 302 and tablet.get("/").status_code == 200
    assert laptop.post("/account/sessions/end-others").status_code == 302
    assert tablet.get("/").status_code == 302 and laptop.get("/").status_code == 200
    assert laptop.post(f"/account/sessions/{this_one.id}/end").status_code == 404  # this one signs out
    other = login(app.test_client(), world.email("a1_secretary"))
    theirs = db.session.scalar(select(UserSession).where(UserSession.ended_at.is_(None))
                               .order_by(UserSession.id.desc()))
    assert laptop.post(f"/account/sessions/{theirs.id}/end").status_code == 404  # not theirs to end
    assert other.get("/").status_code == 200


def test_a_session_ends_after_its_idle_time_and_its_lifetime(app, world, system_scope):
    from govqms.accounts.models import UserSession
    from govqms.extensions import db

    client = login(app.test_client(), world.email("a1_secretary"))
    record = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
    record.last_seen_at -= dt.timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    db.session.commit()
    assert client.get("/").status_code == 302  # idle too long
    client = login(app.test_client(), world.email("a1_secretary"))
    record = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
    record.created_at -= dt.timedelta(seconds=app.config["PERMANENT_SESSION_LIFETIME"] + 1)
    db.session.commit()
    assert client.get("/").status_code == 302  # past its lifetime, however active
