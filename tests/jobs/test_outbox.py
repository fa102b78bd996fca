"""The job outbox: a write and the jobs it asks for commit together; with Redis out the write stands, the
user is told the background part will follow, and the relay delivers it once Redis is back. Run on the
real Redis (a closed port stands for Redis out) with RQ's worker in this process, so the jobs run inside
the test's rolled-back transaction."""
from __future__ import annotations

import datetime as dt
import io
import os
import uuid

import pytest
from sqlalchemy import func, select

from tests.conftest import REDIS_URL, free_port, redis_available, service_unavailable
from tests.datacalls.test_data_calls import send
from tests.procedures.test_catalogue import xlsx


@pytest.fixture
def queue_name():
    problem = redis_available()
    if problem:
        service_unavailable("Redis", problem)
    return f"govqms-outbox-{os.getpid()}-{free_port()}"


@pytest.fixture
def redis_out(app, queue_name):
    """Redis configured, but nothing answers at its address; ``back()`` brings the real one."""
    app.config.update(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", JOB_QUEUE=queue_name)

    class Switch:
        @staticmethod
        def back():
            app.config["REDIS_URL"] = REDIS_URL

    try:
        yield Switch
    finally:
        app.config.update(REDIS_URL=None, JOB_QUEUE="govqms")
        from redis import Redis
        from rq import Queue

        Queue(queue_name, connection=Redis.from_url(REDIS_URL)).empty()


def run_worker(app, queue_name) -> None:
    """RQ's worker, in this process (the app and the test's transaction are this process's), until the
    queue is empty."""
    from redis import Redis
    from rq import SimpleWorker

    with app.app_context():
        SimpleWorker([queue_name], connection=Redis.from_url(REDIS_URL)).work(burst=True, with_scheduler=False)


def jobs(task: str):
    from govqms.extensions import db
    from govqms.jobs.models import Job

    db.session.expire_all()
    return db.session.scalars(select(Job).where(Job.task == task).order_by(Job.created_at)).all()


def test_a_data_call_sent_while_redis_is_out_is_sent_once_and_its_emails_follow(
        app, world, login_as, system_scope, smtp_sink, redis_out, queue_name):
    from govqms.datacalls.models import DataCall, DataCallReply
    from govqms.extensions import db
    from govqms.jobs import services

    overseer = login_as("p1_overseer")
    response = send(overseer, world, ["a1", "a2"])
    assert response.status_code == 302  # not a 500: the call is sent, the emails wait for the queue
    assert "Thư điện tử sẽ được gửi ngay khi dịch vụ xử lý nền hoạt động trở lại" in overseer.get(
        response.location).text  # and the overseer is told so
    assert db.session.scalar(select(func.count()).select_from(DataCall)) == 1
    assert db.session.scalar(select(func.count()).select_from(DataCallReply)) == 2
    waiting = jobs("notifications.deliver")
    assert len(waiting) == 1 and waiting[0].waiting_for_queue
    assert smtp_sink == []
    health = app.test_client().get("/healthz").get_json()
    assert health["checks"]["redis"] == "ConnectionError" and health["waiting_jobs"] == 1

    assert services.relay() == 0  # still out: nothing lost, nothing delivered
    redis_out.back()
    assert services.relay() == 1 and services.relay() == 0  # delivered once
    run_worker(app, queue_name)
    delivered = jobs("notifications.deliver")
    assert [job.status for job in delivered] == ["finished"]
    told = {message["To"] for message in smtp_sink.wait(1)}
    assert told and len(smtp_sink) == len(told)  # one email each, however often the relay runs
    assert app.test_client().get("/healthz").get_json()["waiting_jobs"] == 0


def test_an_export_and_an_import_asked_while_redis_is_out_run_when_it_is_back(
        app, world, login_as, system_scope, redis_out, queue_name):
    from govqms.extensions import db
    from govqms.procedures.models import AdminProcedure

    secretary = login_as("a1_secretary")
    export = secretary.post(f"/t/{world.a1}/documents/export", data={"sort": "code"})
    assert export.status_code == 302
    page = secretary.get(export.location)
    assert page.status_code == 200 and 'data-testid="waiting-for-queue"' in page.text
    assert secretary.get(export.location + "/status").get_json()["waiting_for_queue"] is True
    data = xlsx([["Mã thủ tục", "Tên thủ tục", "Lĩnh vực"], ["1.000001", "Cấp giấy phép", "Y tế"]])
    upload = secretary.post(f"/t/{world.a1}/procedures/import", data={"file": (io.BytesIO(data), "tthc.xlsx")},
                            content_type="multipart/form-data")
    assert upload.status_code == 302
    assert [job.waiting_for_queue for job in jobs("documents.export_register") + jobs("procedures.import")] == [
        True, True]

    redis_out.back()
    # the next job asked for finds the queue, and takes those that waited with it
    secretary.post(f"/t/{world.a1}/activity/export", data={})
    run_worker(app, queue_name)
    finished = jobs("documents.export_register") + jobs("procedures.import") + jobs("activity.export_csv")
    assert [job.status for job in finished] == ["finished"] * 3, [(j.task, j.status, j.error) for j in finished]
    assert finished[0].result and finished[0].attempts == 1
    assert db.session.scalar(select(AdminProcedure).where(AdminProcedure.code == "1.000001")).name == "Cấp giấy phép"
    assert 'data-testid="waiting-for-queue"' not in secretary.get(export.location).text


def test_a_job_the_queue_lost_goes_back_to_the_outbox(app, world, system_scope, queue_name):
    """A relay that died between its claim and its push (or Redis that lost its data): the job is
    still "queued" ten minutes on, with no trace in Redis, so it is handed over again."""
    from govqms.core.db import utcnow
    from govqms.extensions import db
    from govqms.jobs import services
    from govqms.jobs.models import Job

    app.config.update(REDIS_URL=REDIS_URL, JOB_QUEUE=queue_name)
    try:
        job = Job(id=str(uuid.uuid4()), task="activity.export_csv", params={},  # unknown to the queue
                  tenant_id=world.tenant_ids["a1"], relayed_at=utcnow() - dt.timedelta(minutes=11))
        db.session.add(job)
        db.session.commit()
        assert services.recheck_relayed() == 1
        db.session.refresh(job)
        assert job.waiting_for_queue
        assert services.relay() == 1
        assert services.recheck_relayed() == 0  # on the queue now
        run_worker(app, queue_name)
        db.session.refresh(job)
        assert job.status == "finished"
    finally:
        app.config.update(REDIS_URL=None, JOB_QUEUE="govqms")
