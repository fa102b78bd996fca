"""The procedures catalogue import writes in batches: a fixed handful of INSERTs, not one per row."""
from __future__ import annotations

from sqlalchemy import event, func, select


def test_thousands_of_rows_are_written_in_batches_with_their_activity(app, world, system_scope):
    from govqms.core.activity import ActivityEntry
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db
    from govqms.procedures.models import AdminProcedure
    from govqms.procedures.services import IMPORT_BATCH, import_catalogue

    rows = 2 * IMPORT_BATCH + 500
    csv = "Mã thủ tục,Tên thủ tục,Lĩnh vực\n" + "".join(
        f"1.{n:06},Thủ tục số {n},Hộ tịch\n" for n in range(rows))
    a1 = world.tenant_ids["a1"]
    inserts: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement.split("(", 1)[0])

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        with scoped(TenantScope.tenant(a1), db.session):
            created, updated = import_catalogue(a1, csv.encode(), "csv")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert (created, updated) == (rows, 0)
    assert db.session.scalar(select(func.count()).select_from(AdminProcedure).where(
        AdminProcedure.tenant_id == a1)) == rows
    assert db.session.scalar(select(func.count()).select_from(ActivityEntry).where(
        ActivityEntry.tenant_id == a1, ActivityEntry.entity == "admin_procedure")) == rows
    if engine.dialect.name == "postgresql":
        # three flushes: the procedures and their activity entries, a few multi-row statements each
        # (SQLite's driver gets the new ids one row at a time, in process)
        assert len(inserts) <= 30, len(inserts)
