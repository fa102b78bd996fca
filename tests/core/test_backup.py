"""`govqms backup DIR` and `govqms restore DIR` (govqms.core.backup), on SQLite and PostgreSQL.

Each backend gets a source database of its own (migrated, the multi-tenant world, stored files of
two agencies and of the platform, one referred to by a data call), backed up and restored into new
empty databases. These tests make their own databases: no shared app, no per-test transaction.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import APP_ROLE, build_world, fresh_database, migrated_database, test_config as app_config


@pytest.fixture(autouse=True)
def _rollback():
    """Override the suite's per-test transaction: these tests own their databases."""
    yield


def make_app(url: str, storage: Path):
    from govqms import create_app

    return create_app({**app_config(url), "STORAGE_DIR": str(storage)})


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def row_counts(url: str) -> dict[str, int]:
    """Rows per table, read as *url*'s role (the owner: every agency's rows)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return {name: conn.scalar(sa.text(f'select count(*) from "{name}"'))
                    for name in sa.inspect(conn).get_table_names()}
    finally:
        engine.dispose()


def checksums(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@dataclass
class Source:
    kind: str
    url: str
    app_url: str
    storage: Path
    template_key: str  # referred to by a data call

    def app(self, storage: Path | None = None, url: str | None = None):
        return make_app(url or self.url, storage or self.storage)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def source(request, tmp_path_factory) -> Source:
    from govqms.core.activity import Actor, acting_as
    from govqms.core.storage import PLATFORM_FILES, LocalStorage
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.datacalls.models import DataCall
    from govqms.extensions import db
    from govqms.tenancy.models import Jurisdiction

    folder = tmp_path_factory.mktemp(f"backup-source-{request.param}")
    storage = folder / "files"
    with migrated_database(request.param, folder) as created:
        app = make_app(created.owner_url, storage)
        with app.app_context(), scoped(TenantScope.system()), acting_as(Actor(None, "tests")):
            world = build_world()
            files = LocalStorage(storage)
            for handle in ("a1", "b1"):
                for number in range(3):
                    files.put(world.tenant_ids[handle], f"{handle} file {number}\n".encode() * 50)
            template_key = files.put(PLATFORM_FILES, b"Report template\n")
            province = db.session.scalar(sa.select(Jurisdiction).where(Jurisdiction.code == "p1"))
            db.session.add(DataCall(jurisdiction_id=province.id, title="ISO report 2026", deadline=dt.date(2026, 12, 1),
                                    sent_on=dt.date(2026, 11, 1), template_key=template_key, template_name="form.docx"))
            db.session.commit()
            db.engine.dispose()
        yield Source(request.param, created.owner_url, created.app_url, storage, template_key)


@pytest.fixture
def backup(source, tmp_path) -> Path:
    directory = tmp_path / "backup"
    result = cli(source.app(), "backup", str(directory))
    assert result.exit_code == 0, result.output
    return directory


@dataclass
class Target:
    url: str
    storage: Path

    def app(self):
        return make_app(self.url, self.storage)


@pytest.fixture
def target(source, tmp_path):
    """A new empty database of the source's kind, and an empty storage folder."""
    folder = tmp_path / "target"
    folder.mkdir()
    with fresh_database(source.kind, folder) as created:
        yield Target(created.owner_url, tmp_path / "target-files")


only_sqlite = pytest.mark.parametrize("source", ["sqlite"], indirect=True)
only_postgresql = pytest.mark.parametrize("source", ["postgresql"], indirect=True)


def test_backup_writes_the_database_the_files_and_their_checksums(source, backup):
    manifest = json.loads((backup / "manifest.json").read_text())
    database = manifest["database"]
    assert manifest["format"] == 1 and manifest["problems"] == []
    assert database["kind"] == source.kind
    assert database["file"] == ("database.dump" if source.kind == "postgresql" else "database.sqlite3")
    assert database["sha256"] == hashlib.sha256((backup / database["file"]).read_bytes()).hexdigest()
    assert database["alembic_revision"]
    # every agency's rows, whatever row-level security would show the application role
    assert database["counts"] == row_counts(source.url)
    assert database["counts"]["tenant"] == 4 and database["counts"]["unit"] == 8
    stored = checksums(source.storage)
    assert {f["key"]: f["sha256"] for f in manifest["files"]} == stored == checksums(backup / "files")
    assert all(key.rsplit("/", 1)[1] == digest for key, digest in stored.items())  # content-addressed
    assert source.template_key in stored


