"""The conformity page: steering committees, consultants, the declaration's file; each write logged."""
from __future__ import annotations

import io

from sqlalchemy import select


def logged(db, entity: str, entity_id: int) -> list[str]:
    from govqms.core.activity import ActivityEntry

    return list(db.session.scalars(select(ActivityEntry.action).where(
        ActivityEntry.entity == entity, ActivityEntry.entity_id == str(entity_id))))


def test_steering_committee_and_consultant(world, login_as, system_scope):
    from govqms.conformity.models import Consultant, SteeringCommittee
    from govqms.extensions import db

    client = login_as("a1_secretary")
    done = client.post(f"/t/{world.a1}/conformity/steering", data={
        "decision_number": "20/QĐ-SKHCN", "decided_on": "01/02/2025", "management_representative": "Phó Giám đốc",
        "members": "Giám đốc\nChánh Văn phòng"})
    assert done.status_code == 302 and done.headers["Location"].endswith("#steering")
    assert client.post(f"/t/{world.a1}/conformity/consultants", data={
        "name": "Nguyễn Văn Tư Vấn", "organisation": "Trung tâm Năng suất", "card_number": "TV-09",
        "card_expires_on": "31/12/2027"}).status_code == 302
    assert client.post(f"/t/{world.a1}/conformity/consultants", data={"name": ""}).status_code == 400
    committee = db.session.scalar(select(SteeringCommittee).where(
        SteeringCommittee.tenant_id == world.tenant_ids["a1"]))
    consultant = db.session.scalar(select(Consultant).where(Consultant.tenant_id == world.tenant_ids["a1"]))
    assert committee.decision_number == "20/QĐ-SKHCN" and consultant.card_number == "TV-09"
    assert "create" in logged(db, "steering_committee", committee.id)
    assert "create" in logged(db, "consultant", consultant.id)
    page = client.get(f"/t/{world.a1}/conformity/")
    assert "20/QĐ-SKHCN" in page.text and "Nguyễn Văn Tư Vấn" in page.text
    assert "Nguyễn Văn Tư Vấn" not in login_as("b1_secretary").get(f"/t/{world.b1}/conformity/").text
    assert login_as("a1_staff").post(f"/t/{world.a1}/conformity/steering", data={}).status_code == 403


def test_declaration_file_is_the_agency_s_own(world, login_as, system_scope):
    from govqms.conformity.models import Declaration
    from govqms.extensions import db

    client = login_as("a1_secretary")
    assert client.post(f"/t/{world.a1}/conformity/declarations", data={
        "decision_number": "15/QĐ-SKHCN", "decided_on": "01/03/2025", "edition": "2015",
        "file": (io.BytesIO(b"%PDF-1.4 quyet dinh"), "quyet-dinh.pdf")},
        content_type="multipart/form-data").status_code == 302
    assert client.post(f"/t/{world.a1}/conformity/declarations", data={
        "decision_number": "16/QĐ-SKHCN", "decided_on": "02/03/2025", "edition": "2015"}).status_code == 302
    with_file, without = db.session.scalars(select(Declaration).where(
        Declaration.tenant_id == world.tenant_ids["a1"]).order_by(Declaration.decided_on)).all()
    assert "create" in logged(db, "declaration", with_file.id)
    got = client.get(f"/t/{world.a1}/conformity/declarations/{with_file.id}/file")
    assert got.status_code == 200 and got.data == b"%PDF-1.4 quyet dinh"
    assert client.get(f"/t/{world.a1}/conformity/declarations/{without.id}/file").status_code == 404
    other = login_as("b1_secretary").get(f"/t/{world.b1}/conformity/declarations/{with_file.id}/file")
    assert other.status_code == 404
