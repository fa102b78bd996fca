"""Signed webhooks against a receiver on loopback: subscriptions through the pages, each event done for
real, the signature checked as a receiver would, retries, failures, SSRF refusals and isolation."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from tests.documents.helpers import PDF, create_document, revision_ids, upload

SECRET = re.compile(r'data-testid="webhook-secret">.*?value="([^"]+)"', re.DOTALL)


class Receiver:
    """An HTTP server on loopback, answering with the next of *statuses* (the last one repeats)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses = [200]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses[min(len(receiver.requests), len(receiver.statuses)) - 1]
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver broken")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def events(self) -> list[str]:
        return [json.loads(r["body"])["event"] for r in self.requests]

    def of(self, event: str) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests if json.loads(r["body"])["event"] == event]


@pytest.fixture
def receivers(app, system_scope):
    app.config["WEBHOOKS_ALLOW_LOOPBACK"] = True
    started = []

    def make() -> Receiver:
        receiver = Receiver()
        receiver.thread.start()
        started.append(receiver)
        return receiver

    try:
        yield make
    finally:
        app.config["WEBHOOKS_ALLOW_LOOPBACK"] = False
        for receiver in started:
            receiver.server.shutdown()
            receiver.server.server_close()


def verify(secret: str, request: dict) -> bool:
    """What a receiver does: HMAC-SHA256 over f"{timestamp}.{body}" with the secret, compared in constant time."""
    timestamp = request["headers"]["X-GovQMS-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(request["headers"]["X-GovQMS-Signature"], f"sha256={expected}")


def subscribe(client, base: str, url: str, events: list[str]) -> tuple[int, str]:
    response = client.post(f"{base}/webhooks/new", data={"url": url, "events": events})
    assert response.status_code == 200, response.text[:2000]
    secret = html.unescape(SECRET.search(response.text).group(1))
    subscription_id = int(re.search(rf"{base}/webhooks/(\d+)/", response.text).group(1))
    return subscription_id, secret


def deliveries(subscription_id: int):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.webhooks.models import WebhookDelivery

    db.session.expire_all()
    with scoped(TenantScope.system(), db.session):
        return list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
                                       .order_by(WebhookDelivery.id)))


def time_passes(delivery_id: int) -> None:
    """The delivery's next attempt is due (as if its delay had passed)."""
    from govqms.core.db import utcnow
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.webhooks.models import WebhookDelivery

    with scoped(TenantScope.system(), db.session):
        delivery = db.session.get(WebhookDelivery, delivery_id)
        delivery.next_attempt_at = utcnow() - dt.timedelta(minutes=5)
        db.session.commit()


def run_due() -> int:
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.webhooks import services

    with scoped(TenantScope.system(), db.session):
        return services.enqueue_due()


# --- the form, the secret --------------------------------------------------------------------------

@pytest.mark.parametrize("handle", ["a1_head", "a1_qmr", "a1_secretary"])
def test_the_agencys_managers_open_the_form_and_errors_keep_the_input(world, login_as, receivers, handle):
    client = login_as(handle)
    base = f"/t/{world.a1}"
    assert client.get(f"{base}/webhooks/").status_code == 200
    form = client.get(f"{base}/webhooks/new")
    assert form.status_code == 200 and 'name="events"' in form.text and "csrf_token" in form.text
    bad = client.post(f"{base}/webhooks/new", data={"url": "http://10.0.0.1/hook"})
    assert bad.status_code == 400
    assert 'value="http://10.0.0.1/hook"' in bad.text and "is-invalid" in bad.text
    assert 'data-testid="events-error"' in bad.text
    kept = client.post(f"{base}/webhooks/new", data={"url": "ftp://example.org/x", "events": ["nonconformity.closed"]})
    assert kept.status_code == 400 and 'value="nonconformity.closed" id="e-3" checked' in kept.text
    subscription_id, secret = subscribe(client, base, receivers().url, ["nonconformity.opened"])
    assert secret.startswith("whsec_")
    assert secret not in client.get(f"{base}/webhooks/").text
    assert secret not in client.get(f"{base}/webhooks/{subscription_id}/").text


