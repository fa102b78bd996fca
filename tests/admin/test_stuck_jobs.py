"""The back office shows the jobs stuck in any state, and runs one again or cancels it after a
confirmation."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select


@pytest.fixture
def operator(login_as):
    return login_as("operator")


@pytest.fixture
def stuck(world, system_scope):
    """One job in each stuck state, and one finished, all of a1's activity export."""
    from govqms.core.db import utcnow
    from govqms.extensions import db
    from govqms.jobs.models import Job

    now, tenant = utcnow(), world.tenant_ids["a1"]
    jobs = {
        "waiting": Job(task="activity.export_csv", tenant_id=tenant, params={}, relayed_at=None),
        "queued": Job(task="activity.export_csv", tenant_id=tenant, params={},
                      relayed_at=now - dt.timedelta(minutes=40)),
        "started": Job(task="activity.export_csv", tenant_id=tenant, params={}, status="started", attempts=1,
                       relayed_at=now - dt.timedelta(hours=3), started_at=now - dt.timedelta(hours=2)),
        "recent": Job(task="activity.export_csv", tenant_id=tenant, params={}, relayed_at=now),
        "finished": Job(task="activity.export_csv", tenant_id=tenant, params={}, status="finished",
                        relayed_at=now, finished_at=now),
    }
    db.session.add_all(jobs.values())
    db.session.commit()
    return {name: job.id for name, job in jobs.items()}


def test_stuck_jobs_are_listed_by_state(operator, stuck):
    page = operator.get("/admin/stuck_jobs/")
    assert page.status_code == 200
    for name in ("waiting", "queued", "started"):
        assert f'data-job="{stuck[name]}"' in page.text, name
    assert f'data-job="{stuck["recent"]}"' not in page.text  # queued a moment ago: not stuck
    assert f'data-job="{stuck["finished"]}"' not in page.text


def test_a_stuck_job_runs_again_after_a_confirmation(operator, stuck, system_scope):
    from govqms.extensions import db
    from govqms.jobs.models import Job

    url = f"/admin/stuck_jobs/{stuck['started']}/run-again"
    confirm = operator.get(url)
    assert confirm.status_code == 200 and 'method="post"' in confirm.text
    assert db.session.get(Job, stuck["started"]).status == "started"  # nothing done on GET
    assert operator.post(url).status_code == 302
    db.session.expire_all()
    job = db.session.get(Job, stuck["started"])
    assert job.status == "finished" and job.attempts == 2 and job.result  # run again (inline here)


def test_a_cancelled_job_never_runs_and_its_user_is_told(operator, stuck, world, login_as, system_scope):
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.jobs.models import Job
    from govqms.jobs.services import run_job

    assert operator.post(f"/admin/stuck_jobs/{stuck['queued']}/cancel").status_code == 302
    job = db.session.get(Job, stuck["queued"])
    assert job.status == "cancelled" and job.done and "operator" in job.error
    assert run_job(job.id) == "cancelled"  # a worker that takes it later skips it
    db.session.refresh(job)
    assert job.status == "cancelled" and job.attempts == 0
    job.user_id = db.session.scalar(select(User.id).where(User.email == world.email("a1_secretary")))
    db.session.commit()
    page = login_as("a1_secretary").get(f"/jobs/{job.id}")
    assert 'data-testid="job-cancelled"' in page.text
    # cancelled jobs can be run again; finished ones cannot, and cancelling an ended one is refused
    refused = operator.post(f"/admin/stuck_jobs/{stuck['finished']}/run-again", follow_redirects=True)
    assert "alert-danger" in refused.text and db.session.get(Job, stuck["finished"]).attempts == 0
    refused = operator.post(f"/admin/stuck_jobs/{stuck['finished']}/cancel", follow_redirects=True)
    assert "alert-danger" in refused.text and db.session.get(Job, stuck["finished"]).status == "finished"


def test_only_operators_reach_the_stuck_jobs(login_as, stuck):
    assert login_as("a1_secretary").get("/admin/stuck_jobs/").status_code == 403
    assert login_as("a1_secretary").post(f"/admin/stuck_jobs/{stuck['waiting']}/cancel").status_code == 403
    assert login_as("operator").get("/admin/stuck_jobs/not-a-job/cancel").status_code == 404
