"""One-time links to set a password: shown to the operator, emailed when mail is configured."""
from __future__ import annotations

import datetime as dt
import time
from email.header import decode_header, make_header

import pytest
from sqlalchemy import select

from tests.conftest import login


@pytest.fixture
def invited(world, system_scope):
    from govqms.accounts.models import User
    from govqms.accounts.services import issue_invitation
    from govqms.extensions import db
    from govqms.tenancy.models import Membership

    user = User(email="moi@test.govqms.vn", name="Người Mới", locale="vi")
    db.session.add(user)
    db.session.flush()
    db.session.add(Membership(user_id=user.id, tenant_id=world.tenant_ids["a1"], role="staff"))
    token = issue_invitation(user)
    db.session.commit()
    return user, token


def test_link_sets_the_password_once(app, invited):
    user, token = invited
    client = app.test_client()
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200 and "Người Mới" in page.text
    mismatch = client.post(f"/invite/{token}", data={"new_password": "long enough pass", "confirm_password": "x"})
    assert mismatch.status_code == 400
    done = client.post(f"/invite/{token}", data={"new_password": "long enough pass",
                                                 "confirm_password": "long enough pass"})
    assert done.status_code == 302 and "/login" in done.location
    assert client.get(f"/invite/{token}").status_code == 404  # used
    signed_in = login(app.test_client(), user.email, "long enough pass")
    assert "Sở Khoa học và Công nghệ Một" in signed_in.get("/").text


def test_expired_or_unknown_links_are_refused(app, invited, system_scope):
    from govqms.accounts.models import Invitation
    from govqms.extensions import db

    user, token = invited
    invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == user.id))
    invitation.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    db.session.commit()
    assert app.test_client().get(f"/invite/{token}").status_code == 404
    assert app.test_client().get("/invite/not-a-token").status_code == 404


def test_a_new_link_retires_the_old_one(app, invited, system_scope):
    from govqms.accounts.services import issue_invitation
    from govqms.extensions import db

    user, old = invited
    new = issue_invitation(user)
    db.session.commit()
    assert app.test_client().get(f"/invite/{old}").status_code == 404
    assert app.test_client().get(f"/invite/{new}").status_code == 200


def test_account_without_password_cannot_sign_in(app, invited):
    user, _ = invited
    response = app.test_client().post("/login", data={"email": user.email, "password": ""})
    assert response.status_code == 400


def test_only_the_token_hash_is_stored(invited, system_scope):
    from govqms.accounts.models import Invitation
    from govqms.extensions import db

    user, token = invited
    stored = db.session.scalar(select(Invitation.token_hash).where(Invitation.user_id == user.id))
    assert token not in stored and len(stored) == 64


def test_invitation_is_emailed_in_the_users_language(app, invited, smtp_sink, system_scope):
    from govqms.accounts.services import send_invitation

    user, token = invited
    assert send_invitation(user, token)
    for _ in range(50):
        if smtp_sink:
            break
        time.sleep(0.05)
    (message,) = smtp_sink
    assert message["To"] == user.email
    body = message.get_payload(decode=True).decode("utf-8")
    assert f"/invite/{token}" in body and "Người Mới" in body
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == "Tài khoản GovQMS của Ông/Bà"  # the user's language (vi), diacritics intact


def test_cli_invite_prints_a_link(app, invited):
    user, _ = invited
    result = app.test_cli_runner().invoke(args=["tenants", "invite", user.email])
    assert result.exit_code == 0 and "/invite/" in result.output
