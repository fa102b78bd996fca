"""The API's machinery: token authentication, the scope of each request, RFC 9457 problems, the
rate limit, pagination. Every resource is a flask-smorest blueprint made by :func:`agency_blueprint` or
:func:`jurisdiction_blueprint`, so that, like a page, it runs in exactly one agency's scope or one
jurisdiction's read-only scope, with its person's permissions narrowed to what the token allows."""
from __future__ import annotations

from http import HTTPStatus

from flask import abort, g, request
from flask_babel import gettext as _
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import HTTPException

from govqms.api import tokens
from govqms.core import activity
from govqms.core.problems import API_PREFIX, PROBLEM, is_api_request, problem
from govqms.extensions import csrf
from govqms.tenancy.blueprints import enter_agency, enter_jurisdiction

PREFIX = API_PREFIX


class ProblemSchema(Schema):
    """An RFC 9457 problem document, as every error of the API is."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    errors = fields.Dict(metadata={"description": "invalid input: the messages by location and field"})


class GovApi(Api):
    """flask-smorest's Api with every error of an API request as a problem document, and documented so."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        """flask-smorest's error responses, with the problem documents' media type."""
        from flask_smorest.utils import prepare_response

        for status in HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem document (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def handle_http_exception(self, error: HTTPException):
        if not is_api_request():
            return error
        extra = {}
        data = getattr(error, "data", None) or {}
        if data.get("messages"):  # webargs: the fields that did not load, by location
            extra["errors"] = data["messages"]
        detail = error.description if error.description and error.description != type(error).description else None
        response = problem(error.code or 500, detail, **extra)
        for name, value in (data.get("headers") or {}).items():
            response.headers[name] = value
        if error.code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="GovQMS API"'
        return response


api = GovApi()


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class PageMeta(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


def paged(items_schema: Schema, page, item) -> dict:
    """A page as ``{items, page}``; *item* turns a record into the schema's dict."""
    return {"items": [item(record) for record in page.items],
            "page": {"page": page.page, "per_page": page.per_page, "total": page.total, "pages": page.pages}}


def page_schema(name: str, item_schema: type[Schema]) -> type[Schema]:
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema)), "page": fields.Nested(PageMeta)},
                            name=name)


# --- authentication and scope ----------------------------------------------------------------------

def _authenticate():
    """The token of the request (``Authorization: Bearer gq_…``), its rate, and who acts. Cookies
    are not read: the API answers scripts, and a browser's session gives it nothing (so CSRF does
    not apply)."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    token = tokens.usable(secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        abort(401, _("Send a valid, unexpired API token: Authorization: Bearer gq_…"))
    wait = tokens.over_limit(token)
    if wait is not None:
        _too_many(wait)
    tokens.mark_used(token)
    g.api_token = token
    g.api_user = token.user
    old = g.pop("actor_token", None)
    if old is not None:
        activity.reset_actor(old)
    g.actor_token = activity.set_actor(activity.Actor(token.user_id, f"{token.user.email} (API token “{token.name}”)"))
    if request.method not in ("GET", "HEAD", "OPTIONS") and not token.writes:
        abort(403, _("This token may only read."))
    return token


def _too_many(wait: int):
    error = HTTPException(description=_("Too many requests with this token: wait %(s)s seconds.", s=wait))
    error.code = 429
    error.data = {"headers": {"Retry-After": str(wait)}}
    raise error


def agency_blueprint(name: str, import_name: str, url_prefix: str = "", **kwargs) -> Blueprint:
    """Resources of one agency, under ``/api/v1/agencies/<slug>``: reached only with a token of
    that agency, by a member (or an overseer reading), in the agency's scope."""
    bp = Blueprint(name, import_name, url_prefix=f"{PREFIX}/agencies/<tenant_slug>{url_prefix}", **kwargs)
    csrf.exempt(bp)

    @bp.url_value_preprocessor
    def _pull(endpoint, values):
        g.tenant_slug = values.pop("tenant_slug", None)

    @bp.url_defaults
    def _add(endpoint, values):
        if "tenant_slug" not in values and getattr(g, "tenant", None) is not None:
            values["tenant_slug"] = g.tenant.slug

    @bp.before_request
    def _enter():
        token = _authenticate()
        tenant, _access = enter_agency(token.user, g.tenant_slug, read_only=not token.writes)
        if token.agency_id != tenant.id:
            abort(404)  # the token reaches another agency

    return bp


def jurisdiction_blueprint(name: str, import_name: str, url_prefix: str = "", **kwargs) -> Blueprint:
    """The overseer's views of one jurisdiction, under ``/api/v1/jurisdictions/<code>``, read-only
    over its agencies, reached only with a token of that jurisdiction."""
    bp = Blueprint(name, import_name, url_prefix=f"{PREFIX}/jurisdictions/<jurisdiction_code>{url_prefix}", **kwargs)
    csrf.exempt(bp)

    @bp.url_value_preprocessor
    def _pull(endpoint, values):
        g.jurisdiction_code = values.pop("jurisdiction_code", None)

    @bp.url_defaults
    def _add(endpoint, values):
        if "jurisdiction_code" not in values and getattr(g, "jurisdiction", None) is not None:
            values["jurisdiction_code"] = g.jurisdiction.code

    @bp.before_request
    def _enter():
        token = _authenticate()
        jurisdiction, _access = enter_jurisdiction(token.user, g.jurisdiction_code)
        if token.jurisdiction_id != jurisdiction.id:
            abort(404)  # the token reaches another jurisdiction

    return bp


def token_blueprint(name: str, import_name: str, url_prefix: str = "", **kwargs) -> Blueprint:
    """Resources of the token itself (``/api/v1/token``)."""
    bp = Blueprint(name, import_name, url_prefix=f"{PREFIX}{url_prefix}", **kwargs)
    csrf.exempt(bp)
    @bp.before_request
    def _enter():
        _authenticate()

    return bp


# --- optimistic concurrency ----------------------------------------------------------------------------

def etag_of(record) -> str:
    """The entity tag of a versioned record: its table, id and version (strong: any change changes it)."""
    return f'"{record.__tablename__}-{record.id}-v{record.version}"'


def require_match(record) -> None:
    """An update names the version it read: ``If-Match`` with the record's ETag. Without it, 428; with
    another (someone saved since), 412, and nothing is written."""
    wanted = request.headers.get("If-Match")
    if not wanted:
        abort(428, _("Send If-Match with the ETag of the record as you read it."))
    if wanted.strip() not in (etag_of(record), "*"):
        abort(412, _("The record changed since you read it: read it again, then send your change."))
