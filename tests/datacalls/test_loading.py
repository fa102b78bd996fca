"""Data calls and requests to units are loaded by the one loader of their side (the jurisdiction's,
the agency's), and their lists take their page from the query string like every list."""
from __future__ import annotations

import io

from tests.datacalls.test_data_calls import PDF, deadline, reply_slot, send


def test_a_data_call_opens_only_in_the_jurisdiction_that_sent_it(world, login_as, system_scope):
    overseer = login_as("p1_overseer")
    assert send(overseer, world, ["a1"], template=(io.BytesIO(PDF), "mau.pdf")).status_code == 302
    secretary = login_as("a1_secretary")
    slot = reply_slot(world, "a1")
    assert secretary.post(f"/t/{world.a1}/data-calls/{slot.id}/", data={
        "note": "Đã gửi", "files": (io.BytesIO(PDF), "ket-qua.pdf")}, content_type="multipart/form-data"
        ).status_code == 302
    call = f"{slot.call_id}"
    for path in (f"{call}/", f"{call}/template", f"{call}/replies/{slot.id}/files/0"):
        assert overseer.get(f"/o/{world.p1}/data-calls/{path}").status_code == 200, path
        assert login_as("p2_overseer").get(f"/o/{world.p2}/data-calls/{path}").status_code == 404, path
        # an overseer above reads it in the jurisdiction that sent it, not in its own
        national = login_as("national_overseer")
        assert national.get(f"/o/{world.p1}/data-calls/{path}").status_code == 200, path
        assert national.get(f"/o/vn/data-calls/{path}").status_code == 404, path
    # a reply is found through its own call only; ids no column holds are not found either
    assert send(overseer, world, ["a2"]).status_code == 302
    other_call = reply_slot(world, "a2").call_id
    assert overseer.get(f"/o/{world.p1}/data-calls/{other_call}/replies/{slot.id}/files/0").status_code == 404
    assert overseer.get(f"/o/{world.p1}/data-calls/{2**31}/").status_code == 404
    # the agency's side: its own reply only
    assert secretary.get(f"/t/{world.a1}/data-calls/{slot.id}/files/0").data == PDF
    assert login_as("b1_secretary").get(f"/t/{world.b1}/data-calls/{slot.id}/").status_code == 404
    assert login_as("b1_secretary").get(f"/t/{world.b1}/data-calls/{slot.id}/template").status_code == 404


def test_data_call_lists_read_their_page_from_the_query_string(world, login_as, system_scope):
    overseer = login_as("p1_overseer")
    assert send(overseer, world, ["a1"]).status_code == 302
    head = login_as("a1_head")
    office, _planning = world.unit_ids["a1"]
    assert head.post(f"/t/{world.a1}/unit-calls/new", data={
        "title": "Rà soát quy trình nội bộ", "deadline": deadline(7), "unit_ids": [str(office)]}).status_code == 302
    lists = [(overseer, f"/o/{world.p1}/data-calls/", "Báo cáo rà soát thủ tục hành chính"),
             (head, f"/t/{world.a1}/data-calls/", "Báo cáo rà soát thủ tục hành chính"),
             (head, f"/t/{world.a1}/unit-calls/", "Rà soát quy trình nội bộ")]
    for client, url, title in lists:
        for page in ("", "?page=1", "?page=abc", "?page=-3", "?page=999", f"?page={10**30}"):
            response = client.get(url + page)
            assert response.status_code == 200 and title in response.text, url + page  # beyond the last: the last


def test_a_units_reply_is_found_through_its_own_request(world, login_as, system_scope):
    from sqlalchemy import select

    from govqms.datacalls.models import UnitCallReply
    from govqms.extensions import db

    head = login_as("a1_head")
    office, planning = world.unit_ids["a1"]
    first = head.post(f"/t/{world.a1}/unit-calls/new", data={
        "title": "Một", "deadline": deadline(7), "unit_ids": [str(office)]}).location
    second = head.post(f"/t/{world.a1}/unit-calls/new", data={
        "title": "Hai", "deadline": deadline(7), "unit_ids": [str(planning)]}).location
    slots = {s.unit_id: s for s in db.session.scalars(select(UnitCallReply))}
    assert head.post(f"{first}replies/{slots[office].id}", data={
        "note": "x", "files": (io.BytesIO(PDF), "vp.pdf")}, content_type="multipart/form-data").status_code == 302
    assert head.get(f"{first}replies/{slots[office].id}/files/0").data == PDF
    assert head.get(f"{second}replies/{slots[office].id}/files/0").status_code == 404
    assert head.post(f"{second}replies/{slots[office].id}", data={"note": "y"}).status_code == 404
    assert login_as("b1_secretary").get(first.replace("/t/a1/", "/t/b1/") + "template").status_code == 404
