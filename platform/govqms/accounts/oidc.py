"""Signing in through the installation's OpenID Connect provider (a province's identity portal).

The provider proves who the person is; the account is the GovQMS account whose email equals the
configured claim (``GOVQMS_OIDC_CLAIM``, the verified ``email`` by default). Accounts are never created
here: an unknown or inactive one is refused. An invited account that was never taken up is linked
(its invitation accepted) only when ``GOVQMS_OIDC_AUTOLINK_INVITED`` is on.

Password sign-in is untouched, so a provider that is down locks out no one who has a password: the
button then leads back to the login page with a message, after a short timeout.

Authorization code flow with PKCE (S256), state and nonce kept in the session by Authlib; the ID token's
signature, issuer, audience, expiry and nonce are checked. Nothing of the tokens is logged.
"""
from __future__ import annotations

import logging

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from joserfc.errors import JoseError
from sqlalchemy import exists, func, select

from govqms.accounts.models import Invitation, User
from govqms.accounts.services import normalise_email
from govqms.accounts.sessions import begin_session
from govqms.core.db import utcnow
from govqms.core.errors import Refused
from govqms.extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("oidc", __name__)

SCOPE = "openid email profile"
#: Where the page asked for before signing in waits while the browser is at the provider.
NEXT_KEY = "oidc_next"
#: What the provider (or the answer claimed to come from it) may get wrong: refused, never a server error.
PROVIDER_ERRORS = (AuthlibBaseError, JoseError, ValueError, KeyError, TypeError, RuntimeError)


class SignInRefused(Refused):
    """The provider's answer signs no one in: ``str()`` is the message for the person, ``reason`` is for
    the log."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _failed(reason: str) -> SignInRefused:
    return SignInRefused(reason, _("The sign-in service did not confirm who you are. "
                                   "Try again, or sign in with your password if you have one."))


def _unreachable(reason: str) -> SignInRefused:
    return SignInRefused(reason, _("The sign-in service does not answer. "
                                   "Sign in with your password if you have one."))


# --- the accounts a provider's identity may sign in as ---------------------------------------

def find_account(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def taken_up(user: User) -> bool:
    """Whether the person has ever claimed the account: a password chosen, a sign-in, an invitation accepted."""
    if user.password_hash or user.last_login_at is not None:
        return True
    return bool(db.session.scalar(select(exists().where(Invitation.user_id == user.id,
                                                        Invitation.used_at.is_not(None)))))


def pending_invitation(user: User) -> Invitation | None:
    return db.session.scalar(select(Invitation).where(
        Invitation.user_id == user.id, Invitation.used_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at.desc()).limit(1))


def account_for(email: str, *, autolink_invited: bool) -> User:
    """The account the identity *email* signs in as; an invited account is linked when *autolink_invited*
    (its invitation is used up; the caller commits). Raises :class:`SignInRefused`."""
    user = find_account(email)
    if user is None or not user.active:
        raise SignInRefused(f"no active account for {email}" if user is None else f"account {user.id} inactive",
                            _("No active account matches %(email)s. Ask your agency's administrator for one.",
                              email=email))
    if taken_up(user):
        return user
    invitation = pending_invitation(user) if autolink_invited else None
    if invitation is None:
        raise SignInRefused(f"account {user.id} not taken up" + ("" if autolink_invited else ", linking is off"),
                            _("The account %(email)s has not been taken up yet. Open the link in its invitation "
                              "email first, or ask your agency's administrator for a new invitation.", email=email))
    invitation.used_at = utcnow()
    return user


# --- the provider ------------------------------------------------------------------------------

def enabled() -> bool:
    return bool(current_app.config.get("OIDC_ISSUER"))


def provider_client():
    """A client for one sign-in. Made afresh each time, so the provider's metadata is read at every
    sign-in: a provider that is down is noticed before the browser is sent to it, and moved endpoints
    or rotated keys are picked up without a restart."""
    cfg = current_app.config
    oauth = OAuth(current_app._get_current_object())
    return oauth.register(
        "oidc",
        client_id=cfg["OIDC_CLIENT_ID"],
        client_secret=cfg["OIDC_CLIENT_SECRET"],
        server_metadata_url=cfg["OIDC_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256",
                       "default_timeout": cfg["OIDC_TIMEOUT_SECONDS"]},
    )


def _metadata(client) -> dict:
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError, TypeError) as err:  # no answer, or not a JSON object
        raise _unreachable(f"metadata not read: {type(err).__name__}") from err
    if metadata.get("issuer") != current_app.config["OIDC_ISSUER"]:
        raise _failed(f"metadata names another issuer: {metadata.get('issuer')!r}")
    return metadata


def exchange_code(client) -> dict:
    """The provider's answer on this request (the code, or an error) exchanged for tokens; the ID token's
    signature, issuer, audience, expiry and nonce checked, and the state matched with this browser's."""
    issuer = current_app.config["OIDC_ISSUER"]
    try:
        return client.authorize_access_token(claims_options={"iss": {"essential": True, "value": issuer}})
    except requests.RequestException as err:
        raise _unreachable(f"provider unreachable during sign-in: {type(err).__name__}") from err
    except OAuthError as err:  # the provider's error answer, a refused code, a state that does not match
        raise _failed(f"{err.error}: {err.description}") from err
    except PROVIDER_ERRORS as err:  # a signature, issuer, audience, expiry or nonce that does not check
        raise _failed(f"answer rejected: {type(err).__name__}: {err}") from err


