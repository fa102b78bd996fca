"""The archive's format: what the columns mean (references, files, natural keys), how values are
written, and the order tables are inserted in. See the package's docstring."""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy import Table

from govqms.core.db import Base

FORMAT = "govqms-tenant-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Reference target of a column that holds a core.storage key.
FILE = "<file>"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip member times: the same bytes give the same archive


class ArchiveError(Exception):
    """The archive cannot be written or imported; nothing was changed."""


class UnknownReference(LookupError):
    """A column refers to another table in a way the archive cannot encode yet (a schema change
    to teach it: a test walks every table)."""


# --- what the columns mean -----------------------------------------------------------------

#: Integer columns that point at a tenant table without a declared foreign key.
UNDECLARED_REFERENCES = {
    ("document", "current_revision_id"): "document_revision",  # a declared one would be a cycle
    ("audit_finding", "nonconformity_id"): "nonconformity",
    ("declaration_procedure", "procedure_id"): "admin_procedure",
}
#: Columns that hold a core.storage key.
FILE_COLUMNS = frozenset({
    ("declaration", "file_key"), ("document_file", "storage_key"), ("measurement", "evidence_key"),
    ("unit_call", "template_key"), ("data_call", "template_key"),
    ("management_review", "signed_minutes_key"), ("inspection", "signed_minutes_key"),
})
#: Columns named ``*_key`` that are not stored files.
NOT_FILES = frozenset({("document", "search_key"), ("admin_procedure", "search_key")})


class IdList:
    """A JSON list of ids of *target* (``audit.unit_ids``)."""

    def __init__(self, target: str, *, by_value: bool = False):
        self.target = target
        #: sort by the mapped value: the order of an account list follows the ids, which differ per database
        self.by_value = by_value

    def map(self, value, fn: Callable[[str, Any], Any]):
        if not isinstance(value, list):
            return value
        mapped = [fn(self.target, item) for item in value]
        if self.by_value and all(isinstance(item, type(mapped[0])) for item in mapped[1:]):
            mapped.sort()
        return mapped


class ItemKeys:
    """A JSON list of objects whose named keys hold references (``inspection.findings[].nc_id``)."""

    def __init__(self, **targets: str):
        self.targets = targets

    def map(self, value, fn: Callable[[str, Any], Any]):
        if not isinstance(value, list):
            return value
        return [{k: fn(self.targets[k], v) if k in self.targets else v for k, v in item.items()}
                if isinstance(item, dict) else item for item in value]


#: JSON columns that hold references.
JSON_REFERENCES = {
    ("audit", "unit_ids"): IdList("unit"),
    ("audit", "process_ids"): IdList("document"),
    ("audit", "team_ids"): IdList("user", by_value=True),
    ("inspection", "findings"): ItemKeys(nc_id="nonconformity"),
    ("data_call_reply", "files"): ItemKeys(key=FILE),
    ("unit_call_reply", "files"): ItemKeys(key=FILE),
    ("tenant_merge", "moved_members"): ItemKeys(user_id="user"),  # seen in the activity history only
}
#: JSON columns carried as they are. ``job.params`` may name ids: the request of a job that ran.
JSON_VERBATIM = frozenset({
    ("audit", "clauses"), ("compliance_snapshot", "results"), ("inspection", "checklist"),
    ("management_review", "inputs"), ("management_review", "notes"), ("job", "params"), ("job", "report"),
    ("activity_entry", "changes"),  # mapped field by field, as the entity's columns (see _walk_changes)
    ("signature_check", "details"), ("signature_check", "anchors"),
    ("webhook_subscription", "events"), ("webhook_delivery", "payload"),
})

#: Platform tables referred to by natural key, and the columns of that key.
NATURAL_KEYS = {
    "tenant": ("slug",),
    "user": ("email",),
    "jurisdiction": ("code",),
    "data_call": ("jurisdiction_id", "sent_on", "title"),
    "inspection_plan": ("jurisdiction_id", "year"),
}
#: What the archive says of the platform rows it names; the whole row (but its id) for the others.
GLOBAL_COLUMNS = {"tenant": ("slug", "name"), "user": ("email", "name", "locale"), "jurisdiction": ("code", "name")}
#: Platform rows carried whole (but their id), to be recreated on import when missing ...
WHOLE_ROWS = ("inspection_plan", "data_call")
#: ... and all those created on import when the target database lacks them, in insertion order.
RECREATED = ("user", *WHOLE_ROWS)


