"""Reading an archive into this database, all or nothing (``govqms import-tenant``)."""
from __future__ import annotations

import json
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterable

import sqlalchemy as sa
from sqlalchemy import Table

from govqms.core.activity import ActivityEntry, current_actor
from govqms.core.db import utcnow
from govqms.core.storage import PLATFORM_FILES, LocalStorage, get_storage, storage_key
from govqms.core.tenancy import current_scope
from govqms.extensions import db
from govqms.tenancy.archive.export import (
    app_version,
    schema_revision,
)
from govqms.tenancy.archive.format import (
    FILE,
    FORMAT,
    FORMAT_VERSION,
    GLOBAL_COLUMNS,
    MANIFEST,
    NATURAL_KEYS,
    RECREATED,
    WHOLE_ROWS,
    ArchiveError,
    _key,
    _plain,
    _sha256,
    _single_natural,
    _typed,
    _walk,
    _walk_changes,
    insertion_order,
    ranked,
    tables,
    tenant_tables,
)

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
