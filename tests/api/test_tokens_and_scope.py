"""API tokens: issued once, stored hashed, limited to one agency or jurisdiction and to read or write,
expired and revoked tokens refused; errors as RFC 9457 problems; the OpenAPI document."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from govqms.core.clock import today


def issue(client, place: str, access: str = "read", days: int = 30, name: str = "Một cửa") -> str:
    page = client.post("/account/tokens/", data={"name": name, "place": place, "access": access, "days": days})
    assert page.status_code == 200, page.text[:300]
    start = page.text.index("gq_")
    return page.text[start:page.text.index("<", start)].strip()


def place_of(world, kind: str, key: str) -> str:
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction

    if kind == "agency":
        return f"agency:{world.tenant_ids[key]}"
    return f"jurisdiction:{db.session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == key))}"


@pytest.fixture
def raw(app):
    """A client with no session: what a script is."""
    return app.test_client()


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_a_token_is_shown_once_and_stored_hashed(world, login_as, system_scope):
    from govqms.api.models import ApiToken
    from govqms.extensions import db

    client = login_as("a1_secretary")
    assert 'data-testid="api-tokens"' in client.get("/account/").text
    page = client.get("/account/tokens/")
    assert page.status_code == 200 and f'value="agency:{world.tenant_ids["a1"]}"' in page.text
    assert f'value="agency:{world.tenant_ids["b1"]}"' not in page.text  # not hers
    bad = client.post("/account/tokens/", data={"name": "Cổng báo cáo", "access": "read", "days": "30",
                                                "place": f"agency:{world.tenant_ids['b1']}"})
    assert bad.status_code == 400 and 'value="Cổng báo cáo"' in bad.text and "is-invalid" in bad.text
    secret = issue(client, place_of(world, "agency", "a1"))
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in (token.prefix or "x" * 99)
    again = client.get("/account/tokens/")
    assert secret not in again.text and token.prefix in again.text


def test_no_token_a_bad_token_an_expired_or_revoked_one_is_401(world, login_as, raw, system_scope):
    from govqms.api.models import ApiToken
    from govqms.extensions import db

    url = f"/api/v1/agencies/{world.a1}/nonconformities"
    for headers in ({}, bearer("gq_nothing"), {"Authorization": "Basic eDp5"}):
        answer = raw.get(url, headers=headers)
        assert answer.status_code == 401 and answer.mimetype == "application/problem+json"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert answer.json["status"] == 401 and answer.json["instance"] == url
    signed_in = login_as("a1_secretary")
    assert signed_in.get(url).status_code == 401  # a browser's session is not a token
    secret = issue(signed_in, place_of(world, "agency", "a1"))
    assert raw.get(url, headers=bearer(secret)).status_code == 200
    token = db.session.scalar(select(ApiToken))
    token.expires_at = token.expires_at - dt.timedelta(days=31)
    db.session.commit()
    assert raw.get(url, headers=bearer(secret)).status_code == 401
    token.expires_at = token.expires_at + dt.timedelta(days=31)
    db.session.commit()
    confirm = signed_in.get(f"/account/tokens/{token.id}/revoke")
    assert confirm.status_code == 200 and "<form method=\"post\"" in confirm.text
    assert signed_in.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert raw.get(url, headers=bearer(secret)).status_code == 401
    assert login_as("b1_secretary").post(f"/account/tokens/{token.id}/revoke").status_code == 404


def test_a_token_reaches_its_agency_only(world, login_as, raw, system_scope):
    from govqms.extensions import db
    from govqms.improvement.models import Nonconformity

    b1_nc = Nonconformity(tenant_id=world.tenant_ids["b1"], source="self_found", found_on=today(),
                          description="secret of b1")
    a1_nc = Nonconformity(tenant_id=world.tenant_ids["a1"], source="self_found", found_on=today(),
                          description="Chưa cập nhật quy trình")
    db.session.add_all([b1_nc, a1_nc])
    db.session.commit()
    secret = issue(login_as("a1_secretary"), place_of(world, "agency", "a1"))
    listing = raw.get(f"/api/v1/agencies/{world.a1}/nonconformities?status=not_closed", headers=bearer(secret))
    assert listing.status_code == 200
    assert [nc["description"] for nc in listing.json["items"]] == ["Chưa cập nhật quy trình"]
    assert listing.json["page"] == {"page": 1, "per_page": 25, "total": 1, "pages": 1}
    assert raw.get(f"/api/v1/agencies/{world.a1}/nonconformities/{a1_nc.id}", headers=bearer(secret)).status_code == 200
    for url in (f"/api/v1/agencies/{world.b1}/nonconformities", f"/api/v1/agencies/{world.a2}/status",
                f"/api/v1/agencies/{world.a1}/nonconformities/{b1_nc.id}",
                f"/api/v1/jurisdictions/{world.p1}/comparison"):
        answer = raw.get(url, headers=bearer(secret))
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json", url
        assert b"secret of b1" not in answer.data
    status = raw.get(f"/api/v1/agencies/{world.a1}/status", headers=bearer(secret))
    assert status.status_code == 200 and status.json["agency"] == world.a1
    assert {check["rule"] for check in status.json["checks"]} >= {"internal_audit", "management_review"}
    me = raw.get("/api/v1/token", headers=bearer(secret)).json
    assert me["agency"] == world.a1 and me["access"] == "read" and me["jurisdiction"] is None


def test_read_only_tokens_cannot_write_and_writes_keep_the_roles(world, login_as, raw, system_scope):
    from govqms.core.activity import ActivityEntry
    from govqms.extensions import db
    from govqms.improvement.models import Nonconformity

    body = {"source": "self_found", "found_on": today().isoformat(), "description": "Phiếu hẹn thiếu chữ ký"}
    url = f"/api/v1/agencies/{world.a1}/nonconformities"
    reader = issue(login_as("a1_secretary"), place_of(world, "agency", "a1"), "read")
    refused = raw.post(url, json=body, headers=bearer(reader))
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    writer = issue(login_as("a1_secretary"), place_of(world, "agency", "a1"), "write", name="Hệ thống một cửa")
    created = raw.post(url, json=body, headers=bearer(writer))
    assert created.status_code == 201 and created.json["description"] == "Phiếu hẹn thiếu chữ ký"
    nc = db.session.get(Nonconformity, created.json["id"])
    assert nc.tenant_id == world.tenant_ids["a1"]
    entry = db.session.scalar(select(ActivityEntry).where(ActivityEntry.entity == "nonconformity",
                                                         ActivityEntry.entity_id == str(nc.id)))
    assert "Hệ thống một cửa" in entry.actor_label  # the log names the token
    invalid = raw.post(url, json={**body, "found_on": "31/12/2026", "source": "gossip"}, headers=bearer(writer))
    assert invalid.status_code == 422 and invalid.mimetype == "application/problem+json"
    assert set(invalid.json["errors"]["json"]) == {"found_on", "source"}
    viewer = issue(login_as("a1_viewer"), place_of(world, "agency", "a1"), "write")
    assert raw.post(url, json=body, headers=bearer(viewer)).status_code == 403  # the person's role still applies


def test_a_jurisdiction_token_reads_the_comparison(world, login_as, raw, system_scope):
    secret = issue(login_as("p1_overseer"), place_of(world, "jurisdiction", "p1"))
    rows = raw.get(f"/api/v1/jurisdictions/{world.p1}/comparison?per_page=1", headers=bearer(secret))
    assert rows.status_code == 200 and rows.json["page"]["per_page"] == 1 and len(rows.json["items"]) == 1
    assert rows.json["page"]["total"] >= 2 and rows.json["items"][0]["agency"] in {world.a1, world.a2, world.a_old}
    assert raw.get(f"/api/v1/jurisdictions/{world.p2}/comparison", headers=bearer(secret)).status_code == 404
    assert raw.get(f"/api/v1/agencies/{world.a1}/status", headers=bearer(secret)).status_code == 404
    too_many = raw.get(f"/api/v1/jurisdictions/{world.p1}/comparison?per_page=1000", headers=bearer(secret))
    assert too_many.status_code == 422 and "per_page" in too_many.json["errors"]["query"]


def test_the_rate_limit_answers_429_with_retry_after(app, world, login_as, raw, system_scope):
    secret = issue(login_as("a1_secretary"), place_of(world, "agency", "a1"))
    app.config["API_RATE_LIMIT"] = 3
    try:
        answers = [raw.get("/api/v1/token", headers=bearer(secret)) for _ in range(4)]
    finally:
        app.config["API_RATE_LIMIT"] = 120
    assert [a.status_code for a in answers][:3] == [200, 200, 200]
    assert answers[3].status_code == 429 and 1 <= int(answers[3].headers["Retry-After"]) <= 60
    assert answers[3].mimetype == "application/problem+json"


def test_the_openapi_document_and_its_reference_page(raw, login_as):
    spec = raw.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.json["openapi"].startswith("3.")
    assert "/api/v1/agencies/{tenant_slug}/nonconformities" in spec.json["paths"]
    assert spec.json["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    page = login_as("a1_viewer").get("/api/v1/")
    assert page.status_code == 200 and "/api/v1/jurisdictions/{jurisdiction_code}/comparison" in page.text
    assert raw.get("/api/v1/").status_code == 200  # the reference is public, like the document


def test_an_update_names_the_version_it_read(world, login_as, raw, system_scope):
    """ETag on read, If-Match on update: missing 428, stale 412 (nothing written), current 200."""
    from govqms.extensions import db
    from govqms.improvement.models import Nonconformity

    nc = Nonconformity(tenant_id=world.tenant_ids["a1"], source="self_found", found_on=today(), description="x")
    db.session.add(nc)
    db.session.commit()
    writer = bearer(issue(login_as("a1_secretary"), place_of(world, "agency", "a1"), "write"))
    url = f"/api/v1/agencies/{world.a1}/nonconformities/{nc.id}"
    etag = raw.get(url, headers=writer).headers["ETag"]
    body = {"correction": "Bổ sung chữ ký", "root_cause": "Chưa hướng dẫn cán bộ một cửa"}
    assert raw.put(url + "/analysis", json=body, headers=writer).status_code == 428
    done = raw.put(url + "/analysis", json=body, headers={**writer, "If-Match": etag})
    assert done.status_code == 200 and done.json["status"] == "analysed" and done.headers["ETag"] != etag
    stale = raw.put(url + "/analysis", json={**body, "root_cause": "Khác"}, headers={**writer, "If-Match": etag})
    assert stale.status_code == 412 and stale.mimetype == "application/problem+json"
    db.session.expire_all()
    assert db.session.get(Nonconformity, nc.id).root_cause == "Chưa hướng dẫn cán bộ một cửa"


def test_a_retried_nonconformity_is_recorded_once(world, login_as, raw, system_scope):
    from sqlalchemy import func

    from govqms.extensions import db
    from govqms.improvement.models import Nonconformity

    writer = {**bearer(issue(login_as("a1_secretary"), place_of(world, "agency", "a1"), "write")),
              "Idempotency-Key": "khieu-nai-0712"}
    body = {"source": "complaint", "found_on": today().isoformat(), "description": "Trả kết quả trễ hẹn"}
    url = f"/api/v1/agencies/{world.a1}/nonconformities"
    first, again = raw.post(url, json=body, headers=writer), raw.post(url, json=body, headers=writer)
    assert first.status_code == again.status_code == 201 and first.json["id"] == again.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count()).select_from(Nonconformity).where(
        Nonconformity.description == "Trả kết quả trễ hẹn")) == 1
