"""Backups of a whole deployment: the database and the stored files, with a manifest of checksums
(``govqms backup DIR``, ``govqms restore DIR``).

A backup is a folder:

- ``database.dump``: ``pg_dump --format=custom`` on PostgreSQL, or ``database.sqlite3``: a copy made
  with SQLite's online backup API;
- ``files/<key>``: every file of the storage folder (:mod:`govqms.core.storage`), under its key;
- ``manifest.json``: the format, when it was written, the database (kind, file, SHA-256, size, schema
  revision, rows per table) and every stored file (key, SHA-256, size). It is written last: a folder
  without it is not a backup.

**Consistency.** On PostgreSQL the dump, the row counts and the stored-file references are read in
one snapshot: a repeatable-read transaction exports it and ``pg_dump --snapshot`` uses it, so the
counts are those of the dump exactly while the services keep writing. SQLite's backup API copies one
consistent state, and the counts are read from the copy. Stored files are content-addressed and
written once, never changed or removed, so copying them after the dump gives every file the dump
refers to; a file written after the dump is harmless. The files the database refers to are checked
to be in the copy, and each copied file against the SHA-256 its key names.

**Row-level security.** The dump must hold every agency's rows: it runs as the schema owner (or a
role that bypasses row-level security), never as the application role, which would see none.

**Restore** checks everything before it writes anything: the manifest's checksums, an empty target
database (no table, or only an empty ``alembic_version``), no stored file of the same key with other
content. It copies the stored files, then restores the database (``pg_restore --no-owner
--single-transaction``, or SQLite's backup API into the target file); if the database cannot be
restored, the files it copied are removed again. Afterwards it counts the rows again and compares
them with the manifest.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, make_url

FORMAT = 1
KIND = "govqms-backup"
MANIFEST = "manifest.json"
FILES = "files"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
#: The key of a stored file (core.storage.storage_key): folder, the digest's first two digits, digest.
STORAGE_KEY = re.compile(r"^(\d+)/([0-9a-f]{2})/([0-9a-f]{64})$")
_CHUNK = 1024 * 1024

#: Reads the storage keys the database refers to, on a connection to it (or to its copy).
ReferencedKeys = Callable[[Connection], Iterable[str]]


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why and what was (not) written."""


def key_digest(key: str) -> str | None:
    """The SHA-256 a storage key names, or None if *key* is not one (a half-written temporary)."""
    match = STORAGE_KEY.match(key)
    if match is None or match.group(3)[:2] != match.group(2):
        return None
    return match.group(3)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashing(source: Path, target: Path) -> tuple[str, int]:
    """Copy *source* to *target* (a new file); return the SHA-256 and size of what was copied."""
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as reader, target.open("xb") as writer:
        for chunk in iter(lambda: reader.read(_CHUNK), b""):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _kind(url: URL) -> str:
    name = url.get_backend_name()
    if name not in DATABASE_FILES:
        raise BackupError(f"backups support PostgreSQL and SQLite, not {name}")
    return name


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"an SQLite database in memory or given by URI cannot be backed up or restored: {url}")
    return Path(url.database)


def _engine(url: URL) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def table_counts(connection: Connection) -> dict[str, int]:
    """Rows per table of the default schema, read on *connection* (as its role sees them)."""
    names = sorted(sa.inspect(connection).get_table_names())
    return {name: connection.scalar(sa.text(f"select count(*) from {_quoted(connection, name)}")) for name in names}


def alembic_revision(connection: Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.scalar(sa.text("select version_num from alembic_version"))


# --- PostgreSQL tools -----------------------------------------------------------------------------

def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The connection string for pg_dump and pg_restore, and their environment: the password goes
    in PGPASSWORD, not on the command line (which every user of the machine can read)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH: install the PostgreSQL client of the server's major version "
                          f"(Debian: postgresql-client-NN), or put its bin folder first on PATH")
    return found


