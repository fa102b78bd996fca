"""Security headers, error pages, input no one types refused, and the per-request tenant scope and actor reset."""
from __future__ import annotations

import re

from flask import g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from govqms.core import activity, problems, tenancy
from govqms.extensions import db

# Everything is served from the app itself: there is no internet where it runs.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# Flask-Admin's templates carry inline scripts and styles.
ADMIN_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'").replace(
    "script-src 'self'", "script-src 'self' 'unsafe-inline'"
)


#: Control characters (C0 and DEL): no one types them in an address, and none can be stored as typed.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _unusable_input() -> bool:
    """Whether the request holds what no person types and the database cannot take: a control
    character in its path, query string or a file name, a NUL in a form field (PostgreSQL refuses it
    and SQLite would keep it). Other control characters in a text a person pasted (a line break from a
    word processor, say) are harmless there: the schemas' text fields strip them."""
    if CONTROL.search(request.path):
        return True
    if any(CONTROL.search(key + value) for key, value in request.args.items(multi=True)):
        return True
    if any("\x00" in key + value for key, value in request.form.items(multi=True)):
        return True
    return any(CONTROL.search(upload.filename or "") for _name, upload in request.files.items(multi=True))


def _refuse_unusable_input():
    if _unusable_input():
        return _error(400, _("Characters that cannot be used"),
                      _("The address or the form holds a control character (such as a NUL byte) that cannot be "
                        "used. Check what was pasted and send it again."))
    return None


def _set_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Content-Security-Policy", ADMIN_CSP if request.path.startswith("/admin") else CSP)
    if g.get("app_hsts"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if response.mimetype == "text/html":
        headers.setdefault("Cache-Control", "no-store")
    return response


def _begin_request():
    # Every request starts seeing no tenant, whatever surrounds it; views widen it.
    g.base_scope_token = tenancy.set_scope(tenancy.TenantScope.none())
    g.app_hsts = _hsts_enabled()
    user = current_user if current_user and current_user.is_authenticated else None
    label = user.email if user is not None else "anonymous"
    g.actor_token = activity.set_actor(activity.Actor(user.id if user else None, label))


def _end_request(exc):
    for name in ("scope_token", "base_scope_token"):  # innermost first
        token = g.pop(name, None)
        if token is not None:
            tenancy.reset_scope(token)
    actor_token = g.pop("actor_token", None)
    if actor_token is not None:
        activity.reset_actor(actor_token)


def _hsts_enabled() -> bool:
    from flask import current_app

    return bool(current_app.config.get("HSTS"))


def _error(code: int, title: str, message: str):
    if problems.is_api_request():
        return problems.problem(code)
    return render_template("error.html", code=code, title=title, message=message), code


def init_app(app) -> None:
    app.before_request(_begin_request)
    app.before_request(_refuse_unusable_input)  # before any view reads the database with it
    app.after_request(_set_headers)
    app.teardown_request(_end_request)

    @app.errorhandler(403)
    def forbidden(e):
        if problems.is_api_request():
            return problems.from_exception(e)
        return _error(403, _("Not allowed"), _("Your role does not allow this action here."))

    @app.errorhandler(404)
    def not_found(e):
        if problems.is_api_request():
            return problems.from_exception(e)
        return _error(404, _("Page not found"), _("The page does not exist or you do not have access to it."))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return _error(400, _("Form expired"), _("The form was sent without a valid security token. "
                                                "Reload the page and send it again."))

    @app.errorhandler(tenancy.ScopeViolation)
    def scope_violation(e):
        db.session.rollback()
        return _error(403, _("Read only"), _("This agency's records are read-only for you."))

    @app.errorhandler(413)
    def too_large(e):
        if problems.is_api_request():
            return problems.from_exception(e)
        return _error(413, _("File too large"), _("The upload is larger than the allowed size."))

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return _error(500, _("Something went wrong"),
                      _("The error has been logged. Try again, or tell your administrator."))
