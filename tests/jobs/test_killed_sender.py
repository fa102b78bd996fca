"""A worker killed while it sends an email: the email is delivered once all the same.

A real ``govqms worker`` on the real Redis talks to a real SMTP server on loopback that holds the first
message at the end of its DATA (no "250 OK" yet); the worker and its work horse are then killed, as when
the machine goes down, so the server never takes that message. The notification stays "sending" until
its claim is stale; then it is sent again, by a new worker, with the Message-ID the first attempt had:
one message arrives, the notification is marked sent, and the job's summary says so.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from tests.conftest import REDIS_URL, ROOT, free_port, redis_available, service_unavailable
from tests.jobs.conftest import kill_process

pytestmark = pytest.mark.committed


class HoldingSink:
    """An SMTP server that holds the first message until told, then drops it (as a server does when its
    client goes away before the end of the transaction), and takes every later one."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.received, self.holding, self.release = [], threading.Event(), threading.Event()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                import asyncio
                from email import message_from_bytes

                if not sink.holding.is_set():
                    sink.holding.set()
                    while not sink.release.is_set():
                        await asyncio.sleep(0.05)
                    return "421 closing: the client went away"
                sink.received.append(message_from_bytes(envelope.content))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.controller.stop()


def _children(pid: int) -> list[int]:
    """The processes *pid* forked (RQ's work horse runs in a session of its own)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _state(notification_id: int) -> dict:
    from govqms.core.tenancy import TenantScope, apply_database_scope
    from govqms.extensions import db
    from govqms.notifications.models import Notification

    table = Notification.__table__
    with db.engine.connect() as conn:
        apply_database_scope(conn, TenantScope.system())
        return conn.execute(sa.select(table.c.email_state, table.c.email_attempts, table.c.emailed_by_job)
                            .where(table.c.id == notification_id)).one()._asdict()


def test_a_worker_killed_mid_send_delivers_the_email_once(installation):
    problem = redis_available()
    if problem:
        service_unavailable("Redis", problem)
    from redis import Redis

    from govqms.core.activity import Actor, acting_as
    from govqms.core.db import utcnow
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.jobs import services as jobs
    from govqms.jobs.models import Job
    from govqms.notifications import services
    from govqms.notifications.models import EmailState

    app, world = installation.app, installation.world
    queue_name = f"govqms-killed-sender-{os.getpid()}"
    before = {key: app.config[key] for key in ("REDIS_URL", "JOB_QUEUE", "SMTP_URL")}
    worker = None
    with HoldingSink() as sink:
        smtp_url = f"smtp://127.0.0.1:{sink.controller.port}"
        app.config.update(REDIS_URL=REDIS_URL, JOB_QUEUE=queue_name, SMTP_URL=smtp_url)
        env = {**os.environ, "GOVQMS_DATABASE_URL": installation.backend.app_url, "GOVQMS_REDIS_URL": REDIS_URL,
               "GOVQMS_JOB_QUEUE": queue_name, "GOVQMS_SMTP_URL": smtp_url, "GOVQMS_ENV": "testing"}
        command = [sys.executable, "-m", "govqms.cli", "worker", "--burst"]
        try:
            with app.app_context(), scoped(TenantScope.system()), acting_as(Actor(None, "tests")):
                Redis.from_url(REDIS_URL).delete(f"rq:queue:{queue_name}")
                staff = db.session.scalar(sa.text("select id from \"user\" where email = :e"),
                                          {"e": world.email("a1_staff")})
                services.notify([staff], kind="action", event_key=f"killed-sender:{queue_name}", step="due")
                db.session.commit()
                notification_id = db.session.scalar(sa.text(
                    "select id from notification where event_key = :k"), {"k": f"killed-sender:{queue_name}"})
                first_job = jobs.enqueue("notifications.deliver", tenant_id=None, user_id=None).id
            worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, start_new_session=True)
            assert sink.holding.wait(60), "the worker never reached the SMTP server"
            for pid in [worker.pid, *_children(worker.pid)]:  # the worker and its work horse, mid-send
                kill_process(pid)
            worker.communicate(timeout=30)
            sink.release.set()
            with app.app_context():
                assert _state(notification_id)["email_state"] == EmailState.SENDING
            assert sink.received == []

            # Later (the claim is stale), the next delivery takes the interrupted email back and sends it.
            with app.app_context(), scoped(TenantScope.system()):
                later = utcnow() + services.STALE_CLAIM + dt.timedelta(minutes=1)
                assert services.retry_interrupted(later) == (1, 0)
                second_job = jobs.enqueue("notifications.deliver", tenant_id=None, user_id=None).id
            started = time.monotonic()
            retry = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
            assert retry.returncode == 0, retry.stderr[-3000:]
            deadline = time.monotonic() + 10
            while not sink.received and time.monotonic() < deadline:
                time.sleep(0.05)
            mine = [m for m in sink.received if m["To"] == world.email("a1_staff")]
            assert len(mine) == 1
            assert mine[0]["Message-ID"].startswith(f"<govqms.notification.{notification_id}@")
            with app.app_context(), scoped(TenantScope.system()):
                state = _state(notification_id)
                assert (state["email_state"], state["email_attempts"], state["emailed_by_job"]) == (
                    EmailState.SENT, 2, second_job)
                assert db.session.get(Job, second_job).message.startswith("1 ")  # its summary counts it
                assert db.session.get(Job, first_job).status == "started"  # killed: RQ's maintenance retries it
            print(f"killed mid-send; delivered once by the next worker in {time.monotonic() - started:.1f}s")
        finally:
            if worker is not None and worker.returncode is None:
                for pid in [worker.pid, *_children(worker.pid)]:
                    kill_process(pid)
                worker.communicate(timeout=30)
            app.config.update(before)
            Redis.from_url(REDIS_URL).delete(f"rq:queue:{queue_name}")
