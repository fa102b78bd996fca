"""Data calls: sent to chosen agencies with a deadline and template, answered with files, followed."""
from __future__ import annotations

import datetime as dt
import io
import re

from sqlalchemy import select

from govqms.core.clock import today

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def deadline(days: int) -> str:
    return (today() + dt.timedelta(days=days)).strftime("%d/%m/%Y")


def send(client, world, recipients, days=10, **extra):
    data = {"title": "Báo cáo rà soát thủ tục hành chính", "request": "Gửi kết quả rà soát trước hạn.",
            "deadline": deadline(days), "tenant_ids": [str(world.tenant_ids[k]) for k in recipients], **extra}
    return client.post(f"/o/{world.p1}/data-calls/new", data=data, content_type="multipart/form-data")


def reply_slot(world, key):
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.datacalls.models import DataCallReply
    from govqms.extensions import db

    db.session.expire_all()
    with scoped(TenantScope.system(), db.session):
        return db.session.scalar(select(DataCallReply).where(DataCallReply.tenant_id == world.tenant_ids[key]))


def test_send_answer_and_follow(world, login_as, system_scope):
    overseer = login_as("p1_overseer")
    assert "No data call has been sent yet" in overseer.get(f"/o/{world.p1}/data-calls/").text or \
        "Chưa gửi" in overseer.get(f"/o/{world.p1}/data-calls/").text
    response = send(overseer, world, ["a1", "a2"], template=(io.BytesIO(PDF), "mau-bao-cao.pdf"))
    assert response.status_code == 302, response.text
    detail_url = response.location
    page = overseer.get(detail_url)
    assert re.findall(r'data-agency="([^"]+)" data-state="([^"]+)"', page.text) == [
        ("a1", "awaited"), ("a2", "awaited")]
    # the agency sees it, downloads the template and answers with a file
    secretary = login_as("a1_secretary")
    slot = reply_slot(world, "a1")
    listing = secretary.get(f"/t/{world.a1}/data-calls/")
    assert "Báo cáo rà soát thủ tục hành chính" in listing.text
    assert secretary.get(f"/t/{world.a1}/data-calls/{slot.id}/template").data == PDF
    empty = secretary.post(f"/t/{world.a1}/data-calls/{slot.id}/", data={"note": ""})
    assert empty.status_code == 422
    answered = secretary.post(f"/t/{world.a1}/data-calls/{slot.id}/", data={
        "note": "Đã rà soát 120 thủ tục", "files": (io.BytesIO(PDF), "ket-qua.pdf")},
        content_type="multipart/form-data")
    assert answered.status_code == 302
    slot = reply_slot(world, "a1")
    assert slot.submitted_on == today() and slot.files[0]["name"] == "ket-qua.pdf"
    page = overseer.get(detail_url)
    assert ("a1", "on_time") in re.findall(r'data-agency="([^"]+)" data-state="([^"]+)"', page.text)
    call_id = slot.call_id
    assert overseer.get(f"/o/{world.p1}/data-calls/{call_id}/replies/{slot.id}/files/0").data == PDF
    # viewers and staff read it but cannot answer
    assert login_as("a1_staff").post(f"/t/{world.a1}/data-calls/{slot.id}/", data={"note": "x"}).status_code == 403


def test_bad_input_is_explained(world, login_as):
    overseer = login_as("p1_overseer")
    nobody = send(overseer, world, [])
    assert nobody.status_code == 422 and "Báo cáo rà soát thủ tục hành chính" in nobody.text
    past = send(overseer, world, ["a1"], days=-1)
    assert past.status_code == 422
    wrong_file = send(overseer, world, ["a1"], template=(io.BytesIO(b"MZ\x90\x00binary"), "virus.exe"))
    assert wrong_file.status_code == 422


def test_agencies_out_of_reach_are_never_recipients(world, login_as, system_scope):
    from govqms.datacalls.models import DataCallReply
    from govqms.extensions import db

    overseer = login_as("p1_overseer")
    data = {"title": "Tamper", "deadline": deadline(5),
            "tenant_ids": [str(world.tenant_ids["a1"]), str(world.tenant_ids["b1"]), str(world.tenant_ids["a_old"])]}
    assert overseer.post(f"/o/{world.p1}/data-calls/new", data=data).status_code == 302
    tenants = set(db.session.scalars(select(DataCallReply.tenant_id)))
    assert tenants == {world.tenant_ids["a1"]}
    assert login_as("p2_overseer").get(f"/o/{world.p1}/data-calls/").status_code == 404
    assert login_as("b1_secretary").get(f"/t/{world.b1}/data-calls/").status_code == 200
    assert "Tamper" not in login_as("b1_secretary").get(f"/t/{world.b1}/data-calls/").text