@pytest.mark.parametrize("handle", ["a1_staff", "a1_auditor", "a1_viewer"])
def test_other_members_may_not_manage_webhooks(world, login_as, handle):
    client = login_as(handle)
    assert client.get(f"/t/{world.a1}/webhooks/").status_code == 403
    assert client.post(f"/t/{world.a1}/webhooks/new", data={"url": "https://example.org/"}).status_code == 403


def test_ping_is_signed_and_the_rotated_secret_replaces_the_old_one(world, login_as, receivers):
    receiver = receivers()
    client = login_as("a1_secretary")
    base = f"/t/{world.a1}"
    subscription_id, secret = subscribe(client, base, receiver.url, ["nonconformity.opened"])
    assert client.post(f"{base}/webhooks/{subscription_id}/ping").status_code == 302
    (request,) = receiver.requests
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json" and headers["User-Agent"] == "GovQMS-Webhooks/1"
    assert headers["X-GovQMS-Event"] == "ping" and request["path"] == "/hook"
    assert verify(secret, request)
    assert not verify(secret + "x", request)
    payload = json.loads(request["body"])
    assert headers["X-GovQMS-Delivery"] == payload["id"]
    assert abs(int(headers["X-GovQMS-Timestamp"]) - dt.datetime.now(dt.timezone.utc).timestamp()) < 60
    assert payload["agency"] == {"slug": world.a1, "name": "Sở Khoa học và Công nghệ Một"}
    assert payload["jurisdiction"] == {"code": world.p1, "name": "Tỉnh Một"}
    assert payload["occurred_at"].endswith("Z")
    (delivery,) = deliveries(subscription_id)
    assert delivery.state == "delivered" and delivery.attempts == 1 and delivery.last_status == 200
    log = client.get(f"{base}/webhooks/{subscription_id}/")
    assert payload["id"] in log.text
    # a new secret, shown once after a confirmation; the old one no longer verifies
    confirm = client.get(f"{base}/webhooks/{subscription_id}/rotate")
    assert confirm.status_code == 200 and "<form method=\"post\">" in confirm.text
    rotated = client.post(f"{base}/webhooks/{subscription_id}/rotate")
    new_secret = html.unescape(SECRET.search(rotated.text).group(1))
    assert new_secret != secret
    client.post(f"{base}/webhooks/{subscription_id}/ping")
    assert verify(new_secret, receiver.requests[-1]) and not verify(secret, receiver.requests[-1])
    assert new_secret not in client.get(f"{base}/webhooks/{subscription_id}/").text


# --- each event, done for real ---------------------------------------------------------------------

