"""The ``govqms`` command: the Flask CLI bound to the app factory, plus GovQMS commands.

Every command here runs in the system tenant scope as actor ``cli:<command>``, so its
changes are allowed across tenants and still land in the activity log.
"""
from __future__ import annotations

import datetime as dt
import functools

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from govqms.core.activity import Actor, acting_as
from govqms.core.tenancy import TenantScope, scoped


def system_command(func):
    """Run a CLI command inside the app, in the system scope, as ``cli:<name>``."""

    @with_appcontext
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from govqms.extensions import db

        name = click.get_current_context().info_name
        with scoped(TenantScope.system(), db.session), acting_as(Actor(None, f"cli:{name}")):
            return func(*args, **kwargs)

    return wrapper


@click.command("demo")
@click.option("--password", envvar="GOVQMS_DEMO_PASSWORD", default="govqms-demo",
              show_default=True, help="Password given to every demo account.")
@system_command
def demo_command(password: str) -> None:
    """Create (or bring up to date) the demo province and ministry, and print the logins."""
    from govqms.demo import load_demo

    report = load_demo(password)
    click.echo(report.summary())


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then stop.")
@click.option("--queue", "queues", multiple=True, help="Queue to listen on (default: GOVQMS_JOB_QUEUE).")
@click.option("--job-monitoring-interval", type=click.IntRange(min=1), default=None,
              help="Seconds between heartbeats of a running job (RQ's default: 30). A job whose worker died "
                   "is taken as abandoned about a minute after its last heartbeat.")
@click.option("--maintenance-interval", type=click.IntRange(min=1), default=None,
              help="Seconds between RQ's maintenance passes, which retry abandoned jobs (RQ's default: 600; "
                   "an idle worker then also wakes this often).")
@with_appcontext
def worker_command(burst: bool, queues: tuple[str, ...], job_monitoring_interval: int | None,
                   maintenance_interval: int | None) -> None:
    """Start an RQ worker that runs GovQMS jobs inside the app."""
    from rq import Worker

    from govqms.extensions import db
    from govqms.jobs.services import redis_connection

    connection = redis_connection()
    if connection is None:
        raise click.ClickException("GOVQMS_REDIS_URL is not set: jobs run inline and need no worker.")
    # Each job runs in a forked child: it must not share the parent's database connections.
    db.engine.dispose()
    intervals = {name: value for name, value in (("job_monitoring_interval", job_monitoring_interval),
                                                 ("maintenance_interval", maintenance_interval)) if value}
    if maintenance_interval:
        # An idle worker blocks on the queue for worker_ttl - 15 s and runs its maintenance only
        # between waits: wake it often enough for the interval asked.
        intervals["worker_ttl"] = maintenance_interval + 15
    worker = Worker(list(queues) or [current_app.config["JOB_QUEUE"]], connection=connection, **intervals)
    worker.work(burst=burst, with_scheduler=True)


@click.command("cron")
@with_appcontext
def cron_command() -> None:
    """Start RQ's cron scheduler with the schedule of govqms.jobs.cron (beside the worker)."""
    from rq.cron import CronScheduler

    from govqms.jobs.services import redis_connection

    connection = redis_connection()
    if connection is None:
        raise click.ClickException("GOVQMS_REDIS_URL is not set: without Redis, run `govqms compliance snapshot` "
                                   "from the system's cron instead.")
    scheduler = CronScheduler(connection=connection)
    scheduler.load_config_from_file("govqms.jobs.cron")
    scheduler.start()


@click.group("jobs")
def jobs_group() -> None:
    """The periodic schedule and the platform-wide jobs."""


@jobs_group.command("schedule")
def jobs_schedule_command() -> None:
    """List what runs by itself, and when (UTC cron expressions)."""
    from govqms.jobs.cron import SCHEDULE

    for name, expression in SCHEDULE:
        click.echo(f"{expression:<15} {name}")


