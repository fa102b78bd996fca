"""Writing one agency's archive (``govqms export-tenant``)."""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy import Table

from govqms.core.db import utcnow
from govqms.core.storage import get_storage
from govqms.core.tenancy import current_scope
from govqms.extensions import db
from govqms.tenancy.archive.format import (
    _FIXED_TIME,
    FILE,
    FORMAT,
    FORMAT_VERSION,
    GLOBAL_COLUMNS,
    MANIFEST,
    NATURAL_KEYS,
    WHOLE_ROWS,
    ArchiveError,
    _dump,
    _key,
    _plain,
    _sha256,
    _single_natural,
    _walk,
    _walk_changes,
    ranked,
    references,
    tables,
    tenant_tables,
)

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
