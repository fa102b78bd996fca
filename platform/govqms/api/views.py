"""``/api/v1/``: its OpenAPI document and reference page, and the pages where a person issues, lists
and revokes their API tokens."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from govqms.api import tokens
from govqms.api.core import PREFIX, api
from govqms.api.models import ApiToken
from govqms.api.schemas import TokenSchema
from govqms.core.forms import confirm_page, form_status, process_form
from govqms.extensions import db
from govqms.tenancy import services as tenancy

bp = Blueprint("api_pages", __name__, template_folder="templates")
#: The modules of resources, each with its ``blueprints`` (flask-smorest), registered in this order.
RESOURCE_MODULES = ("resources", "agency", "writes", "oversight")


def init_app(app) -> None:
    """The flask-smorest API: OpenAPI 3 from the schemas, at ``/api/v1/openapi.json``."""
    app.config.setdefault("API_TITLE", "GovQMS API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "security": [{"token": []}],
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                                     "description": "an API token, gq_…, from /account/tokens/"}}},
        "info": {"description": "The records of an agency and the views of an overseer, read with a token "
                                "limited to one agency or one jurisdiction. Errors are RFC 9457 problems."},
    })
    api.init_app(app)
    import importlib

    for name in RESOURCE_MODULES:
        module = importlib.import_module(f"govqms.api.{name}")
        for blueprint in module.blueprints:
            api.register_blueprint(blueprint)
    from govqms.extensions import csrf

    csrf.exempt(app.view_functions["api-docs.openapi_json"])


@bp.route(f"{PREFIX}/")
def reference():
    """The API's reference, from its OpenAPI document: every path, its parameters and answers."""
    spec = api.spec.to_dict()
    return render_template("api/reference.html", spec=spec, prefix=PREFIX)


def _places() -> list[tuple[str, str]]:
    """Where the person may issue a token: their agencies and their jurisdictions."""
    places = [(f"agency:{entry.tenant.id}", entry.tenant.name) for entry in tenancy.memberships_of(current_user)]
    places += [(f"jurisdiction:{j.id}", j.name) for j, _role in tenancy.oversight_of(current_user)]
    return places


@bp.route("/account/tokens/", methods=["GET", "POST"])
@login_required
def tokens_page():
    places = _places()

    def on_valid(data):
        kind, _colon, number = data["place"].partition(":")
        target = db.session.get(tenancy.Tenant if kind == "agency" else tenancy.Jurisdiction, int(number))
        token, secret = tokens.issue(current_user, name=data["name"], access=data["access"], days=data["days"],
                                     **{kind: target})
        db.session.commit()
        return render_template("api/tokens.html", tokens=tokens.tokens_of(current_user.id), places=places,
                               form={"days": "90"}, errors={}, secret=secret, issued=token, prefix=PREFIX)

    form, errors, done = process_form(TokenSchema({value for value, _label in places}), {"days": "90"}, on_valid)
    if done is not None:
        return done
    return render_template("api/tokens.html", tokens=tokens.tokens_of(current_user.id), places=places, form=form,
                           errors=errors, secret=None, issued=None, prefix=PREFIX), form_status(errors)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if request.method == "GET":
        return confirm_page(title=_("Revoke the token “%(name)s”?", name=token.name),
                            message=_("Scripts using it are refused from now on. This cannot be undone."),
                            action_label=_("Revoke"), cancel_url=url_for(".tokens_page"))
    tokens.revoke(token)
    db.session.commit()
    flash(_("The token “%(name)s” is revoked.", name=token.name), "info")
    return redirect(url_for(".tokens_page"))