def test_each_event_reaches_the_agency_and_the_jurisdictions_above_it(world, login_as, receivers, system_scope):
    from govqms.compliance.models import ComplianceSnapshot
    from govqms.compliance.services import snapshot
    from govqms.core.clock import today
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.improvement.models import Nonconformity

    agency_receiver, province_receiver, national_receiver, other_receiver, b1_receiver = (receivers() for _ in range(5))
    everything = ["document.effective", "nonconformity.opened", "nonconformity.closed", "status.level_changed",
                  "data_call.sent", "data_call.answered", "inspection.minutes_signed"]
    secretary = login_as("a1_secretary")
    _, agency_secret = subscribe(secretary, f"/t/{world.a1}", agency_receiver.url, everything)
    _, province_secret = subscribe(login_as("p1_overseer"), f"/o/{world.p1}", province_receiver.url, everything)
    subscribe(login_as("national_overseer"), "/o/vn", national_receiver.url, ["nonconformity.opened"])
    subscribe(login_as("p2_overseer"), f"/o/{world.p2}", other_receiver.url, everything)
    subscribe(login_as("b1_secretary"), f"/t/{world.b1}", b1_receiver.url, everything)
    when = today().strftime("%d/%m/%Y")

    # nonconformity.opened, through the page
    opened = secretary.post(f"/t/{world.a1}/improvement/nonconformities/new", data={
        "source": "self_found", "found_on": when, "description": "Hồ sơ trễ hạn"})
    assert opened.status_code == 302, opened.text[:1000]
    nc_id = int(re.search(r"/nonconformities/(\d+)", opened.location).group(1))
    (event,) = agency_receiver.of("nonconformity.opened")
    assert event["data"]["nonconformity"]["id"] == nc_id
    assert event["data"]["nonconformity"]["description"] == "Hồ sơ trễ hạn"
    assert event["data"]["nonconformity"]["url"].endswith(f"/t/{world.a1}/improvement/nonconformities/{nc_id}")
    assert province_receiver.of("nonconformity.opened")[0]["id"] == event["id"]
    assert national_receiver.events() == ["nonconformity.opened"]
    assert verify(agency_secret, agency_receiver.requests[-1])
    assert verify(province_secret, province_receiver.requests[-1])

    # nonconformity.closed, once verified effective
    with scoped(TenantScope.system(), db.session):
        db.session.get(Nonconformity, nc_id).status = "verified"
        db.session.commit()
    assert login_as("a1_head").post(f"/t/{world.a1}/improvement/nonconformities/{nc_id}/close").status_code == 302
    assert agency_receiver.of("nonconformity.closed")[0]["data"]["nonconformity"]["status"] == "closed"

    # document.effective, through the workflow
    document_id = create_document(secretary, world.a1, code="QT-99")
    (revision_id,) = revision_ids(document_id)
    steps = f"/t/{world.a1}/documents/{document_id}/revisions/{revision_id}"
    secretary.post(f"{steps}/files", data=upload("qt.pdf", PDF), content_type="multipart/form-data")
    assert secretary.post(f"{steps}/submit").status_code == 302
    assert login_as("a1_qmr").post(f"{steps}/review", data={"comment": "Đạt"}).status_code == 302
    assert login_as("a1_head").post(f"{steps}/approve", data={"effective_on": when}).status_code == 302
    (event,) = agency_receiver.of("document.effective")
    assert event["data"]["document"]["code"] == "QT-99" and event["data"]["document"]["revision"] == 1

    # data_call.sent and data_call.answered
    overseer = login_as("p1_overseer")
    sent = overseer.post(f"/o/{world.p1}/data-calls/new", data={
        "title": "Báo cáo ISO", "request": "Gửi báo cáo", "deadline": (today() + dt.timedelta(days=9)).strftime(
            "%d/%m/%Y"), "tenant_ids": [str(world.tenant_ids["a1"])]}, content_type="multipart/form-data")
    assert sent.status_code == 302, sent.text[:1000]
    (event,) = agency_receiver.of("data_call.sent")
    assert event["agency"]["slug"] == world.a1 and event["data"]["data_call"]["title"] == "Báo cáo ISO"
    assert province_receiver.of("data_call.sent")[0]["agency"] is None
    from govqms.datacalls.models import DataCallReply

    with scoped(TenantScope.system(), db.session):
        slot = db.session.scalar(select(DataCallReply).where(DataCallReply.tenant_id == world.tenant_ids["a1"]))
    answered = secretary.post(f"/t/{world.a1}/data-calls/{slot.id}/", data={
        "note": "Đã gửi", "files": (io.BytesIO(PDF), "bao-cao.pdf")}, content_type="multipart/form-data")
    assert answered.status_code == 302
    assert province_receiver.of("data_call.answered")[0]["data"]["reply"]["on_time"] is True

    # inspection.minutes_signed (and the finding opens a nonconformity)
    assert overseer.post(f"/o/{world.p1}/inspections/plan", data={"year": today().year, "step": "create"}
                         ).status_code == 302
    from govqms.inspections.models import Inspection

    with scoped(TenantScope.system(), db.session):
        inspection_id = db.session.scalar(select(Inspection.id).where(Inspection.tenant_id == world.tenant_ids["a1"]))
    signed = overseer.post(f"/o/{world.p1}/inspections/{inspection_id}/", data={
        "step": "minutes", "held_on": when, "minutes_on": when, "signed": "true", "findings": "7.2: Chưa đào tạo"})
    assert signed.status_code == 302, signed.text[:1000]
    (event,) = province_receiver.of("inspection.minutes_signed")
    inspection = event["data"]["inspection"]
    assert inspection["id"] == inspection_id and len(inspection["nonconformities"]) == 1

    # status.level_changed: the nightly snapshot differs from yesterday's
    with scoped(TenantScope.system(), db.session):
        db.session.add(ComplianceSnapshot(tenant_id=world.tenant_ids["a1"], day=today() - dt.timedelta(days=1),
                                          level="unknown", results={}))
        db.session.commit()
        snapshot([world.tenant_ids["a1"], world.tenant_ids["a2"]])
        db.session.commit()
    (event,) = agency_receiver.of("status.level_changed")
    assert event["data"]["status"]["previous_level"] == "unknown" and event["data"]["status"]["level"] != "unknown"
    with scoped(TenantScope.system(), db.session):
        snapshot([world.tenant_ids["a1"]])  # the same level again: nothing new
        db.session.commit()
    assert len(agency_receiver.of("status.level_changed")) == 1

    assert set(agency_receiver.events()) == set(everything)
    assert set(province_receiver.events()) == set(everything)
    assert other_receiver.requests == [] and b1_receiver.requests == []