def _tool_major(program: str) -> int:
    output = subprocess.run([program, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"\) (\d+)", output) or re.search(r"(\d+)\.\d+", output)
    if match is None:
        raise BackupError(f"cannot tell the version of {program} from {output!r}")
    return int(match.group(1))


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise BackupError(f"{what} failed (exit status {result.returncode}):\n{detail}")


def _hidden_by_row_security(connection: Connection) -> list[str]:
    """Tables with row-level security whose policies apply to the connected role: the tables it would
    not read (nor dump) whole. Empty for the schema owner, a superuser or a role with BYPASSRLS."""
    return list(connection.scalars(sa.text(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind in ('r', 'p') and c.relrowsecurity "
        "and n.nspname not in ('pg_catalog', 'information_schema') "
        "and not (select rolsuper or rolbypassrls from pg_roles where rolname = current_user) "
        "and (c.relforcerowsecurity or not pg_has_role(current_user, c.relowner, 'USAGE')) "
        "order by c.relname")))


def _refuse_row_security(connection: Connection, doing: str) -> None:
    hidden = _hidden_by_row_security(connection)
    if hidden:
        user = connection.scalar(sa.text("select current_user"))
        shown = ", ".join(hidden[:5]) + (f" and {len(hidden) - 5} more" if len(hidden) > 5 else "")
        raise BackupError(f"{doing} refused: row-level security hides rows of {shown} from the role {user}. "
                          "Connect as the schema owner (the GOVQMS_DATABASE_URL of /etc/govqms/migrate.env), "
                          "which sees every agency's rows.")


# --- backup ---------------------------------------------------------------------------------------

@dataclass
class BackupResult:
    directory: Path
    manifest: dict
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # not stored files (half-written temporaries)

    def summary(self) -> str:
        database = self.manifest["database"]
        files = self.manifest["files"]
        lines = [f"backup written to {self.directory}",
                 f"  database: {database['kind']}, {database['file']} ({database['size']} bytes), "
                 f"revision {database['alembic_revision'] or '-'}, {len(database['counts'])} tables, "
                 f"{sum(database['counts'].values())} rows",
                 f"  files: {len(files)} ({sum(f['size'] for f in files)} bytes)"]
        if self.skipped:
            lines.append(f"  skipped {len(self.skipped)} file(s) of the storage folder that are not stored files: "
                         + ", ".join(self.skipped[:5]))
        return "\n".join(lines)


def _prepare_directory(directory: Path) -> bool:
    """Make sure *directory* is a new or empty folder; True if this call created it."""
    if directory.exists():
        if not directory.is_dir():
            raise BackupError(f"{directory} exists and is not a folder")
        if any(directory.iterdir()):
            raise BackupError(f"{directory} is not empty: a backup goes into a new or empty folder")
        return False
    directory.mkdir(parents=True)
    directory.chmod(0o700)  # every account's password hash is in there
    return True


def _dump_postgresql(url: URL, target: Path, referenced_keys: ReferencedKeys | None) -> dict:
    pg_dump = _program("pg_dump")
    engine = _engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            connection.execute(sa.text("set transaction read only"))
            _refuse_row_security(connection, "backup")
            server = int(connection.scalar(sa.text("show server_version_num"))) // 10000
            client = _tool_major(pg_dump)
            if client < server:
                raise BackupError(f"pg_dump {client} cannot dump a PostgreSQL {server} server: install the "
                                  f"PostgreSQL {server} client and put it first on PATH")
            snapshot = connection.scalar(sa.text("select pg_export_snapshot()"))
            found = {
                "alembic_revision": alembic_revision(connection),
                "counts": table_counts(connection),
                "referenced": sorted(set(referenced_keys(connection))) if referenced_keys else [],
                "server_version": server,
            }
            # The transaction that exported the snapshot stays open while pg_dump reads it.
            conninfo, env = _libpq(url)
            _run([pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--file={target}",
                  f"--dbname={conninfo}"], env, "pg_dump")
            connection.rollback()
    except sa.exc.SQLAlchemyError as err:
        raise BackupError(f"cannot read the database: {err}") from err
    finally:
        engine.dispose()
    return found


def _dump_sqlite(url: URL, target: Path, referenced_keys: ReferencedKeys | None) -> dict:
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"there is no SQLite database at {source_path}")
    source, copy = sqlite3.connect(source_path, timeout=30), sqlite3.connect(target)
    try:
        source.backup(copy)  # all pages in one step: one consistent state of the database
    finally:
        copy.close()
        source.close()
    engine = _engine(sa.engine.URL.create("sqlite", database=str(target)))
    try:
        with engine.connect() as connection:
            found = {
                "alembic_revision": alembic_revision(connection),
                "counts": table_counts(connection),
                "referenced": sorted(set(referenced_keys(connection))) if referenced_keys else [],
            }
            connection.rollback()
    except sa.exc.SQLAlchemyError as err:
        raise BackupError(f"cannot read the copy of the database: {err}") from err
    finally:
        engine.dispose()
    return found


