from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from marshmallow import ValidationError

from govqms.accounts import services
from govqms.accounts.models import User
from govqms.accounts.schemas import LanguageSchema, LoginSchema, PasswordChangeSchema, SetPasswordSchema
from govqms.accounts.sessions import begin_session, end_session
from govqms.core.db import utcnow
from govqms.core.schemas import first_errors
from govqms.extensions import db, login_manager

bp = Blueprint("accounts", __name__, template_folder="templates")


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str):
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


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