def test_restore_into_an_empty_database_gives_the_same_rows_and_files(source, backup, target):
    result = cli(target.app(), "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert "the row counts match the manifest" in result.output
    assert "the checksums match the manifest" in result.output
    assert row_counts(target.url) == row_counts(source.url)
    assert checksums(target.storage) == checksums(source.storage)
    if source.kind == "postgresql":
        # The application role's grants came back with the dump: reads, and the append-only log.
        engine = sa.create_engine(target.url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            assert conn.scalar(sa.text(f"select has_table_privilege('{APP_ROLE}', 'unit', 'select')"))
            assert not conn.scalar(sa.text(f"select has_table_privilege('{APP_ROLE}', 'activity_entry', 'update')"))
            assert conn.scalar(sa.text("select relrowsecurity from pg_class where relname = 'unit'"))
        engine.dispose()


def test_restore_refuses_a_database_that_is_not_empty(source, backup):
    before = row_counts(source.url)
    result = cli(source.app(storage=backup.parent / "elsewhere"), "restore", str(backup))
    assert result.exit_code != 0
    assert "the target database is not empty" in result.output and "Nothing was restored" in result.output
    assert row_counts(source.url) == before
    assert not (backup.parent / "elsewhere").exists()


@only_sqlite
def test_backup_refuses_a_folder_that_is_not_empty(source, tmp_path):
    folder = tmp_path / "used"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    result = cli(source.app(), "backup", str(folder))
    assert result.exit_code != 0 and "is not empty" in result.output
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


@only_sqlite
@pytest.mark.parametrize("damage", ["stored file", "database", "missing file"])
def test_restore_refuses_a_damaged_backup_and_names_the_file(source, backup, target, damage):
    manifest = json.loads((backup / "manifest.json").read_text())
    key = manifest["files"][0]["key"]
    if damage == "stored file":
        damaged, path = f"files/{key}", backup / "files" / key
        data = bytearray(path.read_bytes())
        data[0] ^= 0xFF  # same size, other content
        path.write_bytes(bytes(data))
    elif damage == "database":
        damaged, path = "database.sqlite3", backup / "database.sqlite3"
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        damaged = f"files/{key}"
        (backup / "files" / key).unlink()
    result = cli(target.app(), "restore", str(backup))
    assert result.exit_code != 0
    assert "is damaged; nothing was restored" in result.output and damaged in result.output
    assert not Path(sa.engine.make_url(target.url).database).exists()  # checked before anything was written
    assert not target.storage.exists()


@only_sqlite
def test_restore_accepts_a_database_with_only_an_empty_alembic_version(source, backup, target):
    engine = sa.create_engine(target.url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("create table alembic_version (version_num varchar(32) primary key)"))
    engine.dispose()
    result = cli(target.app(), "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert row_counts(target.url) == row_counts(source.url)


@only_sqlite
def test_restore_refuses_other_content_under_a_key_of_the_backup(source, backup, target):
    key = json.loads((backup / "manifest.json").read_text())["files"][0]["key"]
    (target.storage / key).parent.mkdir(parents=True)
    (target.storage / key).write_bytes(b"something else")
    result = cli(target.app(), "restore", str(backup))
    assert result.exit_code != 0 and "other content" in result.output and key in result.output
    assert [p.relative_to(target.storage).as_posix() for p in target.storage.rglob("*") if p.is_file()] == [key]
    assert not Path(sa.engine.make_url(target.url).database).exists()


@only_sqlite
def test_restore_refuses_a_backup_of_a_schema_this_version_does_not_know(source, backup, target):
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["database"]["alembic_revision"] = "9999_from_the_future"
    (backup / "manifest.json").write_text(json.dumps(manifest))
    result = cli(target.app(), "restore", str(backup))
    assert result.exit_code != 0 and "9999_from_the_future is unknown to this GovQMS" in result.output


@only_sqlite
def test_backup_reports_a_referred_file_missing_and_a_damaged_one(source, tmp_path):
    storage = tmp_path / "storage"
    shutil.copytree(source.storage, storage)
    (storage / source.template_key).unlink()
    damaged = next(key for key in checksums(storage))
    (storage / damaged).write_bytes(b"not what the key says")
    (storage / "1" / "tmpabc123").parent.mkdir(exist_ok=True)
    (storage / "1" / "tmpabc123").write_bytes(b"half written")
    result = cli(source.app(storage=storage), "backup", str(tmp_path / "backup"))
    assert result.exit_code == 1
    assert f"the stored file {source.template_key} is referred to by the database but missing" in result.output
    assert f"the stored file {damaged} is damaged" in result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert len(manifest["problems"]) == 2
    keys = {f["key"] for f in manifest["files"]}
    assert keys == set(checksums(storage)) - {damaged, "1/tmpabc123"}
    assert "skipped 1 file(s)" in result.output


@only_postgresql
def test_backup_as_the_application_role_is_refused(source, tmp_path):
    result = cli(source.app(url=source.app_url), "backup", str(tmp_path / "backup"))
    assert result.exit_code != 0
    assert "row-level security hides rows" in result.output and "schema owner" in result.output
    assert not (tmp_path / "backup").exists()


@only_postgresql
def test_backup_reads_one_snapshot_while_others_write(source, tmp_path, monkeypatch):
    """A row written between the counts and pg_dump's read is in neither: both read the exported snapshot."""
    import govqms.core.backup as backup_module

    original, written = backup_module._run, []

    def write_then_run(args, env, what):
        if what == "pg_dump":
            engine = sa.create_engine(source.url, poolclass=sa.pool.NullPool)
            with engine.begin() as conn:
                conn.execute(sa.text("insert into jurisdiction (code, name, level, path, created_at, updated_at) "
                                     "values ('snap', 'Snapshot', 'province', '/snap/', now(), now())"))
            engine.dispose()
            written.append(True)
        return original(args, env, what)

    monkeypatch.setattr(backup_module, "_run", write_then_run)
    try:
        result = cli(source.app(), "backup", str(tmp_path / "backup"))
        assert result.exit_code == 0, result.output
        assert written
        manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
        assert manifest["database"]["counts"]["jurisdiction"] == row_counts(source.url)["jurisdiction"] - 1
        with fresh_database("postgresql", tmp_path) as created:
            restored = cli(make_app(created.owner_url, tmp_path / "files"), "restore", str(tmp_path / "backup"))
            assert restored.exit_code == 0, restored.output
    finally:
        engine = sa.create_engine(source.url, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            conn.execute(sa.text("delete from jurisdiction where code = 'snap'"))
        engine.dispose()
