"""The records catalogue through the views."""
from __future__ import annotations

from sqlalchemy import select


def test_records_catalogue_crud(world, login_as, system_scope):
    from govqms.extensions import db
    from govqms.records.models import RecordEntry

    client = login_as("a1_secretary")
    assert "Danh mục hồ sơ chưa có dữ liệu" in client.get(f"/t/{world.a1}/records/").text  # the empty state
    bad = client.post(f"/t/{world.a1}/records/new", data={"name": "Sổ công văn đến", "retention": ""})
    assert bad.status_code == 400 and "Sổ công văn đến" in bad.text
    foreign_unit = client.post(f"/t/{world.a1}/records/new", data={
        "name": "x", "retention": "5 năm", "keeper_unit_id": str(world.unit_ids["b1"][0])})
    assert foreign_unit.status_code == 400
    ok = client.post(f"/t/{world.a1}/records/new", data={"name": "Sổ công văn đến", "retention": "5 năm",
                                                         "keeper_unit_id": str(world.unit_ids["a1"][0])})
    assert ok.status_code == 302
    entry = db.session.scalar(select(RecordEntry).where(RecordEntry.name == "Sổ công văn đến"))
    assert client.get(f"/t/{world.a1}/records/{entry.id}/archive").status_code == 200  # confirmation
    client.post(f"/t/{world.a1}/records/{entry.id}/archive")
    db.session.refresh(entry)
    assert entry.archived_at is not None