# --- retries ---------------------------------------------------------------------------------------

def test_a_failed_delivery_is_retried_then_delivered(world, login_as, receivers):
    receiver = receivers()
    receiver.statuses = [500, 200]
    client = login_as("a1_secretary")
    subscription_id, secret = subscribe(client, f"/t/{world.a1}", receiver.url, ["nonconformity.opened"])
    client.post(f"/t/{world.a1}/webhooks/{subscription_id}/ping")
    (delivery,) = deliveries(subscription_id)
    assert delivery.state == "pending" and delivery.attempts == 1 and delivery.last_status == 500
    assert delivery.last_error == "receiver broken" and delivery.next_attempt_at is not None
    assert run_due() == 0  # not due yet
    time_passes(delivery.id)
    assert run_due() == 1
    (delivery,) = deliveries(subscription_id)
    assert delivery.state == "delivered" and delivery.attempts == 2 and delivery.next_attempt_at is None
    assert len(receiver.requests) == 2 and all(verify(secret, r) for r in receiver.requests)
    assert receiver.requests[0]["headers"]["X-GovQMS-Delivery"] == receiver.requests[1]["headers"]["X-GovQMS-Delivery"]


def test_a_delivery_always_refused_fails_after_the_last_attempt(world, login_as, receivers):
    from govqms.webhooks.services import MAX_ATTEMPTS

    receiver = receivers()
    receiver.statuses = [500]
    client = login_as("a1_secretary")
    subscription_id, _secret = subscribe(client, f"/t/{world.a1}", receiver.url, ["nonconformity.opened"])
    client.post(f"/t/{world.a1}/webhooks/{subscription_id}/ping")
    for _ in range(MAX_ATTEMPTS - 1):
        (delivery,) = deliveries(subscription_id)
        assert delivery.state == "pending"
        time_passes(delivery.id)
        run_due()
    (delivery,) = deliveries(subscription_id)
    assert delivery.state == "failed" and delivery.attempts == MAX_ATTEMPTS == 6
    assert delivery.next_attempt_at is None and len(receiver.requests) == MAX_ATTEMPTS
    assert run_due() == 0
    page = client.get(f"/t/{world.a1}/webhooks/")
    assert "500" in page.text