def test_compliance_rule_follows_the_replies(world, login_as, system_scope):
    from govqms.compliance.engine import evaluate
    from govqms.datacalls.models import DataCall, DataCallReply
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction

    a2 = world.tenant_ids["a2"]

    def check(on):
        return next(c for c in evaluate([a2], on)[a2].checks if c.rule == "data_calls")

    assert check(today()).result == "not_applicable"
    p1 = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "p1"))
    call = DataCall(jurisdiction_id=p1.id, title="Báo cáo", deadline=dt.date(2026, 7, 25), sent_on=dt.date(2026, 7, 1))
    db.session.add(call)
    db.session.flush()
    slot = DataCallReply(tenant_id=a2, call_id=call.id)
    db.session.add(slot)
    db.session.commit()
    assert check(dt.date(2026, 7, 2)).result == "due_soon"
    late = check(dt.date(2026, 7, 26))
    assert late.result == "overdue" and "25/07/2026" in late.reason
    slot.submitted_on = dt.date(2026, 7, 28)
    db.session.commit()
    answered = check(dt.date(2026, 8, 1))
    assert answered.result == "ok" and "1" in answered.reason


def test_deadlines_are_on_the_schedule(world, login_as, system_scope):
    overseer = login_as("p1_overseer")
    send(overseer, world, ["a2"], days=3)
    slot = reply_slot(world, "a2")
    year = (today() + dt.timedelta(days=3)).year
    assert f'data-uid="data-call-{slot.id}"' in overseer.get(f"/o/{world.p1}/schedule/?year={year}").text


def test_head_asks_the_agencys_units(world, login_as, system_scope):
    from govqms.accounts.models import User
    from govqms.competence.models import StaffProfile
    from govqms.datacalls.models import UnitCallReply
    from govqms.extensions import db

    head = login_as("a1_head")
    assert "No request has been sent" in head.get(f"/t/{world.a1}/unit-calls/").text or \
        "Chưa gửi yêu cầu" in head.get(f"/t/{world.a1}/unit-calls/").text
    office, planning = world.unit_ids["a1"]
    response = head.post(f"/t/{world.a1}/unit-calls/new", data={
        "title": "Rà soát quy trình nội bộ", "deadline": deadline(7), "unit_ids": [str(office), str(planning),
                                                                                  str(world.unit_ids["b1"][0])]})
    assert response.status_code == 302, response.text
    slots = db.session.scalars(select(UnitCallReply).order_by(UnitCallReply.unit_id)).all()
    assert [s.unit_id for s in slots] == sorted([office, planning])  # b1's unit is not theirs to ask
    call_url = response.location
    # staff answer for their own unit only; keepers for any
    staff = db.session.scalar(select(User).where(User.email == world.email("a1_staff")))
    db.session.add(StaffProfile(tenant_id=world.tenant_ids["a1"], user_id=staff.id, unit_id=office))
    db.session.commit()
    office_slot = next(s for s in slots if s.unit_id == office)
    planning_slot = next(s for s in slots if s.unit_id == planning)
    staff_client = login_as("a1_staff")
    assert staff_client.post(f"{call_url}replies/{planning_slot.id}", data={"note": "x"}).status_code == 403
    ok = staff_client.post(f"{call_url}replies/{office_slot.id}", data={
        "note": "Văn phòng đã rà soát", "files": (io.BytesIO(PDF), "van-phong.pdf")},
        content_type="multipart/form-data")
    assert ok.status_code == 302
    page = head.get(call_url)
    assert re.findall(r'data-unit="([^"]+)" data-state="([^"]+)"', page.text) == [("KHTC", "awaited"),
                                                                                 ("VP", "on_time")]
    assert "Văn phòng đã rà soát" in page.text
    # viewers read, the other agency cannot even see it, the staff cannot send requests
    assert login_as("a1_viewer").get(call_url).status_code == 200
    assert login_as("b1_secretary").get(call_url.replace("/t/a1/", "/t/b1/")).status_code == 404
    assert staff_client.get(f"/t/{world.a1}/unit-calls/new").status_code == 403


def test_a_data_call_to_no_agency_in_reach_is_refused(world, login_as, system_scope):
    """Only an agency of another jurisdiction chosen: nothing is sent, and the form says why."""
    from sqlalchemy import func

    from govqms.datacalls.models import DataCall
    from govqms.extensions import db

    overseer = login_as("p1_overseer")
    response = send(overseer, world, ["b1"])
    assert response.status_code == 422
    assert "Chọn ít nhất một cơ quan thuộc phạm vi của bạn" in response.text
    assert db.session.scalar(select(func.count()).select_from(DataCall)) == 0