def _copy_storage(storage_root: Path, target: Path) -> tuple[list[dict], list[str], list[str]]:
    """Copy every stored file under *storage_root* into *target*; return the manifest entries, the
    problems (a file whose content is not what its key says) and what was skipped."""
    entries, problems, skipped = [], [], []
    if not storage_root.is_dir():
        return entries, problems, skipped
    for path in sorted(p for p in storage_root.rglob("*") if p.is_file()):
        key = path.relative_to(storage_root).as_posix()
        expected = key_digest(key)
        if expected is None:
            skipped.append(key)
            continue
        copy = target / key
        copy.parent.mkdir(parents=True, exist_ok=True)
        digest, size = _copy_hashing(path, copy)
        if digest != expected:
            copy.unlink()
            problems.append(f"the stored file {key} is damaged: its content's SHA-256 is {digest}; not copied")
            continue
        entries.append({"key": key, "sha256": digest, "size": size})
    return entries, problems, skipped


def create_backup(url: str | URL, storage_root: Path, directory: Path, *,
                  referenced_keys: ReferencedKeys | None = None, version: str | None = None) -> BackupResult:
    """Back up the database at *url* and the files under *storage_root* into *directory* (new or
    empty). Raises :class:`BackupError` when nothing usable was written (and removes what was); a
    backup written whole but missing or refusing some stored files comes back with ``problems``."""
    url = make_url(url)
    kind = _kind(url)
    directory = Path(directory)
    created = _prepare_directory(directory)
    database_file = directory / DATABASE_FILES[kind]
    try:
        dumped = (_dump_postgresql if kind == "postgresql" else _dump_sqlite)(url, database_file, referenced_keys)
        database_file.chmod(0o600)
        entries, problems, skipped = _copy_storage(Path(storage_root), directory / FILES)
        copied = {entry["key"] for entry in entries}
        missing = [key for key in dumped.pop("referenced") if key not in copied]
        problems += [f"the stored file {key} is referred to by the database but missing from the storage"
                     for key in missing]
        manifest = {
            "format": FORMAT,
            "kind": KIND,
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "govqms_version": version,
            "database": {"kind": kind, "file": database_file.name, "sha256": sha256_of(database_file),
                         "size": database_file.stat().st_size, **dumped},
            "files": entries,
            "problems": problems,
        }
        # Last: a folder without its manifest is not a backup.
        (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    except BaseException:
        _remove_partial(directory, created)
        raise
    return BackupResult(directory, manifest, problems, skipped)


def _remove_partial(directory: Path, created: bool) -> None:
    for name in [MANIFEST, FILES, *DATABASE_FILES.values()]:
        path = directory / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if created:
        try:
            directory.rmdir()
        except OSError:
            pass


# --- restore --------------------------------------------------------------------------------------

@dataclass
class RestoreResult:
    directory: Path
    manifest: dict
    counts: dict[str, int]
    copied: int
    present: int

    def summary(self) -> str:
        database = self.manifest["database"]
        files = self.manifest["files"]
        lines = [
            f"restored the backup of {self.manifest['created_at']} from {self.directory}",
            f"  database: {database['kind']}, revision {database['alembic_revision'] or '-'}, "
            f"{len(self.counts)} tables, {sum(self.counts.values())} rows: the row counts match the manifest",
            f"  files: {len(files)} ({sum(f['size'] for f in files)} bytes), {self.copied} copied, "
            f"{self.present} already there: the checksums match the manifest",
        ]
        problems = self.manifest.get("problems") or []
        if problems:
            lines.append(f"  the backup itself recorded {len(problems)} problem(s) when it was made:")
            lines += [f"    {problem}" for problem in problems]
        return "\n".join(lines)


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} holds no {MANIFEST}: not a GovQMS backup, or one that did not finish")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise BackupError(f"{path} cannot be read: {err}") from err
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise BackupError(f"{path} is not the manifest of a GovQMS backup")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is of format {manifest.get('format')!r}; this GovQMS reads format {FORMAT}")
    return manifest


