"""The operators' back office (Flask-Admin 2) at /admin/: operators only, index included.

Jurisdictions and agencies are provisioned from reviewed manifest files (uploaded here with
a dry-run preview, or synced from the command line), so their lists are read-only; merges go
through the merge page; accounts, memberships and oversight roles are edited here. Every
change is written to the activity log with the operator as actor.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, BaseView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import DateTimeBetweenFilter
from flask_admin.theme import Bootstrap4Theme
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from govqms.accounts.models import Invitation, User
from govqms.accounts.services import invitation_link, issue_invitation, send_invitation
from govqms.admin import services
from govqms.admin.schemas import ManifestTextSchema, MergeSchema, RunNowSchema
from govqms.core.activity import ActivityEntry
from govqms.core.db import utcnow
from govqms.core.i18n import LANGUAGE_NAMES
from govqms.core.listing import MAX_PAGE
from govqms.core.permissions import ROLE_LABELS, OversightRoleKind, TenantRole
from govqms.core.schemas import first_errors
from govqms.core.tenancy import TenantScope, set_scope
from govqms.extensions import db
from govqms.jobs.models import Job
from govqms.tenancy import merge as merging, provisioning
from govqms.tenancy.manifests import MAX_MANIFEST_BYTES, ManifestError
from govqms.tenancy.models import (
    KIND_LABELS,
    STATUS_LABELS,
    Jurisdiction,
    Membership,
    OversightRole,
    Tenant,
    TenantMerge,
    Unit,
)

#: No routes: the templates of the back office's own pages (``templates/backoffice``).
bp = Blueprint("backoffice", __name__, template_folder="templates")


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
        return self.render("backoffice/index.html", counts=services.counts(),
                           failed_jobs=services.recent_failure_count())


def _label(labels):
    return lambda view, context, model, name: labels.get(getattr(model, name), getattr(model, name))


COMMON_LABELS = {
    "code": _l("Code"), "name": _l("Name"), "level": _l("Level"), "parent": _l("Parent"), "path": _l("Path"),
    "slug": _l("Slug"), "kind": _l("Kind"), "jurisdiction": _l("Jurisdiction"), "established_on": _l("Established on"),
    "status": _l("Status"), "merged_into": _l("Merged into"), "merged_on": _l("Merged on"),
    "tenant": _l("Agency"), "user": _l("Account"), "role": _l("Role"), "email": _l("Email"),
    "active": _l("Active"), "is_operator": _l("Operator"), "locale": _l("Language"),
    "last_login_at": _l("Last sign-in"), "archived_at": _l("Archived on"), "at": _l("When"),
    "actor_label": _l("Who"), "entity": _l("Record"), "entity_id": _l("Record id"), "action": _l("Action"),
    "changes": _l("Changes"), "note": _l("Note"), "tenant_id": _l("Agency id"), "task": _l("Task"),
    "progress": _l("Progress"), "attempts": _l("Attempts"), "created_at": _l("Created"),
    "finished_at": _l("Finished"), "expires_at": _l("Expires"), "used_at": _l("Used"),
    "source": _l("Merged agency"), "successor": _l("Successor"), "performed_at": _l("Performed"),
    "reverted_at": _l("Undone"), "predecessors": _l("History from"), "error": _l("Error"),
    "message": _l("Message"), "step": _l("Step"), "event_key": _l("Event"), "read_at": _l("Read"),
    "email_state": _l("Email"), "email_attempts": _l("Email attempts"), "emailed_at": _l("Emailed"),
    "email_error": _l("Email error"),
}


class OperatorModelView(OperatorOnly, ModelView):
    page_size = 50
    can_view_details = True
    can_delete = False  # deleting is archiving; records are not removed from the back office
    column_labels = COMMON_LABELS

    def _get_list_extra_args(self):
        """The list's page from the query string, held within the pages a list can have (a page beyond
        the last is an empty page, not a database error); the page size is ours."""
        args = super()._get_list_extra_args()
        args.page = min(max(args.page or 0, 0), MAX_PAGE)
        args.page_size = None
        return args

    def _get_list_filter_args(self):
        """The filters of the query string; one whose number no column holds is not applied, and said
        as a value that does not parse is."""
        found = super()._get_list_filter_args()
        kept = []
        for index, name, value in found or ():
            try:
                cleaned = self._filters[index].clean(value)
            except (TypeError, ValueError, OverflowError):
                cleaned = None
            numbers = [n for n in (cleaned if isinstance(cleaned, (list, tuple)) else [cleaned])
                       if isinstance(n, int) and not isinstance(n, bool)]
            if any(not -(2**63) <= n < 2**63 for n in numbers):
                flash(self.get_invalid_value_msg(value, self._filters[index]), "error")
                continue
            kept.append((index, name, value))
        return kept if found is not None else None

    def get_one(self, id):
        """The row of ``?id=``; an id the key column cannot hold (not a number, beyond the column) is
        no row (the list, saying so), not a database error."""
        key = self.model.__mapper__.primary_key
        if len(key) == 1 and isinstance(key[0].type, sa.Integer):
            if not isinstance(id, str) or not id.isdigit() or not 0 < int(id) < 2**31:
                return None
        return super().get_one(id)


class ReadOnlyView(OperatorModelView):
    can_create = False
    can_edit = False


class JurisdictionView(ReadOnlyView):
    column_list = ("code", "name", "level", "parent", "path")
    column_searchable_list = ("code", "name")
    column_filters = ("level",)
    column_formatters = {"level": _label({}), "parent": lambda v, c, m, n: m.parent.name if m.parent else ""}


class TenantView(ReadOnlyView):
    column_list = ("slug", "name", "kind", "jurisdiction", "established_on", "status", "merged_into", "merged_on")
    column_details_list = column_list + ("predecessors", "created_at")
    column_searchable_list = ("slug", "name")
    column_filters = ("status", "kind", "jurisdiction.code")
    column_formatters = {"kind": _label(KIND_LABELS), "status": _label(STATUS_LABELS),
                         "merged_on": lambda v, c, m, n: m.merged_on.strftime("%d/%m/%Y") if m.merged_on else ""}
    column_formatters_detail = column_formatters


class UnitView(ReadOnlyView):
    column_list = ("tenant", "code", "name", "archived_at")
    column_searchable_list = ("code", "name")
    column_filters = ("tenant.slug", "tenant.name")


class UserView(OperatorModelView):
    can_create = False  # accounts come from manifests (and invitations), with their memberships
    column_list = ("email", "name", "active", "is_operator", "locale", "last_login_at")
    column_searchable_list = ("email", "name")
    column_filters = ("active", "is_operator")
    form_columns = ("name", "active", "is_operator", "locale")
    form_overrides = {"locale": SelectField}
    form_args = {"locale": {"choices": [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]}}
    column_details_exclude_list = ("password_hash",)

    @action("invite", _l("New invitation link"), _l("Issue new one-time links? Earlier links stop working."))
    def action_invite(self, ids):
        for user in services.users_by_ids(ids):
            token = issue_invitation(user, created_by_id=current_user.id)
            db.session.commit()
            mailed = send_invitation(user, token)
            flash(_("Invitation for %(email)s: %(link)s", email=user.email, link=invitation_link(token))
                  + (" " + _("(emailed)") if mailed else ""), "info")


def _role_choices(roles):
    return [SelectChoice(str(r), ROLE_LABELS[r]) for r in roles]


class MembershipView(OperatorModelView):
    can_delete = True  # an access right, not a QMS record; removals are logged
    column_list = ("user", "tenant", "role")
    column_filters = ("tenant.slug", "user.email", "role")
    column_formatters = {"role": _label(ROLE_LABELS)}
    form_columns = ("user", "tenant", "role")
    form_overrides = {"role": SelectField}
    form_args = {"role": {"choices": _role_choices(TenantRole)}}


class OversightRoleView(MembershipView):
    column_list = ("user", "jurisdiction", "role")
    column_filters = ("jurisdiction.code", "user.email", "role")
    form_columns = ("user", "jurisdiction", "role")
    form_args = {"role": {"choices": _role_choices(OversightRoleKind)}}


class InvitationView(ReadOnlyView):
    column_list = ("user", "created_at", "expires_at", "used_at")
    column_default_sort = ("created_at", True)
    column_details_exclude_list = ("token_hash",)


class MergeRecordView(ReadOnlyView):
    column_list = ("source", "successor", "merged_on", "performed_at", "reverted_at")
    column_default_sort = ("performed_at", True)

    @action("unmerge", _l("Undo merge"), _l("Undo the selected merges? Members move back to the merged agency."))
    def action_unmerge(self, ids):
        for record in services.merges_by_ids(ids):
            try:
                merging.unmerge(record)
            except merging.MergeRefused as err:
                db.session.rollback()
                flash(str(err), "error")
                return
            flash(_("%(name)s is active again.", name=record.source.name), "success")
        db.session.commit()


class ActivityView(ReadOnlyView):
    column_list = ("at", "tenant_id", "actor_label", "entity", "entity_id", "action", "note")
    column_details_list = column_list + ("changes",)
    column_filters = ("tenant_id", "entity", "action", "actor_label",
                      DateTimeBetweenFilter(ActivityEntry.at, _l("When")))
    column_default_sort = ("at", True)
    can_export = True
    export_types = ["csv"]


class JobView(ReadOnlyView):
    column_list = ("created_at", "task", "tenant_id", "status", "progress", "attempts", "message", "finished_at")
    column_details_list = column_list + ("error",)
    column_filters = ("status", "task")
    column_default_sort = ("created_at", True)


class ScheduleView(OperatorOnly, BaseView):
    """What runs by itself: each scheduled job's last run, the recent failures, and "run now"."""

    @expose("/", methods=["GET", "POST"])
    def index(self):
        from govqms.jobs.cron import SCHEDULE
        from govqms.jobs.services import enqueue

        if request.method == "POST":
            try:
                name = RunNowSchema().load(request.form)["task"]
            except ValidationError as err:
                flash(first_errors(err.messages)["task"], "error")  # the form is one button per task
            else:
                job = enqueue(name, tenant_id=None, user_id=current_user.id)
                flash(_("%(task)s started (%(status)s).", task=name, status=job.status), "success")
            return redirect(url_for("job_schedule.index"))
        return self.render("backoffice/schedule.html", schedule=SCHEDULE,
                           last=services.last_runs(name for name, _expression in SCHEDULE),
                           failures=services.recent_failures(), emails=services.email_backlog())


