"""RFC 9457 problem documents, the API's errors: ``application/problem+json`` with the status's title
in the user's language. The app's error handlers answer with them on the API's paths."""
from __future__ import annotations

from http import HTTPStatus

from flask import jsonify, request
from flask_babel import gettext as _

API_PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
#: The titles of the statuses an API answer can have, in the user's language.
TITLES = {
    400: lambda: _("Bad request"), 401: lambda: _("Not authenticated"), 403: lambda: _("Not allowed"),
    404: lambda: _("Not found"), 405: lambda: _("Method not allowed"), 409: lambda: _("Conflict"),
    412: lambda: _("Precondition failed"), 413: lambda: _("Too large"), 415: lambda: _("Unsupported media type"),
    422: lambda: _("Invalid input"), 428: lambda: _("Precondition required"), 429: lambda: _("Too many requests"),
    500: lambda: _("Server error"), 503: lambda: _("Service unavailable"),
}


def problem(status: int, detail: str | None = None, **extra):
    """An RFC 9457 problem document: ``type`` about:blank, the status's title in the user's language."""
    title = TITLES.get(status, lambda: HTTPStatus(status).phrase)()
    body = {"type": "about:blank", "title": title, "status": status, **extra}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    return response


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def from_exception(error) -> object:
    """The problem of an HTTP error raised with ``abort(code, "what happened")``: its own words, or
    none when it carries only werkzeug's generic description."""
    description = getattr(error, "description", None)
    generic = getattr(type(error), "description", None)
    return problem(getattr(error, "code", None) or 500, description if description != generic else None)
