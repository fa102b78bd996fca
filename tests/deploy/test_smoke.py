"""Smoke test of the production topology (`make smoke`): migrations as the owner, gunicorn with
deploy/gunicorn.conf.py, the worker and the scheduler as the application role, over real HTTP
and SMTP on loopback. The fixtures are in tests/deploy/conftest.py."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import uuid

import pytest

from tests.deploy.conftest import wait_until

pytestmark = pytest.mark.smoke

AGENCY = "kh-so-khcn"
SECRETARY = "thuky.khcn@demo.govqms.vn"  # ISO secretary of the demo's Department of Science and Technology


def test_health_check_sees_database_and_redis(deployment, http):
    response = http.get("/healthz")
    assert response.status == 200
    # and no job waits in the outbox: the queue takes them as they come
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}, "waiting_jobs": 0}
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


def test_activity_export_of_a_long_log(deployment, http):
    http.login(SECRETARY)
    _, status = run_export(deployment, http, f"/t/{AGENCY}/activity/", f"/t/{AGENCY}/activity/export")
    assert status["status"] == "finished", status


def test_invitation_is_emailed_through_smtp(deployment, smtp_sink, http):
    before = len(smtp_sink.messages)
    result = deployment.run_cli("tenants", "invite", "xem.khcn@demo.govqms.vn")
    assert "(emailed)" in result.stdout
    # the worker may email a notification meanwhile (an overseer's, say): the invitation is the one to them
    wait_until(lambda: any(m["To"] == "xem.khcn@demo.govqms.vn" for m in smtp_sink.messages[before:]),
               "the invitation's email", 15)
    (message,) = [m for m in smtp_sink.messages[before:] if m["To"] == "xem.khcn@demo.govqms.vn"]
    body = message.get_payload(decode=True).decode("utf-8")
    link = re.search(r"(https://\S+/invite/\S+)", body).group(1)
    assert link.startswith(deployment.env["GOVQMS_BASE_URL"])
    assert http.get(link.replace(deployment.env["GOVQMS_BASE_URL"], "")).status == 200


def test_scheduler_runs_beside_the_worker(deployment):
    assert deployment.cron.alive
    scheduled = [line for line in deployment.cron.json_lines() if f"to run on {deployment.queue}" in line["message"]]
    assert any("compliance.snapshot" in line["message"] or "enqueue_scheduled" in line["message"]
               for line in scheduled)


def test_reminder_arrives_once_though_the_worker_dies_in_the_middle_of_the_job(deployment, http, smtp_sink):
    """A record due tomorrow; the reminders job is killed with its worker while it writes the
    notifications; a new worker takes the abandoned job over: one notification in the inbox, one
    email in the SMTP sink, the job finished on its second attempt."""
    from zoneinfo import ZoneInfo

    import sqlalchemy as sa

    http.login(SECRETARY)
    marker = f"smoke {uuid.uuid4().hex[:8]}"
    description = f"Báo cáo khắc phục trước hạn ({marker})"
    tomorrow = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date() + dt.timedelta(days=1)
    form_path = f"/t/{AGENCY}/improvement/nonconformities/new"
    response = http.submit(form_path, {"source": "self_found", "found_on": tomorrow.strftime("%d/%m/%Y"),
                                       "description": description, "clause": "10.2", "unit_id": "",
                                       "due_on": tomorrow.strftime("%d/%m/%Y")})
    assert response.status == 302, response.text[:2000]

    owner = sa.create_engine(deployment.db_url.owner, poolclass=sa.pool.NullPool)
    lock = owner.connect()
    try:
        # Hold the worker in the middle of the job: it will wait to write the notifications.
        lock.execute(sa.text("lock table notification in share row exclusive mode"))
        started = deployment.run_cli("jobs", "run", "notifications.reminders")
        job_id = started.stdout.split()[0]

        def blocked():
            with owner.connect() as c:
                return c.scalar(sa.text("select count(*) from pg_locks l join pg_class t on t.oid = l.relation "
                                        "where t.relname = 'notification' and not l.granted")) > 0

        wait_until(blocked, "the job to reach the notifications", timeout=30, processes=(deployment.worker,))
        deployment.kill_worker()
        assert not deployment.worker.alive
    finally:
        lock.rollback()
        lock.close()

    def job_row():
        with owner.connect() as c:
            return c.execute(sa.text("select status, attempts, error from job where id = :id"), {"id": job_id}).one()

    assert job_row().status == "started"  # the killed attempt never finished
    deployment.start_worker()
    wait_until(lambda: job_row().status == "finished", "the new worker to finish the abandoned job",
               timeout=120, processes=(deployment.worker,))
    assert job_row().attempts == 2

    with owner.connect() as c:
        told = c.execute(sa.text("select u.email, n.step, n.email_state from notification n "
                                 "join \"user\" u on u.id = n.user_id where n.kind = 'nonconformity' "
                                 "and cast(n.params as text) like :text"), {"text": f"%{marker}%"}).all()
    # The agency's ISO secretaries (the demo has two), each told once, each emailed.
    recipients = [email for email, _step, _state in told]
    assert SECRETARY in recipients and len(recipients) == len(set(recipients))
    assert {(step, state) for _email, step, state in told} == {("before-1", "sent")}
    wait_until(lambda: [m for m in smtp_sink.messages if description in m.get_payload(decode=True).decode("utf-8")],
               "the reminder email", timeout=15)
    wait_until(lambda: len([m for m in smtp_sink.messages if description in m.get_payload(decode=True)
                            .decode("utf-8")]) >= len(recipients), "every reminder email", timeout=15)
    emails = [m for m in smtp_sink.messages if description in m.get_payload(decode=True).decode("utf-8")]
    assert sorted(m["To"] for m in emails) == sorted(recipients)  # one each, none twice
    inbox = http.get("/inbox/")
    assert inbox.status == 200 and inbox.text.count(description) == 1
    assert 'data-testid="unread-count"' in inbox.text
    owner.dispose()


def checksums(root) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_backup_then_restore_after_losing_database_and_files(deployment, http, tmp_path):
    """README's backup and restore on the deployment: `govqms backup` as the owner while the web
    serves, then the database dropped and the stored files deleted, an empty database created,
    `govqms restore`, the migrate unit's two steps, and the web again: every table has the rows it had,
    every stored file its checksum, and the secretary finds her agency's record."""
    http.login(SECRETARY)
    description = f"Record kept before the backup (smoke {uuid.uuid4().hex[:8]})"
    form_path = f"/t/{AGENCY}/improvement/nonconformities/new"
    response = http.submit(form_path, {"source": "self_found", "found_on": dt.date.today().strftime("%d/%m/%Y"),
                                       "description": description, "clause": "8.7", "unit_id": "", "due_on": ""})
    assert response.status == 302, response.text[:2000]
    # The worker and the scheduler write by themselves (jobs, emails): stopped, so the counts read
    # now are those the backup must hold. The web keeps serving: the backup is taken online.
    deployment.worker.stop()
    deployment.cron.stop()
    records = deployment.record_counts()
    files = checksums(deployment.storage_dir)
    assert files and records["tenant"] > 0 and records["document_file"] > 0  # the demo's documents

    backup = tmp_path / "backup"
    made = deployment.run_cli("backup", str(backup), owner=True)
    assert "backup written to" in made.stdout
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["kind"] == "postgresql" and manifest["problems"] == []
    assert manifest["database"]["counts"] == records
    assert {entry["key"]: entry["sha256"] for entry in manifest["files"]} == files

    # The application role cannot make one: row-level security would hide every agency's rows.
    refused = deployment.run_cli("backup", str(tmp_path / "as-app"), check=False)
    assert refused.returncode != 0 and "row-level security" in refused.stderr

    # The loss: the services stopped, the database and the stored files gone.
    deployment.web.stop()
    deployment.recreate_empty_database()
    shutil.rmtree(deployment.storage_dir)
    assert deployment.record_counts() == {}

    restored = deployment.run_cli("restore", str(backup), owner=True, timeout=300)
    assert "the row counts match the manifest" in restored.stdout, restored.stdout
    assert deployment.record_counts() == records
    assert checksums(deployment.storage_dir) == files
    again = deployment.run_cli("restore", str(backup), owner=True, check=False)
    assert again.returncode != 0 and "not empty" in again.stderr

    # `systemctl start govqms.target`: the migrate unit, then the services as the application role.
    deployment.run_cli("db", "upgrade", owner=True)
    deployment.run_cli("grant-app-role", deployment.app_role, owner=True)
    deployment.start_web(wait=False)
    deployment.start_worker(wait=False)
    deployment.start_cron(wait=False)
    deployment.wait_for_web()
    deployment.wait_for_worker()
    deployment.wait_for_cron()
    client = deployment.client()
    client.login(SECRETARY)
    listing = client.get(f"/t/{AGENCY}/improvement/nonconformities/")
    assert listing.status == 200 and description in listing.text