def tables() -> dict[str, Table]:
    return Base.metadata.tables


def tenant_tables() -> list[Table]:
    """Every table holding one agency's rows: those with a ``tenant_id`` column."""
    return sorted((t for t in tables().values() if "tenant_id" in t.c), key=lambda t: t.name)


def ranked(table: Table) -> bool:
    """Rows with an integer id, which the archive replaces by its rank."""
    pk = list(table.primary_key.columns)
    return len(pk) == 1 and pk[0].name == "id" and isinstance(pk[0].type, sa.Integer)


_references: dict[str, dict[str, str]] = {}


def references(table: Table) -> dict[str, str]:
    """Column → what it refers to (a table name or :data:`FILE`): declared foreign keys, the
    composite ``tenant_reference`` ones (the column beside ``tenant_id``), and the undeclared ones."""
    if table.name in _references:
        return _references[table.name]
    out: dict[str, str] = {}
    for fk in table.foreign_key_constraints:
        local = [c.name for c in fk.columns]
        remote = [e.column.name for e in fk.elements]
        if len(local) == 1 and remote == ["id"]:
            out[local[0]] = fk.referred_table.name
        elif "tenant_id" in local and remote[local.index("tenant_id")] == "tenant_id" and sorted(remote) == [
                "id", "tenant_id"]:  # core.tenancy.tenant_reference
            out[local[remote.index("id")]] = fk.referred_table.name
        else:
            raise UnknownReference(f"{table.name}: no archive encoding for the foreign key {local} → "
                                      f"{fk.referred_table.name}{remote}")
    out.update({column: target for (name, column), target in UNDECLARED_REFERENCES.items() if name == table.name})
    out.update({column: FILE for name, column in FILE_COLUMNS if name == table.name})
    _references[table.name] = out
    return out


def schema_problems() -> list[str]:
    """Columns the archive would carry without knowing what they mean (a test keeps this empty)."""
    problems = []
    carried = [*tenant_tables(), *(tables()[name] for name in RECREATED)]
    for table in carried:
        try:
            refs = references(table)
        except UnknownReference as err:
            problems.append(str(err))
            continue
        for column in table.columns:
            where = (table.name, column.name)
            if isinstance(column.type, sa.JSON) and where not in JSON_REFERENCES and where not in JSON_VERBATIM:
                problems.append(f"{table.name}.{column.name}: JSON column without a rule (JSON_REFERENCES or "
                                f"JSON_VERBATIM)")
            if (column.name.endswith("_id") and isinstance(column.type, sa.Integer) and column.name not in refs
                    and not column.primary_key):
                problems.append(f"{table.name}.{column.name}: looks like a reference; declare it")
            if column.name.endswith("_key") and where not in FILE_COLUMNS and where not in NOT_FILES:
                problems.append(f"{table.name}.{column.name}: a stored file? list it in FILE_COLUMNS or NOT_FILES")
        for column, target in refs.items():
            if target != FILE and target not in NATURAL_KEYS and not (
                    target in tables() and "tenant_id" in tables()[target].c and ranked(tables()[target])):
                problems.append(f"{table.name}.{column} refers to {target}, which has no natural key")
    return problems


# --- values --------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """A column value as JSON: dates and times in ISO 8601 (UTC), bytes in base64."""
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.timezone.utc) if value.tzinfo else value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _python_type(column: sa.Column):
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl_instance
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def _typed(column: sa.Column, value: Any) -> Any:
    """The inverse of :func:`_plain`, by the column's type."""
    if value is None or isinstance(column.type, sa.JSON):
        return value
    kind = _python_type(column)
    try:
        if kind is dt.datetime:
            return dt.datetime.fromisoformat(value)
        if kind is dt.date:
            return dt.date.fromisoformat(value)
        if kind is bytes:
            return base64.b64decode(value, validate=True)
        if kind is decimal.Decimal:
            return decimal.Decimal(value)
    except (TypeError, ValueError) as err:
        raise ArchiveError(f"{column.table.name}.{column.name}: {value!r} is not a valid value") from err
    return value


