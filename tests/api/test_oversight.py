"""The overseer's views through the API: the schedule, a year's inspections, data calls with their
replies, and the reports as jobs (queued as the page queues them, followed and downloaded with the token).
Another jurisdiction is 404, an agency's token reaches none of it, a read token cannot queue a report."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from govqms.core.clock import today
from tests.api.test_tokens_and_scope import bearer, issue, place_of
from tests.api.test_writes import _data_call

YEAR = today().year


@pytest.fixture
def raw(app):
    """A client with no session: what a script is."""
    return app.test_client()


@pytest.fixture
def p1_reader(world, login_as, system_scope):
    return bearer(issue(login_as("p1_overseer"), place_of(world, "jurisdiction", "p1")))


@pytest.fixture
def p1_writer(world, login_as, system_scope):
    return bearer(issue(login_as("p1_overseer"), place_of(world, "jurisdiction", "p1"), "write"))


def _p1():
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction

    return db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "p1"))


def test_the_schedule_lists_the_years_events_of_the_jurisdictions_agencies(world, raw, login_as, p1_reader,
                                                                           system_scope):
    from govqms.audits.models import Audit
    from govqms.extensions import db

    for key, title in (("a1", "Đánh giá nội bộ lần 1"), ("b1", "Đánh giá của B")):
        db.session.add(Audit(tenant_id=world.tenant_ids[key], year=YEAR, title=title,
                             planned_start=dt.date(YEAR, 6, 1), planned_end=dt.date(YEAR, 6, 2), clauses=["9.2"],
                             unit_ids=[], process_ids=[], team_ids=[]))
    db.session.commit()
    url = f"/api/v1/jurisdictions/{world.p1}/schedule"
    answer = raw.get(f"{url}?year={YEAR}&kind=internal_audit", headers=p1_reader)
    assert answer.status_code == 200, answer.text
    events = answer.json["items"]
    assert [(e["agency"], e["title"], e["start"], e["end"]) for e in events] == [
        (world.a1, "Đánh giá nội bộ lần 1", f"{YEAR}-06-01", f"{YEAR}-06-02")]
    assert events[0]["kind"] == "internal_audit" and f"/t/{world.a1}/" in events[0]["url"]
    assert raw.get(f"{url}?year={YEAR - 5}&kind=internal_audit", headers=p1_reader).json["items"] == []
    assert raw.get(f"{url}?kind=gossip", headers=p1_reader).status_code == 422
    assert raw.get(f"{url}?year=1999", headers=p1_reader).status_code == 422
    assert raw.get(f"/api/v1/jurisdictions/{world.p2}/schedule", headers=p1_reader).status_code == 404
    agency = bearer(issue(login_as("a1_secretary"), place_of(world, "agency", "a1")))
    assert raw.get(url, headers=agency).status_code == 404


def test_inspections_of_a_years_plan_with_their_state(world, raw, p1_reader, system_scope):
    from govqms.extensions import db
    from govqms.inspections import services

    plan = services.create_plan(_p1(), YEAR)
    plan.decision_number = "12/QĐ-UBND"
    db.session.commit()
    url = f"/api/v1/jurisdictions/{world.p1}/inspections"
    answer = raw.get(f"{url}?year={YEAR}", headers=p1_reader)
    assert answer.status_code == 200, answer.text
    assert answer.json["plan"] == {"year": YEAR, "decision_number": "12/QĐ-UBND", "approved_on": None}
    lines = {item["agency"]: item for item in answer.json["items"]}
    assert set(lines) == {world.a1, world.a2} and answer.json["page"]["total"] == 2
    assert lines[world.a1]["status"] == "planned" and lines[world.a1]["form"] == "paper"
    assert f"/o/{world.p1}/" in lines[world.a1]["url"]
    none = raw.get(f"{url}?year={YEAR - 3}", headers=p1_reader).json
    assert none["plan"] is None and none["items"] == []
    assert raw.get(f"/api/v1/jurisdictions/{world.p2}/inspections", headers=p1_reader).status_code == 404


def test_data_calls_with_how_their_replies_stand(world, raw, login_as, p1_reader, system_scope):
    from govqms.datacalls import services
    from govqms.datacalls.models import DataCall
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction

    call, slots = _data_call(world)
    services.reply(slots[world.tenant_ids["a1"]], note="Đã gửi", files=[], user_id=None)
    p2 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p2))
    foreign = DataCall(jurisdiction_id=p2.id, title="p2", deadline=dt.date(2030, 1, 1), sent_on=today())
    db.session.add(foreign)
    db.session.commit()
    url = f"/api/v1/jurisdictions/{world.p1}/data-calls"
    listing = raw.get(url, headers=p1_reader)
    assert listing.status_code == 200
    assert [(c["id"], c["tally"]) for c in listing.json["items"]] == [
        (call.id, {"on_time": 1, "late": 0, "awaited": 1, "missing": 0})]
    detail = raw.get(f"{url}/{call.id}", headers=p1_reader)
    assert detail.status_code == 200
    assert {r["agency"]: (r["state"], r["submitted_on"]) for r in detail.json["replies"]} == {
        world.a1: ("on_time", today().isoformat()), world.a2: ("awaited", None)}
    assert raw.get(f"{url}/{foreign.id}", headers=p1_reader).status_code == 404
    assert raw.get(f"/api/v1/jurisdictions/{world.p2}/data-calls/{foreign.id}", headers=p1_reader).status_code == 404


def test_a_report_is_a_job_followed_and_downloaded_with_the_token(world, raw, login_as, p1_reader, p1_writer,
                                                                  system_scope):
    from govqms.extensions import db
    from govqms.jobs.models import Job

    url = f"/api/v1/jurisdictions/{world.p1}/reports"
    body = {"kind": "yearly", "year": YEAR, "fmt": "docx"}
    assert raw.post(url, json=body, headers=p1_reader).status_code == 403  # a read token
    invalid = raw.post(url, json={"kind": "novel", "year": 1900}, headers=p1_writer)
    assert invalid.status_code == 422 and set(invalid.json["errors"]["json"]) == {"kind", "year"}
    no_plan = raw.post(url, json={**body, "kind": "inspection-plan"}, headers=p1_writer)
    assert no_plan.status_code == 409
    keyed = {**p1_writer, "Idempotency-Key": "bao-cao-nam"}
    queued = raw.post(url, json=body, headers=keyed)
    assert queued.status_code == 202, queued.text
    assert queued.headers["Location"] == queued.json["url"] and queued.json["task"] == "oversight.yearly_report"
    again = raw.post(url, json=body, headers=keyed)
    assert again.status_code == 202 and again.json["id"] == queued.json["id"] and again.headers["Idempotent-Replayed"]
    assert db.session.scalar(select(func.count()).select_from(Job).where(Job.task == "oversight.yearly_report")) == 1
    job = raw.get(queued.json["url"], headers=p1_reader)  # the jobs run at once without Redis
    assert job.status_code == 200 and job.json["status"] == "finished" and job.json["done"] is True
    download = raw.get(job.json["download"], headers=p1_reader)
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert "attachment" in download.headers["Content-Disposition"]
    # another person's job, or one of another jurisdiction, is not found
    job_id = queued.json["id"]
    national = bearer(issue(login_as("national_overseer"), place_of(world, "jurisdiction", "vn")))
    assert raw.get(f"/api/v1/jurisdictions/vn/jobs/{job_id}", headers=national).status_code == 404
    assert raw.get(f"/api/v1/jurisdictions/{world.p2}/jobs/{job_id}", headers=p1_reader).status_code == 404
    owner = db.session.get(Job, job_id).user_id
    other = Job(task="activity.export_csv", tenant_id=world.tenant_ids["a1"], user_id=owner, status="finished",
                result=b"x", result_name="x.csv", result_mimetype="text/csv")
    db.session.add(other)
    db.session.commit()
    assert raw.get(f"/api/v1/jurisdictions/{world.p1}/jobs/{other.id}", headers=p1_reader).status_code == 404
    assert raw.get(f"/api/v1/jurisdictions/{world.p1}/jobs/{'9' * 400}", headers=p1_reader).status_code == 404