def identity_email(client, token: dict) -> str:
    """The configured claim of the signed-in person, from the ID token or else from the userinfo
    endpoint (for the same subject). An ``email`` the provider says is unverified is refused."""
    claim = current_app.config["OIDC_CLAIM"]
    id_claims = token.get("userinfo")  # the ID token's claims, checked by Authlib
    if not id_claims or not id_claims.get("sub"):
        raise _failed("no ID token")
    source = id_claims
    if claim not in source:
        try:
            source = client.userinfo(token=token)
        except requests.RequestException as err:
            raise _unreachable(f"userinfo not read: {type(err).__name__}") from err
        except PROVIDER_ERRORS as err:
            raise _failed(f"userinfo rejected: {type(err).__name__}: {err}") from err
        if source.get("sub") != id_claims["sub"]:
            raise _failed("userinfo is about another subject")
    value = source.get(claim)
    if not isinstance(value, str) or not value.strip():
        raise _failed(f"claim {claim!r} missing")
    email = normalise_email(value)
    if claim == "email" and "email_verified" in source and source["email_verified"] not in (True, "true"):
        raise SignInRefused(f"{email} not verified by the provider",
                            _("The sign-in service has not verified the address %(email)s, so it cannot be "
                              "matched with an account.", email=email))
    return email


def _back_to_login(refusal: SignInRefused):
    log.warning("OIDC sign-in refused: %s", refusal.reason)
    flash(str(refusal), "danger")
    return redirect(url_for("accounts.login"))


@bp.route("/login/sso")
def login():
    if not enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    from govqms.accounts.views import safe_next  # the views module registers this blueprint

    client = provider_client()
    try:
        _metadata(client)
    except SignInRefused as refusal:
        return _back_to_login(refusal)
    session[NEXT_KEY] = safe_next(request.args.get("next"))
    return client.authorize_redirect(current_app.config["BASE_URL"] + url_for("oidc.callback"))


@bp.route("/login/sso/callback")
def callback():
    if not enabled():
        abort(404)
    next_url = session.pop(NEXT_KEY, None)
    client = provider_client()
    try:
        _metadata(client)
        email = identity_email(client, exchange_code(client))
        user = account_for(email, autolink_invited=current_app.config["OIDC_AUTOLINK_INVITED"])
    except SignInRefused as refusal:
        db.session.rollback()
        return _back_to_login(refusal)
    db.session.commit()
    log.info("OIDC sign-in of user %s", user.id)
    begin_session(user, method="oidc")
    return redirect(next_url or url_for("web.home"))