class StuckJobsView(OperatorOnly, BaseView):
    """Jobs stuck in a state (waiting for the queue, queued with no worker taking them, started by a
    worker that died), and the failed ones: run again, or cancel, each after a confirmation."""

    @expose("/")
    def index(self):
        from govqms.jobs.services import stuck_jobs

        return self.render("backoffice/stuck_jobs.html", stuck=stuck_jobs(), failures=services.recent_failures())

    def _step(self, job_id: str, *, title: str, message: str, label: str, run):
        from govqms.jobs.services import JobRefused

        job = services.job_or_none(job_id) or abort(404)
        if request.method == "GET":
            return self.render("backoffice/job_confirm.html", job=job, title=title, message=message, label=label)
        try:
            run(job)
        except JobRefused as err:
            flash(str(err), "error")
        else:
            flash(_("%(task)s: %(status)s.", task=job.task, status=job.status), "success")
        return redirect(url_for(".index"))

    @expose("/<job_id>/run-again", methods=["GET", "POST"])
    def run_again(self, job_id: str):
        from govqms.jobs.services import run_again

        return self._step(job_id, title=_("Run this job again?"), label=_("Run again"), run=run_again,
                          message=_("It starts afresh; what an earlier attempt finished is not done twice."))

    @expose("/<job_id>/cancel", methods=["GET", "POST"])
    def cancel(self, job_id: str):
        from govqms.jobs.services import cancel

        return self._step(job_id, title=_("Cancel this job?"), label=_("Cancel the job"),
                          message=_("It will not run; its user sees it was cancelled. You can run it again later."),
                          run=lambda job: cancel(job, current_user.email))