def test_disabled_and_deleted_webhooks_receive_nothing(world, login_as, receivers):
    receiver = receivers()
    client = login_as("a1_secretary")
    base = f"/t/{world.a1}"
    subscription_id, _secret = subscribe(client, base, receiver.url, ["nonconformity.opened"])
    assert client.post(f"{base}/webhooks/{subscription_id}/active", data={"active": "0"}).status_code == 302
    when = dt.date.today().strftime("%d/%m/%Y")
    nc = {"source": "self_found", "found_on": when, "description": "x"}
    client.post(f"{base}/improvement/nonconformities/new", data=nc)
    assert receiver.requests == [] and deliveries(subscription_id) == []
    client.post(f"{base}/webhooks/{subscription_id}/active", data={"active": "1"})
    client.post(f"{base}/improvement/nonconformities/new", data=nc)
    assert receiver.events() == ["nonconformity.opened"]
    confirm = client.get(f"{base}/webhooks/{subscription_id}/archive")
    assert confirm.status_code == 200 and "<form method=\"post\">" in confirm.text
    assert client.post(f"{base}/webhooks/{subscription_id}/archive").status_code == 302
    assert client.get(f"{base}/webhooks/{subscription_id}/").status_code == 404
    client.post(f"{base}/improvement/nonconformities/new", data=nc)
    assert len(receiver.requests) == 1


# --- SSRF ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data",
                                 "https://10.0.0.1/hook", "https://169.254.169.254/", "https://[::1]/",
                                 "https://192.168.1.10/", "http://example.org/", "https://user:pw@example.org/"])
def test_addresses_inside_are_refused(world, login_as, url):
    response = login_as("a1_secretary").post(f"/t/{world.a1}/webhooks/new", data={
        "url": url, "events": ["nonconformity.opened"]})
    assert response.status_code == 400 and "is-invalid" in response.text


def test_loopback_is_refused_at_delivery_unless_allowed(app, world, login_as, receivers):
    from govqms.webhooks import sending

    receiver = receivers()
    client = login_as("a1_secretary")
    subscription_id, _secret = subscribe(client, f"/t/{world.a1}", receiver.url, ["nonconformity.opened"])
    app.config["WEBHOOKS_ALLOW_LOOPBACK"] = False
    client.post(f"/t/{world.a1}/webhooks/{subscription_id}/ping")
    (delivery,) = deliveries(subscription_id)
    assert delivery.state == "failed" and delivery.last_error.startswith("refused")
    assert receiver.requests == []
    with app.app_context():
        with pytest.raises(sending.UnsafeAddress):
            sending.resolve("localhost", 443)
        with pytest.raises(sending.UnsafeAddress):
            sending.check_url("https://127.0.0.1/")
        assert sending.check_url("https://example.org/a?b=1") == ("https", "example.org", 443, "/a?b=1")


# --- isolation -------------------------------------------------------------------------------------

def test_other_agencies_and_jurisdictions_get_404(world, login_as, receivers):
    url = receivers().url
    b1_id, _ = subscribe(login_as("b1_secretary"), f"/t/{world.b1}", url, ["nonconformity.opened"])
    p2_id, _ = subscribe(login_as("p2_overseer"), f"/o/{world.p2}", url, ["nonconformity.opened"])
    p1_id, _ = subscribe(login_as("p1_overseer"), f"/o/{world.p1}", url, ["nonconformity.opened"])
    secretary = login_as("a1_secretary")
    assert login_as("b1_secretary").get(f"/t/{world.a1}/webhooks/").status_code == 404
    for path in ("", "rotate", "archive"):
        assert secretary.get(f"/t/{world.a1}/webhooks/{b1_id}/{path}").status_code == 404
    for path in ("ping", "active", "rotate", "archive"):
        assert secretary.post(f"/t/{world.a1}/webhooks/{b1_id}/{path}").status_code == 404
    assert secretary.get(f"/t/{world.a1}/webhooks/{p1_id}/").status_code == 404  # a jurisdiction's, not a1's
    overseer = login_as("p1_overseer")
    assert overseer.get(f"/o/{world.p2}/webhooks/").status_code == 404
    assert overseer.get(f"/o/{world.p1}/webhooks/{p2_id}/").status_code == 404
    assert overseer.post(f"/o/{world.p1}/webhooks/{p2_id}/rotate").status_code == 404
    assert overseer.get(f"/o/{world.p1}/webhooks/{b1_id}/").status_code == 404
    assert overseer.get(f"/t/{world.a1}/webhooks/").status_code == 403  # an overseer reads the agency, no more
    # the national overseer, above p1, sees and manages p1's webhooks
    national = login_as("national_overseer")
    assert national.get(f"/o/{world.p1}/webhooks/{p1_id}/").status_code == 200
    index = overseer.get(f"/o/{world.p1}/webhooks/")
    assert index.status_code == 200 and f"/o/{world.p1}/webhooks/{p1_id}/" in index.text
    assert f"/webhooks/{p2_id}/" not in index.text


