"""The API's writes: measurements, service results (the import's checks, all or nothing), actions done,
replies to data calls; idempotency keys (a retry writes once, the same key with another body is 422);
the page's permissions (a read token 403, a role that may not 403), another agency's records 404."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from govqms.core.clock import today
from tests.api.test_tokens_and_scope import bearer, issue, place_of

LAST_YEAR = today().year - 1


@pytest.fixture
def raw(app):
    """A client with no session: what a script is."""
    return app.test_client()


@pytest.fixture
def a1_writer(world, login_as, system_scope):
    return bearer(issue(login_as("a1_secretary"), place_of(world, "agency", "a1"), "write"))


@pytest.fixture
def a1_reader(world, login_as, system_scope):
    return bearer(issue(login_as("a1_secretary"), place_of(world, "agency", "a1"), "read"))


def _objective(world, key: str = "a1", source: str = "typed"):
    from govqms.extensions import db
    from govqms.objectives.models import Objective

    objective = Objective(tenant_id=world.tenant_ids[key], year=LAST_YEAR, statement=f"Mục tiêu {key}",
                          indicator="Tỷ lệ hồ sơ đúng hạn", comparator=">=", target=95, frequency="quarterly",
                          source=source)
    db.session.add(objective)
    db.session.commit()
    return objective


def _count(model, **where) -> int:
    from govqms.extensions import db

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**where))


# --- idempotency -------------------------------------------------------------------------------------

def test_a_measurement_is_recorded_once_whatever_the_retries(world, raw, a1_writer, system_scope):
    from govqms.core.activity import ActivityEntry
    from govqms.extensions import db
    from govqms.objectives.models import Measurement

    objective = _objective(world)
    url = f"/api/v1/agencies/{world.a1}/objectives/{objective.id}/measurements"
    body = {"period_index": 2, "value": 96.5, "note": "Theo báo cáo quý II"}
    keyed = {**a1_writer, "Idempotency-Key": "quy-2-lan-1"}
    first = raw.post(url, json=body, headers=keyed)
    assert first.status_code == 201, first.text
    assert first.json["value"] == 96.5 and first.json["period_index"] == 2
    assert "Idempotent-Replayed" not in first.headers
    measurement = db.session.get(Measurement, first.json["id"])
    assert measurement.tenant_id == world.tenant_ids["a1"] and measurement.note == "Theo báo cáo quý II"
    entries = _count(ActivityEntry, entity="measurement", entity_id=str(measurement.id))
    assert entries >= 1
    # someone corrects it on the page; the script, not having heard the answer, sends its push again
    measurement.value = 90.0
    db.session.commit()
    again = raw.post(url, json={"note": "Theo báo cáo quý II", "value": 96.5, "period_index": 2}, headers=keyed)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json and again.mimetype == "application/json"
    db.session.expire_all()
    assert db.session.get(Measurement, measurement.id).value == 90.0  # not written again
    assert _count(ActivityEntry, entity="measurement", entity_id=str(measurement.id)) == entries + 1  # the page's
    other = raw.post(url, json={**body, "value": 12}, headers=keyed)
    assert other.status_code == 422 and other.mimetype == "application/problem+json"
    assert "Idempotency-Key" in other.json["detail"]
    assert db.session.get(Measurement, measurement.id).value == 90.0
    # without a key a push writes as the page does; a new key writes again
    assert raw.post(url, json={**body, "value": 97}, headers=a1_writer).status_code == 201
    assert raw.post(url, json={**body, "value": 98}, headers={**a1_writer, "Idempotency-Key": "2"}).json["value"] == 98
    assert _count(Measurement, objective_id=objective.id) == 1  # one value per period
    too_long = raw.post(url, json=body, headers={**a1_writer, "Idempotency-Key": "k" * 101})
    assert too_long.status_code == 422


def test_a_failed_request_leaves_its_key_free(world, raw, a1_writer, system_scope):
    objective = _objective(world)
    url = f"/api/v1/agencies/{world.a1}/objectives/{objective.id}/measurements"
    keyed = {**a1_writer, "Idempotency-Key": "abc"}
    assert raw.post(url, json={"period_index": 1, "value": "many"}, headers=keyed).status_code == 422
    done = raw.post(url, json={"period_index": 1, "value": 5}, headers=keyed)
    assert done.status_code == 201 and "Idempotent-Replayed" not in done.headers


def test_keys_are_the_tokens_own_and_kept_a_day(world, raw, login_as, a1_writer, system_scope):
    from govqms.api.idempotency import KEEP, IdempotentRequest, forget_expired
    from govqms.core.db import utcnow
    from govqms.extensions import db
    from govqms.jobs.services import CLEANUP_STEPS

    objective = _objective(world)
    url = f"/api/v1/agencies/{world.a1}/objectives/{objective.id}/measurements"
    body = {"period_index": 1, "value": 5}
    assert raw.post(url, json=body, headers={**a1_writer, "Idempotency-Key": "k"}).status_code == 201
    head = bearer(issue(login_as("a1_head"), place_of(world, "agency", "a1"), "write"))
    other_token = raw.post(url, json={**body, "value": 6}, headers={**head, "Idempotency-Key": "k"})
    assert other_token.status_code == 201 and other_token.json["value"] == 6  # another token's key is not this one
    assert "expired_idempotency_keys" in {step.__name__ for step in CLEANUP_STEPS}
    assert forget_expired(utcnow()) == 0
    assert forget_expired(utcnow() + KEEP + dt.timedelta(minutes=1)) == 2
    assert db.session.scalar(select(func.count()).select_from(IdempotentRequest)) == 0


# --- measurements -------------------------------------------------------------------------------------

def test_measurements_keep_the_pages_rules(world, raw, login_as, a1_writer, a1_reader, system_scope):
    objective = _objective(world)
    foreign = _objective(world, "b1")
    computed = _objective(world, source="on_time_rate")
    url = f"/api/v1/agencies/{world.a1}/objectives/{objective.id}/measurements"
    body = {"period_index": 1, "value": 80}
    invalid = raw.post(url, json={"period_index": "first", "value": "nan"}, headers=a1_writer)
    assert invalid.status_code == 422 and set(invalid.json["errors"]["json"]) == {"period_index", "value"}
    assert raw.post(url, json={"period_index": 5, "value": 1}, headers=a1_writer).status_code == 422  # a quarter is 1-4
    refused = raw.post(f"/api/v1/agencies/{world.a1}/objectives/{computed.id}/measurements", json=body,
                       headers=a1_writer)
    assert refused.status_code == 422 and refused.json["detail"]
    assert raw.post(url, json=body, headers=a1_reader).status_code == 403
    viewer = bearer(issue(login_as("a1_viewer"), place_of(world, "agency", "a1"), "write"))
    assert raw.post(url, json=body, headers=viewer).status_code == 403
    staff = bearer(issue(login_as("a1_staff"), place_of(world, "agency", "a1"), "write"))
    assert raw.post(url, json=body, headers=staff).status_code == 201  # staff record their measurements
    for target in (f"/api/v1/agencies/{world.a1}/objectives/{foreign.id}/measurements",
                   f"/api/v1/agencies/{world.b1}/objectives/{foreign.id}/measurements"):
        assert raw.post(target, json={"value": "x"}, headers=a1_writer).status_code == 404  # before the body


# --- service results ---------------------------------------------------------------------------------

def _rows():
    return [
        {"period": f"01/{LAST_YEAR}", "field": "Đất đai", "received": 10, "resolved_early": 2,
         "resolved_on_time": 6, "resolved_late": 1, "pending": 1},
        {"period": f"01/{LAST_YEAR}", "field": "Xây dựng", "received": "5", "resolved_early": 0,
         "resolved_on_time": 5, "resolved_late": 0, "pending": 0},
    ]


def test_service_results_are_stored_all_or_nothing_and_once(world, raw, a1_writer, a1_reader, system_scope):
    from govqms.core.activity import ActivityEntry
    from govqms.performance.models import ServiceResult

    a1 = world.tenant_ids["a1"]
    url = f"/api/v1/agencies/{world.a1}/service-results"
    keyed = {**a1_writer, "Idempotency-Key": "thang-1"}
    assert raw.post(url, json=_rows(), headers=a1_writer).status_code == 428  # a key is required here
    bad = _rows()
    bad[1]["received"] = 3  # less than resolved + pending
    refused = raw.post(url, json=bad, headers={**a1_writer, "Idempotency-Key": "thang-1-sai"})
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert list(refused.json["errors"]["json"]) == ["1"] and "received" in refused.json["errors"]["json"]["1"]
    assert _count(ServiceResult, tenant_id=a1) == 0  # nothing of the good row either
    stored = raw.post(url, json=_rows(), headers=keyed)
    assert stored.status_code == 201, stored.text
    assert stored.json["stored"] == 2 and stored.json["replaced"] == 0
    assert stored.json["totals"] == {"received": 15, "early": 2, "on_time": 11, "late": 1, "pending": 1}
    assert stored.json["period"] == {"start": f"{LAST_YEAR}-01-01", "end": f"{LAST_YEAR}-01-31"}
    from govqms.extensions import db

    ids = set(db.session.scalars(select(ServiceResult.id).where(ServiceResult.tenant_id == a1)))
    entries = _count(ActivityEntry, entity="service_result")
    replay = raw.post(url, json=_rows(), headers=keyed)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true" and replay.json == stored.json
    db.session.expire_all()
    assert set(db.session.scalars(select(ServiceResult.id).where(ServiceResult.tenant_id == a1))) == ids
    assert _count(ActivityEntry, entity="service_result") == entries  # nothing written again
    changed = raw.post(url, json=_rows()[:1], headers=keyed)
    assert changed.status_code == 422 and _count(ServiceResult, tenant_id=a1) == 2
    # a new push of the same month replaces it (as the import does), never adds to it
    again = raw.post(url, json=_rows()[:1], headers={**a1_writer, "Idempotency-Key": "thang-1-sua"})
    assert again.status_code == 201 and again.json["replaced"] == 2 and _count(ServiceResult, tenant_id=a1) == 1


def test_service_results_say_which_row_is_wrong(world, raw, a1_writer, a1_reader, login_as, system_scope):
    from govqms.performance.models import ServiceResult

    url = f"/api/v1/agencies/{world.a1}/service-results"

    def push(rows, headers=None, key="k"):
        return raw.post(url, json=rows, headers={**(headers or a1_writer), "Idempotency-Key": key})

    rows = _rows()
    rows[0]["received"] = "mười"
    shape = push(rows)
    assert shape.status_code == 422 and set(shape.json["errors"]["json"]["0"]) == {"received"}
    uneven = _rows()
    uneven[0]["procedure_code"] = "1.001"
    answer = push(uneven)
    assert answer.status_code == 422 and list(answer.json["errors"]["json"]) == ["1"]
    assert list(answer.json["errors"]["json"]["1"]) == ["procedure_code"]  # the row that lacks it
    twice = [_rows()[0], _rows()[0]]
    answer = push(twice)
    assert answer.status_code == 422 and list(answer.json["errors"]["json"]) == ["1"]
    future = _rows()
    future[0]["period"] = f"12/{today().year + 1}"
    answer = push(future)
    assert answer.status_code == 422 and "period" in answer.json["errors"]["json"]["0"]
    unreadable = _rows()
    unreadable[1]["period"] = "mùa xuân"
    assert "period" in push(unreadable).json["errors"]["json"]["1"]
    total = _rows()
    total[1]["field"] = "Tổng cộng"
    answer = push(total)
    assert answer.status_code == 422 and "1" in answer.json["errors"]["json"]
    assert push([]).status_code == 422
    missing = _rows()
    del missing[0]["pending"]
    assert "pending" in push(missing).json["errors"]["json"]["0"]
    split = [{**row, "pending_not_due": 1, "pending_overdue": -1} for row in _rows()]
    for row in split:
        del row["pending"]
    answer = push(split)
    assert answer.status_code == 422 and set(answer.json["errors"]["json"]) == {"0", "1"}
    assert "pending_overdue" in answer.json["errors"]["json"]["0"]
    assert _count(ServiceResult, tenant_id=world.tenant_ids["a1"]) == 0
    split[0]["pending_overdue"], split[0]["pending_not_due"] = 0, 1  # the first row's 1 pending, not yet due
    split[1]["pending_overdue"], split[1]["pending_not_due"] = 0, 0
    stored = push(split, key="tach")
    assert stored.status_code == 201 and stored.json["totals"]["pending"] == 1
    assert push(_rows(), a1_reader).status_code == 403
    staff = bearer(issue(login_as("a1_staff"), place_of(world, "agency", "a1"), "write"))
    assert push(_rows(), staff).status_code == 403
    assert raw.post(f"/api/v1/agencies/{world.b1}/service-results", json=_rows(),
                    headers={**a1_writer, "Idempotency-Key": "k"}).status_code == 404


# --- actions ---------------------------------------------------------------------------------------------

def _action(world, key: str, owner: str):
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.improvement.models import Action, Nonconformity

    user = db.session.scalar(select(User).where(User.email == world.email(owner)))
    nc = Nonconformity(tenant_id=world.tenant_ids[key], source="self_found", found_on=today(), description="x",
                       status="actions_planned", root_cause="y")
    db.session.add(nc)
    db.session.flush()
    action = Action(tenant_id=world.tenant_ids[key], nonconformity_id=nc.id, description="Bổ sung biểu mẫu",
                    owner_id=user.id, due_on=today() + dt.timedelta(days=10))
    db.session.add(action)
    db.session.commit()
    return action


def test_an_action_is_completed_by_its_owner_or_a_keeper(world, raw, login_as, a1_writer, a1_reader, system_scope):
    from govqms.extensions import db
    from govqms.improvement.models import Action, Nonconformity

    mine = _action(world, "a1", "a1_staff")
    theirs = _action(world, "a1", "a1_head")
    foreign = _action(world, "b1", "b1_secretary")
    staff = bearer(issue(login_as("a1_staff"), place_of(world, "agency", "a1"), "write"))
    url = f"/api/v1/agencies/{world.a1}/actions/{{}}/complete"
    assert raw.post(url.format(theirs.id), json={}, headers=staff).status_code == 403
    assert raw.post(url.format(mine.id), json={}, headers=a1_reader).status_code == 403
    invalid = raw.post(url.format(mine.id), json={"note": "x" * 5001}, headers=staff)
    assert invalid.status_code == 422 and "note" in invalid.json["errors"]["json"]
    done = raw.post(url.format(mine.id), json={"note": "Đã ban hành biểu mẫu mới"}, headers=staff)
    assert done.status_code == 200 and done.json["status"] == "done" and done.json["done_on"] == today().isoformat()
    db.session.expire_all()
    assert db.session.get(Action, mine.id).note == "Đã ban hành biểu mẫu mới"
    assert db.session.get(Nonconformity, mine.nonconformity_id).status == "implemented"  # the service's effect
    again = raw.post(url.format(mine.id), json={}, headers=staff)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert raw.post(url.format(theirs.id), json={}, headers=a1_writer).status_code == 200  # a keeper, for anyone
    assert raw.post(url.format(foreign.id), json={}, headers=a1_writer).status_code == 404
    assert raw.post(f"/api/v1/agencies/{world.b1}/actions/{foreign.id}/complete", json={},
                    headers=a1_writer).status_code == 404


# --- replies to data calls ----------------------------------------------------------------------------

def _data_call(world, deadline: dt.date | None = None):
    from govqms.datacalls import services
    from govqms.datacalls.models import DataCallReply
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction, Tenant

    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == world.p1))
    call = services.send(p1, title="Báo cáo tình hình ISO 2026", request="Gửi báo cáo", user_id=None,
                         deadline=deadline or today() + dt.timedelta(days=7),
                         tenants=[db.session.get(Tenant, world.tenant_ids["a1"]),
                                  db.session.get(Tenant, world.tenant_ids["a2"])])
    db.session.commit()
    slots = {slot.tenant_id: slot for slot in db.session.scalars(
        select(DataCallReply).where(DataCallReply.call_id == call.id))}
    return call, slots


def test_a_data_call_is_answered_with_the_version_read(world, raw, login_as, a1_writer, a1_reader, system_scope):
    from govqms.datacalls.models import DataCallReply
    from govqms.extensions import db

    call, slots = _data_call(world)
    mine, theirs = slots[world.tenant_ids["a1"]], slots[world.tenant_ids["a2"]]
    listing = raw.get(f"/api/v1/agencies/{world.a1}/data-calls", headers=a1_reader)
    assert listing.status_code == 200
    assert [(r["id"], r["state"], r["data_call"]["title"]) for r in listing.json["items"]] == [
        (mine.id, "awaited", "Báo cáo tình hình ISO 2026")]
    url = f"/api/v1/agencies/{world.a1}/data-calls/{mine.id}"
    read = raw.get(url, headers=a1_reader)
    assert read.status_code == 200 and read.json["data_call"]["deadline"] == call.deadline.isoformat()
    etag = read.headers["ETag"]
    body = {"note": "Đơn vị đã duy trì hệ thống đầy đủ"}
    assert raw.post(url + "/reply", json=body, headers=a1_reader).status_code == 403
    viewer = bearer(issue(login_as("a1_viewer"), place_of(world, "agency", "a1"), "write"))
    assert raw.post(url + "/reply", json=body, headers={**viewer, "If-Match": etag}).status_code == 403
    assert raw.post(url + "/reply", json=body, headers=a1_writer).status_code == 428
    empty = raw.post(url + "/reply", json={"note": "  "}, headers={**a1_writer, "If-Match": etag})
    assert empty.status_code == 422 and "note" in empty.json["errors"]["json"]
    sent = raw.post(url + "/reply", json=body, headers={**a1_writer, "If-Match": etag, "Idempotency-Key": "tl-1"})
    assert sent.status_code == 200, sent.text
    assert sent.json["state"] == "on_time" and sent.json["submitted_on"] == today().isoformat()
    assert sent.headers["ETag"] != etag
    replay = raw.post(url + "/reply", json=body, headers={**a1_writer, "If-Match": etag, "Idempotency-Key": "tl-1"})
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    db.session.expire_all()
    assert db.session.get(DataCallReply, mine.id).revisions == 0  # the retry did not count as a correction
    stale = raw.post(url + "/reply", json={"note": "Sửa lại"}, headers={**a1_writer, "If-Match": etag})
    assert stale.status_code == 412
    corrected = raw.post(url + "/reply", json={"note": "Sửa lại"},
                         headers={**a1_writer, "If-Match": sent.headers["ETag"]})
    assert corrected.status_code == 200 and corrected.json["revisions"] == 1
    # the overseer sees the answer
    overseer = bearer(issue(login_as("p1_overseer"), place_of(world, "jurisdiction", "p1")))
    seen = raw.get(f"/api/v1/jurisdictions/{world.p1}/data-calls/{call.id}", headers=overseer).json
    assert {r["agency"]: r["note"] for r in seen["replies"]}[world.a1] == "Sửa lại"
    for other in (f"/api/v1/agencies/{world.a1}/data-calls/{theirs.id}",
                  f"/api/v1/agencies/{world.a1}/data-calls/{theirs.id}/reply"):
        answer = (raw.get(other, headers=a1_writer) if other.endswith(str(theirs.id))
                  else raw.post(other, json=body, headers={**a1_writer, "If-Match": "*"}))
        assert answer.status_code == 404, other
