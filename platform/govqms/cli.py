"""The ``govqms`` command: the Flask CLI bound to the app factory, plus GovQMS commands.

Every command here runs in the system tenant scope as actor ``cli:<command>``, so its
changes are allowed across tenants and still land in the activity log.
"""
from __future__ import annotations

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
        name = click.get_current_context().info_name
        with scoped(TenantScope.system()), acting_as(Actor(None, f"cli:{name}")):
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
@with_appcontext
def worker_command(burst: bool, queues: tuple[str, ...]) -> None:
    """Start an RQ worker that runs GovQMS jobs inside the app."""
    from rq import Worker

    from govqms.extensions import db
    from govqms.jobs.services import redis_connection

    connection = redis_connection()
    if connection is None:
        raise click.ClickException("GOVQMS_REDIS_URL is not set: jobs run inline and need no worker.")
    # Each job runs in a forked child: it must not share the parent's database connections.
    db.engine.dispose()
    worker = Worker(list(queues) or [current_app.config["JOB_QUEUE"]], connection=connection)
    worker.work(burst=burst, with_scheduler=True)


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


COMMANDS = (demo_command, worker_command, grant_app_role_command, create_operator_command)


def init_app(app) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app():
    from govqms import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, help="GovQMS: the Flask CLI bound to the GovQMS app.")


def main() -> None:
    cli(prog_name="govqms")


if __name__ == "__main__":  # python -m govqms.cli
    main()