@pytest.mark.postgresql_only
def test_the_database_walls_in_jurisdiction_webhooks(app, world, login_as, receivers):
    """Row-level security: an agency's scope sees its own rows only; a jurisdiction's rows only its overseers."""
    from govqms.accounts.models import User
    from govqms.core.activity import Actor, acting_as
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.webhooks.models import WebhookSubscription

    url = receivers().url
    subscribe(login_as("a1_secretary"), f"/t/{world.a1}", url, ["nonconformity.opened"])
    subscribe(login_as("b1_secretary"), f"/t/{world.b1}", url, ["nonconformity.opened"])
    subscribe(login_as("p1_overseer"), f"/o/{world.p1}", url, ["nonconformity.opened"])
    with app.app_context():
        with scoped(TenantScope.system(), db.session):
            ids = {email: db.session.scalar(select(User.id).where(User.email == email))
                   for email in (world.email("p1_overseer"), world.email("p2_overseer"), world.email("a1_secretary"))}
        db.session.commit()

        def visible(scope, email):
            with scoped(scope, db.session), acting_as(Actor(ids[email], "test")):
                db.session.rollback()
                rows = db.session.execute(select(WebhookSubscription.tenant_id, WebhookSubscription.jurisdiction_id)
                                          .execution_options(skip_tenant_scope=True)).all()
                db.session.rollback()
                return rows

        a1 = world.tenant_ids["a1"]
        assert [r.tenant_id for r in visible(TenantScope.tenant(a1), world.email("a1_secretary"))] == [a1]
        p1_rows = visible(TenantScope.readonly([a1]), world.email("p1_overseer"))
        assert [(r.tenant_id is None, r.tenant_id) for r in p1_rows].count((True, None)) == 1
        assert all(r.tenant_id in (None, a1) for r in p1_rows)
        assert [r for r in visible(TenantScope.readonly([]), world.email("p2_overseer"))] == []


def test_a_secret_sealed_under_another_key_fails_the_delivery_without_sending(app, world, login_as, receivers):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.webhooks import keys
    from govqms.webhooks.models import WebhookSubscription

    receiver = receivers()
    client = login_as("a1_secretary")
    subscription_id, _secret = subscribe(client, f"/t/{world.a1}", receiver.url, ["nonconformity.opened"])
    with scoped(TenantScope.system(), db.session):
        stored = db.session.get(WebhookSubscription, subscription_id)
        assert keys.decrypt(stored.secret_encrypted) == _secret and _secret not in stored.secret_encrypted
        stored.secret_encrypted = keys._fernet("another deployment's key").encrypt(b"whsec_x").decode()
        db.session.commit()
    client.post(f"/t/{world.a1}/webhooks/{subscription_id}/ping")
    (delivery,) = deliveries(subscription_id)
    assert delivery.state == "failed" and "make a new secret" in delivery.last_error
    assert receiver.requests == []
