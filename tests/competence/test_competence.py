"""The competence page: profiles, qualifications and requirements; choices limited to the agency; logged."""
from __future__ import annotations

from sqlalchemy import select

from tests.competence.fixtures import user_id


def test_choices_are_the_agency_s_own(world, login_as, system_scope):
    from govqms.competence.models import StaffProfile
    from govqms.extensions import db

    client = login_as("a1_secretary")
    staff = user_id(db, world, "a1_staff")
    other_unit = world.unit_ids["b1"][0]
    refused = client.post(f"/t/{world.a1}/competence/profiles", data={"user_id": staff, "unit_id": other_unit})
    assert refused.status_code == 400
    stranger = user_id(db, world, "b1_secretary")
    assert client.post(f"/t/{world.a1}/competence/qualifications", data={
        "user_id": stranger, "kind": "awareness", "course": "ISO", "completed_on": "01/06/2024"}).status_code == 400
    assert client.post(f"/t/{world.a1}/competence/profiles", data={
        "user_id": staff, "unit_id": world.unit_ids["a1"][1], "job_title": "Kế toán"}).status_code == 302
    profile = db.session.scalar(select(StaffProfile).where(StaffProfile.user_id == staff))
    assert profile.unit_id == world.unit_ids["a1"][1] and profile.job_title == "Kế toán"


def test_requirement_and_qualification_are_logged_and_archived(world, login_as, system_scope):
    from govqms.competence.models import CompetenceRequirement, Qualification
    from govqms.core.activity import ActivityEntry
    from govqms.extensions import db

    client = login_as("a1_secretary")
    assert client.post(f"/t/{world.a1}/competence/requirements", data={
        "job_title": "Thư ký ISO", "requirement": "Đã học nhận thức ISO 9001"}).status_code == 302
    assert client.post(f"/t/{world.a1}/competence/requirements", data={"job_title": ""}).status_code == 400
    assert client.post(f"/t/{world.a1}/competence/qualifications", data={
        "user_id": user_id(db, world, "a1_staff"), "kind": "awareness", "course": "Nhận thức ISO 9001:2015",
        "completed_on": "01/06/2024"}).status_code == 302
    requirement = db.session.scalar(select(CompetenceRequirement).where(
        CompetenceRequirement.tenant_id == world.tenant_ids["a1"]))
    qualification = db.session.scalar(select(Qualification).where(Qualification.tenant_id == world.tenant_ids["a1"]))
    page = client.get(f"/t/{world.a1}/competence/")
    assert "Thư ký ISO" in page.text and "Nhận thức ISO 9001:2015" in page.text

    url = f"/t/{world.a1}/competence/qualifications/{qualification.id}/archive"
    assert login_as("b1_secretary").get(
        f"/t/{world.b1}/competence/qualifications/{qualification.id}/archive").status_code == 404
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert "Nhận thức ISO 9001:2015" not in client.get(f"/t/{world.a1}/competence/").text
    actions = {(e.entity, e.entity_id, e.action) for e in db.session.scalars(select(ActivityEntry).where(
        ActivityEntry.tenant_id == world.tenant_ids["a1"]))}
    assert ("competence_requirement", str(requirement.id), "create") in actions
    assert {("qualification", str(qualification.id), "create"),
            ("qualification", str(qualification.id), "archive")} <= actions
