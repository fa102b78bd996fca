"""The production topology on loopback, for smoke tests.

``deployment`` (one per module) does what README's "Deploying" describes, with throwaway names:
the roles and database of deploy/postgresql-roles.sql (a unique owner and application role,
created by the PostgreSQL superuser), ``govqms db upgrade`` and ``govqms grant-app-role`` as the
owner, ``govqms demo`` for data, then gunicorn with deploy/gunicorn.conf.py (2 workers on a free
loopback port), ``govqms worker`` and ``govqms cron`` as separate processes connecting as the
application role, on their own Redis database and a unique queue, with ``GOVQMS_ENV=production``
and mail going to ``smtp_sink``, an SMTP server in this process. Afterwards every process group
it started is stopped and the database, the roles and the queue's Redis keys are removed, even
when a test failed.

What tests get:

- ``deployment.db_url.app`` / ``.owner``: SQLAlchemy URLs of the application role and the owner.
- ``deployment.run_cli(*args, owner=False, check=True, timeout=120)``: ``govqms …`` with the
  deployment's environment (as the owner with ``owner=True``); returns the CompletedProcess.
- ``deployment.start_worker(*extra_args)`` / ``deployment.kill_worker()``: a worker with short
  job-monitoring and maintenance intervals; SIGKILL of its process group and of its work horse's
  (RQ puts the horse in a group of its own), as a crash or the OOM killer would.
- ``deployment.web`` / ``.worker`` / ``.cron``: :class:`Process` (``.output()``, ``.alive``).
- ``deployment.redis()`` (a client on the deployment's Redis database) and ``deployment.queue``.
- ``deployment.storage_dir`` (the stored files), ``deployment.record_counts()`` (rows per table, as
  the owner) and ``deployment.recreate_empty_database()`` (dropped and created again, empty).
- ``http``: an :class:`HttpClient` on the web, with ``login(email, password)``, ``get``,
  ``post`` and ``submit(path, fields)`` (reads the form's CSRF token first).
- ``smtp_sink.messages`` (``email.message.Message`` objects), ``smtp_sink.wait_for(count)``.

Outside CI a missing PostgreSQL or Redis skips the tests, naming the service; under CI=true it
fails them (as in tests/conftest.py).
"""
from __future__ import annotations

import email.message
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from http import cookiejar
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import CI, PG_ADMIN_URL, ROOT, postgres_available, service_unavailable

BIN = Path(sys.executable).parent
SMOKE_REDIS_URL = os.environ.get("GOVQMS_TEST_SMOKE_REDIS_URL", "redis://127.0.0.1:6379/14")
DEMO_PASSWORD = "govqms-demo"
STOP_SECONDS = 10
START_SECONDS = 45


@pytest.fixture(autouse=True)
def _rollback():
    """These tests use no in-process app or database: override the suite's per-test transaction
    (which would also run each test once per backend)."""
    yield


# --- processes -----------------------------------------------------------------------------------