def verify_backup(directory: Path) -> dict:
    """The manifest of the backup in *directory*, once every checksum in it matched; otherwise
    :class:`BackupError` naming each damaged or missing file."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    problems = []
    try:
        database = manifest["database"]
        files = manifest["files"]
        if database["file"] != DATABASE_FILES.get(database["kind"]):
            problems.append(f"{MANIFEST}: unexpected database file {database['file']!r}")
        else:
            problems += _check_file(directory / database["file"], database["file"], database["sha256"],
                                    database["size"])
        for entry in files:
            key = entry["key"]
            if key_digest(key) != entry["sha256"]:
                problems.append(f"{MANIFEST}: {key!r} is not the key of a stored file with SHA-256 {entry['sha256']}")
                continue
            problems += _check_file(directory / FILES / key, f"{FILES}/{key}", entry["sha256"], entry["size"])
    except (KeyError, TypeError) as err:
        raise BackupError(f"{directory / MANIFEST} lacks {err}: not a complete manifest") from err
    if problems:
        raise BackupError(f"the backup in {directory} is damaged; nothing was restored:\n  " + "\n  ".join(problems))
    return manifest


def _check_file(path: Path, name: str, sha256: str, size: int) -> list[str]:
    if not path.is_file():
        return [f"{name}: missing"]
    if path.stat().st_size != size:
        return [f"{name}: {path.stat().st_size} bytes, the manifest says {size}"]
    if sha256_of(path) != sha256:
        return [f"{name}: its SHA-256 differs from the manifest's"]
    return []


def _not_empty(connection: Connection) -> list[str]:
    """What makes the database not empty: its tables, but for an empty ``alembic_version``."""
    found = []
    for name in sorted(sa.inspect(connection).get_table_names()):
        if name == "alembic_version" and not connection.scalar(sa.text("select count(*) from alembic_version")):
            continue
        found.append(name)
    if connection.dialect.name == "postgresql":
        found += [f"{kind} {name}" for kind, name in connection.execute(sa.text(
            "select case c.relkind when 'S' then 'sequence' when 'v' then 'view' else 'relation' end, c.relname "
            "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname not in ('pg_catalog', 'information_schema', 'public') "
            "and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%' "
            "and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') "
            "union all select case c.relkind when 'S' then 'sequence' else 'view' end, c.relname "
            "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'public' and c.relkind in ('v', 'm', 'S') "
            "union all select 'type', t.typname from pg_type t join pg_namespace n on n.oid = t.typnamespace "
            "where n.nspname = 'public' and t.typtype in ('e', 'd') order by 2"))]
    return found


def _check_empty_database(url: URL, kind: str) -> None:
    if kind == "sqlite" and not _sqlite_path(url).exists():
        return
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            found = _not_empty(connection)
            connection.rollback()
    except sa.exc.SQLAlchemyError as err:
        raise BackupError(f"cannot read the target database: {err}") from err
    finally:
        engine.dispose()
    if found:
        shown = ", ".join(found[:8]) + (f" and {len(found) - 8} more" if len(found) > 8 else "")
        raise BackupError(f"the target database is not empty ({shown}); a backup is restored into an empty "
                          "database only. Nothing was restored.")


def _plan_files(manifest: dict, storage_root: Path) -> tuple[list[dict], int]:
    """The stored files to copy, and how many are there already with the same content; a file of the
    same key with other content is a conflict, and nothing is restored."""
    to_copy, present, conflicts = [], 0, []
    for entry in manifest["files"]:
        target = storage_root / entry["key"]
        if not target.exists():
            to_copy.append(entry)
        elif target.is_file() and sha256_of(target) == entry["sha256"]:
            present += 1
        else:
            conflicts.append(entry["key"])
    if conflicts:
        raise BackupError(f"the storage folder {storage_root} has other content under {len(conflicts)} key(s) of "
                          f"the backup ({', '.join(conflicts[:5])}); nothing was restored")
    return to_copy, present


def _copy_files_in(directory: Path, entries: list[dict], storage_root: Path) -> list[Path]:
    written: list[Path] = []
    try:
        for entry in entries:
            target = storage_root / entry["key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.restoring")
            digest, _ = _copy_hashing(directory / FILES / entry["key"], partial)
            if digest != entry["sha256"]:
                partial.unlink()
                raise BackupError(f"{FILES}/{entry['key']} changed while it was restored; nothing was restored")
            os.replace(partial, target)
            written.append(target)
    except BaseException:
        _remove(written)
        raise
    return written


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _restore_postgresql(url: URL, dump: Path) -> None:
    pg_restore = _program("pg_restore")
    engine = _engine(url)
    try:
        with engine.begin() as connection:  # checked empty: pg_restore creates it
            connection.execute(sa.text("drop table if exists alembic_version"))
    except sa.exc.SQLAlchemyError as err:
        raise BackupError(f"cannot prepare the target database: {err}") from err
    finally:
        engine.dispose()
    conninfo, env = _libpq(url)
    _run([pg_restore, "--no-owner", "--single-transaction", "--exit-on-error", "--no-password",
          f"--dbname={conninfo}", str(dump)], env,
         "pg_restore (restore as the schema owner, into a database where the roles the dump grants to exist)")


def _restore_sqlite(url: URL, copy: Path) -> None:
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    source, destination = sqlite3.connect(copy), sqlite3.connect(target, timeout=30)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()


def _count_after(url: URL) -> dict[str, int]:
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                _refuse_row_security(connection, "counting the restored rows")
            counts = table_counts(connection)
            connection.rollback()
    except sa.exc.SQLAlchemyError as err:
        raise BackupError(f"the database was restored, but its rows cannot be counted: {err}") from err
    finally:
        engine.dispose()
    return counts


def restore_backup(url: str | URL, storage_root: Path, directory: Path, *,
                   known_revision: Callable[[str], bool] | None = None) -> RestoreResult:
    """Restore the backup in *directory* into the empty database at *url* and the storage folder
    *storage_root*, after checking every checksum; compare the row counts afterwards."""
    url, directory, storage_root = make_url(url), Path(directory), Path(storage_root)
    manifest = verify_backup(directory)
    database = manifest["database"]
    kind = _kind(url)
    if database["kind"] != kind:
        raise BackupError(f"the backup holds a {database['kind']} database; the target is {kind}. Nothing was "
                          "restored.")
    revision = database.get("alembic_revision")
    if revision and known_revision is not None and not known_revision(revision):
        raise BackupError(f"the backup's schema revision {revision} is unknown to this GovQMS (a newer version "
                          "wrote it): install that version or a later one first. Nothing was restored.")
    _check_empty_database(url, kind)
    to_copy, present = _plan_files(manifest, storage_root)
    written = _copy_files_in(directory, to_copy, storage_root)
    try:
        if kind == "postgresql":
            _restore_postgresql(url, directory / database["file"])
        else:
            _restore_sqlite(url, directory / database["file"])
    except BaseException:
        _remove(written)
        raise
    counts = _count_after(url)
    differences = [f"{table}: {database['counts'].get(table)} in the backup, {counts.get(table)} restored"
                   for table in sorted(set(counts) | set(database["counts"]))
                   if counts.get(table) != database["counts"].get(table)]
    if differences:
        raise BackupError("the database was restored, but its row counts differ from the manifest:\n  "
                          + "\n  ".join(differences))
    return RestoreResult(directory, manifest, counts, len(written), present)