class NotificationView(ReadOnlyView):
    """Notifications as delivered: operators look here for emails that failed."""

    column_list = ("created_at", "user", "kind", "step", "event_key", "read_at", "email_state", "email_attempts",
                   "emailed_at")
    column_details_list = column_list + ("email_error",)
    column_filters = ("email_state", "kind", "step")
    column_default_sort = ("created_at", True)


class ManifestUploadView(OperatorOnly, BaseView):
    """Upload a jurisdiction manifest: validated and previewed; applied only on confirmation."""

    @expose("/", methods=["GET", "POST"])
    def index(self):
        context = {"problems": [], "plan": None, "text": "", "filename": "", "applied": None}
        if request.method != "POST":
            return self.render("backoffice/manifest.html", **context)
        try:
            sent = ManifestTextSchema().load(request.form)
        except ValidationError as err:  # only a hand-made post: the preview's form sends valid values
            for message in first_errors(err.messages).values():
                flash(message, "error")
            return self.render("backoffice/manifest.html", **context)
        upload = request.files.get("manifest")
        if upload is not None and upload.filename:
            raw = upload.read(MAX_MANIFEST_BYTES + 1)
            context["filename"] = upload.filename
            if len(raw) > MAX_MANIFEST_BYTES:
                flash(_("The file is larger than 1 MB."), "error")
                return self.render("backoffice/manifest.html", **context)
            try:
                context["text"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                flash(_("The file is not UTF-8 text."), "error")
                return self.render("backoffice/manifest.html", **context)
        else:  # the text sent back by the preview's "apply" form
            context["text"], context["filename"] = sent["text"], sent["filename"]
        if not context["text"]:
            flash(_("Choose a manifest file."), "error")
            return self.render("backoffice/manifest.html", **context)
        try:
            plan = provisioning.plan_texts([(context["filename"] or "upload.yaml", context["text"])])
        except ManifestError as err:
            db.session.rollback()
            context["problems"] = err.problems
            return self.render("backoffice/manifest.html", **context)
        context["plan"] = plan
        if sent["apply"] and plan.pending:
            context["applied"] = provisioning.apply_plan(plan)
            db.session.commit()
            flash(_("%(n)s change(s) applied.", n=len(plan.pending)), "success")
        return self.render("backoffice/manifest.html", **context)


class TrustAnchorsView(OperatorOnly, BaseView):
    """The certificates trusted as roots of PDF signers' chains (``GOVQMS_TRUST_ANCHORS``), shown read-only:
    they change in the deployment's configuration; then one button has every result computed with other
    anchors checked again (a job over every agency)."""

    @expose("/", methods=["GET", "POST"])
    def index(self):
        from govqms.jobs.services import enqueue
        from govqms.signatures.services import AnchorError, trust_anchors

        if request.method == "POST":  # after the anchors changed: every result computed with others, again
            job = enqueue("signatures.recheck_outdated", tenant_id=None, user_id=current_user.id)
            flash(_("Checking the signatures again: %(status)s.", status=job.message or job.status), "success")
            return redirect(url_for(".index"))
        try:
            anchors, error = trust_anchors(), None
        except AnchorError as err:  # the start-up refuses a wrong location; its files may change since
            anchors, error = (), str(err)
        return self.render("backoffice/trust_anchors.html", anchors=anchors, error=error,
                           location=current_app.config.get("TRUST_ANCHORS"), now=utcnow())


class MergeView(OperatorOnly, BaseView):
    """Merge one agency into another, with a confirmation that says what will happen."""

    @expose("/", methods=["GET", "POST"])
    def index(self):
        form, errors, preview = {}, {}, None
        if request.method == "POST":
            form = request.form.to_dict()
            try:
                data = MergeSchema().load(form)
            except ValidationError as err:
                errors = first_errors(err.messages)
            else:
                source, successor = services.tenant_by_id(data["source"]), services.tenant_by_id(data["successor"])
                errors = {name: _("Enter a valid value.")
                          for name, tenant in (("source", source), ("successor", successor)) if tenant is None}
            if errors:
                flash(_("Choose both agencies and a date as dd/mm/yyyy."), "error")
            elif data["confirm"]:
                try:
                    record = merging.merge_tenant(source, successor, data["merged_on"])
                except merging.MergeRefused as err:  # the form is shown again with the choices made
                    db.session.rollback()
                    flash(str(err), "error")
                else:
                    db.session.commit()
                    flash(_("%(source)s merged into %(successor)s; %(n)s membership(s) moved.",
                            source=source.name, successor=successor.name, n=len(record.moved_members)), "success")
                    return redirect(url_for("tenantmerge.index_view"))
            else:
                preview = services.merge_preview(source, successor, data["merged_on"])
        return self.render("backoffice/merge.html", tenants=services.active_tenants(), form=form,
                           errors=errors, preview=preview)


def init_app(app) -> None:
    admin = Admin(app, name="GovQMS", url="/admin", theme=Bootstrap4Theme(),
                  index_view=SecureIndex(url="/admin", name=_l("Back office")))
    provisioning_category = _l("Provisioning")
    admin.add_view(ManifestUploadView(name=_l("Upload manifest"), endpoint="manifest", category=provisioning_category))
    admin.add_view(MergeView(name=_l("Merge agencies"), endpoint="merge", category=provisioning_category))
    admin.add_view(MergeRecordView(TenantMerge, db, name=_l("Merges"), category=provisioning_category))
    admin.add_view(JurisdictionView(Jurisdiction, db, name=_l("Jurisdictions")))
    admin.add_view(TenantView(Tenant, db, name=_l("Agencies")))
    admin.add_view(UnitView(Unit, db, name=_l("Units")))
    accounts_category = _l("Accounts")
    admin.add_view(UserView(User, db, name=_l("Users"), category=accounts_category))
    admin.add_view(MembershipView(Membership, db, name=_l("Memberships"), category=accounts_category))
    admin.add_view(OversightRoleView(OversightRole, db, name=_l("Oversight roles"), category=accounts_category))
    admin.add_view(InvitationView(Invitation, db, name=_l("Invitations"), category=accounts_category))
    admin.add_view(ActivityView(ActivityEntry, db, name=_l("Activity log"), endpoint="activity_log"))
    jobs_category = _l("Jobs")
    admin.add_view(ScheduleView(name=_l("Schedule and failures"), endpoint="job_schedule", category=jobs_category))
    admin.add_view(StuckJobsView(name=_l("Stuck jobs"), endpoint="stuck_jobs", category=jobs_category))
    admin.add_view(JobView(Job, db, name=_l("All jobs"), category=jobs_category))
    from govqms.notifications.models import Notification

    admin.add_view(NotificationView(Notification, db, name=_l("Notifications"), category=jobs_category))
    admin.add_view(TrustAnchorsView(name=_l("Signature trust anchors"), endpoint="trust_anchors"))

    @app.before_request
    def _operator_scope():
        # Operators provision every tenant: the back office reads and writes across tenants.
        if request.path.startswith("/admin") and _is_operator():
            g.scope_token = set_scope(TenantScope.system(), db.session)
