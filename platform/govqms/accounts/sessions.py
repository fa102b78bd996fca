"""Signing in and out: the one way a browser session begins and ends, whatever proved who the user is
(a password, a second factor, an identity provider)."""
from __future__ import annotations

from flask import session
from flask_login import login_user, logout_user


def begin_session(user, method: str = "password") -> None:
    """*user* is signed in, in a fresh session (no fixation: nothing of the anonymous session is kept
    but the chosen language). *method* says how they proved who they are."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user)
    session["signed_in_with"] = method
    session.permanent = True


def end_session() -> None:
    """Sign out of this browser."""
    logout_user()
    session.clear()