@jobs_group.command("run")
@click.argument("name")
@system_command
def jobs_run_command(name: str) -> None:
    """Run the platform-wide job NAME now: on the queue when Redis is configured, else here."""
    from govqms.jobs.services import enqueue, registered_tasks

    specs = {key: spec for key, spec in registered_tasks().items() if spec.system}
    if name not in specs:
        raise click.ClickException(f"no platform-wide job {name!r}; one of: {', '.join(sorted(specs))}")
    job = enqueue(name, tenant_id=None, user_id=None)
    click.echo(f"{job.id} {job.status} {job.message or ''}".rstrip())
    if job.status == "failed":
        raise SystemExit(1)


@click.command("grant-app-role")
@click.argument("role")
@with_appcontext
def grant_app_role_command(role: str) -> None:
    """Grant the application ROLE its privileges (PostgreSQL; run as the owner after migrating)."""
    from govqms.core.rls import grant_app_role
    from govqms.extensions import db

    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("grant-app-role applies to PostgreSQL only.")
    with db.engine.begin() as connection:
        grant_app_role(connection, role)
    click.echo(f"granted {role} the application privileges")


@click.command("create-operator")
@click.argument("email")
@click.argument("name")
@click.password_option()
@system_command
def create_operator_command(email: str, name: str, password: str) -> None:
    """Create a platform operator account (or make an existing account one)."""
    from sqlalchemy import select

    from govqms.accounts.models import User
    from govqms.accounts.services import create_user, normalise_email
    from govqms.extensions import db

    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        user = create_user(email, name, password, is_operator=True)
    else:
        user.is_operator = True
        user.set_password(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    db.session.commit()
    click.echo(f"operator {user.email} ready")


@click.group("tenants")
def tenants_group() -> None:
    """Provision jurisdictions and agencies from the files in tenants/."""


def _print_problems(err) -> None:
    click.echo(f"Refused: {len(err.problems)} problem(s); nothing was written.", err=True)
    for problem in err.problems:
        click.echo(f"  {problem}", err=True)


@tenants_group.command("sync")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@system_command
def tenants_sync_command(paths: tuple[str, ...], dry_run: bool) -> None:
    """Create or update jurisdictions, agencies, units and invitations from manifest PATHS."""
    from pathlib import Path

    from govqms.extensions import db
    from govqms.tenancy import provisioning
    from govqms.tenancy.manifests import ManifestError

    try:
        plan = provisioning.plan_files([Path(p) for p in paths])
    except ManifestError as err:
        _print_problems(err)
        raise SystemExit(1) from err
    click.echo(plan.summary())
    if dry_run or not plan.pending:
        db.session.rollback()
        if dry_run:
            click.echo("Dry run: nothing written.")
        return
    result = provisioning.apply_plan(plan)
    db.session.commit()
    click.echo(f"Applied {len(plan.pending)} change(s).")
    for email, link, mailed in result:
        click.echo(f"  invitation for {email}: {link}" + ("  (emailed)" if mailed else ""))


def _tenant_or_fail(slug: str):
    from sqlalchemy import select

    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"no agency {slug!r}")
    return tenant


@tenants_group.command("merge")
@click.argument("source")
@click.argument("into")
@click.option("--on", "on", required=True, type=click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"]),
              help="Date the merger took effect (YYYY-MM-DD or dd/mm/yyyy).")
@system_command
def tenants_merge_command(source: str, into: str, on) -> None:
    """Merge agency SOURCE into agency INTO: SOURCE becomes read-only history."""
    from govqms.extensions import db
    from govqms.tenancy.merge import MergeRefused, merge_tenant

    try:
        record = merge_tenant(_tenant_or_fail(source), _tenant_or_fail(into), on.date())
    except MergeRefused as err:
        raise click.ClickException(str(err)) from err
    db.session.commit()
    click.echo(f"merged {source} into {into} on {on:%d/%m/%Y}; {len(record.moved_members)} membership(s) moved")


@tenants_group.command("unmerge")
@click.argument("source")
@system_command
def tenants_unmerge_command(source: str) -> None:
    """Undo the merge of SOURCE, if no records were added to its successor since."""
    from govqms.extensions import db
    from govqms.tenancy.merge import MergeRefused, latest_merge_of, unmerge

    record = latest_merge_of(_tenant_or_fail(source))
    if record is None:
        raise click.ClickException(f"{source} has no merge to undo")
    try:
        unmerge(record)
    except MergeRefused as err:
        raise click.ClickException(str(err)) from err
    db.session.commit()
    click.echo(f"{source} is active again; its members are back")


