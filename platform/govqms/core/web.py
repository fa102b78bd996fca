"""Blueprint factories that put every workspace and oversight view in its scope.

``workspace_blueprint`` views live under ``/t/<tenant_slug>/``: before the view runs the
tenant is loaded, the user's access resolved (404 for those with none), and the tenant
scope set, read-only for overseers and for merged tenants. ``oversight_blueprint`` views
live under ``/o/<jurisdiction_code>/`` and see the subtree's tenants read-only.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, g, request
from flask_sqlalchemy.pagination import Pagination
from flask_login import current_user
from werkzeug.routing import IntegerConverter
from sqlalchemy import select

from govqms.core.permissions import Action
from govqms.core.tenancy import TenantScope, set_scope
from govqms.extensions import db, login_manager


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
        from govqms.tenancy import services

        redirect = _require_login()
        if redirect is not None:
            return redirect
        tenant, has_predecessors = services.tenant_by_slug(g.tenant_slug)
        if tenant is None:
            abort(404)
        access = services.access_for(current_user, tenant)
        if not access.can(Action.WORKSPACE_VIEW):
            abort(404)  # not a member: the tenant's existence is not confirmed
        history = services.predecessor_ids(tenant) if has_predecessors else []
        g.tenant, g.access = tenant, access
        scope = TenantScope.tenant(tenant.id, read_only=access.read_only, also_visible=history)
        g.scope_token = set_scope(scope, db.session)
        if access.oversight and not access.roles and request.method == "GET":
            _record_drill_down(tenant)
        return None

    return bp


def _record_drill_down(tenant) -> None:
    """An overseer opened a page of an agency: the agency's activity log says who and what."""
    from govqms.core.activity import record_oversight_view

    record_oversight_view(db.session, tenant.id, request.full_path.rstrip("?"))
    db.session.commit()


class IdConverter(IntegerConverter):
    """``<int:…>`` in a URL: a record id, so at most what an INTEGER column holds; a larger number
    is a page not found, not a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


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
        from govqms.tenancy import services
        from govqms.tenancy.models import Jurisdiction

        redirect = _require_login()
        if redirect is not None:
            return redirect
        jurisdiction = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == g.jurisdiction_code))
        if jurisdiction is None:
            abort(404)
        access = services.oversight_access(current_user, jurisdiction)
        if not access.can(Action.OVERSIGHT_VIEW):
            abort(404)
        tenant_ids = db.session.scalars(
            services.subtree_tenants_query(jurisdiction).with_only_columns(services.Tenant.id)
        ).all()
        g.jurisdiction, g.access = jurisdiction, access
        g.scope_token = set_scope(TenantScope.readonly(tenant_ids), db.session)
        return None

    return bp


def requires(action: Action):
    """Refuse the view with 403 unless the current access allows *action*."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            access = getattr(g, "access", None)
            if access is None or not access.can(action):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def year_arg(source=None) -> int:
    """The ``year`` asked for (query string, or *source* such as a form), this year by default."""
    from govqms.documents.services import today

    raw = (source if source is not None else request.args).get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else today().year


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


class ListPage(Pagination):
    """One page of a list already in memory (a computed comparison, say), with the same
    interface as ``db.paginate`` so templates share the ``pager`` macro. Flask-SQLAlchemy's
    :class:`Pagination` is meant to be subclassed with these two methods."""

    def __init__(self, items: list, page: int, per_page: int) -> None:
        self._all = items
        super().__init__(page=page, per_page=per_page, max_per_page=None, error_out=False)

    def _query_items(self) -> list:
        return self._all[self._query_offset:self._query_offset + self.per_page]

    def _query_count(self) -> int:
        return len(self._all)
