"""The platform at the scale it is built for, on PostgreSQL with row-level security, over real HTTP.

    make benchmark                                   # a province of 150 agencies in a nation of 1,000
    .venv/bin/python -m tests.benchmarks.scale --national-agencies 5000 --clients 20

A throwaway database is created, migrated and filled (as its owner, in bulk: about 460 rows an
agency for five years); then, through the application role:

- in process: the province comparison's queries and the share of its time spent in SQL, a
  10,000-row procedures import (one transaction) and the province's yearly report (DOCX);
- over HTTP on gunicorn (deploy/gunicorn.conf.py, 2 workers, GOVQMS_ENV=production): the province
  comparison with CLIENTS overseers at once, the national roll-up, a document register of 500
  documents, and a mixed run of agency and overseer pages for a number of seconds.

Each figure is printed as it comes; the last line is one JSON object with the keys below
(milliseconds unless named). Figures, not assertions: nothing here fails on time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import threading
import time

import sqlalchemy as sa

from tests.conftest import APP_ROLE, FAST_HASH, PASSWORD, create_postgres_database, migrate, test_config

KEYS = ("province_agencies", "comparison_p50", "comparison_p95", "comparison_sql_ratio", "comparison_queries",
        "national_agencies", "national_p95", "register_p95", "mixed_rps", "mixed_errors", "import_10k_s",
        "report_s")
BENCH_REDIS_URL = os.environ.get("GOVQMS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


#: The served app's secret, the one its scopes are proven with (registered by grant_app_role; a kept
#: database measured again with --reuse expects the same one). A throwaway database's, not a secret.
SECRET_KEY = "govqms-benchmark-" + "0" * 32


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))], 1)


# --- data ----------------------------------------------------------------------------------------

def _records(tenants, years: int, rng: random.Random, now: dt.date) -> dict[type, list[dict]]:
    """Five years of an agency's QMS: audits, reviews, a declaration, procedures, nonconformities and
    their actions, objectives, monthly service results and surveys."""
    from govqms.audits.models import Audit
    from govqms.conformity.models import Declaration
    from govqms.objectives.models import Objective
    from govqms.performance.models import SatisfactionSurvey, ServiceResult
    from govqms.procedures.models import AdminProcedure
    from govqms.reviews.models import ManagementReview

    first_year = now.year - years + 1
    rows: dict[type, list[dict]] = {m: [] for m in (Audit, ManagementReview, Declaration, AdminProcedure, Objective,
                                                    ServiceResult, SatisfactionSurvey)}
    for i, tenant in enumerate(tenants):
        t = tenant.id
        declared = dt.date(first_year, 3, 1)
        rows[Declaration].append({"tenant_id": t, "decision_number": f"{t}/QĐ", "decided_on": declared,
                                  "edition": "2015" if i % 9 else "2008", "dost_notified_on": declared,
                                  "posted_on": declared, "published_on": declared})
        rows[AdminProcedure].extend({"tenant_id": t, "code": f"TTHC-{k}", "name": f"Thủ tục {k}"} for k in range(30))
        for year in range(first_year, now.year + 1):
            last_month = 12 if year < now.year else now.month
            held = dt.date(year, rng.randint(3, 10), rng.randint(1, 28))
            if held <= now:
                rows[Audit].append({"tenant_id": t, "year": year, "title": f"Đánh giá nội bộ {year}",
                                    "planned_start": held, "planned_end": held, "actual_start": held,
                                    "actual_end": held, "status": "reported", "clauses": [], "unit_ids": [],
                                    "process_ids": [], "team_ids": []})
                meeting = held + dt.timedelta(days=30)
                confirmed = rng.random() < 0.8 and meeting <= now
                rows[ManagementReview].append({"tenant_id": t, "year": year, "meeting_on": meeting,
                                               "held_on": meeting if meeting <= now else None,
                                               "chair": "Giám đốc", "inputs": {}, "notes": {},
                                               "effectiveness_confirmed": confirmed,
                                               "confirmed_on": meeting if confirmed else None})
            for month in range(1, last_month + 1):
                received = rng.randint(50, 400)
                late = rng.randint(0, 5)
                last_day = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
                rows[ServiceResult].append({"tenant_id": t, "year": year, "first_month": month, "last_month": month,
                                            "period_start": dt.date(year, month, 1), "period_end": last_day,
                                            "field": "", "procedure_code": "", "received": received,
                                            "resolved_early": received // 3, "resolved_on_time": received // 2,
                                            "resolved_late": late,
                                            "pending": received - received // 3 - received // 2 - late})
                rows[SatisfactionSurvey].append({"tenant_id": t, "year": year, "month": month, "responses": 100,
                                                 "satisfied": rng.randint(85, 100)})
            for k in range(8):
                rows[Objective].append({"tenant_id": t, "year": year, "statement": f"Mục tiêu {k}",
                                        "indicator": "Tỷ lệ", "comparator": ">=", "target": 95.0,
                                        "frequency": "quarterly", "source": "typed"})
    return rows


def _nonconformities(db, tenant_ids: list[int], years: int, rng: random.Random, now: dt.date) -> int:
    """Ten nonconformities a year per agency, each with its corrective action (closed in past years)."""
    from govqms.improvement.models import Action, Nonconformity

    first_year = now.year - years + 1
    ncs = []
    for t in tenant_ids:
        for year in range(first_year, now.year + 1):
            for k in range(10):
                found = min(dt.date(year, rng.randint(1, 12), rng.randint(1, 28)), now)
                past = year < now.year
                ncs.append({"tenant_id": t, "source": "internal_audit", "found_on": found,
                            "description": f"Điểm không phù hợp {k}", "status": "closed" if past else "open",
                            "closed_on": found + dt.timedelta(days=55) if past else None})
    ids = db.session.scalars(sa.insert(Nonconformity).returning(Nonconformity.id, sort_by_parameter_order=True),
                             ncs).all()
    db.session.execute(sa.insert(Action), [
        {"tenant_id": nc["tenant_id"], "nonconformity_id": nc_id, "description": "Hành động khắc phục",
         "due_on": nc["found_on"] + dt.timedelta(days=60), "status": "done" if nc["closed_on"] else "open",
         "done_on": nc["found_on"] + dt.timedelta(days=50) if nc["closed_on"] else None}
        for nc, nc_id in zip(ncs, ids, strict=True)])
    return 2 * len(ncs)


def _measurements(db, tenant_ids: list[int], rng: random.Random) -> int:
    from govqms.objectives.models import Measurement, Objective

    objectives = db.session.execute(sa.select(Objective.id, Objective.tenant_id)
                                    .where(Objective.tenant_id.in_(tenant_ids))).all()
    rows = [{"tenant_id": tenant_id, "objective_id": objective_id, "period_index": q, "value": rng.uniform(85, 100)}
            for objective_id, tenant_id in objectives for q in range(1, 5)]
    db.session.execute(sa.insert(Measurement), rows)
    return len(rows)


def _documents(db, tenant_id: int, count: int, now: dt.date) -> None:
    """A register of *count* effective documents, each with its approved revision."""
    from govqms.core.text import fold
    from govqms.documents.models import Document, Revision

    issued = [now - dt.timedelta(days=30 + 3 * n) for n in range(count)]
    ids = db.session.scalars(sa.insert(Document).returning(Document.id, sort_by_parameter_order=True), [
        {"tenant_id": tenant_id, "code": f"QT-{n:03}", "title": f"Quy trình giải quyết thủ tục số {n}",
         "kind": "work_procedure", "status": "effective", "effective_on": day,
         "next_review_on": day.replace(year=day.year + 1) if (day.month, day.day) != (2, 29) else day,
         "search_key": fold(f"QT-{n:03} Quy trình giải quyết thủ tục số {n}")}
        for n, day in enumerate(issued)]).all()
    revisions = db.session.scalars(sa.insert(Revision).returning(Revision.id, sort_by_parameter_order=True), [
        {"tenant_id": tenant_id, "document_id": document_id, "number": 1, "status": "effective",
         "effective_on": day, "approved_at": dt.datetime.combine(day, dt.time(9), dt.timezone.utc)}
        for document_id, day in zip(ids, issued, strict=True)]).all()
    for document_id, revision_id in zip(ids, revisions, strict=True):
        db.session.execute(sa.update(Document).where(Document.id == document_id)
                           .values(current_revision_id=revision_id))


def generate(province_agencies: int, national_agencies: int, years: int, documents: int,
             seed: int = 2026) -> dict[str, int]:
    """A nation: the province *bench* with *province_agencies*, the rest spread over 33 other
    provinces and 20 ministries; three accounts; a register of *documents* in bench-0."""
    from govqms.accounts.models import User
    from govqms.core.clock import today
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Membership, OversightRole, Tenant

    rng = random.Random(seed)
    now = today()
    nation = Jurisdiction(code="vn", name="Toàn quốc", level="national")
    province = Jurisdiction(code="bench", name="Tỉnh Thử nghiệm", level="province", parent=nation)
    others = [Jurisdiction(code=f"p{k:02}", name=f"Tỉnh {k:02}", level="province", parent=nation) for k in range(33)]
    others += [Jurisdiction(code=f"bo{k:02}", name=f"Bộ {k:02}", level="ministry", parent=nation) for k in range(20)]
    db.session.add_all([nation, province, *others])
    db.session.flush()
    kinds = ["health", "justice", "finance", "construction", "labour", "home_affairs", "commune"]
    spread = max(0, national_agencies - province_agencies)
    placed = [province] * province_agencies + [others[k % len(others)] for k in range(spread)]
    counts: dict[str, int] = {"tenant": len(placed)}
    tenant_ids = list(db.session.scalars(sa.insert(Tenant).returning(Tenant.id, sort_by_parameter_order=True), [
        {"slug": f"bench-{i}" if jurisdiction is province else f"{jurisdiction.code}-{i}",
         "name": f"Cơ quan thử nghiệm {i:04}", "kind": kinds[i % len(kinds)], "jurisdiction_id": jurisdiction.id,
         "status": "active"} for i, jurisdiction in enumerate(placed)]))
    chunk = 200
    for start in range(0, len(tenant_ids), chunk):
        ids = tenant_ids[start:start + chunk]
        tenants = list(db.session.scalars(sa.select(Tenant).where(Tenant.id.in_(ids)).order_by(Tenant.id)))
        for model, values in _records(tenants, years, rng, now).items():
            db.session.execute(sa.insert(model), values)
            counts[model.__tablename__] = counts.get(model.__tablename__, 0) + len(values)
        counts["nonconformity+action"] = counts.get("nonconformity+action", 0) + _nonconformities(
            db, ids, years, rng, now)
        counts["measurement"] = counts.get("measurement", 0) + _measurements(db, ids, rng)
        db.session.commit()
        print(f"  … {min(start + chunk, len(tenant_ids))}/{len(tenant_ids)} agencies", flush=True)
    _documents(db, tenant_ids[0], documents, now)
    counts["document"] = documents
    people = {"overseer": "overseer@bench.govqms.vn", "national": "national@bench.govqms.vn",
              "secretary": "thuky@bench.govqms.vn"}
    users = {}
    for key, email in people.items():
        users[key] = User(email=email, name=key.title())
        users[key].set_password(PASSWORD, method=FAST_HASH)
    db.session.add_all(users.values())
    db.session.flush()
    db.session.add_all([OversightRole(user_id=users["overseer"].id, jurisdiction_id=province.id, role="overseer"),
                        OversightRole(user_id=users["national"].id, jurisdiction_id=nation.id, role="overseer"),
                        Membership(user_id=users["secretary"].id, tenant_id=tenant_ids[0], role="iso_secretary")])
    db.session.commit()
    return counts


# --- measurements in process ---------------------------------------------------------------------

def measure_in_process(app_url: str, runs: int, import_rows: int) -> dict:
    from govqms import create_app
    from govqms.extensions import db
    from tests.conftest import login

    app = create_app({**test_config(app_url), "SECRET_KEY": SECRET_KEY})  # the key grant_app_role registered
    figures: dict = {}
    client = login(app.test_client(), "overseer@bench.govqms.vn")
    sql_time = [0.0]
    statements = [0]

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        sql_time[0] += time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        statements[0] += 1

    assert client.get("/o/bench/").status_code == 200  # warm up
    pages, sqls = [], []
    for _ in range(runs):
        sql_time[0], statements[0] = 0.0, 0
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", before)
        sa.event.listen(sa.engine.Engine, "after_cursor_execute", after)
        begin = time.perf_counter()
        assert client.get("/o/bench/").status_code == 200
        pages.append(time.perf_counter() - begin)
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", before)
        sa.event.remove(sa.engine.Engine, "after_cursor_execute", after)
        sqls.append(sql_time[0])
    figures["comparison_queries"] = statements[0]
    figures["comparison_sql_ratio"] = round(statistics.median(pages) / max(statistics.median(sqls), 1e-6), 2)
    print(f"comparison in process: page {statistics.median(pages) * 1000:.0f} ms, its SQL "
          f"{statistics.median(sqls) * 1000:.0f} ms, {statements[0]} queries", flush=True)

    with app.app_context():
        from govqms.core.activity import Actor, acting_as
        from govqms.core.tenancy import TenantScope, scoped
        from govqms.procedures.services import import_catalogue
        from govqms.tenancy.models import Jurisdiction, Tenant

        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == "bench-1"))
        csv = "Mã thủ tục,Tên thủ tục,Lĩnh vực\n" + "".join(
            f"2.{n:06},Thủ tục nhập số {n},Lĩnh vực {n % 12}\n" for n in range(import_rows))
        begin = time.perf_counter()
        with scoped(TenantScope.tenant(tenant.id), db.session), acting_as(Actor(None, "benchmark")):
            created, _updated = import_catalogue(tenant.id, csv.encode(), "csv")
            db.session.commit()
        figures["import_10k_s"] = round(time.perf_counter() - begin, 2)
        print(f"procedures import: {created} rows in {figures['import_10k_s']} s", flush=True)

        from govqms.accounts.models import User
        from govqms.jobs.services import enqueue

        overseer = db.session.scalar(sa.select(User).where(User.email == "overseer@bench.govqms.vn"))
        province = db.session.scalar(sa.select(Jurisdiction).where(Jurisdiction.code == "bench"))
        begin = time.perf_counter()
        with acting_as(Actor(overseer.id, overseer.email)):
            job = enqueue("oversight.yearly_report", tenant_id=None, user_id=overseer.id, jurisdiction_id=province.id,
                          year=dt.date.today().year - 1, kind="yearly", fmt="docx", locale="vi")
        figures["report_s"] = round(time.perf_counter() - begin, 2)
        print(f"yearly report: {job.status} in {figures['report_s']} s", flush=True)
        db.engine.dispose()
    return figures


# --- measurements over HTTP ----------------------------------------------------------------------

def _signed_in(base_url: str, email: str):
    from tests.deploy.conftest import HttpClient

    client = HttpClient(base_url)
    client.login(email, PASSWORD)
    return client


def _timed(client, path: str, timeout: float = 120) -> tuple[float, int]:
    begin = time.perf_counter()
    try:
        status = client.get(path, timeout=timeout).status
    except OSError:
        status = 599
    return (time.perf_counter() - begin) * 1000, status


def concurrent(base_url: str, email: str, paths: list[str], clients: int, per_client: int) -> tuple[list[float], int]:
    """*clients* signed-in sessions at once, each requesting *per_client* pages: latencies, errors."""
    sessions = [_signed_in(base_url, email) for _ in range(clients)]
    for session in sessions[:1]:
        session.get(paths[0])  # each worker's first request loads its caches
    latencies, errors, lock = [], [0], threading.Lock()

    def run(session, offset):
        for k in range(per_client):
            took, status = _timed(session, paths[(offset + k) % len(paths)])
            with lock:
                latencies.append(took)
                errors[0] += status >= 500

    threads = [threading.Thread(target=run, args=(s, n)) for n, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


def mixed(base_url: str, clients: int, seconds: float) -> tuple[float, int, int]:
    """Agency and overseer pages for *seconds*: requests per second, errors, requests."""
    agency = ["/t/bench-0/", "/t/bench-0/documents/", "/t/bench-0/status/", "/t/bench-0/objectives/",
              "/t/bench-0/improvement/nonconformities/", "/inbox/"]
    overseer = ["/o/bench/", "/o/bench/schedule/", "/o/bench/?sort=name&page=2"]
    sessions = [(_signed_in(base_url, "thuky@bench.govqms.vn"), agency) if n % 3 else
                (_signed_in(base_url, "overseer@bench.govqms.vn"), overseer) for n in range(clients)]
    done, errors, lock = [0], [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def run(session, paths, offset):
        k = offset
        while time.monotonic() < deadline:
            _took, status = _timed(session, paths[k % len(paths)], timeout=60)
            k += 1
            with lock:
                done[0] += 1
                errors[0] += status >= 500
    threads = [threading.Thread(target=run, args=(s, p, n)) for n, (s, p) in enumerate(sessions)]
    begin = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return round(done[0] / (time.monotonic() - begin), 1), errors[0], done[0]


def serve(app_url: str, port: int, folder: str):
    from pathlib import Path

    from tests.deploy.conftest import BIN, ROOT, Process

    env = {key: value for key, value in os.environ.items() if not key.startswith("GOVQMS_")}
    env.update({"GOVQMS_ENV": "production", "GOVQMS_SECRET_KEY": SECRET_KEY,
                "GOVQMS_DATABASE_URL": app_url, "GOVQMS_REDIS_URL": BENCH_REDIS_URL,
                "GOVQMS_JOB_QUEUE": f"govqms-bench-{port}", "GOVQMS_INSTANCE_PATH": f"{folder}/instance",
                "GOVQMS_BASE_URL": f"https://127.0.0.1:{port}", "GOVQMS_TRUSTED_PROXIES": "1",
                "GOVQMS_LOG_FORMAT": "json", "GOVQMS_LOG_LEVEL": "WARNING", "GOVQMS_BIND": f"127.0.0.1:{port}",
                "GOVQMS_WORKERS": "2", "PYTHONDONTWRITEBYTECODE": "1"})
    web = Process("web", [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy/gunicorn.conf.py"), "govqms:create_app()"],
                  env, Path(folder))
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                if response.status == 200:
                    return web
        except OSError:
            time.sleep(0.3)
    web.stop()
    raise SystemExit(f"gunicorn did not start:\n{web.output()[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=150, help="agencies of the province compared")
    parser.add_argument("--national-agencies", type=int, default=1000, help="agencies of the nation, province included")
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--documents", type=int, default=500, help="documents of the register timed")
    parser.add_argument("--clients", type=int, default=20, help="overseers requesting the comparison at once")
    parser.add_argument("--requests", type=int, default=5, help="requests of each client")
    parser.add_argument("--national-requests", type=int, default=5)
    parser.add_argument("--mixed-seconds", type=float, default=20)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5, help="in-process runs of the comparison")
    parser.add_argument("--keep", action="store_true", help="keep the database and print its name (for profiling)")
    parser.add_argument("--reuse", metavar="DATABASE",
                        help="measure a database kept by --keep instead of generating one")
    args = parser.parse_args()

    import tempfile

    from govqms import create_app
    from govqms.core.activity import Actor, acting_as
    from govqms.core.rls import grant_app_role
    from govqms.core.tenancy import TenantScope, scoped
    from tests.deploy.conftest import free_port

    result: dict = {key: None for key in KEYS}
    result.update(province_agencies=args.agencies, national_agencies=max(args.agencies, args.national_agencies))
    backend = create_postgres_database(args.reuse)
    web = None
    try:
        if not args.reuse:
            migrate(backend.owner_url)
            owner = create_app(test_config(backend.owner_url))
            started = time.perf_counter()
            with owner.app_context(), scoped(TenantScope.system()), acting_as(Actor(None, "benchmark")):
                from govqms.extensions import db

                counts = generate(args.agencies, result["national_agencies"], args.years, args.documents)
                with db.engine.begin() as conn:
                    grant_app_role(conn, APP_ROLE, SECRET_KEY)  # the served app proves its scope with it
                    conn.execute(sa.text("analyze"))
                db.engine.dispose()
            print(f"generated {result['national_agencies']} agencies ({args.agencies} in the province), {args.years} "
                  f"years: {sum(counts.values())} rows in {time.perf_counter() - started:.0f} s", flush=True)
        else:
            print(f"measuring the kept database {args.reuse} (the sizes given are not checked)", flush=True)
        load = os.getloadavg()
        print(f"load average before measuring: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores",
              flush=True)

        result.update(measure_in_process(backend.app_url, args.runs, args.import_rows))

        folder = tempfile.mkdtemp(prefix="govqms-bench-")
        port = free_port()
        web = serve(backend.app_url, port, folder)
        base = f"http://127.0.0.1:{port}"
        latencies, errors = concurrent(base, "overseer@bench.govqms.vn", ["/o/bench/"], args.clients, args.requests)
        result["comparison_p50"], result["comparison_p95"] = percentile(latencies, 0.5), percentile(latencies, 0.95)
        print(f"comparison, {args.clients} overseers at once: p50 {result['comparison_p50']} ms, p95 "
              f"{result['comparison_p95']} ms, {errors} errors", flush=True)
        latencies, errors = concurrent(base, "national@bench.govqms.vn", ["/o/vn/"], 1, args.national_requests)
        result["national_p95"] = percentile(latencies, 0.95) if not errors else None
        print(f"national roll-up ({result['national_agencies']} agencies): p95 {result['national_p95']} ms, "
              f"{errors} errors", flush=True)
        latencies, errors = concurrent(base, "thuky@bench.govqms.vn", ["/t/bench-0/documents/"], 4, 10)
        result["register_p95"] = percentile(latencies, 0.95)
        print(f"document register ({args.documents} documents): p95 {result['register_p95']} ms", flush=True)
        result["mixed_rps"], result["mixed_errors"], total = mixed(base, args.clients, args.mixed_seconds)
        print(f"mixed pages, {args.clients} clients, {args.mixed_seconds:.0f} s: {total} requests, "
              f"{result['mixed_rps']} per second, {result['mixed_errors']} errors", flush=True)
    finally:
        if web is not None:
            web.stop()
        if args.keep or args.reuse:
            print(f"database kept: --reuse {sa.engine.make_url(backend.owner_url).database}", flush=True)
        else:
            backend.drop()
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
