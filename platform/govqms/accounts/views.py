from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from marshmallow import ValidationError

from govqms.accounts import services, sessions, two_factor
from govqms.accounts.models import User
from govqms.accounts.oidc import bp as oidc_bp
from govqms.accounts.schemas import LanguageSchema, LoginSchema, PasswordChangeSchema, SetPasswordSchema
from govqms.accounts.sessions import begin_session, end_session
from govqms.core.db import utcnow
from govqms.core.schemas import first_errors
from govqms.extensions import db, login_manager

bp = Blueprint("accounts", __name__, template_folder="templates")
blueprints = [bp, oidc_bp]  # sign-in through the OpenID Connect provider: accounts/oidc.py


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    app.before_request(_load_before_the_view)
    app.before_request(_enrol_first)


@login_manager.user_loader
def _load_user(user_id: str):
    """The signed-in user, if their session is still valid on the server (not ended by a sign-out
    elsewhere, a password change, a deactivation; within its lifetime and idle time)."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or not sessions.validate(user):
        return None
    return user


def _load_before_the_view() -> None:
    """The user is loaded (their session checked and touched) before any view writes anything."""
    _ = current_user.is_authenticated


def safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def client_address() -> str:
    # Behind nginx, GOVQMS_TRUSTED_PROXIES makes ProxyFix put the client's address here.
    return (request.remote_addr or "unknown")[:64]


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form, errors, status = {"next": request.args.get("next", "")}, {}, 200
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            data = LoginSchema().load(form)
        except ValidationError as err:
            errors, status = first_errors(err.messages), 400
        else:
            result = services.authenticate(data["email"], data["password"], client_address())
            if result.user is not None and result.user.two_factor:
                return _ask_for_code(result.user, data.get("next"))
            if result.user is not None:
                begin_session(result.user, "password")
                return redirect(safe_next(data.get("next")) or url_for("web.home"))
            status = 429 if not result.throttle.allowed else 401
            if result.throttle.locked:
                flash(_("Too many failed attempts. Sign-in is locked for %(minutes)s minutes.",
                        minutes=max(1, result.throttle.seconds_left(utcnow()) // 60)), "danger")
            elif not result.throttle.allowed:
                flash(_("Too many failed attempts. Wait %(seconds)s seconds and try again.",
                        seconds=result.throttle.seconds_left(utcnow())), "warning")
            else:
                flash(_("Email or password is incorrect."), "danger")
        form.pop("password", None)
    return render_template("accounts/login.html", form=form, errors=errors), status


#: How long the code page waits for the second factor after the password.
CODE_WINDOW = dt.timedelta(minutes=5)
PENDING = "pending_second_factor"


def _ask_for_code(user: User, next_url: str | None):
    """The password is right and the account has two-factor: not signed in yet, the code comes next."""
    sessions.fresh_session()
    session[PENDING] = {"user_id": user.id, "at": utcnow().isoformat(), "next": safe_next(next_url) or ""}
    return redirect(url_for("accounts.login_code"))


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    try:
        started = dt.datetime.fromisoformat(pending["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if utcnow() - started > CODE_WINDOW:
        return None
    user = db.session.get(User, pending.get("user_id")) if isinstance(pending.get("user_id"), int) else None
    return user if user is not None and user.active and user.two_factor else None


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step of a sign-in with two-factor: the app's code, or a recovery code."""
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Sign in again: the code must follow the password within a few minutes."), "warning")
        return redirect(url_for("accounts.login"))
    errors, status = {}, 200
    if request.method == "POST":
        throttle = services.throttle_for(user.email, client_address())
        if not throttle.allowed:
            flash(_("Too many failed attempts. Wait %(seconds)s seconds and try again.",
                    seconds=throttle.seconds_left(utcnow())), "warning")
            return render_template("accounts/login_code.html", errors={}), 429
        kind = two_factor.verify(user, request.form.get("code", "")[:64])
        services.record_attempt(user.email, client_address(), kind is not None)
        if kind is not None:
            next_url = session[PENDING].get("next")
            begin_session(user, f"password+{kind}")
            if kind == "recovery":
                flash(_("You signed in with a recovery code; %(n)s left. Make new ones on your account page.",
                        n=two_factor.recovery_codes_left(user)), "warning")
            return redirect(next_url or url_for("web.home"))
        errors, status = {"code": _("This code is not right. Enter the 6 digits the app shows now.")}, 401
    return render_template("accounts/login_code.html", errors=errors), status


@bp.route("/logout", methods=["POST"])
def logout():
    end_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    errors, status = {}, 200
    if request.method == "POST":
        try:
            data = PasswordChangeSchema().load(request.form.to_dict())
        except ValidationError as err:
            errors, status = first_errors(err.messages), 400
        else:
            if services.change_password(current_user, data["current_password"], data["new_password"]):
                flash(_("Your password has been changed."), "success")
                return redirect(url_for("web.home"))
            errors, status = {"current_password": _("The current password is incorrect.")}, 400
    return render_template("accounts/password.html", errors=errors), status


