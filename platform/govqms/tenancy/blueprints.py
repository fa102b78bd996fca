"""Blueprint factories that put every workspace and oversight view in its scope.

``workspace_blueprint`` views live under ``/t/<tenant_slug>/``: before the view runs the
tenant is loaded, the user's access resolved (404 for those with none), and the tenant
scope set to exactly that tenant, read-only for overseers and for merged tenants (a successor's
members read a predecessor's history in the predecessor's own workspace, ``/t/<predecessor>/``).
``oversight_blueprint`` views live under ``/o/<jurisdiction_code>/`` and see the subtree's tenants read-only.
"""
from __future__ import annotations

from flask import Blueprint, abort, g, request
from flask_login import current_user

from govqms.core.activity import record_oversight_view
from govqms.core.permissions import Action
from govqms.core.tenancy import TenantScope, set_scope
from govqms.extensions import db, login_manager
from govqms.tenancy import services


def _require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def workspace_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix=f"/t/<tenant_slug>{url_prefix}", template_folder="templates")

    @bp.url_value_preprocessor
    def _pull_tenant(endpoint, values):
        g.tenant_slug = values.pop("tenant_slug", None)

    @bp.url_defaults
    def _add_tenant(endpoint, values):
        if "tenant_slug" not in values and getattr(g, "tenant", None) is not None:
            values["tenant_slug"] = g.tenant.slug

    @bp.before_request
    def _enter_tenant():
        redirect = _require_login()
        if redirect is not None:
            return redirect
        tenant, access = enter_agency(current_user, g.tenant_slug)
        if access.oversight and not access.roles and request.method == "GET":
            _record_drill_down(tenant)
        return None

    return bp


def enter_agency(user, slug: str | None, *, read_only: bool = False):
    """Put the request in one agency's scope for *user* (the pages' and the API's way in): 404 for an
    unknown agency or one the user has no access to (its existence is not confirmed); read-only for
    overseers, merged agencies and when *read_only* (a read token)."""
    tenant = services.tenant_by_slug(slug)
    if tenant is None:
        abort(404)
    access = services.access_for(user, tenant)
    if not access.can(Action.WORKSPACE_VIEW):
        abort(404)
    g.tenant, g.access = tenant, access
    # exactly this agency: a merged predecessor's history is its own workspace, opened by its URL
    scope = TenantScope.tenant(tenant.id, read_only=access.read_only or read_only)
    g.scope_token = set_scope(scope, db.session)
    return tenant, access


def enter_jurisdiction(user, code: str | None):
    """Put the request in a jurisdiction's read-only scope over its agencies for *user*, an overseer of
    it or of a jurisdiction above (404 otherwise)."""
    jurisdiction = services.jurisdiction_by_code(code)
    if jurisdiction is None:
        abort(404)
    access = services.oversight_access(user, jurisdiction)
    if not access.can(Action.OVERSIGHT_VIEW):
        abort(404)
    tenant_ids = db.session.scalars(
        services.subtree_tenants_query(jurisdiction).with_only_columns(services.Tenant.id)).all()
    g.jurisdiction, g.access = jurisdiction, access
    g.scope_token = set_scope(TenantScope.readonly(tenant_ids), db.session)
    return jurisdiction, access


def _record_drill_down(tenant) -> None:
    """An overseer opened a page of an agency: the agency's activity log says who and what."""
    record_oversight_view(db.session, tenant.id, request.full_path.rstrip("?"))
    db.session.commit()


def oversight_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    bp = Blueprint(
        name, import_name, url_prefix=f"/o/<jurisdiction_code>{url_prefix}", template_folder="templates"
    )

    @bp.url_value_preprocessor
    def _pull_jurisdiction(endpoint, values):
        g.jurisdiction_code = values.pop("jurisdiction_code", None)

    @bp.url_defaults
    def _add_jurisdiction(endpoint, values):
        if "jurisdiction_code" not in values and getattr(g, "jurisdiction", None) is not None:
            values["jurisdiction_code"] = g.jurisdiction.code

    @bp.before_request
    def _enter_jurisdiction():
        redirect = _require_login()
        if redirect is not None:
            return redirect
        enter_jurisdiction(current_user, g.jurisdiction_code)
        return None

    return bp