@tenants_group.command("invite")
@click.argument("email")
@system_command
def tenants_invite_command(email: str) -> None:
    """Issue a new one-time link for EMAIL to set a password (earlier links stop working)."""
    from sqlalchemy import select

    from govqms.accounts.models import User
    from govqms.accounts.services import invitation_link, issue_invitation, normalise_email, send_invitation
    from govqms.extensions import db

    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(f"no account {email!r}")
    token = issue_invitation(user)
    db.session.commit()
    mailed = send_invitation(user, token)
    click.echo(invitation_link(token) + ("  (emailed)" if mailed else ""))


@click.group("compliance")
def compliance_group() -> None:
    """The computed compliance status of agencies."""


@compliance_group.command("snapshot")
@system_command
def compliance_snapshot_command() -> None:
    """Keep today's status of every active agency (the daily job does the same)."""
    from govqms.compliance.services import snapshot
    from govqms.extensions import db
    from govqms.tenancy.services import active_tenant_ids

    count = snapshot(active_tenant_ids())
    db.session.commit()
    click.echo(f"snapshot of {count} agencies")


@compliance_group.command("status")
@click.argument("jurisdiction")
@click.option("--on", "on", type=click.DateTime(formats=["%d/%m/%Y"]), default=None, metavar="DD/MM/YYYY",
              help="The day judged (default: today in Vietnam).")
@click.option("--json", "as_json", is_flag=True, help="One JSON list of agencies, each with its checks.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the labels and reasons.")
@system_command
def compliance_status_command(jurisdiction: str, on, as_json: bool, lang: str) -> None:
    """Every rule of every agency of JURISDICTION (a code, with the jurisdictions below it) on a day:
    result, reason, the records counted and the next due date, as on the status page."""
    import json

    from flask_babel import force_locale
    from sqlalchemy import select

    from govqms.compliance.engine import NoRuleSet
    from govqms.compliance.services import jurisdiction_statuses, status_as_dict
    from govqms.core.clock import today
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction

    found = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == jurisdiction))
    if found is None:
        raise click.ClickException(f"no jurisdiction with the code {jurisdiction!r}")
    day = on.date() if on else today()
    with force_locale(lang):
        try:
            agencies = [status_as_dict(tenant, status) for tenant, status in jurisdiction_statuses(found, day)]
        except NoRuleSet:
            raise click.ClickException(f"no rule set applies on {day:%d/%m/%Y} (Decision 19/2014/QD-TTg applies from "
                                       "20/04/2014)") from None
    if as_json:
        click.echo(json.dumps(agencies, ensure_ascii=False, indent=2))
        return
    click.echo(f"{found.name}: {len(agencies)} agencies on {day:%d/%m/%Y}")
    for agency in agencies:
        click.echo(f"\n{agency['agency']}  {agency['level'].upper()}  {agency['name']}"
                   f"  (TCVN ISO 9001:{agency['edition'] or '-'})")
        for check in agency["checks"]:
            due = dt.date.fromisoformat(check["due"]).strftime("%d/%m/%Y") if check["due"] else "-"
            records = " ".join(f"{r['kind']}#{r['id']}" for r in check["records"])
            click.echo(f"  {check['rule']:<19} {check['result']:<15} {due:<10}  {check['reason']}"
                       + (f"  [{records}]" if records else ""))


@click.command("export-tenant")
@click.argument("slug")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, writable=True))
@system_command
def export_tenant_command(slug: str, path: str) -> None:
    """Write agency SLUG's records and stored files into the archive FILE (a zip)."""
    from govqms.extensions import db
    from govqms.tenancy.archive import ArchiveError, export_to_path

    try:
        result = export_to_path(_tenant_or_fail(slug), path)
    except ArchiveError as err:
        raise click.ClickException(f"{err}; no archive was written") from err
    finally:
        db.session.rollback()
    click.echo(result.summary(path))