# --- the account page: sessions and two-factor ----------------------------------------------------

@bp.route("/account/")
@login_required
def account():
    return render_template("accounts/account.html", sessions=sessions.open_sessions(current_user.id),
                           this_one=sessions.current(), required=two_factor.required_for(current_user),
                           codes_left=two_factor.recovery_codes_left(current_user) if current_user.two_factor else 0)


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_other_session(session_id: int):
    this_one = sessions.current()
    if this_one is not None and this_one.id == session_id:
        abort(404)  # this browser signs out with the sign-out button
    if not sessions.end_one(current_user.id, session_id):
        abort(404)
    db.session.commit()
    flash(_("That session has ended: the browser is signed out."), "success")
    return redirect(url_for(".account"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    ended = sessions.end_all(current_user.id, keep=sessions.current())
    db.session.commit()
    flash(_("%(n)s other session(s) ended.", n=ended), "success")
    return redirect(url_for(".account"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """Enrolment: a new secret (GET shows its QR code once started), confirmed by a first code."""
    user = current_user._get_current_object()
    if user.two_factor:
        return redirect(url_for(".account"))
    step = request.form.get("step") if request.method == "POST" else None
    if step == "start" or not user.totp_secret:  # a new secret (again, if the first was not scanned)
        two_factor.start_enrolment(user)
    errors, status = {}, 200
    if step == "confirm":
        codes = two_factor.confirm_enrolment(user, request.form.get("code", "")[:64])
        if codes is not None:
            flash(_("Two-factor sign-in is on. Keep these recovery codes somewhere safe: each works once, "
                    "if your phone is lost."), "success")
            return render_template("accounts/recovery_codes.html", codes=codes)
        errors, status = {"code": _("This code is not right. Enter the 6 digits the app shows now.")}, 400
    return render_template("accounts/two_factor.html", qr=two_factor.qr_svg(user), secret=user.totp_secret,
                           errors=errors), status


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
def new_recovery_codes():
    user = current_user._get_current_object()
    if not user.two_factor or not user.check_password(request.form.get("password", "")):
        flash(_("Enter your current password to make new recovery codes."), "danger")
        return redirect(url_for(".account"))
    codes = two_factor.new_recovery_codes(user)
    db.session.commit()
    return render_template("accounts/recovery_codes.html", codes=codes)


@bp.route("/account/two-factor/off", methods=["POST"])
@login_required
def two_factor_off():
    user = current_user._get_current_object()
    if two_factor.required_for(user):
        flash(_("Two-factor sign-in is required for your account; it cannot be turned off."), "danger")
    elif not user.check_password(request.form.get("password", "")):
        flash(_("Enter your current password to turn two-factor sign-in off."), "danger")
    else:
        two_factor.disable(user)
        flash(_("Two-factor sign-in is off."), "info")
    return redirect(url_for(".account"))


#: What an account that must enrol in two-factor may still open before it has.
ENROLMENT_OPEN = {"accounts.two_factor_setup", "accounts.logout", "accounts.set_language", "accounts.account",
                  "static", "bootstrap.static", "health.healthz"}


def _enrol_first():
    """Two-factor required of this account and not set up yet (signed in with a password alone): set
    it up first; the identity provider's sign-in (its own factors) is exempt."""
    if not current_user.is_authenticated or current_user.two_factor or request.endpoint in ENROLMENT_OPEN:
        return None
    record = sessions.current()
    if record is not None and record.method == "oidc":
        return None
    if not two_factor.required_for(current_user):
        return None
    flash(_("Your account must use two-factor sign-in. Set it up to continue."), "warning")
    return redirect(url_for("accounts.two_factor_setup"))


@bp.route("/language", methods=["POST"])
def set_language():
    try:
        data = LanguageSchema().load(request.form.to_dict())
    except ValidationError:
        return redirect(url_for("web.home"))
    locale = data["locale"]
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            services.set_locale(current_user, locale)
    return redirect(safe_next(data.get("next")) or url_for("web.home"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """The one-time link of an invitation: choose a password, then sign in."""
    invitation = services.find_invitation(token)
    if invitation is None:
        abort(404)
    errors, status = {}, 200
    if request.method == "POST":
        try:
            data = SetPasswordSchema().load(request.form.to_dict())
        except ValidationError as err:
            errors, status = first_errors(err.messages), 400
        else:
            user = services.accept_invitation(invitation, data["new_password"])
            logout_user()
            flash(_("Your password is set. Sign in with %(email)s.", email=user.email), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/invite.html", invitation=invitation, errors=errors), status
