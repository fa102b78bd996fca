"""Test harness.

Every test runs twice: on SQLite and on PostgreSQL. On PostgreSQL the schema is migrated
by the owner and the app connects as a separate role that is neither superuser nor owner,
so row-level security is enforced in every test, not only in the dedicated ones.

The world is always multi-tenant: two provinces, tenants in each, one merged tenant
(see :class:`World`). It is committed once per backend; each test then runs inside a
transaction that is rolled back, whatever the views commit.

Outside CI a test needing a missing service is skipped, saying which; under CI=true a
missing service fails the test.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.globals import app_ctx
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.orm import scoped_session, sessionmaker

ROOT = Path(__file__).resolve().parents[1]
CI = os.environ.get("CI") == "true"
PG_ADMIN_URL = os.environ.get("GOVQMS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("GOVQMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
APP_ROLE = "govqms_test_app"
PASSWORD = "correct horse battery"
FAST_HASH = "pbkdf2:sha256:1000"  # tests only: the app default is scrypt


def service_unavailable(service: str, why: str):
    message = f"{service} is not available ({why})"
    if CI:
        pytest.fail(f"{message}: under CI=true a missing service is a failure", pytrace=False)
    pytest.skip(message)


def _pg_admin_engine():
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def postgres_available() -> str | None:
    try:
        with _pg_admin_engine().connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return str(exc).splitlines()[0]
    return None


def redis_available() -> str | None:
    try:
        from redis import Redis

        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return str(exc).splitlines()[0]
    return None


@dataclass
class Backend:
    name: str
    owner_url: str
    app_url: str
    drop: callable = None


def create_postgres_database(existing: str | None = None) -> Backend:
    """A new database (or, for the benchmark's ``--reuse``, one kept from an earlier run)."""
    name = existing or f"govqms_test_{uuid.uuid4().hex[:10]}"
    engine = _pg_admin_engine()
    with engine.connect() as conn:
        if not existing:
            conn.execute(sa.text(f'create database "{name}"'))
        exists = conn.scalar(sa.text("select 1 from pg_roles where rolname = :r"), {"r": APP_ROLE})
        if not exists:
            conn.execute(sa.text(f"create role {APP_ROLE} login nosuperuser nobypassrls nocreatedb nocreaterole"))
    base = sa.engine.make_url(PG_ADMIN_URL)
    owner_url = base.set(database=name).render_as_string(hide_password=False)
    app_url = base.set(database=name, username=APP_ROLE, password=None).render_as_string(hide_password=False)

    def drop():
        with engine.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        engine.dispose()

    return Backend("postgresql", owner_url, app_url, drop)


def migrate(url: str) -> None:
    """Upgrade an empty database to head, as `govqms db upgrade` does."""
    from flask_migrate import upgrade

    from govqms import create_app

    owner_app = create_app({"SQLALCHEMY_DATABASE_URI": url, "GOVQMS_ENV": "testing"})
    with owner_app.app_context():
        upgrade()
        from govqms.extensions import db

        db.engine.dispose()


def test_config(url: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "GOVQMS_ENV": "testing",
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "REDIS_URL": None,
        "SERVER_NAME": None,
    }


@pytest.fixture(scope="session", autouse=True)
def _environment(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["GOVQMS_INSTANCE_PATH"] = str(instance)
    os.environ["GOVQMS_SECRET_KEY"] = "test-secret"
    os.environ.pop("GOVQMS_REDIS_URL", None)
    os.environ.pop("GOVQMS_DATABASE_URL", None)
    return instance


@contextlib.contextmanager
def fresh_database(kind: str, folder: Path):
    """An empty database of *kind* (its owner and application URLs), dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'govqms.db'}"
        yield Backend("sqlite", url, url)
        return
    problem = postgres_available()
    if problem:
        service_unavailable("PostgreSQL", problem)
    created = create_postgres_database()
    try:
        yield created
    finally:
        created.drop()


@contextlib.contextmanager
def migrated_database(kind: str, folder):
    """A new database of *kind*, migrated to head, the application role granted on PostgreSQL."""
    with fresh_database(kind, folder) as created:
        migrate(created.owner_url)
        if created.name == "postgresql":
            from govqms.core.rls import grant_app_role

            owner = sa.create_engine(created.owner_url)
            with owner.begin() as conn:
                grant_app_role(conn, APP_ROLE)
            owner.dispose()
        yield created


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory, _environment):
    with migrated_database(request.param, tmp_path_factory.mktemp(request.param)) as created:
        yield created


class IsolatedClient(FlaskClient):
    """Each request in its own app context (own ``g``, own session), as in production,
    even when the test itself holds an app context open."""

    def open(self, *args, **kwargs):
        from flask import has_app_context

        from govqms.core.tenancy import refresh_database_scope
        from govqms.extensions import db

        with self.application.app_context():
            response = super().open(*args, **kwargs)
        # All sessions of a test share one connection: the request's transaction-local
        # settings outlive its savepoint, so give the test's own session its scope back.
        if has_app_context():
            refresh_database_scope(db.session)
        return response


@pytest.fixture(scope="session")
def app(backend):
    from govqms import create_app

    application = create_app(test_config(backend.app_url))
    application.config["BACKEND"] = backend.name
    application.test_client_class = IsolatedClient
    return application


@dataclass
class World:
    """Ids of the multi-tenant fixture world. Two provinces, p1 and p2, under a national root.

    p1: tenants a1 (members of every role), a2, a_old (merged into a1 on 01/03/2025)
    p2: tenant b1
    """

    p1: str
    p2: str
    a1: str
    a2: str
    a_old: str
    b1: str
    tenant_ids: dict[str, int]
    unit_ids: dict[str, list[int]]
    users: dict[str, str]  # handle -> email

    def email(self, handle: str) -> str:
        return self.users[handle]


WORLD_USERS = {
    # handle: (tenant memberships, oversight, operator)
    "a1_head": ([("a1", "head")], [], False),
    "a1_qmr": ([("a1", "qmr")], [], False),
    "a1_secretary": ([("a1", "iso_secretary")], [], False),
    "a1_auditor": ([("a1", "auditor")], [], False),
    "a1_staff": ([("a1", "staff")], [], False),
    "a1_viewer": ([("a1", "viewer")], [], False),
    "a_old_secretary": ([("a_old", "iso_secretary")], [], False),
    "b1_secretary": ([("b1", "iso_secretary")], [], False),
    "p1_overseer": ([], [("p1", "overseer")], False),
    "p2_overseer": ([], [("p2", "overseer")], False),
    "national_overseer": ([], [("vn", "overseer")], False),
    "operator": ([], [], True),
}


def build_world() -> World:
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Membership, OversightRole, Tenant, TenantStatus, Unit

    vn = Jurisdiction(code="vn", name="Toàn quốc", level="national")
    p1 = Jurisdiction(code="p1", name="Tỉnh Một", level="province", parent=vn)
    p2 = Jurisdiction(code="p2", name="Tỉnh Hai", level="province", parent=vn)
    db.session.add_all([vn, p1, p2])
    tenants = {
        "a1": Tenant(slug="a1", name="Sở Khoa học và Công nghệ Một", kind="science_technology", jurisdiction=p1),
        "a2": Tenant(slug="a2", name="Sở Y tế Một", kind="health", jurisdiction=p1),
        "a_old": Tenant(slug="a-old", name="Sở Thông tin và Truyền thông Một", kind="information_communications",
                        jurisdiction=p1),
        "b1": Tenant(slug="b1", name="Sở Khoa học và Công nghệ Hai", kind="science_technology", jurisdiction=p2),
    }
    db.session.add_all(tenants.values())
    db.session.flush()
    tenants["a_old"].status = TenantStatus.MERGED
    tenants["a_old"].merged_into = tenants["a1"]
    tenants["a_old"].merged_on = dt.date(2025, 3, 1)
    units: dict[str, list[Unit]] = {}
    for key, tenant in tenants.items():
        units[key] = [Unit(tenant_id=tenant.id, code="VP", name="Văn phòng"),
                      Unit(tenant_id=tenant.id, code="KHTC", name="Phòng Kế hoạch - Tài chính")]
        db.session.add_all(units[key])
    jurisdictions = {"vn": vn, "p1": p1, "p2": p2}
    users = {}
    for handle, (memberships, oversight, operator) in WORLD_USERS.items():
        user = User(email=f"{handle.replace('_', '.')}@test.govqms.vn", name=handle.replace("_", " ").title(),
                    is_operator=operator)
        user.set_password(PASSWORD, method=FAST_HASH)
        db.session.add(user)
        db.session.flush()
        users[handle] = user.email
        for key, role in memberships:
            db.session.add(Membership(user_id=user.id, tenant_id=tenants[key].id, role=role))
        for code, role in oversight:
            db.session.add(OversightRole(user_id=user.id, jurisdiction_id=jurisdictions[code].id, role=role))
    db.session.commit()
    return World(
        p1="p1", p2="p2", a1="a1", a2="a2", a_old="a-old", b1="b1",
        tenant_ids={k: t.id for k, t in tenants.items()},
        unit_ids={k: [u.id for u in us] for k, us in units.items()},
        users=users,
    )


@pytest.fixture(scope="session")
def world(app) -> World:
    from govqms.core.activity import Actor, acting_as
    from govqms.core.tenancy import TenantScope, scoped

    with app.app_context(), scoped(TenantScope.system()), acting_as(Actor(None, "tests")):
        return build_world()


class BoundSession(FlaskSession):
    """A Flask-SQLAlchemy session that always uses the test's connection."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture(autouse=True)
def _rollback(request, app, world):
    """Each test runs in a transaction that is rolled back afterwards.

    Views commit as usual; their commits release savepoints inside that transaction.
    Tests marked ``committed`` (jobs run by a real worker, the browser) opt out.
    """
    from govqms.core.cache import cache
    from govqms.extensions import db

    with app.app_context():
        cache().clear()  # a record a test writes without the ORM renews no agency's version
    if request.node.get_closest_marker("committed"):
        yield
        return
    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    factory = sessionmaker(class_=BoundSession, db=db, bind=connection,
                           join_transaction_mode="create_savepoint")
    db.session = scoped_session(factory, scopefunc=lambda: id(app_ctx._get_current_object()))
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, email: str, password: str = PASSWORD):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, f"login of {email} failed: {response.status_code}"
    return client


@pytest.fixture
def login_as(app, world):
    """``login_as("a1_secretary")`` returns a test client signed in as that world user."""

    def _login(handle: str):
        return login(app.test_client(), world.email(handle))

    return _login


@contextlib.contextmanager
def served(app, name: str = "app-server"):
    """The app on a free loopback port, served by werkzeug from a thread (a browser or an identity
    provider reaches it for real); yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink(list):
    """Messages a real SMTP server on loopback received; ``wait(n)`` for them to arrive."""

    def wait(self, count: int, timeout: float = 5.0) -> "SmtpSink":
        import time

        deadline = time.monotonic() + timeout
        while len(self) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self


@pytest.fixture
def smtp_sink(app):
    """A real SMTP server (aiosmtpd) on loopback collecting messages; mail is configured meanwhile."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = SmtpSink()

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    controller = Controller(Collect(), hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield received
    finally:
        app.config["SMTP_URL"] = None
        controller.stop()


@pytest.fixture
def system_scope(app):
    """An app context in the system scope, for arranging data inside a test."""
    from govqms.core.activity import Actor, acting_as
    from govqms.core.tenancy import TenantScope, scoped

    with app.app_context(), scoped(TenantScope.system()), acting_as(Actor(None, "tests")):
        yield


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries():
    """``with count_queries() as counter: …`` counts every statement sent to the database."""
    import contextlib

    @contextlib.contextmanager
    def _counting():
        counter = QueryCounter()
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", counter)

    return _counting


def pytest_configure(config):
    config.addinivalue_line("markers", "committed: runs outside the per-test rolled-back transaction")
    config.addinivalue_line("markers", "postgresql_only: PostgreSQL features (row-level security); not run on SQLite")
    config.addinivalue_line("markers", "sqlite_only: runs once, on the SQLite backend (e.g. the browser test)")


def pytest_collection_modifyitems(config, items):
    """Tests of a PostgreSQL feature are not collected for SQLite (and vice versa): not skipped."""
    keep, drop = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("backend")
        if (backend == "sqlite" and item.get_closest_marker("postgresql_only")) or (
                backend == "postgresql" and item.get_closest_marker("sqlite_only")):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_terminal_summary(terminalreporter):
    """Say plainly which services the run used: tests per database, and the Redis worker test."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call" and outcome == "passed":
                continue
            node = report.nodeid
            groups = [b for b in ("sqlite", "postgresql") if f"[{b}" in node or f"-{b}]" in node]
            if "test_job_on_redis" in node:
                groups.append("redis (real worker)")
            if "tests/e2e/" in node:
                groups.append("browser (chromium)")
            for group in groups:
                counts.setdefault(group, {}).setdefault(outcome, 0)
                counts[group][outcome] += 1
    if counts:
        terminalreporter.section("services used")
        for group, outcomes in sorted(counts.items()):
            terminalreporter.write_line(f"{group}: " + ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())))


#: fixtures several packages' tests share (the audit team of a1)
pytest_plugins = ["tests.competence.fixtures"]
