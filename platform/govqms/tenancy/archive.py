"""One agency's records and stored files as one archive, and back again (``govqms export-tenant``,
``govqms import-tenant``).

**The archive** is a zip:

- ``manifest.json``: format and format version, when it was written, by which GovQMS version and
  at which schema revision, the agency's slug, the tables with their row and id counts, which
  columns hold references and to what, and the SHA-256 and size of every other member;
- ``tables/<table>.json``: the agency's rows of every table with a ``tenant_id`` column, found in
  the metadata (its units, documents…, memberships, jobs, calendar feeds and its activity log),
  and ``tables/tenant.json`` with the agency itself;
- ``globals/<table>.json``: the platform rows those rows refer to, by natural key: accounts (email,
  name, language; never a password hash), jurisdictions (code), other agencies (slug), and the
  jurisdiction's data calls and inspection plans (the whole row, to recreate them if missing);
- ``files/<sha256>``: the stored files (:mod:`govqms.core.storage`) the rows refer to.

A table document is a JSON list with one row per line, sorted by primary key, keys sorted, UTF-8
with Vietnamese as is, dates and times in ISO 8601 (UTC), bytes in base64.

**Ids in the archive are canonical.** The integer id of a row of a tenant table is replaced by its
rank (1, 2, …) among the ids the agency's data mentions for that table: its rows, and rows since
deleted that the activity log or a JSON list still names ("ghosts", which take a rank but have no
row). A reference to a tenant table carries that rank; a reference to a platform row its natural
key (``NATURAL_KEYS``; the ``tenant_id`` columns are left out); a stored file ``sha256:<hex>``.
Exporting an agency twice, or exporting it again from another database after an import, gives
equal table documents (the second has one more activity entry: the import).

**Import** is all-or-nothing. It checks the format version, every checksum, the columns against
this database's schema, and that the slug is free; it resolves every reference (a missing
jurisdiction is an error; missing accounts are created without a password, to be invited with
``govqms tenants invite``; missing data calls and inspection plans are recreated), then takes fresh
ids from each table's sequence in rank order, ghosts included (so a ghost never names another row
on PostgreSQL, and ranks survive the next export), and inserts the rows table by table in
foreign-key order. Stored files are written after every row was accepted, and removed again if the
commit fails. The rows go through SQLAlchemy Core, not the ORM: the activity log's flush hook
(:mod:`govqms.core.activity`) only sees ORM flushes, so the imported rows are not logged once more
as "created"; their own history comes with them unchanged (who, when, what), and the import adds
one entry, action ``import``, by the current actor.

In the activity history (``entity_id`` and ``changes``), a platform row that no longer exists is
written as ``null`` (``#<id>`` for an ``entity_id``), and a natural key the target database does
not know (an agency merged away that was not imported) stays as the key, so it reads the same after
any number of round trips. Not carried: merge records between agencies (``tenant_merge``; a merged
agency keeps its successor by slug), ids inside ``job.params`` (a finished job's request, kept as
it was), and oversight roles.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import os
import tempfile
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy import Table

from govqms.core.activity import ActivityEntry, current_actor
from govqms.core.db import Base, utcnow
from govqms.core.storage import PLATFORM_FILES, LocalStorage, get_storage, storage_key
from govqms.core.tenancy import current_scope
from govqms.extensions import db

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


# --- export --------------------------------------------------------------------------------

@dataclass
class ExportResult:
    slug: str
    rows: dict[str, int]
    files: int
    file_bytes: int

    def summary(self, path: str | None = None) -> str:
        lines = [f"exported {self.slug}" + (f" to {path}" if path else "") + f": {sum(self.rows.values())} rows, "
                 f"{self.files} files ({self.file_bytes} bytes)"]
        lines += [f"  {name:<28} {count:>7}" for name, count in sorted(self.rows.items()) if count]
        return "\n".join(lines)


class _Export:
    def __init__(self, tenant):
        self.tenant = tenant
        self.conn = db.session.connection()
        self.storage = get_storage()
        self.tables = tenant_tables()
        self.ranked_names = {t.name for t in self.tables if ranked(t)}
        self.mentioned: dict[str, set] = defaultdict(set)
        self.named: dict[str, set[str]] = defaultdict(set)
        self.file_refs: dict[str, str | None] = {}  # storage key -> "sha256:…", None when missing
        self.files: dict[str, bytes] = {}
        self.ranks: dict[str, dict[int, int]] = {}
        self.keys: dict[str, dict[int, Any]] = defaultdict(dict)
        self.global_rows: dict[str, dict[int, dict]] = defaultdict(dict)

    # pass 1: what the rows mention
    def collect(self, target: str, value: Any, history: bool) -> Any:
        if target == FILE:
            self._read_file(value, history)
        elif isinstance(value, int) and not isinstance(value, bool):
            self.mentioned[target].add(value)
        elif isinstance(value, str) and target in GLOBAL_COLUMNS:
            self.named[target].add(value)  # a name an earlier import could not resolve
        return value

    def _read_file(self, key: Any, history: bool) -> None:
        if not isinstance(key, str):
            return
        if key in self.file_refs:
            if self.file_refs[key] is None and not history:
                raise ArchiveError(f"the stored file {key} is missing from the storage")
            return
        try:
            present = self.storage.exists(key)
        except ValueError:
            present = False
        if not present:
            if not history:
                raise ArchiveError(f"the stored file {key} is missing from the storage")
            self.file_refs[key] = None
            return
        data = self.storage.get(key)
        digest = _sha256(data)
        self.files[digest] = data
        self.file_refs[key] = f"sha256:{digest}"

    # pass 2: the canonical form
    def encode(self, target: str, value: Any, history: bool) -> Any:
        if target == FILE:
            return self.file_refs.get(value) if isinstance(value, str) else value
        if not isinstance(value, int) or isinstance(value, bool):
            return value  # already a natural key (an earlier import could not resolve it), or not an id
        if target in self.ranks:
            return self.ranks[target][value]
        if target in NATURAL_KEYS:
            return self.keys[target].get(value)  # None: the row is gone
        return value  # a platform row without natural key, named in the history only

    def _entity_id(self, entity: str, raw: str, fn) -> Any:
        """The id of a logged record: a rank or a natural key like any reference; ``#<id>`` for a
        platform row that is gone; as it is for records of other platform tables."""
        if raw.isdigit() and (entity in self.ranked_names or _single_natural(entity)):
            value = fn(entity, int(raw), True)
            return f"#{raw}" if value is None else value
        return raw

    def _walk_activity(self, row: dict, fn) -> dict:
        out = _walk("activity_entry", {k: v for k, v in row.items() if k not in ("entity_id", "changes")}, fn)
        out["entity_id"] = self._entity_id(row["entity"], row["entity_id"], fn)
        out["changes"] = _walk_changes(row["entity"], row["changes"], fn)
        return out

    def _walk_row(self, table: str, row: dict, fn) -> dict:
        return self._walk_activity(row, fn) if table == "activity_entry" else _walk(table, row, fn)

    def _select(self, table: Table, where) -> list[dict]:
        rows = self.conn.execute(sa.select(table).where(where).order_by(*table.primary_key.columns))
        return [dict(row._mapping) for row in rows]

    def run(self) -> tuple[dict, dict[str, bytes]]:
        tenant_table = tables()["tenant"]
        tenant_row = self._select(tenant_table, tenant_table.c.id == self.tenant.id)[0]
        rows = {t.name: [{k: v for k, v in r.items() if k != "tenant_id"}
                         for r in self._select(t, t.c.tenant_id == self.tenant.id)] for t in self.tables}
        # pass 1, then the platform rows and the ranks it found
        _walk("tenant", tenant_row, self.collect)
        for name, table_rows in rows.items():
            for row in table_rows:
                self._walk_row(name, row, self.collect)
        self._load_platform_rows()
        for table in self.tables:
            if ranked(table):  # ghosts: ids mentioned that have no row any more
                ids = {r["id"] for r in rows[table.name]} | self.mentioned[table.name]
                self.ranks[table.name] = {id_: rank for rank, id_ in enumerate(sorted(ids), 1)}
        # pass 2
        docs = self._platform_documents()
        docs["tables/tenant.json"] = _dump([{k: _plain(v) for k, v in _walk("tenant", tenant_row, self.encode).items()
                                             if k != "id"}])
        listed = [{"name": "tenant", "rows": 1, "document": "tables/tenant.json"}]
        for table in self.tables:
            path = f"tables/{table.name}.json"
            docs[path] = _dump([{k: v if isinstance(table.c[k].type, sa.JSON) else _plain(v)
                                 for k, v in self._walk_row(table.name, row, self.encode).items()}
                                for row in rows[table.name]])
            listed.append({"name": table.name, "rows": len(rows[table.name]), "document": path,
                           "ids": len(self.ranks[table.name]) if ranked(table) else None})
        for digest, data in self.files.items():
            docs[f"files/{digest}"] = data
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "exported_at": utcnow().isoformat(),
            "app_version": app_version(),
            "schema_revision": schema_revision(self.conn),
            "tenant": self.tenant.slug,
            "ids": "canonical: each id of a tenant table is its rank among the ids the agency's data mentions",
            "tables": listed,
            "globals": [{"name": name, "rows": len(json.loads(docs[f"globals/{name}.json"])),
                         "document": f"globals/{name}.json"} for name in NATURAL_KEYS],
            "references": {t.name: {c: ("stored file" if target == FILE else target)
                                    for c, target in sorted(references(t).items()) if c != "tenant_id"}
                           for t in [tables()["tenant"], *self.tables, *(tables()[n] for n in WHOLE_ROWS)]},
            "members": {path: {"sha256": _sha256(data), "size": len(data)} for path, data in sorted(docs.items())},
        }
        return manifest, docs

    def _load_platform_rows(self) -> None:
        # the whole rows of those recreated on import, and what they mention in turn
        for name in WHOLE_ROWS:
            table = tables()[name]
            for row in self._select(table, table.c.id.in_(sorted(self.mentioned[name]))):
                self.global_rows[name][row["id"]] = row
                _walk(name, row, self.collect, history=True)  # a lost template does not block the export
        for name in GLOBAL_COLUMNS:
            table = tables()[name]
            columns = [table.c.id, *(table.c[c] for c in GLOBAL_COLUMNS[name])]
            for row in self.conn.execute(sa.select(*columns).where(table.c.id.in_(sorted(self.mentioned[name])))):
                self.global_rows[name][row.id] = {c: getattr(row, c) for c in GLOBAL_COLUMNS[name]}
                self.keys[name][row.id] = getattr(row, NATURAL_KEYS[name][0])

    def _platform_documents(self) -> dict[str, bytes]:
        docs = {}
        for name in WHOLE_ROWS:
            encoded = []
            for id_, row in self.global_rows[name].items():
                plain = {k: _plain(v) for k, v in _walk(name, row, self.encode, history=True).items() if k != "id"}
                key = [plain[c] for c in NATURAL_KEYS[name]]
                if any(_key(key) == _key(other) for other in self.keys[name].values()):
                    raise ArchiveError(f"two {name} rows share the natural key {key}: an import could not tell "
                                       "them apart")
                self.keys[name][id_] = key
                encoded.append(plain)
            docs[f"globals/{name}.json"] = _dump(sorted(encoded, key=lambda r: json.dumps(
                [r[c] for c in NATURAL_KEYS[name]], ensure_ascii=False)))
        for name, columns in GLOBAL_COLUMNS.items():
            natural = NATURAL_KEYS[name][0]
            named = [r for id_, r in self.global_rows[name].items() if not (name == "tenant" and id_ == self.tenant.id)]
            known = {r[natural] for r in named} | ({self.tenant.slug} if name == "tenant" else set())
            # by name only: the import resolves them if that database knows them
            named += [{c: key if c == natural else None for c in columns} for key in self.named[name] - known]
            docs[f"globals/{name}.json"] = _dump(sorted(named, key=lambda r: r[natural]))
        return docs


def app_version() -> str:
    try:
        return package_metadata.version("govqms")
    except package_metadata.PackageNotFoundError:
        return "unknown"


def schema_revision(conn) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("select version_num from alembic_version")).scalar()


def export_tenant(tenant, out: BinaryIO) -> ExportResult:
    """Write *tenant*'s archive into the binary file *out*. Reads only; needs a scope that sees the
    tenant (the CLI's system scope)."""
    if not current_scope().can_read(tenant.id):
        raise ArchiveError(f"{tenant.slug} is not visible in the current scope")
    manifest, docs = _Export(tenant).run()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(MANIFEST, _FIXED_TIME),
                         json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8"),
                         zipfile.ZIP_DEFLATED)
        for path, data in sorted(docs.items()):
            archive.writestr(zipfile.ZipInfo(path, _FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    files = [data for path, data in docs.items() if path.startswith("files/")]
    return ExportResult(tenant.slug, {t["name"]: t["rows"] for t in manifest["tables"]}, len(files),
                        sum(len(f) for f in files))


def export_to_path(tenant, path: str | os.PathLike) -> ExportResult:
    """:func:`export_tenant` into *path*, written beside it first: a failed export leaves no file."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out:
            result = export_tenant(tenant, out)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result


# --- import --------------------------------------------------------------------------------

@dataclass
class ImportResult:
    tenant: Any
    rows: dict[str, int]
    files: int
    accounts_created: list[str] = field(default_factory=list)
    platform_rows_created: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"imported {self.tenant.slug} ({self.tenant.name}) as agency #{self.tenant.id}: "
                 f"{sum(self.rows.values())} rows, {self.files} files"]
        lines += [f"  {name:<28} {count:>7}" for name, count in sorted(self.rows.items()) if count]
        for name, count in sorted(self.platform_rows_created.items()):
            if count and name != "user":
                lines.append(f"created {count} {name} row(s) of the jurisdiction that this database lacked")
        if self.accounts_created:
            lines.append(f"created {len(self.accounts_created)} account(s) without a password; "
                         "`govqms tenants invite EMAIL` sends each a link to set one:")
            lines += [f"  {email}" for email in self.accounts_created]
        return "\n".join(lines)


class _Archive:
    """The archive's members, checked: format, version, checksums, columns."""

    def __init__(self, fileobj: BinaryIO):
        try:
            with zipfile.ZipFile(fileobj) as archive:
                members = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as err:
            raise ArchiveError(f"not a GovQMS archive: {err}") from err
        if MANIFEST not in members:
            raise ArchiveError("not a GovQMS archive: it has no manifest.json")
        try:
            manifest = json.loads(members.pop(MANIFEST).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ArchiveError(f"the manifest is not valid JSON: {err}") from err
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ArchiveError("not a GovQMS tenant archive (manifest format)")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ArchiveError(f"archive format version {manifest.get('format_version')!r} is not supported: "
                               f"this GovQMS ({app_version()}) reads version {FORMAT_VERSION}")
        for key in ("tables", "globals"):
            entries = manifest.get(key)
            if not isinstance(entries, list) or not all(
                    isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("document"), str)
                    for e in entries):
                raise ArchiveError(f"the manifest's {key!r} list is malformed")
        listed = manifest.get("members")
        if not isinstance(listed, dict) or not all(isinstance(m, dict) for m in listed.values()):
            raise ArchiveError("the manifest's 'members' are malformed")
        missing = sorted(set(listed) - set(members))
        extra = sorted(set(members) - set(listed))
        if missing or extra:
            raise ArchiveError(f"the archive does not match its manifest: missing {missing or 'nothing'}, "
                               f"not listed {extra or 'nothing'}")
        corrupt = [path for path, data in members.items()
                   if _sha256(data) != listed[path].get("sha256") or len(data) != listed[path].get("size")]
        if corrupt:
            raise ArchiveError(f"checksum mismatch, the archive is damaged: {', '.join(sorted(corrupt))}")
        self.manifest = manifest
        self.slug = manifest.get("tenant")
        self.files = {path.removeprefix("files/"): data for path, data in members.items() if path.startswith("files/")}
        misnamed = sorted(name for name, data in self.files.items() if name != _sha256(data))
        if misnamed:
            raise ArchiveError(f"stored files must be named by their SHA-256: {', '.join(misnamed)}")
        self.docs = {path: data for path, data in members.items() if not path.startswith("files/")}

    def rows(self, entry: dict) -> list[dict]:
        try:
            rows = json.loads(self.docs[entry["document"]].decode("utf-8"))
        except (KeyError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ArchiveError(f"table document {entry.get('document')!r} is missing or not valid JSON") from err
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows) or len(rows) != entry.get("rows"):
            raise ArchiveError(f"{entry['document']}: not the {entry.get('rows')} rows the manifest announces")
        return rows


def _allocate(conn, table: Table, count: int) -> list[int]:
    """*count* fresh ids for *table*, ascending: from its sequence on PostgreSQL (which then never
    hands them out again), after the highest id on SQLite."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        ids = conn.execute(sa.text("select nextval(pg_get_serial_sequence(:t, 'id')) from generate_series(1, :n)"),
                           {"t": conn.dialect.identifier_preparer.format_table(table), "n": count}).scalars().all()
        return sorted(ids)
    start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
    return list(range(start + 1, start + count + 1))


def _bind_type(column: sa.Column):
    # None in a JSON column is SQL NULL, as it was read, not the JSON value null
    return sa.JSON(none_as_null=True) if isinstance(column.type, sa.JSON) else column.type


def _insert(conn, table: Table, rows: list[dict]) -> None:
    if not rows:
        return
    stmt = table.insert().values({c: sa.bindparam(f"v_{c}", type_=_bind_type(table.c[c])) for c in rows[0]})
    conn.execute(stmt, [{f"v_{k}": v for k, v in row.items()} for row in rows])


def _update(conn, table: Table, rows: list[dict], columns: list[str]) -> None:
    """Fill in deferred references; columns updated automatically (``updated_at``) keep their value."""
    keep = [c.name for c in table.columns if c.onupdate is not None]
    todo = [row for row in rows if any(row.get(c) is not None for c in columns)]
    if not todo:
        return
    stmt = (table.update().where(table.c.id == sa.bindparam("k_id"))
            .values({c: sa.bindparam(f"v_{c}", type_=_bind_type(table.c[c])) for c in [*columns, *keep]}))
    conn.execute(stmt, [{"k_id": row["id"], **{f"v_{c}": row[c] for c in [*columns, *keep]}} for row in todo])


class _Import:
    def __init__(self, archive: _Archive):
        self.archive = archive
        self.conn = db.session.connection()
        self.ids: dict[str, list[int]] = {}
        self.natural: dict[str, dict[Any, int]] = defaultdict(dict)
        self.to_write: dict[str, tuple[int, str]] = {}  # storage key -> (folder, sha256)
        self.folder = PLATFORM_FILES
        self.created: dict[str, list[dict]] = {}
        self.accounts_created: list[str] = []

    def decode(self, target: str, value: Any, history: bool) -> Any:
        if target == FILE:
            if isinstance(value, str) and value.startswith("sha256:"):
                digest = value.removeprefix("sha256:")
                if digest not in self.archive.files:
                    raise ArchiveError(f"the archive refers to a file it does not hold: {digest}")
                key = storage_key(self.folder, digest)
                self.to_write[key] = (self.folder, digest)
                return key
            if history:
                return value
            raise ArchiveError(f"not a stored-file reference: {value!r}")
        if target in self.ids:
            if not isinstance(value, int) or isinstance(value, bool):
                return value
            if not 1 <= value <= len(self.ids[target]):
                raise ArchiveError(f"reference to {target} #{value} outside the archive's {len(self.ids[target])} ids")
            return self.ids[target][value - 1]
        if target in NATURAL_KEYS:
            found = self.natural[target].get(_key(value))
            if found is not None:
                return found
            if history:
                return value  # a platform row this database does not know: the history keeps its name
            raise ArchiveError(self._missing(target, value))
        return value

    def _missing(self, target: str, value: Any) -> str:
        if target == "jurisdiction":
            return (f"jurisdiction {value!r} does not exist in this database: create it first "
                    "(govqms tenants sync with its manifest)")
        if target == "tenant":
            return f"agency {value!r} does not exist in this database: import it first"
        return f"{target} {value!r} does not exist in this database"

    def _entity_id(self, entity: str, value: Any) -> str:
        if entity in self.ids and isinstance(value, int) and not isinstance(value, bool):
            return str(self.decode(entity, value, True))
        if _single_natural(entity) and isinstance(value, str) and not value.startswith("#"):
            return str(self.decode(entity, value, True))
        return str(value)

    def _typed_row(self, table: Table, row: dict) -> dict:
        return {k: _typed(table.c[k], v) for k, v in row.items()}

    def _check_columns(self, table: Table, rows: list[dict], leave_out: set[str]) -> None:
        expected = set(table.c.keys()) - leave_out
        for row in rows:
            if set(row) != expected:
                raise ArchiveError(
                    f"{table.name}: the archive's columns differ from this database's "
                    f"(archive schema {self.archive.manifest.get('schema_revision')}, this database "
                    f"{schema_revision(self.conn)}): unknown {sorted(set(row) - expected) or 'none'}, "
                    f"missing {sorted(expected - set(row)) or 'none'}")

    def plan(self) -> dict[str, list[dict]]:
        """Check, resolve and decode everything; writes nothing (ids are only reserved)."""
        tenant_row, rows, globals_ = self._read()
        self._resolve_platform(globals_)
        tenant_id = _allocate(self.conn, tables()["tenant"], 1)[0]
        self.natural["tenant"][tenant_row["slug"]] = tenant_id
        listed = {t["name"]: t for t in self.archive.manifest["tables"]}
        for name, table_rows in rows.items():
            if ranked(tables()[name]):
                count = listed[name].get("ids")
                if not isinstance(count, int) or count < len(table_rows):
                    raise ArchiveError(f"{name}: the manifest's id count is wrong")
                extra = 1 if name == ActivityEntry.__tablename__ else 0  # the import's own entry
                self.ids[name] = _allocate(self.conn, tables()[name], count + extra)
        self.folder = tenant_id
        decoded = {"tenant": [{**self._typed_row(tables()["tenant"], _walk("tenant", tenant_row, self.decode)),
                               "id": tenant_id}]}
        for name, table_rows in rows.items():
            decoded[name] = [{**self._typed_row(tables()[name], self._decode_row(name, row)), "tenant_id": tenant_id}
                             for row in table_rows]
        self._fresh_job_ids(decoded)
        return decoded

    def _read(self) -> tuple[dict, dict[str, list[dict]], dict[str, list[dict]]]:
        """The agency, its tables and the platform documents, checked against this database."""
        manifest = self.archive.manifest
        listed = {t["name"]: t for t in manifest["tables"]}
        carried = tenant_tables()
        expected = {"tenant", *(t.name for t in carried)}
        if set(listed) != expected:
            raise ArchiveError(f"the archive's tables differ from this database's (archive schema "
                               f"{manifest.get('schema_revision')}, this database {schema_revision(self.conn)}): "
                               f"not in the archive {sorted(expected - set(listed)) or 'none'}, unknown "
                               f"{sorted(set(listed) - expected) or 'none'}")
        tenant_table = tables()["tenant"]
        tenant_rows = self.archive.rows(listed["tenant"])
        if len(tenant_rows) != 1:
            raise ArchiveError("tables/tenant.json must hold exactly one agency")
        self._check_columns(tenant_table, tenant_rows, {"id"})
        slug = tenant_rows[0]["slug"]
        if slug != self.archive.slug:
            raise ArchiveError(f"the manifest names {self.archive.slug!r} but the archive holds {slug!r}")
        if self.conn.execute(sa.select(tenant_table.c.id).where(tenant_table.c.slug == slug)).first() is not None:
            raise ArchiveError(f"an agency with the slug {slug!r} already exists in this database")
        rows = {t.name: self.archive.rows(listed[t.name]) for t in carried}
        for table in carried:
            self._check_columns(table, rows[table.name], {"tenant_id"})
        globals_ = {g["name"]: self.archive.rows(g) for g in manifest["globals"]}
        if set(globals_) != set(NATURAL_KEYS):
            raise ArchiveError(f"the archive's platform documents are incomplete: {sorted(globals_)}")
        for name, columns in GLOBAL_COLUMNS.items():
            if any(set(row) != set(columns) for row in globals_[name]):
                raise ArchiveError(f"globals/{name}.json: each row must have exactly {', '.join(columns)}")
        for name in WHOLE_ROWS:
            self._check_columns(tables()[name], globals_[name], {"id"})
        return tenant_rows[0], rows, globals_

    def _decode_row(self, name: str, row: dict) -> dict:
        if name != ActivityEntry.__tablename__:
            return _walk(name, row, self.decode)
        plain = _walk(name, {k: v for k, v in row.items() if k not in ("entity_id", "changes")}, self.decode)
        plain["entity_id"] = self._entity_id(row["entity"], row["entity_id"])
        plain["changes"] = _walk_changes(row["entity"], row["changes"], self.decode)
        return plain

    def _resolve_platform(self, globals_: dict[str, list[dict]]) -> None:
        """Natural keys to ids in this database; missing accounts, inspection plans and data calls
        get ids to be created with."""
        users, jurisdictions, tenants = tables()["user"], tables()["jurisdiction"], tables()["tenant"]
        for name, table in (("jurisdiction", jurisdictions), ("tenant", tenants), ("user", users)):
            natural = NATURAL_KEYS[name][0]
            wanted = sorted({r.get(natural) for r in globals_[name]} - {None})
            self.natural[name] = dict(self.conn.execute(
                sa.select(table.c[natural], table.c.id).where(table.c[natural].in_(wanted))).all())
        new_users = [r for r in globals_["user"] if r["email"] not in self.natural["user"] and r["name"] is not None]
        for row, id_ in zip(new_users, _allocate(self.conn, users, len(new_users)), strict=True):
            self.natural["user"][row["email"]] = id_
            self.created.setdefault("user", []).append(
                {"id": id_, "email": row["email"], "name": row["name"], "locale": row["locale"], "password_hash": None})
            self.accounts_created.append(row["email"])
        codes = {id_: code for code, id_ in self.natural["jurisdiction"].items()}
        for name in WHOLE_ROWS:
            table = tables()[name]
            existing = self.conn.execute(sa.select(table).where(table.c.jurisdiction_id.in_(sorted(codes))))
            for row in existing:
                plain = {**dict(row._mapping), "jurisdiction_id": codes[row.jurisdiction_id]}
                self.natural[name].setdefault(_key([_plain(plain[c]) for c in NATURAL_KEYS[name]]), row.id)
            missing = [r for r in globals_[name] if _key([r[c] for c in NATURAL_KEYS[name]]) not in self.natural[name]]
            for row, id_ in zip(missing, _allocate(self.conn, table, len(missing)), strict=True):
                self.folder = PLATFORM_FILES
                self.created.setdefault(name, []).append({**self._typed_row(table, _walk(name, row, self.decode)),
                                                          "id": id_})
                self.natural[name][_key([row[c] for c in NATURAL_KEYS[name]])] = id_

    def _fresh_job_ids(self, decoded: dict[str, list[dict]]) -> None:
        """Job ids are UUIDs, kept; only one already taken here (the same archive imported before
        under another slug) gets a new one."""
        jobs = tables().get("job")
        if jobs is None or not decoded.get("job"):
            return
        taken = set(self.conn.execute(sa.select(jobs.c.id).where(jobs.c.id.in_([r["id"] for r in decoded["job"]])))
                    .scalars())
        for row in decoded["job"]:
            if row["id"] in taken:
                row["id"] = str(uuid.uuid4())

    def write(self, decoded: dict[str, list[dict]]) -> None:
        for name in RECREATED:
            _insert(self.conn, tables()[name], self.created.get(name, []))
        _insert(self.conn, tables()["tenant"], decoded["tenant"])
        order, deferred = insertion_order(tenant_tables())
        for table in order:
            later = deferred.get(table.name, [])
            _insert(self.conn, table, [{**row, **{c: None for c in later}} for row in decoded[table.name]])
        for table in order:
            if deferred.get(table.name):
                _update(self.conn, table, decoded[table.name], deferred[table.name])
        tenant = decoded["tenant"][0]
        manifest = self.archive.manifest
        actor = current_actor()
        self.conn.execute(ActivityEntry.__table__.insert(), [{
            "id": self.ids[ActivityEntry.__tablename__][-1], "tenant_id": tenant["id"], "at": utcnow(),
            "actor_id": actor.user_id, "actor_label": actor.label, "entity": "tenant", "entity_id": str(tenant["id"]),
            "action": "import",
            "changes": {"slug": [None, tenant["slug"]], "rows": [None, sum(len(r) for r in decoded.values())],
                        "files": [None, len(self.to_write)], "accounts_created": [None, self.accounts_created]},
            "note": f"{manifest.get('tenant')} · {manifest.get('exported_at')} · GovQMS {manifest.get('app_version')}",
        }])


def _discard(storage, keys: Iterable[str]) -> None:
    """Remove files this import wrote (core.storage has no delete: the local folder is reached directly)."""
    if not isinstance(storage, LocalStorage):
        return
    for key in keys:
        path = storage.root / key
        path.unlink(missing_ok=True)
        for folder in (path.parent, path.parent.parent):  # the empty <tenant>/<xx>/ folders it made
            try:
                folder.rmdir()
            except OSError:
                break


def import_tenant(fileobj: BinaryIO) -> ImportResult:
    """Create the agency of the archive *fileobj* with its rows and files, and commit; or change
    nothing and raise :class:`ArchiveError`. Runs in the system scope (the CLI's)."""
    from govqms.tenancy.models import Tenant

    scope = current_scope()
    if not (scope.all_tenants and scope.writable is None):
        raise ArchiveError("importing an agency needs the system scope")
    archive = _Archive(fileobj)
    storage = get_storage()
    written: list[str] = []
    try:
        job = _Import(archive)
        decoded = job.plan()
        job.write(decoded)
        # every row was accepted: now the files, each checked to land where the rows say
        for key, (folder, digest) in sorted(job.to_write.items()):
            existed = storage.exists(key)
            stored = storage.put(folder, archive.files[digest])
            if not existed:
                written.append(stored)
            if stored != key:
                raise ArchiveError(f"the storage kept a file under {stored}, not {key}")
        db.session.commit()
    except BaseException as err:
        db.session.rollback()
        _discard(storage, written)
        if isinstance(err, sa.exc.StatementError):
            raise ArchiveError(f"the database refused the import: {err.orig}") from err
        raise
    tenant = db.session.get(Tenant, decoded["tenant"][0]["id"])
    return ImportResult(
        tenant=tenant,
        rows={name: len(rows) for name, rows in decoded.items()},
        files=len(job.to_write),
        accounts_created=job.accounts_created,
        platform_rows_created={name: len(rows) for name, rows in job.created.items()},
    )
