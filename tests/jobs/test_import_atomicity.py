"""An import is all or nothing, whatever its size and however its job ends.

The task's writes are one transaction that the job runner commits once, at the end; progress
reports do not commit it (on PostgreSQL they go through a connection of their own). So, seen
from another connection, as the web pages and the other workers see the database:

- while an import runs, none of its rows is visible, although the job shows its progress;
- an import that fails half-way (a value the database refuses) leaves nothing, and the job
  says why in words;
- a worker killed in the middle leaves nothing, and the retry stores the file as one clean run
  would: every row added, none "updated" from the first attempt.

These tests commit, so they run on a database of their own (one per backend, for this module):
the activity log of the shared test world cannot be cleaned up afterwards. Each test imports
into an agency no other test of the module writes to.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from govqms.jobs.services import task
from tests.conftest import (
    PASSWORD,
    REDIS_URL,
    ROOT,
    World,
    login,
    redis_available,
    service_unavailable,
)
from tests.jobs.conftest import kill_process as _kill

pytestmark = pytest.mark.committed

HEADER = "Mã thủ tục,Tên thủ tục,Lĩnh vực\n"


def catalogue(rows: int, bad_row: int | None = None, bad_name: str = "") -> bytes:
    """A procedures catalogue of *rows* rows; the one on spreadsheet row *bad_row* (the header is
    row 1) gets *bad_name* as its name."""
    lines = [f"1.{n:06},{bad_name if n + 2 == bad_row else f'Thủ tục số {n}'},Hộ tịch\n" for n in range(rows)]
    return (HEADER + "".join(lines)).encode()


def committed(tenant_id: int, job_id: str | None = None) -> dict:
    """What another connection sees of an import into *tenant_id* (and of its job): committed data."""
    from govqms.core.activity import ActivityEntry
    from govqms.core.tenancy import TenantScope, apply_database_scope
    from govqms.extensions import db
    from govqms.jobs.models import Job
    from govqms.procedures.models import AdminProcedure

    procedures, entries, jobs = AdminProcedure.__table__, ActivityEntry.__table__, Job.__table__
    with db.engine.connect() as conn:
        apply_database_scope(conn, TenantScope.system())
        seen = {
            "procedures": conn.scalar(sa.select(sa.func.count()).select_from(procedures)
                                      .where(procedures.c.tenant_id == tenant_id)),
            "created": conn.scalar(sa.select(sa.func.count()).select_from(entries).where(
                entries.c.tenant_id == tenant_id, entries.c.entity == "admin_procedure", entries.c.action == "create")),
            "updated": conn.scalar(sa.select(sa.func.count()).select_from(entries).where(
                entries.c.tenant_id == tenant_id, entries.c.entity == "admin_procedure", entries.c.action == "update")),
        }
        if job_id is not None:
            seen["job"] = conn.execute(sa.select(jobs.c.status, jobs.c.progress, jobs.c.attempts, jobs.c.message)
                                       .where(jobs.c.id == job_id)).one()._asdict()
    return seen


def user_id(world: World, handle: str) -> int:
    from govqms.accounts.models import User
    from govqms.extensions import db

    return db.session.scalar(sa.select(User.id).where(User.email == world.email(handle)))


def start_import(tenant_id: int, data: bytes, user: int | None = None, task_name: str = "procedures.import"):
    from govqms.core.storage import get_storage
    from govqms.jobs import services

    key = get_storage().put(tenant_id, data)
    return services.enqueue(task_name, tenant_id=tenant_id, user_id=user, storage_key=key, extension="csv",
                            locale="en").id


def test_progress_shows_while_the_imported_rows_stay_uncommitted(installation, system_context, monkeypatch):
    """2,500 rows, two progress reports on the way: from another connection, no row is visible
    during the import (the job's progress is, on PostgreSQL); after it, every row is."""
    from govqms.extensions import db
    from govqms.jobs.models import Job
    from govqms.jobs.services import JobHandle

    tenant_id = installation.world.tenant_ids["a1"]
    assert committed(tenant_id)["procedures"] == 0
    seen_during = []
    report = JobHandle.progress

    def report_and_look(handle, done, total, message=None):
        report(handle, done, total, message)
        seen_during.append((done, committed(tenant_id, handle.id)))

    monkeypatch.setattr(JobHandle, "progress", report_and_look)
    job_id = start_import(tenant_id, catalogue(2_500))

    job = db.session.get(Job, job_id)
    assert (job.status, job.progress, job.attempts) == ("finished", 100, 1), job.error
    assert job.message == "2500 procedure(s) added, 0 updated."
    postgresql = installation.backend.name == "postgresql"
    assert [(done, seen["procedures"], seen["created"]) for done, seen in seen_during] == [(1000, 0, 0), (2000, 0, 0)]
    # PostgreSQL: the progress is on the job page meanwhile; SQLite keeps it until the end (a second
    # writer would wait for the task's own write lock).
    assert [seen["job"]["progress"] for _, seen in seen_during] == ([40, 80] if postgresql else [0, 0])
    assert all(seen["job"]["status"] == "started" for _, seen in seen_during)
    assert committed(tenant_id) == {"procedures": 2_500, "created": 2_500, "updated": 0}


@task("tests.two_steps")
def two_steps(job, tenant_id: int) -> None:
    job.progress(1, 2, "Step one of two")


def test_a_finished_job_shows_its_outcome_not_its_last_step(installation, system_context):
    """A progress message tells the step under way (on PostgreSQL, written on its own connection);
    once the job has finished, it is gone: the page shows the task's outcome, or "Finished"."""
    from govqms.jobs import services

    job_id = services.enqueue("tests.two_steps", tenant_id=installation.world.tenant_ids["a1"], user_id=None).id
    assert committed(installation.world.tenant_ids["a1"], job_id)["job"] == {
        "status": "finished", "progress": 100, "attempts": 1, "message": None}


def test_one_invalid_value_near_the_end_leaves_nothing(installation, system_context):
    """A code too long on row 2,400 of 2,500: the file is refused with its report, nothing stored."""
    from govqms.extensions import db
    from govqms.jobs.models import Job

    tenant_id = installation.world.tenant_ids["b1"]
    data = catalogue(2_500).replace(b"1.002398,", b"1." + b"9" * 70 + b",")
    job = db.session.get(Job, start_import(tenant_id, data))
    assert job.status == "finished" and job.message == "Nothing imported: 1 problem(s) in the file."
    assert [(problem["row"], problem["column"]) for problem in job.report] == [(2400, "Mã thủ tục")]
    assert committed(tenant_id) == {"procedures": 0, "created": 0, "updated": 0}


@task("tests.import_then_conflict", read_only=False)
def import_then_conflict(job, tenant_id: int, storage_key: str, extension: str, locale: str = "vi") -> None:
    """The procedures import, then a row the database refuses (a code the import has just stored):
    a constraint of the database failing after every batch was flushed and reported."""
    from govqms.core.storage import get_storage
    from govqms.procedures.models import AdminProcedure
    from govqms.procedures.services import import_catalogue, save

    import_catalogue(tenant_id, get_storage().get(storage_key), extension, job.progress)
    save(AdminProcedure(tenant_id=tenant_id), code="1.000000", name="Twice", field="", work_procedure_id=None)


def test_a_database_error_after_the_batches_leaves_nothing_and_a_readable_failure(installation, system_context):
    """The database refuses a row once 2,500 were flushed: all of them go, the job is failed with
    a message in words (the traceback is for the operators), and its page says so (no error 500)."""
    from govqms.extensions import db
    from govqms.jobs.models import Job

    tenant_id = installation.world.tenant_ids["b1"]
    job_id = start_import(tenant_id, catalogue(2_500), user_id(installation.world, "b1_secretary"),
                          task_name="tests.import_then_conflict")
    job = db.session.get(Job, job_id)
    assert job.status == "failed" and job.finished_at is not None
    assert job.message.startswith("The data conflicts with records already stored"), job.message
    assert "Traceback" not in job.message and "IntegrityError" in job.error
    assert job.progress == (80 if installation.backend.name == "postgresql" else 0)  # two batches reported
    assert committed(tenant_id) == {"procedures": 0, "created": 0, "updated": 0}
    client = login(installation.app.test_client(), installation.world.email("b1_secretary"), PASSWORD)
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and "The data conflicts with records already stored" in page.text
    status = client.get(f"/jobs/{job_id}/status").get_json()
    assert status["status"] == "failed" and status["done"] and status["message"] == job.message


@pytest.mark.postgresql_only
def test_a_value_the_database_refuses_mid_import_fails_the_job_without_retry(installation, system_context,
                                                                             monkeypatch):
    """The database refuses a value on row 2,400, after two batches were flushed (a NUL character,
    which PostgreSQL cannot store, was such a value; the import now refuses it on its row before any
    write, so the refusal is staged here as the database would raise it). Nothing stays; the job is
    failed, in words, and not handed back to RQ for a retry that would be refused the same way."""
    import sqlalchemy.exc

    from govqms.core.storage import get_storage
    from govqms.extensions import db
    from govqms.jobs import services
    from govqms.jobs.models import Job
    from govqms.procedures import services as procedures

    real_save = procedures.save

    def save(procedure, **values):
        if values["name"] == "Thủ tục số 2398":  # spreadsheet row 2,400
            raise sqlalchemy.exc.DataError("INSERT INTO admin_procedure …", {}, Exception("invalid byte sequence"))
        return real_save(procedure, **values)

    monkeypatch.setattr(procedures, "save", save)
    tenant_id = installation.world.tenant_ids["b1"]
    key = get_storage().put(tenant_id, catalogue(2_500))
    job = Job(task="procedures.import", tenant_id=tenant_id, read_only=False,
              params={"storage_key": key, "extension": "csv", "locale": "en"})
    db.session.add(job)
    db.session.commit()
    job_id = job.id
    assert services.run_job(job_id) == "failed"  # returned, not raised: RQ does not retry it
    job = db.session.get(Job, job_id)
    assert job.status == "failed" and job.progress == 80 and "DataError" in job.error
    assert job.message.startswith("The database refused a value"), job.message
    assert committed(tenant_id) == {"procedures": 0, "created": 0, "updated": 0}


def test_a_nul_character_is_refused_on_its_row_before_any_write(installation, system_context):
    """What the database would refuse is refused first, on its row, with the rest of the file's report."""
    from govqms.core.storage import get_storage
    from govqms.extensions import db
    from govqms.jobs import services
    from govqms.jobs.models import Job

    tenant_id = installation.world.tenant_ids["b1"]
    key = get_storage().put(tenant_id, catalogue(2_500, bad_row=2_400, bad_name="Thủ tục\x00lỗi"))
    job = Job(task="procedures.import", tenant_id=tenant_id, read_only=False,
              params={"storage_key": key, "extension": "csv", "locale": "en"})
    db.session.add(job)
    db.session.commit()
    job_id = job.id
    assert services.run_job(job_id) == "finished"
    job = db.session.get(Job, job_id)
    assert [problem["row"] for problem in job.report] == [2_400]
    assert committed(tenant_id) == {"procedures": 0, "created": 0, "updated": 0}


@pytest.mark.postgresql_only
def test_a_worker_killed_mid_import_leaves_nothing_and_its_retry_adds_every_row(installation, tmp_path):
    """A real RQ worker imports 12,000 rows; once it has flushed and reported the first 1,000 it is
    killed (SIGKILL, worker and work horse, as when the machine goes down). Nothing is stored. RQ
    then retries the abandoned job, and a new worker stores the 12,000 rows, all of them added."""
    problem = redis_available()
    if problem:
        service_unavailable("Redis", problem)
    from redis import Redis
    from rq import Queue
    from rq.registry import StartedJobRegistry

    from govqms.core.tenancy import TenantScope, scoped

    app, tenant_id = installation.app, installation.world.tenant_ids["a2"]
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    queue_name = f"govqms-atomicity-{os.getpid()}"
    before = {key: app.config[key] for key in ("REDIS_URL", "JOB_QUEUE", "JOB_RETRY_DELAYS")}
    app.config.update(REDIS_URL=REDIS_URL, JOB_QUEUE=queue_name, JOB_RETRY_DELAYS=(0,))
    announced = tmp_path / "horse"
    env = {**os.environ, "GOVQMS_DATABASE_URL": installation.backend.app_url, "GOVQMS_REDIS_URL": REDIS_URL,
           "GOVQMS_JOB_QUEUE": queue_name, "GOVQMS_ENV": "testing",
           "GOVQMS_TEST_HORSE_PID_FILE": str(announced), "GOVQMS_TEST_PROGRESS_PAUSE": "60"}
    started = time.monotonic()
    worker, horse = None, None
    try:
        with app.app_context(), scoped(TenantScope.system()):
            job_id = start_import(tenant_id, catalogue(12_000))
        worker = subprocess.Popen([sys.executable, "-m", "tests.jobs.slow_worker", "worker", "--burst"], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  start_new_session=True)
        deadline = time.monotonic() + 60
        while not announced.exists() and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert announced.exists(), worker.communicate(timeout=10)[0][-3000:] if worker.poll() is not None else "late"
        horse, done = (int(value) for value in announced.read_text().split())
        with app.app_context():
            # The horse now sleeps inside the import's transaction, its first 1,000 rows flushed.
            during = committed(tenant_id, job_id)
        assert done == 1000
        assert during["job"]["status"] == "started" and during["job"]["progress"] == 8
        assert (during["procedures"], during["created"]) == (0, 0)

        _kill(worker.pid)
        _kill(horse)
        worker.communicate(timeout=30)
        with app.app_context():
            after_kill = committed(tenant_id, job_id)
        assert (after_kill["procedures"], after_kill["created"]) == (0, 0)
        assert (after_kill["job"]["status"], after_kill["job"]["attempts"]) == ("started", 1)

        # What RQ's maintenance does once the dead worker's heartbeat has lapsed (a minute or so later):
        # the abandoned job is retried, here at once (no retry delay).
        StartedJobRegistry(queue_name, connection=redis).cleanup(timestamp=time.time() + 3600)
        assert Queue(queue_name, connection=redis).count == 1
        retry = subprocess.run([sys.executable, "-m", "govqms.cli", "worker", "--burst"], cwd=ROOT,
                               env=env, capture_output=True, text=True, timeout=120)
        assert retry.returncode == 0, retry.stderr[-3000:]
        with app.app_context():
            final = committed(tenant_id, job_id)
        assert final["job"] == {"status": "finished", "progress": 100, "attempts": 2,
                                "message": "12000 procedure(s) added, 0 updated."}, retry.stderr[-3000:]
        assert final["procedures"] == 12_000 and (final["created"], final["updated"]) == (12_000, 0)
        print(f"killed mid-import and retried in {time.monotonic() - started:.1f}s")
    finally:
        for pid in (worker.pid if worker else None, horse):
            if pid:
                _kill(pid)
        if worker is not None and worker.returncode is None:
            worker.communicate(timeout=30)
        app.config.update(before)


@pytest.mark.postgresql_only
def test_a_worker_killed_re_importing_service_results_keeps_what_was_stored(installation, tmp_path):
    """3,000 service results stored, then the same periods imported again by a real RQ worker that is
    killed once it has deleted the stored rows and flushed the first 1,000 new ones: the stored rows
    are all still there, unchanged; the retried job replaces them exactly once."""
    problem = redis_available()
    if problem:
        service_unavailable("Redis", problem)
    import hashlib

    from redis import Redis
    from rq.registry import StartedJobRegistry

    from govqms.core.activity import Actor, acting_as
    from govqms.core.storage import get_storage
    from govqms.core.tenancy import TenantScope, apply_database_scope, scoped
    from govqms.extensions import db
    from govqms.jobs import services as jobs
    from govqms.performance import services
    from govqms.performance.models import ServiceResult

    app, tenant_id = installation.app, installation.world.tenant_ids["b1"]
    data = ("Kỳ báo cáo;Mã TTHC;Tiếp nhận;Trước hạn;Đúng hạn;Quá hạn;Đang giải quyết\n" + "".join(
        f"{m:02d}/2024;P{p:04d};10;3;5;1;1\n" for p in range(300) for m in range(1, 11))).encode()

    def stored() -> tuple[int, int]:
        table = ServiceResult.__table__
        with db.engine.connect() as conn:
            apply_database_scope(conn, TenantScope.system())
            return conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(table.c.id), 0))
                                .where(table.c.tenant_id == tenant_id)).one()

    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    queue_name = f"govqms-results-{os.getpid()}"
    before = {key: app.config[key] for key in ("REDIS_URL", "JOB_QUEUE", "JOB_RETRY_DELAYS")}
    announced = tmp_path / "horse"
    env = {**os.environ, "GOVQMS_DATABASE_URL": installation.backend.app_url, "GOVQMS_REDIS_URL": REDIS_URL,
           "GOVQMS_JOB_QUEUE": queue_name, "GOVQMS_ENV": "testing", "GOVQMS_TEST_HORSE_PID_FILE": str(announced),
           "GOVQMS_TEST_PROGRESS_PAUSE": "60", "GOVQMS_TEST_PAUSE_FROM": "3"}
    worker, horse = None, None
    try:
        with app.test_request_context(), scoped(TenantScope.tenant(tenant_id)), acting_as(Actor(None, "tests")):
            first = services.import_service_results(tenant_id, data, "csv")
            db.session.commit()
            assert first.stored == 3000
            original = stored()
        app.config.update(REDIS_URL=REDIS_URL, JOB_QUEUE=queue_name, JOB_RETRY_DELAYS=(0,))
        with app.app_context(), scoped(TenantScope.system()):
            get_storage().put(tenant_id, data)
            job_id = jobs.enqueue("performance.import_service_results", tenant_id=tenant_id, user_id=None,
                                  digest=hashlib.sha256(data).hexdigest(), extension="csv", locale="en").id
        worker = subprocess.Popen([sys.executable, "-m", "tests.jobs.slow_worker", "worker", "--burst"], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  start_new_session=True)
        deadline = time.monotonic() + 60
        while not announced.exists() and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert announced.exists(), worker.communicate(timeout=10)[0][-3000:] if worker.poll() is not None else "late"
        horse, done = (int(value) for value in announced.read_text().split())
        assert done > 1500  # checked (half the work), then the stored rows deleted and 1,000 new ones flushed
        with app.app_context():
            assert stored() == original  # the deletion and the new rows are not committed
        _kill(worker.pid)
        _kill(horse)
        worker.communicate(timeout=30)
        with app.app_context():
            assert stored() == original
        StartedJobRegistry(queue_name, connection=redis).cleanup(timestamp=time.time() + 3600)
        retry = subprocess.run([sys.executable, "-m", "govqms.cli", "worker", "--burst"], cwd=ROOT,
                               env=env, capture_output=True, text=True, timeout=180)
        assert retry.returncode == 0, retry.stderr[-3000:]
        with app.app_context():
            count, _ids = stored()
            job = committed(tenant_id, job_id)["job"]
        assert count == 3000 and job["status"] == "finished" and job["attempts"] == 2
        assert "3000 row(s) stored" in job["message"] and "replace 3000 row(s)" in job["message"], job
    finally:
        for pid in (worker.pid if worker else None, horse):
            if pid:
                _kill(pid)
        if worker is not None and worker.returncode is None:
            worker.communicate(timeout=30)
        app.config.update(before)