@click.command("import-tenant")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@system_command
def import_tenant_command(path: str) -> None:
    """Create the agency of the archive FILE (from export-tenant) with its records and files."""
    from govqms.tenancy.archive import ArchiveError, import_tenant

    with open(path, "rb") as archive:
        try:
            result = import_tenant(archive)
        except ArchiveError as err:
            raise click.ClickException(f"{err}. Nothing was imported.") from err
    click.echo(result.summary())


@click.command("import-results")
@click.argument("agency")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option("--period", default="", metavar="PERIOD",
              help="The period when the sheet's title names none (or to correct it): 09/2026, Q3/2026, "
                   "'first half of 2026', 2026, '15/06/2026 - 14/09/2026' (or as the forms write it).")
@click.option("--dry-run", is_flag=True, help="Check the file and print what would be stored; store nothing.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object: period, stored, replaced, totals, skipped, errors.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the messages.")
@system_command
def import_results_command(agency: str, path: str, period: str, dry_run: bool, as_json: bool, lang: str) -> None:
    """Import the service results report FILE (XLSX or CSV) of agency AGENCY (its slug): the same
    import as the agency's page, the layout found by itself. Exits non-zero when the file is refused,
    and then nothing is stored."""
    import json
    from pathlib import Path

    from flask_babel import force_locale
    from sqlalchemy import select

    from govqms.core.imports import ImportRefused
    from govqms.extensions import db
    from govqms.performance import periods, services
    from govqms.tenancy.models import Tenant

    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == agency))
    if tenant is None:
        raise click.ClickException(f"no agency with the slug {agency!r}")
    extension = Path(path).suffix.lower().lstrip(".")
    if extension not in ("xlsx", "csv"):
        raise click.ClickException("the file must be .xlsx or .csv")
    errors: list[dict] = []
    outcome = None
    with force_locale(lang), scoped(TenantScope.tenant(tenant.id), db.session):
        try:
            typed = periods.parse(period) if period else None
            outcome = services.import_service_results(tenant.id, Path(path).read_bytes(), extension,
                                                      period=typed, dry_run=dry_run)
        except periods.PeriodError as err:
            errors = [{"row": 0, "column": "--period", "message": str(err)}]
        except ImportRefused as refused:
            errors = [e.as_dict() for e in refused.errors]
        if errors:
            db.session.rollback()
        elif dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    result = outcome.as_dict() if outcome is not None else services.Outcome().as_dict()
    result["errors"] = errors
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        if outcome is not None:
            for row in outcome.rows:
                c = row.counts
                click.echo(f"row {row.number}: {row.period.label()}  {row.field or '-'}  {row.procedure_code or '-'}  "
                           f"received {c['received']}, early {c['resolved_early']}, on time {c['resolved_on_time']}, "
                           f"late {c['resolved_late']}, pending {c['pending']}")
            for skipped in outcome.skipped:
                click.echo(f"row {skipped.row}: skipped, {skipped.reason}")
        for error in errors:
            click.echo(f"row {error['row']}, {error['column']}: {error['message']}", err=True)
        if not errors:
            verb = "would store" if dry_run else "stored"
            click.echo(f"{verb} {len(outcome.rows)} row(s) for {', '.join(p.label() for p in outcome.periods)}; "
                       f"{'replacing' if dry_run else 'replaced'} {outcome.replaced} row(s) stored before")
    if errors:
        raise SystemExit(1)


COMMANDS = (demo_command, worker_command, cron_command, jobs_group, grant_app_role_command, create_operator_command,
            tenants_group, compliance_group, export_tenant_command, import_tenant_command, import_results_command)


def init_app(app) -> None:
    from govqms import backup_cli  # govqms backup DIR, govqms restore DIR
    from govqms.reports.cli import report_command  # govqms report JURISDICTION KIND

    for command in (*COMMANDS, *backup_cli.COMMANDS, report_command):
        app.cli.add_command(command)


def _create_app():
    from govqms import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, help="GovQMS: the Flask CLI bound to the GovQMS app.")


def main() -> None:
    cli(prog_name="govqms")


if __name__ == "__main__":  # python -m govqms.cli
    main()
