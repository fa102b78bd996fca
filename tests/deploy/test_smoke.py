"""Smoke test of the production topology (`make smoke`): migrations as the owner, gunicorn with
deploy/gunicorn.conf.py, the worker and the scheduler as the application role, over real HTTP
and SMTP on loopback. The fixtures are in tests/deploy/conftest.py."""
from __future__ import annotations

import datetime as dt
import re
import time
import uuid

import pytest

from tests.deploy.conftest import descendants, wait_until

pytestmark = pytest.mark.smoke

AGENCY = "kh-so-khcn"
SECRETARY = "thuky.khcn@demo.govqms.vn"  # ISO secretary of the demo's Department of Science and Technology


def test_health_check_sees_database_and_redis(deployment, http):
    response = http.get("/healthz")
    assert response.status == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    assert response.headers.get("Set-Cookie") is None


def test_production_settings_reach_the_browser(deployment, http):
    page = http.get("/login")
    assert page.status == 200
    assert "max-age" in page.headers["Strict-Transport-Security"]  # HTTPS as nginx says (X-Forwarded-Proto)
    cookie = page.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_secretary_records_a_nonconformity_through_the_form(deployment, http):
    http.login(SECRETARY)
    description = f"Hồ sơ tiếp nhận thiếu phiếu kiểm soát (smoke {uuid.uuid4().hex[:8]})"
    form_path = f"/t/{AGENCY}/improvement/nonconformities/new"
    found_on = re.search(r'name="found_on"[^>]*value="([^"]+)"', http.get(form_path).text)
    response = http.submit(form_path, {
        "source": "self_found",
        "found_on": found_on.group(1) if found_on else dt.date.today().strftime("%d/%m/%Y"),
        "description": description,
        "clause": "8.7",
        "unit_id": "",
        "due_on": "",
    })
    assert response.status == 302, response.text[:2000]
    assert re.search(rf"/t/{AGENCY}/improvement/nonconformities/\d+$", response.location)
    listing = http.get(f"/t/{AGENCY}/improvement/nonconformities/")
    assert listing.status == 200 and description in listing.text


def test_web_logs_json_lines_with_request_id_and_tenant(deployment, http):
    http.login(SECRETARY)
    response = http.get(f"/t/{AGENCY}/", headers={"X-Request-ID": f"smoke-{uuid.uuid4().hex}"})
    assert response.status == 200
    request_id = response.headers["X-Request-ID"]
    assert request_id.startswith("smoke-")

    def access_line():
        return next((line for line in deployment.web.json_lines()
                     if line.get("request_id") == request_id and line.get("logger") == "govqms.access"), None)

    line = wait_until(access_line, "the access line of the request", timeout=10)
    assert line["tenant"] == AGENCY and line["status"] == 200 and line["path"] == f"/t/{AGENCY}/"
    assert isinstance(line["user_id"], int) and isinstance(line["tenant_id"], int)
    assert any(entry.get("logger") == "gunicorn.error" for entry in deployment.web.json_lines())


def run_export(deployment, http, page: str, export: str):
    """POST an export form as the user would, then follow the job's status until the worker is done."""
    response = http.post(export, {"csrf_token": http.csrf_token(http.get(page))})
    assert response.status == 302 and "/jobs/" in response.location, response.status
    job_path = response.location

    def done():
        status = http.get(f"{job_path}/status").json()
        return status if status["done"] else None

    status = wait_until(done, f"the worker to run the job of {export}", timeout=30, processes=(deployment.worker,))
    return job_path, status


def test_export_runs_as_a_job_on_the_worker(deployment, http):
    http.login(SECRETARY)
    job_path, status = run_export(deployment, http, f"/t/{AGENCY}/documents/", f"/t/{AGENCY}/documents/export")
    assert status["status"] == "finished" and status["has_result"], status
    download = http.get(f"{job_path}/download")
    assert download.status == 200 and download.body[:2] == b"PK"  # an XLSX workbook


@pytest.mark.xfail(strict=True, reason=(
    "activity.export_csv streams the log with yield_per (a server-side cursor on PostgreSQL) while "
    "JobHandle.progress commits every 500 rows, which closes the cursor: 'cursor … does not exist' on any "
    "log longer than 500 entries, as the demo agency's is. To fix in activity/tasks.py; then drop this mark."))
def test_activity_export_of_a_long_log(deployment, http):
    http.login(SECRETARY)
    _, status = run_export(deployment, http, f"/t/{AGENCY}/activity/", f"/t/{AGENCY}/activity/export")
    assert status["status"] == "finished", status


def test_invitation_is_emailed_through_smtp(deployment, smtp_sink, http):
    before = len(smtp_sink.messages)
    result = deployment.run_cli("tenants", "invite", "xem.khcn@demo.govqms.vn")
    assert "(emailed)" in result.stdout
    message = smtp_sink.wait_for(before + 1)[-1]
    assert message["To"] == "xem.khcn@demo.govqms.vn"
    body = message.get_payload(decode=True).decode("utf-8")
    link = re.search(r"(https://\S+/invite/\S+)", body).group(1)
    assert link.startswith(deployment.env["GOVQMS_BASE_URL"])
    assert http.get(link.replace(deployment.env["GOVQMS_BASE_URL"], "")).status == 200


def test_scheduler_runs_beside_the_worker(deployment):
    assert deployment.cron.alive
    scheduled = [line for line in deployment.cron.json_lines() if f"to run on {deployment.queue}" in line["message"]]
    assert any("compliance.snapshot" in line["message"] or "enqueue_scheduled" in line["message"]
               for line in scheduled)


def test_killed_worker_takes_its_work_horse_and_a_new_one_takes_over(deployment, http):
    """kill_worker() is what a crash does: the worker and the job it was running die at once."""
    from rq import Queue

    queue = Queue(deployment.queue, connection=deployment.redis())
    queue.enqueue("time.sleep", 60, job_timeout=120, result_ttl=0)  # the horse sleeps until killed
    worker_pid = deployment.worker.pid

    def horse():  # RQ gives the work horse a process group of its own
        return next((pid for pid in descendants(worker_pid) if _group_of(pid) == pid), None)

    horse_pid = wait_until(horse, "the worker to start the job", timeout=20, processes=(deployment.worker,))
    deployment.kill_worker()
    assert not deployment.worker.alive
    wait_until(lambda: not _running(horse_pid), "the work horse to die", timeout=5)

    deployment.start_worker()
    test_export_runs_as_a_job_on_the_worker(deployment, http)


def _group_of(pid: int) -> int | None:
    import os

    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan waits for init to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
