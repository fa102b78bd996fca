from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import delete

from govqms.jobs.services import task
from tests.conftest import REDIS_URL, ROOT, redis_available, service_unavailable


def test_inline_job_runs_in_the_tenant_scope(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.jobs.models import Job

    login_as("b1_secretary").post(f"/t/{world.b1}/units/new", data={"code": "BSEC", "name": "Bí mật của B"})
    client = login_as("a1_secretary")
    client.post(f"/t/{world.a1}/units/new", data={"code": "AEXP", "name": "Phòng Xuất khẩu"})
    response = client.post(f"/t/{world.a1}/activity/export", data={})
    assert response.status_code == 302 and "/jobs/" in response.location
    job_id = response.location.rsplit("/", 1)[-1]
    job = db.session.get(Job, job_id)
    assert job.status == "finished" and job.progress == 100 and job.tenant_id == world.tenant_ids["a1"]
    page = client.get(response.location)
    assert "download" in page.text
    data = client.get(f"/jobs/{job_id}/download")
    assert data.status_code == 200 and data.mimetype == "text/csv"
    text = data.data.decode("utf-8-sig")
    assert "Phòng Xuất khẩu" in text and "Bí mật của B" not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["at", "actor", "entity"]
    status = client.get(f"/jobs/{job_id}/status").get_json()
    assert status["done"] and status["status"] == "finished"


def test_job_of_another_user_is_not_found(world, login_as):
    response = login_as("a1_head").post(f"/t/{world.a1}/activity/export", data={})
    job_url = response.location
    assert login_as("a1_secretary").get(job_url).status_code == 404
    assert login_as("p1_overseer").get(job_url + "/download").status_code == 404


@task("tests.explode")
def explode(job, tenant_id):
    raise RuntimeError("boom")


def test_failed_job_is_recorded(app, world, system_scope):
    from govqms.extensions import db
    from govqms.jobs import services
    from govqms.jobs.models import Job

    job = services.enqueue("tests.explode", tenant_id=world.tenant_ids["a1"], user_id=None)
    job = db.session.get(Job, job.id)
    assert job.status == "failed" and "boom" in job.error


def test_jobs_take_ids_not_objects(world, system_scope):
    from govqms.jobs import services

    with pytest.raises(TypeError):
        services.enqueue("activity.export_csv", tenant_id=world.tenant_ids["a1"], user_id=None, entity=object())


@pytest.mark.committed
def test_job_on_redis_is_run_by_a_real_worker(app, backend, world):
    """Enqueued on the real Redis, run by `govqms worker --burst` in another process."""
    problem = redis_available()
    if problem:
        service_unavailable("Redis", problem)
    from redis import Redis

    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.jobs import services
    from govqms.jobs.models import Job

    Redis.from_url(REDIS_URL).flushdb()
    queue_name = f"govqms-test-{os.getpid()}-{backend.name}"
    app.config.update(REDIS_URL=REDIS_URL, JOB_QUEUE=queue_name)
    try:
        with app.app_context(), scoped(TenantScope.system()):
            job = services.enqueue("activity.export_csv", tenant_id=world.tenant_ids["a1"], user_id=None)
            job_id = job.id
            assert db.session.get(Job, job_id).status == "queued"
        env = {**os.environ, "GOVQMS_DATABASE_URL": backend.app_url, "GOVQMS_REDIS_URL": REDIS_URL,
               "GOVQMS_JOB_QUEUE": queue_name, "GOVQMS_ENV": "testing"}
        started = time.monotonic()
        command = ([str(ROOT / ".venv/bin/govqms"), "worker", "--burst"] if (ROOT / ".venv/bin/govqms").exists()
                   else [sys.executable, "-m", "govqms.cli", "worker", "--burst"])
        result = subprocess.run(command,
                                env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        with app.app_context(), scoped(TenantScope.system()):
            job = db.session.get(Job, job_id)
            assert job.status == "finished", (job.status, job.error, result.stderr[-2000:])
            assert job.progress == 100 and job.result and job.attempts == 1
            print(f"redis job finished by a real worker in {time.monotonic() - started:.1f}s ({backend.name})")
            db.session.execute(delete(Job).where(Job.id == job_id))
            db.session.commit()
    finally:
        app.config.update(REDIS_URL=None, JOB_QUEUE="govqms")


def test_running_a_finished_job_again_does_nothing(world, system_scope):
    from govqms.extensions import db
    from govqms.jobs import services
    from govqms.jobs.models import Job

    job = services.enqueue("activity.export_csv", tenant_id=world.tenant_ids["a1"], user_id=None)
    first = db.session.get(Job, job.id).result
    assert services.run_job(job.id) == "finished"
    assert db.session.get(Job, job.id).attempts == 1 and db.session.get(Job, job.id).result == first


def test_schedule_is_read_by_rqs_cron_scheduler(app):
    """`govqms cron` loads govqms.jobs.cron into RQ's CronScheduler: the daily snapshot, on our queue."""
    problem = redis_available()
    if problem:
        service_unavailable("Redis", problem)
    from redis import Redis
    from rq.cron import CronScheduler

    from govqms.jobs.cron import SCHEDULE

    scheduler = CronScheduler(connection=Redis.from_url(REDIS_URL))
    scheduler.load_config_from_file("govqms.jobs.cron")  # (re)imports the module: compare functions by name
    registered = [(f"{job.func.__module__}.{job.func.__name__}", job.args, job.cron, job.queue_name)
                  for job in scheduler.get_jobs()]
    assert registered == [("govqms.jobs.cron.enqueue_scheduled", (task_name,), expression, "govqms")
                          for task_name, expression in SCHEDULE]
    assert ("compliance.snapshot", "15 17 * * *") in SCHEDULE


def test_a_scheduled_entry_records_and_runs_its_task(world, system_scope):
    """What the worker runs when the schedule fires: the task recorded as a job (inline here)."""
    from sqlalchemy import func, select

    from govqms.compliance.models import ComplianceSnapshot
    from govqms.extensions import db
    from govqms.jobs.cron import enqueue_scheduled
    from govqms.jobs.models import Job

    job_id = enqueue_scheduled("compliance.snapshot")
    job = db.session.get(Job, job_id)
    assert job.status == "finished" and job.task == "compliance.snapshot" and job.user_id is None
    assert db.session.scalar(select(func.count()).select_from(ComplianceSnapshot)) >= 3  # a1, a2, b1


def test_activity_export_in_batches_keeps_every_entry_in_order(world, login_as, system_scope, monkeypatch):
    """Batches are read one query each (no cursor held open across them), newest first."""
    from govqms.activity import tasks
    from govqms.extensions import db
    from govqms.jobs.models import Job

    monkeypatch.setattr(tasks, "BATCH", 2)
    client = login_as("a1_secretary")
    for n in range(5):
        client.post(f"/t/{world.a1}/units/new", data={"code": f"U{n}", "name": f"Phòng số {n}"})
    response = client.post(f"/t/{world.a1}/activity/export", data={})
    job = db.session.get(Job, response.location.rsplit("/", 1)[-1])
    assert job.status == "finished", job.error
    rows = list(csv.reader(io.StringIO(job.result.decode("utf-8-sig"))))[1:]
    names = [row[5] for row in rows if "Phòng số" in row[5]]
    assert len(names) == 5 and "Phòng số 4" in names[0] and "Phòng số 0" in names[-1]
