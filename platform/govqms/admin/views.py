"""The operators' back office (Flask-Admin 2) at /admin/: operators only, index included."""
from __future__ import annotations

from flask import abort, g, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from govqms.accounts.models import User
from govqms.core.activity import ActivityEntry
from govqms.core.tenancy import TenantScope, set_scope
from govqms.extensions import db
from govqms.jobs.models import Job
from govqms.tenancy.models import Jurisdiction, Membership, OversightRole, Tenant, Unit


def _is_operator() -> bool:
    return current_user.is_authenticated and current_user.is_operator


def _refuse():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.full_path))
    abort(403)


class OperatorOnly:
    def is_accessible(self):
        return _is_operator()

    def inaccessible_callback(self, name, **kwargs):
        return _refuse()


class SecureIndex(OperatorOnly, AdminIndexView):
    @expose("/")
    def index(self):
        return self.render("backoffice/index.html")


class OperatorModelView(OperatorOnly, ModelView):
    page_size = 50
    can_view_details = True
    can_delete = False  # deleting is archiving; nothing is removed from the back office


class ReadOnlyView(OperatorModelView):
    can_create = False
    can_edit = False


class UserView(OperatorModelView):
    column_list = ("email", "name", "active", "is_operator", "locale", "last_login_at")
    column_searchable_list = ("email", "name")
    form_excluded_columns = ("password_hash", "created_at", "updated_at", "last_login_at", "password_changed_at")
    column_exclude_list = ("password_hash",)
    column_details_exclude_list = ("password_hash",)


class JurisdictionView(OperatorModelView):
    column_list = ("code", "name", "level", "path")
    column_searchable_list = ("code", "name")
    form_excluded_columns = ("path", "children", "tenants", "created_at", "updated_at")


class TenantView(ReadOnlyView):
    column_list = ("slug", "name", "kind", "jurisdiction", "iso_edition", "status", "merged_into", "merged_on")
    column_searchable_list = ("slug", "name")
    column_filters = ("status", "kind", "iso_edition")


class ActivityView(ReadOnlyView):
    column_list = ("at", "tenant_id", "actor_label", "entity", "entity_id", "action", "note")
    column_filters = ("tenant_id", "entity", "action", "actor_label")
    column_default_sort = ("at", True)


class JobView(ReadOnlyView):
    column_list = ("created_at", "task", "tenant_id", "status", "progress", "attempts", "finished_at")
    column_filters = ("status", "task")
    column_exclude_list = ("result",)
    column_details_exclude_list = ("result",)
    column_default_sort = ("created_at", True)


def init_app(app) -> None:
    admin = Admin(app, name="GovQMS", url="/admin", theme=Bootstrap4Theme(),
                  index_view=SecureIndex(url="/admin", name=_l("Back office")))
    admin.add_view(JurisdictionView(Jurisdiction, db, name=_l("Jurisdictions")))
    admin.add_view(TenantView(Tenant, db, name=_l("Agencies")))
    admin.add_view(ReadOnlyView(Unit, db, name=_l("Units")))
    admin.add_view(UserView(User, db, name=_l("Users")))
    admin.add_view(ReadOnlyView(Membership, db, name=_l("Memberships")))
    admin.add_view(ReadOnlyView(OversightRole, db, name=_l("Oversight roles")))
    admin.add_view(ActivityView(ActivityEntry, db, name=_l("Activity log"), endpoint="activity_log"))
    admin.add_view(JobView(Job, db, name=_l("Jobs")))

    @app.before_request
    def _operator_scope():
        # Operators provision every tenant: the back office reads and writes across tenants.
        if request.path.startswith("/admin") and _is_operator():
            g.scope_token = set_scope(TenantScope.system(), db.session)



