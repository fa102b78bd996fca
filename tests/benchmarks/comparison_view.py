"""Latency of the province comparison view on PostgreSQL, for a generated province.

    make benchmark                      # 150 agencies, five years of records, 5 timed requests
    .venv/bin/python -m tests.benchmarks.comparison_view --agencies 300 --years 5 --runs 10

A fresh database is created, migrated, filled (as its owner, in bulk) and dropped afterwards;
the view is then requested as the overseer through the application role, with row-level
security enforced, exactly as in production. Prints figures; asserts nothing about time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time

import sqlalchemy as sa

from tests.conftest import APP_ROLE, FAST_HASH, PASSWORD, create_postgres_database, login, migrate, test_config


def generate(agencies: int, years: int, seed: int = 2026) -> dict[str, int]:
    """The province *bench* with *agencies* departments and communes and *years* of records."""
    from govqms.accounts.models import User
    from govqms.audits.models import Audit
    from govqms.conformity.models import Declaration
    from govqms.documents.services import today
    from govqms.extensions import db
    from govqms.improvement.models import Action, Nonconformity
    from govqms.objectives.models import Measurement, Objective
    from govqms.performance.models import SatisfactionSurvey, ServiceResult
    from govqms.procedures.models import AdminProcedure
    from govqms.reviews.models import ManagementReview
    from govqms.tenancy.models import Jurisdiction, OversightRole, Tenant

    rng = random.Random(seed)
    now = today()
    first_year = now.year - years + 1
    nation = Jurisdiction(code="vn", name="Toàn quốc", level="national")
    province = Jurisdiction(code="bench", name="Tỉnh Thử nghiệm", level="province", parent=nation)
    overseer = User(email="overseer@bench.govqms.vn", name="Overseer")
    overseer.set_password(PASSWORD, method=FAST_HASH)
    db.session.add_all([nation, province, overseer])
    db.session.flush()
    db.session.add(OversightRole(user_id=overseer.id, jurisdiction_id=province.id, role="overseer"))
    kinds = ["health", "justice", "finance", "construction", "labour", "home_affairs", "commune"]
    tenants = [Tenant(slug=f"bench-{i}", name=f"Cơ quan thử nghiệm {i:03}", kind=kinds[i % len(kinds)],
                      jurisdiction=province) for i in range(agencies)]
    db.session.add_all(tenants)
    db.session.flush()
    rows: dict[type, list[dict]] = {model: [] for model in (
        Audit, ManagementReview, Declaration, AdminProcedure, Nonconformity, Action, Objective, ServiceResult,
        SatisfactionSurvey)}
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
                rows[ServiceResult].append({"tenant_id": t, "year": year, "month": month, "received": received,
                                            "resolved_early": received // 3, "resolved_on_time": received // 2,
                                            "resolved_late": late, "pending": received - received // 3
                                            - received // 2 - late})
                rows[SatisfactionSurvey].append({"tenant_id": t, "year": year, "month": month, "responses": 100,
                                                 "satisfied": rng.randint(85, 100)})
            for k in range(8):
                rows[Objective].append({"tenant_id": t, "year": year, "statement": f"Mục tiêu {k}",
                                        "indicator": "Tỷ lệ", "comparator": ">=", "target": 95.0,
                                        "frequency": "quarterly", "source": "typed"})
            for k in range(10):
                found = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
                rows[Nonconformity].append({"tenant_id": t, "source": "internal_audit", "found_on": found,
                                            "description": f"Điểm không phù hợp {k}",
                                            "status": "closed" if year < now.year else "open"})
                rows[Action].append({"tenant_id": t, "description": f"Hành động {k}",
                                     "due_on": found + dt.timedelta(days=60),
                                     "status": "done" if year < now.year else "open",
                                     "done_on": found + dt.timedelta(days=50) if year < now.year else None})
    counts = {}
    for model, values in rows.items():
        if values:
            db.session.execute(sa.insert(model), values)
        counts[model.__tablename__] = len(values)
    objective_ids = db.session.execute(sa.select(Objective.id, Objective.tenant_id)).all()
    measurements = [{"tenant_id": tenant_id, "objective_id": objective_id, "period_index": q,
                     "value": rng.uniform(85, 100)} for objective_id, tenant_id in objective_ids for q in range(1, 5)]
    db.session.execute(sa.insert(Measurement), measurements)
    counts["measurement"] = len(measurements)
    db.session.commit()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=150)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from govqms import create_app
    from govqms.core.activity import Actor, acting_as
    from govqms.core.rls import grant_app_role
    from govqms.core.tenancy import TenantScope, scoped

    backend = create_postgres_database()
    try:
        migrate(backend.owner_url)
        owner = create_app(test_config(backend.owner_url))
        started = time.perf_counter()
        with owner.app_context(), scoped(TenantScope.system()), acting_as(Actor(None, "benchmark")):
            counts = generate(args.agencies, args.years)
            from govqms.extensions import db

            with db.engine.begin() as conn:
                grant_app_role(conn, APP_ROLE)
                conn.execute(sa.text("analyze"))
            db.engine.dispose()
        print(f"generated {args.agencies} agencies, {args.years} years: {sum(counts.values())} rows "
              f"in {time.perf_counter() - started:.1f} s ({', '.join(f'{k} {v}' for k, v in counts.items())})")

        app = create_app(test_config(backend.app_url))
        client = login(app.test_client(), "overseer@bench.govqms.vn")
        statements: list[str] = []

        def count(conn, cursor, statement, *rest):
            statements.append(statement)

        for url in ("/o/bench/", "/o/bench/?sort=name&page=2", "/o/bench/schedule/"):
            assert client.get(url).status_code == 200  # warm up
            timings = []
            for _ in range(args.runs):
                statements.clear()
                sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
                begin = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - begin) * 1000)
                sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
                assert response.status_code == 200
            print(f"{url:32} median {statistics.median(timings):7.1f} ms  min {min(timings):7.1f}  "
                  f"max {max(timings):7.1f}  queries {len(statements)}  ({args.runs} runs)")
        with app.app_context():
            from govqms.extensions import db

            db.engine.dispose()
    finally:
        backend.drop()


if __name__ == "__main__":
    main()