def _dump(rows: list[dict]) -> bytes:
    """One row per line, keys sorted, Vietnamese as is: equal rows give equal bytes."""
    if not rows:
        return b"[]\n"
    lines = ",\n".join(json.dumps(row, ensure_ascii=False, sort_keys=True) for row in rows)
    return f"[\n{lines}\n]\n".encode("utf-8")


def _key(value: Any) -> Any:
    """A natural key as a dictionary key (multi-column keys are JSON lists)."""
    return tuple(value) if isinstance(value, list) else value


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _walk(table_name: str, row: dict, fn: Callable[[str, Any, bool], Any], *, history: bool = False) -> dict:
    """*row* with every reference passed through ``fn(target, value, history)``."""
    table = tables().get(table_name)
    if table is None:
        return dict(row)
    refs = references(table)
    pk = table.primary_key.columns.keys()
    out = {}
    for column, value in row.items():
        codec = JSON_REFERENCES.get((table_name, column))
        if value is None:
            out[column] = None
        elif codec is not None:
            out[column] = codec.map(value, lambda target, v: None if v is None else fn(target, v, history))
        elif pk == [column]:
            out[column] = fn(table_name, value, history)
        elif column in refs:
            out[column] = fn(refs[column], value, history)
        else:
            out[column] = value
    return out


def _walk_changes(entity: str, changes: Any, fn) -> Any:
    """An activity entry's ``{column: [before, after]}``, each side mapped as that column of *entity*."""
    if not isinstance(changes, dict):
        return changes
    pairs = {k: v for k, v in changes.items() if isinstance(v, list) and len(v) == 2}
    before = _walk(entity, {k: v[0] for k, v in pairs.items()}, fn, history=True)
    after = _walk(entity, {k: v[1] for k, v in pairs.items()}, fn, history=True)
    return {k: [before[k], after[k]] if k in pairs else v for k, v in changes.items()}


def _single_natural(entity: str) -> bool:
    return len(NATURAL_KEYS.get(entity, ())) == 1


# --- insertion order -----------------------------------------------------------------------

def insertion_order(chosen: Iterable[Table]) -> tuple[list[Table], dict[str, list[str]]]:
    """*chosen* in an order where each declared foreign key among them points at a table inserted
    before, and per table the columns to fill in afterwards: self-references, and the nullable
    references that break a cycle."""
    by_name = {t.name: t for t in chosen}
    depends: dict[str, set[str]] = {name: set() for name in by_name}
    edges: dict[tuple[str, str], list[sa.Column]] = defaultdict(list)
    deferred: dict[str, set[str]] = defaultdict(set)
    for table in by_name.values():
        for fk in table.foreign_key_constraints:
            target = fk.referred_table.name
            if target not in by_name:
                continue
            columns = [c for c in fk.columns if c.name != "tenant_id"]
            if target == table.name:
                deferred[table.name].update(c.name for c in columns)
            else:
                depends[table.name].add(target)
                edges[(table.name, target)].extend(columns)
    while True:
        graph = {name: sorted(depends[name]) for name in sorted(depends)}
        try:
            order = list(TopologicalSorter(graph).static_order())
            break
        except CycleError as err:
            cycle = err.args[1]  # each node is a dependency of the next one
            for needed, needing in zip(cycle, cycle[1:], strict=False):
                columns = edges[(needing, needed)]
                if columns and all(c.nullable for c in columns):
                    depends[needing].discard(needed)
                    deferred[needing].update(c.name for c in columns)
                    break
            else:
                raise ArchiveError(f"tables {' → '.join(cycle)} refer to each other through required columns")
    return [by_name[name] for name in order], {name: sorted(cols) for name, cols in deferred.items()}
