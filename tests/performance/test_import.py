"""Importing service results: mapping with a preview, every row checked, all or nothing, big files as jobs."""
from __future__ import annotations

import io
import os
import subprocess
import time

import pytest
from sqlalchemy import delete, func, select

from tests.conftest import REDIS_URL, ROOT, redis_available, service_unavailable

HEADER = "Kỳ báo cáo;Mã TTHC;Tiếp nhận;Trước hạn;Đúng hạn;Quá hạn;Đang giải quyết\n"


def csv_bytes(rows: list[str]) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode("utf-8-sig")


def big_file(n: int) -> bytes:
    rows = [f"{m:02d}/2024;P{p:04d};10;3;5;1;1" for p in range(n // 10) for m in range(1, 11)]
    return csv_bytes(rows)


def upload(client, slug, data, name="ketqua.csv"):
    response = client.post(f"/t/{slug}/performance/import", data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.text[:300]
    return response.location


def count_results(db, tenant_id):
    from govqms.performance.models import ServiceResult

    return db.session.scalar(select(func.count()).select_from(ServiceResult).where(
        ServiceResult.tenant_id == tenant_id))


def test_mapping_is_guessed_and_previewed(world, login_as):
    client = login_as("a1_secretary")
    mapping_url = upload(client, world.a1, csv_bytes(["01/2025;1.001;10;2;7;0;1"]))
    page = client.get(mapping_url)
    assert page.status_code == 200 and "1.001" in page.text  # preview row
    assert '<option value="0" selected>Kỳ báo cáo</option>' in page.text  # guessed from the header
    assert '<option value="5" selected>Quá hạn</option>' in page.text


def test_good_file_imports(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.performance.models import ServiceResult

    client = login_as("a1_secretary")
    mapping_url = upload(client, world.a1, csv_bytes(["01/2025;1.001;10;2;7;0;1", "2025-02;1.001;5;0;4;1;0"]))
    form = {"period": "0", "procedure_code": "1", "received": "2", "resolved_early": "3", "resolved_on_time": "4",
            "resolved_late": "5", "pending": "6"}
    job_url = client.post(mapping_url, data=form).location
    assert "Đã lưu 2 dòng cho kỳ 01/2025, 02/2025." in client.get(job_url).text
    rows = db.session.scalars(select(ServiceResult).where(ServiceResult.tenant_id == world.tenant_ids["a1"])
                              .order_by(ServiceResult.first_month)).all()
    assert [(r.year, r.first_month, r.procedure_code, r.resolved_late) for r in rows] == [
        (2025, 1, "1.001", 0), (2025, 2, "1.001", 1)]


def test_bad_row_in_the_middle_stores_nothing_and_reports_row_and_column(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.jobs.models import Job

    client = login_as("a1_secretary")
    rows = [f"{m:02d}/2025;1.001;10;2;7;0;1" for m in range(1, 7)]
    rows[2] = "03/2025;1.001;10;-2;7;0;1"        # row 4: negative number (and the totals no longer add up)
    rows[3] = "04/2025;1.001;10;2;7;0;9"         # row 5: totals do not add up
    rows[4] = "13/2025;1.001;10;2;7;0;1"         # row 6: unknown period
    mapping_url = upload(client, world.a1, csv_bytes(rows))
    job_url = client.post(mapping_url, data={"period": "0", "procedure_code": "1", "received": "2",
                                             "resolved_early": "3", "resolved_on_time": "4", "resolved_late": "5",
                                             "pending": "6"}).location
    page = client.get(job_url)
    assert count_results(db, world.tenant_ids["a1"]) == 0
    job = db.session.get(Job, job_url.rsplit("/", 1)[-1])
    problems = {(p["row"], p["column"]) for p in job.report}
    assert problems == {(4, "Trước hạn"), (5, "Tiếp nhận"), (6, "Kỳ báo cáo")}  # as the file names them
    assert "13/2025" in page.text


def test_required_columns_must_be_mapped(world, login_as):
    client = login_as("a1_secretary")
    mapping_url = upload(client, world.a1, csv_bytes(["01/2025;1.001;10;2;7;0;1"]))
    response = client.post(mapping_url, data={"period": "0"})
    assert response.status_code == 400


def test_another_agencys_upload_is_not_found(world, login_as, system_scope):
    client = login_as("a1_secretary")
    mapping_url = upload(client, world.a1, csv_bytes(["01/2025;1.001;10;2;7;0;1"]))
    other = login_as("b1_secretary").get(mapping_url.replace(f"/t/{world.a1}/", f"/t/{world.b1}/"))
    assert other.status_code == 404


def test_ten_thousand_rows_inline(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.jobs.models import Job

    client = login_as("a1_secretary")
    mapping_url = upload(client, world.a1, big_file(10_000))
    started = time.monotonic()
    job_url = client.post(mapping_url, data={"period": "0", "procedure_code": "1", "received": "2",
                                             "resolved_early": "3", "resolved_on_time": "4", "resolved_late": "5",
                                             "pending": "6"}).location
    job = db.session.get(Job, job_url.rsplit("/", 1)[-1])
    assert job.status == "finished" and job.progress == 100 and job.report is None
    assert count_results(db, world.tenant_ids["a1"]) == 10_000
    print(f"10,000 rows imported inline in {time.monotonic() - started:.1f}s")


@pytest.mark.committed
def test_ten_thousand_rows_on_redis_with_progress(app, backend, world):
    """The same file through RQ: a real worker runs it and the job reports progress on the way."""
    problem = redis_available()
    if problem:
        service_unavailable("Redis", problem)
    from redis import Redis

    from govqms.core.storage import get_storage
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.jobs import services
    from govqms.jobs.models import Job
    from govqms.performance.models import ServiceResult

    tenant_id = world.tenant_ids["a2"]
    Redis.from_url(REDIS_URL).flushdb()
    queue = f"govqms-import-{os.getpid()}-{backend.name}"
    app.config.update(REDIS_URL=REDIS_URL, JOB_QUEUE=queue)
    try:
        with app.app_context(), scoped(TenantScope.system()):
            import hashlib

            data = big_file(10_000)
            get_storage().put(tenant_id, data)
            job = services.enqueue("performance.import_service_results", tenant_id=tenant_id, user_id=None,
                                   digest=hashlib.sha256(data).hexdigest(), extension="csv", locale="vi",
                                   col_period=0, col_procedure_code=1, col_received=2, col_resolved_early=3,
                                   col_resolved_on_time=4, col_resolved_late=5, col_pending=6)
            job_id = job.id
        env = {**os.environ, "GOVQMS_DATABASE_URL": backend.app_url, "GOVQMS_REDIS_URL": REDIS_URL,
               "GOVQMS_JOB_QUEUE": queue, "GOVQMS_ENV": "testing"}
        worker = subprocess.Popen([str(ROOT / ".venv/bin/govqms"), "worker", "--burst"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = set()
        deadline = time.monotonic() + 240
        while worker.poll() is None and time.monotonic() < deadline:
            with app.app_context(), scoped(TenantScope.system()):
                seen.add(db.session.get(Job, job_id).progress)
            time.sleep(0.2)
        output = worker.communicate(timeout=60)[0]
        with app.app_context(), scoped(TenantScope.system()):
            job = db.session.get(Job, job_id)
            assert job.status == "finished", (job.status, job.error, output[-2000:])
            assert job.progress == 100
            if backend.name == "postgresql":  # SQLite keeps no progress while a job writes (one writer)
                assert any(0 < p < 100 for p in seen), seen
            count = db.session.scalar(select(func.count()).select_from(ServiceResult).where(
                ServiceResult.tenant_id == tenant_id))
            assert count == 10_000
            db.session.execute(delete(ServiceResult).where(ServiceResult.tenant_id == tenant_id))
            db.session.execute(delete(Job).where(Job.id == job_id))
            db.session.commit()
    finally:
        app.config.update(REDIS_URL=None, JOB_QUEUE="govqms")


def test_months_entered_by_hand(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.performance.models import SatisfactionSurvey, ServiceResult

    client = login_as("a1_secretary")
    month = {"period": "03/2025", "received": "10", "resolved_early": "2", "resolved_on_time": "7",
             "resolved_late": "1", "pending": "0"}
    assert client.post(f"/t/{world.a1}/performance/results/new", data=month).status_code == 302
    assert client.post(f"/t/{world.a1}/performance/results/new", data=month).status_code == 400  # same month
    wrong = client.post(f"/t/{world.a1}/performance/results/new", data={**month, "period": "04/2025", "pending": "5"})
    assert wrong.status_code == 400  # the totals do not add up
    result = db.session.scalar(select(ServiceResult).where(ServiceResult.tenant_id == world.tenant_ids["a1"]))
    edited = client.post(f"/t/{world.a1}/performance/results/{result.id}/edit",
                         data={**month, "resolved_late": "0", "resolved_on_time": "8"})
    assert edited.status_code == 302
    db.session.refresh(result)
    assert (result.resolved_on_time, result.resolved_late) == (8, 0)
    survey = {"period": "03/2025", "responses": "54", "satisfied": "54"}
    assert client.post(f"/t/{world.a1}/performance/surveys/new", data=survey).status_code == 302
    assert client.post(f"/t/{world.a1}/performance/surveys/new",
                       data={**survey, "period": "04/2025", "satisfied": "60"}).status_code == 400
    assert db.session.scalar(select(SatisfactionSurvey.satisfied).where(
        SatisfactionSurvey.tenant_id == world.tenant_ids["a1"])) == 54
    assert "100.0%" in client.get(f"/t/{world.a1}/performance/?year=2025").text