def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # the name in (…) may contain spaces
        children.setdefault(parent, []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """Every process below *pid* (children, grandchildren…), from /proc."""
    children, found, todo = _children_by_parent(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_groups(pids: list[int], sig: int) -> None:
    groups = set()
    for pid in pids:
        try:
            groups.add(os.getpgid(pid))
        except ProcessLookupError:
            continue
    groups.discard(os.getpgrp())  # never the test run's own group
    for group in groups:
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            pass


class Process:
    """A command started in a process group (session) of its own, its output in a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path):
        self.name, self.args = name, args
        self.log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
        with self.log_path.open("wb") as log:
            self.popen = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def json_lines(self) -> list[dict]:
        lines = []
        for line in self.output().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
        return lines

    def kill(self) -> None:
        """SIGKILL the process's group and the groups of everything below it."""
        _kill_groups([self.pid, *descendants(self.pid)], signal.SIGKILL)
        self.popen.wait(timeout=STOP_SECONDS)

    def stop(self) -> None:
        """SIGTERM to the group (gunicorn and RQ shut down gracefully), SIGKILL what is left."""
        if not self.alive:
            return
        below = descendants(self.pid)
        _kill_groups([self.pid], signal.SIGTERM)
        try:
            self.popen.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        _kill_groups([self.pid, *(pid for pid in below if Path(f"/proc/{pid}").exists())], signal.SIGKILL)
        self.popen.wait(timeout=STOP_SECONDS)

    def __repr__(self) -> str:
        return f"<Process {self.name} pid={self.pid} {'running' if self.alive else 'exited'}>"


def wait_until(condition, what: str, timeout: float = START_SECONDS, processes: tuple[Process, ...] = ()):
    """Poll *condition* until it returns something truthy; fail early if a process died."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        for process in processes:
            if not process.alive:
                pytest.fail(f"{process.name} exited ({process.popen.returncode}) while waiting for {what}:\n"
                            f"{process.output()[-3000:]}", pytrace=False)
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.output()[-2000:]}" for p in processes)
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}", pytrace=False)
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- mail ----------------------------------------------------------------------------------------

class SmtpSink:
    """An SMTP server on loopback keeping every message it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Message

        self.messages: list[email.message.Message] = []
        sink = self

        class Keep(Message):
            def handle_message(self, message):
                sink.messages.append(message)

        self.port = free_port()
        self._controller = Controller(Keep(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def wait_for(self, count: int = 1, timeout: float = 15) -> list[email.message.Message]:
        wait_until(lambda: len(self.messages) >= count, f"{count} email(s)", timeout)
        return self.messages

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture(scope="module")
def smtp_sink():
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


# --- HTTP ----------------------------------------------------------------------------------------

class _BehindTlsProxy(cookiejar.DefaultCookiePolicy):
    """The client stands in for nginx, which ends TLS: production's Secure cookies go back to the
    app over loopback HTTP, as nginx passes them on."""

    def return_ok_secure(self, cookie, request):
        return True


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Response:
    status: int
    headers: email.message.Message
    body: bytes
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    def json(self):
        return json.loads(self.body)


class HttpClient:
    """A browser of sorts over real HTTP: a cookie jar, CSRF tokens read from forms, redirects
    followed only when asked. Every request carries ``X-Forwarded-Proto: https``, as nginx sends it
    (the deployment trusts one proxy), and form posts a same-site Referer, as browsers send it."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.cookies = cookiejar.CookieJar(policy=_BehindTlsProxy())
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects())

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None,
                follow: bool = False, timeout: float = 30) -> Response:
        url = urllib.parse.urljoin(self.base_url + "/", path)
        body = urllib.parse.urlencode(data or {}).encode() if method == "POST" else None
        all_headers = {"X-Forwarded-Proto": "https", **(headers or {})}
        if method == "POST":
            netloc = urllib.parse.urlsplit(self.base_url).netloc
            all_headers.setdefault("Referer", f"https://{netloc}{urllib.parse.urlsplit(url).path}")
        request = urllib.request.Request(url, data=body, method=method, headers=all_headers)
        try:
            with self._opener.open(request, timeout=timeout) as raw:
                response = Response(raw.status, raw.headers, raw.read(), url)
        except urllib.error.HTTPError as err:  # 3xx (not followed), 4xx, 5xx
            response = Response(err.code, err.headers, err.read(), url)
        if follow and response.status in (301, 302, 303, 307, 308) and response.location:
            return self.request("GET", urllib.parse.urljoin(url, response.location), headers=headers, follow=True)
        return response

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> Response:
        return self.request("POST", path, data=data, **kwargs)

    @staticmethod
    def csrf_token(page: Response) -> str:
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {page.url} ({page.status})"
        return match.group(1)

    def submit(self, path: str, fields: dict, **kwargs) -> Response:
        """GET the form at *path*, then POST *fields* to it with the form's CSRF token."""
        form = self.get(path)
        assert form.status == 200, f"GET {path}: {form.status}"
        return self.post(path, {"csrf_token": self.csrf_token(form), **fields}, **kwargs)

    def login(self, email_address: str, password: str = DEMO_PASSWORD) -> Response:
        response = self.submit("/login", {"email": email_address, "password": password, "next": ""})
        assert response.status == 302, f"login of {email_address} failed: {response.status}"
        return response


# --- the deployment ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DatabaseUrls:
    app: str
    owner: str


@dataclass
class Deployment:
    db_url: DatabaseUrls
    app_role: str
    redis_url: str
    queue: str
    base_url: str
    env: dict[str, str]
    owner_env: dict[str, str]
    log_dir: Path
    web: Process | None = None
    worker: Process | None = None
    cron: Process | None = None
    processes: list[Process] = field(default_factory=list)  # every one started, in order

    # commands
    def run_cli(self, *args: str, owner: bool = False, check: bool = True,
                timeout: float = 120) -> subprocess.CompletedProcess:
        """``govqms ARGS`` with the deployment's environment (the owner's database URL if *owner*)."""
        result = subprocess.run([str(BIN / "govqms"), *args], env=self.owner_env if owner else self.env, cwd=ROOT,
                                capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            pytest.fail(f"govqms {' '.join(args)} exited {result.returncode}:\n{result.stdout[-2000:]}"
                        f"\n{result.stderr[-3000:]}", pytrace=False)
        return result

    def start(self, name: str, *args: str) -> Process:
        process = Process(name, list(args), self.env, self.log_dir)
        self.processes.append(process)
        return process

    # the processes of the systemd units
    def start_web(self, wait: bool = True) -> Process:
        """gunicorn as govqms-web.service runs it, bound by GOVQMS_BIND."""
        self.web = self.start("web", str(BIN / "gunicorn"), "-c", str(ROOT / "deploy/gunicorn.conf.py"),
                              "govqms:create_app()")
        if wait:
            self.wait_for_web()
        return self.web

    def start_worker(self, *extra_args: str, wait: bool = True) -> Process:
        """A worker (replacing none: kill or stop the previous one first) with short intervals, so a
        job abandoned by a killed worker is noticed soon."""
        assert self.worker is None or not self.worker.alive, "a worker is running already"
        self.worker = self.start("worker", str(BIN / "govqms"), "worker", "--job-monitoring-interval", "2",
                                 "--maintenance-interval", "5", *extra_args)
        if wait:
            self.wait_for_worker()
        return self.worker

    def wait_for_worker(self) -> None:
        """Until this worker process (not a killed one still registered) listens on the queue."""
        from rq import Queue, Worker

        redis = self.redis()
        queue = Queue(self.queue, connection=redis)
        wait_until(lambda: any(w.pid == self.worker.pid for w in Worker.all(redis, queue=queue)),
                   "the worker to listen on its queue", processes=(self.worker,))

    def kill_worker(self) -> None:
        """SIGKILL the worker's process group and its work horse's (RQ gives the horse its own)."""
        assert self.worker is not None and self.worker.alive, "no worker running"
        self.worker.kill()

    def start_cron(self, wait: bool = True) -> Process:
        self.cron = self.start("cron", str(BIN / "govqms"), "cron")
        if wait:
            self.wait_for_cron()
        return self.cron

    def wait_for_cron(self) -> None:
        wait_until(lambda: f"to run on {self.queue}" in self.cron.output(), "the scheduler to load its schedule",
                   processes=(self.cron,))

    def wait_for_web(self) -> None:
        def healthy():
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=5) as response:
                    return response.status == 200
            except (OSError, urllib.error.HTTPError):
                return False

        wait_until(healthy, "the web to answer /healthz", processes=(self.web,))

    def redis(self):
        from redis import Redis

        return Redis.from_url(self.redis_url)

    def client(self) -> HttpClient:
        return HttpClient(self.base_url)

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ({p.popen.returncode if not p.alive else 'running'})\n{p.output()[-4000:]}"
                         for p in self.processes)

    # data
    @property
    def storage_dir(self) -> Path:
        """The stored files' folder: ``files/`` of the instance folder, as in production."""
        return Path(self.env["GOVQMS_INSTANCE_PATH"]) / "files"

    def record_counts(self) -> dict[str, int]:
        """Rows of every table, read as the owner (whom row-level security hides nothing from)."""
        engine = sa.create_engine(self.db_url.owner, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return {name: conn.scalar(sa.text(f'select count(*) from "{name}"'))
                        for name in sa.inspect(conn).get_table_names()}
        finally:
            engine.dispose()

    def recreate_empty_database(self) -> None:
        """Drop the database (ending its connections) and create it again, empty, owned by the owner:
        what README's restore procedure does with ``dropdb`` and ``createdb``. The roles stay."""
        url = sa.engine.make_url(self.db_url.owner)
        engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'drop database if exists "{url.database}" with (force)'))
                conn.execute(sa.text(f'create database "{url.database}" owner "{url.username}" encoding \'UTF8\' '
                                     "template template0"))
        finally:
            engine.dispose()


def _require_services() -> None:
    problem = postgres_available()
    if problem:
        service_unavailable("PostgreSQL", problem)
    try:
        from redis import Redis

        Redis.from_url(SMOKE_REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        service_unavailable("Redis", str(exc).splitlines()[0])
    for program in ("gunicorn", "govqms"):
        if not (BIN / program).exists():
            message = f"{program} is not installed in {BIN} (pip install -e '.[test]')"
            if CI:
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
    if shutil.which("psql") is None:
        service_unavailable("PostgreSQL client (psql)", "not on PATH")


def _roles_script(owner: str, app_role: str, database: str) -> str:
    """deploy/postgresql-roles.sql with this deployment's names."""
    sql = (ROOT / "deploy/postgresql-roles.sql").read_text()
    sql = sql.replace("govqms_owner", owner).replace("govqms_app", app_role)
    return re.sub(r"\bgovqms\b", database, sql)


def _create_database(owner: str, app_role: str, database: str) -> None:
    admin = sa.engine.make_url(PG_ADMIN_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    result = subprocess.run(["psql", admin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"],
                            input=_roles_script(owner, app_role, database), capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        pytest.fail(f"deploy/postgresql-roles.sql failed:\n{result.stderr}", pytrace=False)


def _drop_database(owner: str, app_role: str, database: str) -> None:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{database}" with (force)'))
            conn.execute(sa.text(f'drop role if exists "{app_role}"'))
            conn.execute(sa.text(f'drop role if exists "{owner}"'))
    finally:
        engine.dispose()


def _job_ids(owner_url: str) -> list[str]:
    engine = sa.create_engine(owner_url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(sa.text("select id from job")))
    except sa.exc.SQLAlchemyError:
        return []
    finally:
        engine.dispose()


def _forget_redis_keys(deployment: Deployment, job_ids: list[str]) -> None:
    """Only this deployment's keys (another run may share the Redis database): its queue's, its
    workers', and those of every job that went through the queue or is recorded in its database."""
    from rq import Queue

    try:
        redis = deployment.redis()
        queue = Queue(deployment.queue, connection=redis)
        ids = set(job_ids) | set(queue.get_job_ids())
        for registry in (queue.started_job_registry, queue.finished_job_registry, queue.failed_job_registry,
                         queue.deferred_job_registry, queue.scheduled_job_registry, queue.canceled_job_registry):
            ids.update(registry.get_job_ids())
        workers = [member.decode() for member in redis.smembers(f"rq:workers:{deployment.queue}")]
        if workers:
            redis.srem("rq:workers", *workers)
        redis.srem("rq:queues", queue.key)
        patterns = [f"*{deployment.queue}*", *(f"{key}*" for key in workers), *(f"rq:*{job_id}*" for job_id in ids)]
        for pattern in patterns:
            keys = list(redis.scan_iter(match=pattern, count=500))
            if keys:
                redis.delete(*keys)
    except Exception as exc:  # noqa: BLE001 - cleanup must not hide the test's own result
        print(f"could not remove the deployment's Redis keys: {exc!r}")


@pytest.fixture(scope="module")
def deployment(smtp_sink, tmp_path_factory):
    _require_services()
    suffix = uuid.uuid4().hex[:10]
    owner, app_role, database = f"govqms_smoke_owner_{suffix}", f"govqms_smoke_app_{suffix}", f"govqms_smoke_{suffix}"
    base = sa.engine.make_url(PG_ADMIN_URL)
    urls = DatabaseUrls(
        app=base.set(username=app_role, password=None, database=database).render_as_string(hide_password=False),
        owner=base.set(username=owner, password=None, database=database).render_as_string(hide_password=False),
    )
    folder = tmp_path_factory.mktemp("smoke")
    port = free_port()
    queue = f"govqms-smoke-{suffix}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("GOVQMS_")}
    env.update({
        "GOVQMS_ENV": "production",
        "GOVQMS_SECRET_KEY": secrets.token_hex(32),
        "GOVQMS_DATABASE_URL": urls.app,
        "GOVQMS_REDIS_URL": SMOKE_REDIS_URL,
        "GOVQMS_JOB_QUEUE": queue,
        "GOVQMS_INSTANCE_PATH": str(folder / "instance"),
        "GOVQMS_BASE_URL": f"https://127.0.0.1:{port}",
        "GOVQMS_SMTP_URL": smtp_sink.url,
        "GOVQMS_MAIL_FROM": "GovQMS <no-reply@smoke.govqms.test>",
        "GOVQMS_TRUSTED_PROXIES": "1",
        "GOVQMS_LOG_FORMAT": "json",
        "GOVQMS_BIND": f"127.0.0.1:{port}",
        "GOVQMS_WORKERS": "2",
        # Retries after a short wait, so a job abandoned by a killed worker runs again soon.
        "GOVQMS_JOB_RETRY_DELAYS": "1,1,1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    created = Deployment(db_url=urls, app_role=app_role, redis_url=SMOKE_REDIS_URL, queue=queue,
                         base_url=f"http://127.0.0.1:{port}", env=env,
                         owner_env={**env, "GOVQMS_DATABASE_URL": urls.owner}, log_dir=folder)
    started = time.monotonic()
    _create_database(owner, app_role, database)
    try:
        created.run_cli("db", "upgrade", owner=True)
        created.run_cli("grant-app-role", app_role, owner=True)
        created.run_cli("demo")
        # Started together, then waited for: they boot in parallel.
        created.start_web(wait=False)
        created.start_worker(wait=False)
        created.start_cron(wait=False)
        created.wait_for_web()
        created.wait_for_worker()
        created.wait_for_cron()
        print(f"deployment ready in {time.monotonic() - started:.1f}s: {created.base_url}, database {database}")
        yield created
    finally:
        created.stop_all()
        _forget_redis_keys(created, _job_ids(urls.owner))
        _drop_database(owner, app_role, database)


@pytest.fixture
def http(deployment) -> HttpClient:
    """A new client (no cookies) on the deployment's web."""
    return deployment.client()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing smoke test shows the end of each process's output."""
    outcome = yield
    report = outcome.get_result()
    deployment = getattr(item, "funcargs", {}).get("deployment")
    if report.failed and deployment is not None:
        report.sections.append(("deployment processes", deployment.logs()))
