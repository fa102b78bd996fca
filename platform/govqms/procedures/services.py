from __future__ import annotations

from typing import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from govqms.core.db import vi_order
from govqms.core.imports import (
    ImportRefused,
    RowError,
    cells,
    header_labels,
    locate,
    validate_rows,
)
from govqms.core.listing import page_of
from govqms.core.spreadsheets import read_rows
from govqms.core.text import fold, search_terms
from govqms.documents.models import Document, DocumentKind, DocumentStatus
from govqms.documents.services import related
from govqms.extensions import db
from govqms.procedures.columns import HEADERS
from govqms.procedures.models import AdminProcedure
from govqms.procedures.schemas import ProcedureRowSchema

#: The fields of an import, as the interface names them; HEADERS lists the header names accepted.
COLUMNS = {
    "code": _l("Procedure code"),
    "name": _l("Procedure name"),
    "field": _l("Field"),
    "work_procedure": _l("Work procedure code"),
}


def code_taken(tenant_id: int, code: str, except_id: int | None = None) -> bool:
    query = select(func.count()).select_from(AdminProcedure).where(AdminProcedure.tenant_id == tenant_id,
                                                                   AdminProcedure.code == code)
    if except_id is not None:
        query = query.where(AdminProcedure.id != except_id)
    return db.session.scalar(query) > 0


def save(procedure: AdminProcedure, *, code: str, name: str, field: str, work_procedure_id: int | None,
         flush: bool = True):
    """Write a procedure; an import passes ``flush=False`` and flushes its rows in batches."""
    procedure.code, procedure.name, procedure.field = code, name, field
    procedure.work_procedure_id = work_procedure_id
    procedure.search_key = fold(f"{code} {name} {field}")
    if procedure.id is None:
        db.session.add(procedure)
    if flush:
        db.session.flush()
    return procedure


#: Rows an import writes per flush: one multi-row INSERT for them and one for their activity entries.
IMPORT_BATCH = 1000


def list_query(tenant_id: int, q: str | None, field: str | None, uncovered: bool, archived: bool):
    query = select(AdminProcedure).where(AdminProcedure.tenant_id == tenant_id)
    query = query.where(AdminProcedure.archived_at.is_not(None) if archived else AdminProcedure.archived_at.is_(None))
    for term in search_terms(q):
        query = query.where(AdminProcedure.search_key.contains(term, autoescape=True))
    if field:
        query = query.where(AdminProcedure.field == field)
    if uncovered:
        query = query.where(AdminProcedure.work_procedure_id.is_(None))
    return query.order_by(vi_order(AdminProcedure.field), AdminProcedure.code)


def procedures_page(tenant_id: int, args: dict, per_page: int = 50):
    """A page of the catalogue by field and code, filtered by *args* (a loaded ``ProcedureFilter``), each
    with the work procedure covering it."""
    query = list_query(tenant_id, args["q"], args["field"], args["uncovered"], args["archived"])
    return page_of(query.options(selectinload(AdminProcedure.work_procedure)), args, per_page=per_page)


@related("procedures")
def covered_by(document: Document) -> list[AdminProcedure]:
    """The procedures a work procedure covers (its page lists them)."""
    return list(db.session.scalars(select(AdminProcedure).where(
        AdminProcedure.tenant_id == document.tenant_id, AdminProcedure.work_procedure_id == document.id,
        AdminProcedure.archived_at.is_(None)).order_by(AdminProcedure.code)))


def import_catalogue(tenant_id: int, data: bytes, extension: str,
                     progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """Create or update procedures from a file; all rows valid or nothing written.

    Rows are flushed in batches and *progress* told after each; nothing is committed here: the
    caller commits once, all rows together (a job's runner, when the task returns)."""
    rows = read_rows(data, extension)  # refused past the row limit, an XLSX before it is unpacked
    if not rows:
        raise ImportRefused([RowError(1, "", str(_l("the file is empty")))])
    table, errors = locate(rows, HEADERS, required=("code", "name"), labels=COLUMNS)
    mapping = table.mapping
    labels = header_labels(table.header, mapping, COLUMNS)
    if errors:
        raise ImportRefused(errors)
    good, errors = validate_rows(rows, mapping, ProcedureRowSchema(), labels, table.start, table.key)
    documents = {code: id_ for code, id_ in db.session.execute(
        select(Document.code, Document.id).where(Document.tenant_id == tenant_id))}
    existing = {p.code: p for p in db.session.scalars(select(AdminProcedure).where(
        AdminProcedure.tenant_id == tenant_id))}
    seen: dict[str, int] = {}
    for number, raw in cells(rows, mapping, table.start, table.key):  # every row, so one problem does not hide another
        code = str(raw.get("code") or "").strip()
        if code and code in seen:
            errors.append(RowError(number, labels["code"], str(_l("also on row %(row)s", row=seen[code]))))
        if code:
            seen.setdefault(code, number)
        work_procedure = str(raw.get("work_procedure") or "").strip()
        if work_procedure and work_procedure not in documents:
            errors.append(RowError(number, labels["work_procedure"],
                                   str(_l("no document %(code)s in the register", code=work_procedure))))
    if errors:
        raise ImportRefused(sorted(errors, key=lambda e: (e.row, e.column)))
    created = updated = 0
    for done, (_, row) in enumerate(good, start=1):
        procedure = existing.get(row["code"])
        if procedure is None:
            procedure, created = AdminProcedure(tenant_id=tenant_id), created + 1
        else:
            updated += 1
            procedure.archived_at = None
        save(procedure, code=row["code"], name=row["name"], field=row["field"],
             work_procedure_id=documents.get(row["work_procedure"]) if row["work_procedure"] else None, flush=False)
        if done % IMPORT_BATCH == 0:
            db.session.flush()
            if progress:
                progress(done, len(good))
    db.session.flush()
    return created, updated


def fields(tenant_id: int) -> list[str]:
    """The fields (lĩnh vực) of the agency's catalogue, for the list's filter."""
    return list(db.session.scalars(select(AdminProcedure.field).where(
        AdminProcedure.tenant_id == tenant_id, AdminProcedure.field != "").group_by(AdminProcedure.field)
        .order_by(vi_order(AdminProcedure.field))))


def work_procedures(tenant_id: int) -> list[Document]:
    """The work procedures a procedure may be covered by: not obsolete, by code."""
    return list(db.session.scalars(select(Document).where(
        Document.tenant_id == tenant_id, Document.kind == DocumentKind.WORK_PROCEDURE,
        Document.status != DocumentStatus.OBSOLETE).order_by(Document.code)))
