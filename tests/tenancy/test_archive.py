"""`govqms export-tenant` / `import-tenant`: an agency's records and files as one archive, round trip
exact across databases whose ids collide, all-or-nothing on import.

Each test works on databases of its own (a source loaded with the demo, and copies of a target that
already holds other agencies), never on the shared test world: imports commit, and the activity log
cannot be cleaned up afterwards.

"Round trip exact": the archive carries canonical ids (ranks), so exporting an agency from the
source, importing it into a target whose ids differ, and exporting it from there gives the same table
documents, byte for byte; the only difference is the activity entry the import adds at the end. The
stored files are byte-identical. A third database imports the second archive the same way.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import shutil
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import (
    APP_ROLE,
    FAST_HASH,
    PG_ADMIN_URL,
    build_world,
    fresh_database,
    migrate,
    test_config as app_config,
)

pytestmark = pytest.mark.committed

SOURCE_SLUG = "kh-so-khcn"
KHCN_NAME = "Sở Khoa học và Công nghệ tỉnh Khánh Hòa"
REUSED_EMAIL = "thuky.khcn@demo.govqms.vn"  # an account the target already has


# --- databases of their own ----------------------------------------------------------------

@dataclass
class Database:
    kind: str
    owner_url: str
    app_url: str


def _grant(owner_url: str) -> None:
    from govqms.core.rls import grant_app_role

    owner = sa.create_engine(owner_url)
    with owner.begin() as conn:
        grant_app_role(conn, APP_ROLE)
    owner.dispose()


def _clone(template: Database, folder: Path) -> tuple[Database, callable]:
    """A copy of *template* (a file copy; on PostgreSQL ``create database … template``)."""
    if template.kind == "sqlite":
        path = folder / f"{uuid.uuid4().hex[:8]}.db"
        shutil.copy(sa.engine.make_url(template.owner_url).database, path)
        url = f"sqlite:///{path}"
        return Database("sqlite", url, url), lambda: None
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"govqms_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}" template "{sa.engine.make_url(template.owner_url).database}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()

    owner = sa.engine.make_url(template.owner_url).set(database=name)
    app = sa.engine.make_url(template.app_url).set(database=name)
    return Database("postgresql", owner.render_as_string(False), app.render_as_string(False)), drop


class Deployment:
    """One GovQMS installation: its database (as the application role) and its file storage."""

    def __init__(self, database: Database, storage: Path):
        from govqms import create_app

        self.database = database
        self.storage = storage
        storage.mkdir(parents=True, exist_ok=True)
        self.app = create_app({**app_config(database.app_url), "STORAGE_DIR": str(storage)})

    @contextlib.contextmanager
    def system(self, actor: str = "tests"):
        from govqms.core.activity import Actor, acting_as
        from govqms.core.tenancy import TenantScope, scoped
        from govqms.extensions import db

        with self.app.app_context(), scoped(TenantScope.system(), db.session), acting_as(Actor(None, actor)):
            yield db.session
            db.session.rollback()

    def tenant(self, session, slug: str):
        from govqms.tenancy.models import Tenant

        return session.scalar(sa.select(Tenant).where(Tenant.slug == slug))

    def export(self, slug: str) -> bytes:
        from govqms.tenancy.archive import export_tenant

        with self.system() as session:
            out = io.BytesIO()
            export_tenant(self.tenant(session, slug), out)
            return out.getvalue()

    def import_(self, data: bytes):
        from govqms.tenancy.archive import import_tenant

        with self.system():
            result = import_tenant(io.BytesIO(data))
            return result.tenant.id, result

    def state(self) -> tuple[dict[str, int], list[str]]:
        """Rows of every table (as the owner, past row-level security) and every stored file."""
        from govqms.core.db import Base

        owner = sa.create_engine(self.database.owner_url)
        with owner.connect() as conn:
            counts = {name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                      for name, table in Base.metadata.tables.items()}
        owner.dispose()
        return counts, sorted(str(p.relative_to(self.storage)) for p in self.storage.rglob("*") if p.is_file())

    def close(self) -> None:
        from govqms.extensions import db

        with self.app.app_context():
            db.engine.dispose()


def _fresh(kind: str, folder: Path, stack: contextlib.ExitStack) -> Database:
    folder.mkdir(parents=True, exist_ok=True)
    created = stack.enter_context(fresh_database(kind, folder))
    migrate(created.owner_url)
    if kind == "postgresql":
        _grant(created.owner_url)
    return Database(kind, created.owner_url, created.app_url)


def _enrich_source(session, storage) -> None:
    """What the demo lacks: a deleted unit (named by the log only), a request to units with a
    template and reply files, a declaration with its file and procedures, a job with a binary
    result, a calendar feed."""
    from govqms.accounts.models import User
    from govqms.calendars.models import CalendarFeed
    from govqms.conformity.models import Declaration, DeclarationProcedure
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.datacalls.models import UnitCall, UnitCallReply
    from govqms.jobs.models import Job
    from govqms.procedures.models import AdminProcedure
    from govqms.tenancy.models import Tenant, Unit

    khcn = session.scalar(sa.select(Tenant).where(Tenant.slug == SOURCE_SLUG))
    secretary = session.scalar(sa.select(User).where(User.email == REUSED_EMAIL))
    with scoped(TenantScope.tenant(khcn.id), session):
        gone = Unit(code="TAM", name="Tổ công tác tạm thời")
        unit = Unit(code="TDC2", name="Phòng Tiêu chuẩn Đo lường Chất lượng – thử nghiệm")
        session.add_all([gone, unit])
        session.flush()
        session.delete(gone)
        template = storage.put(khcn.id, "Mẫu báo cáo rà soát thủ tục\n".encode())
        call = UnitCall(title="Rà soát quy trình nội bộ", request="Các phòng rà soát và báo cáo trước 25/07",
                        deadline=dt.date(2025, 7, 25), sent_on=dt.date(2025, 7, 1), template_key=template,
                        template_name="mẫu-báo-cáo.txt", created_by_id=secretary.id)
        session.add(call)
        session.flush()
        reply = storage.put(khcn.id, bytes(range(256)) * 3)
        session.add(UnitCallReply(call_id=call.id, unit_id=unit.id, note="Đã rà soát xong",
                                  files=[{"key": reply, "name": "báo cáo.bin", "size": 768}],
                                  submitted_on=dt.date(2025, 7, 20), submitted_by_id=secretary.id))
        declaration = Declaration(decision_number="12/QĐ-SKHCN", decided_on=dt.date(2024, 3, 1), edition="2015",
                                  file_name="quyết định.pdf", file_key=storage.put(khcn.id, b"%PDF-1.4 cong bo\n"))
        session.add(declaration)
        session.flush()
        procedures = session.scalars(sa.select(AdminProcedure).where(AdminProcedure.tenant_id == khcn.id)
                                     .order_by(AdminProcedure.id)).all()[:2]
        session.add_all([DeclarationProcedure(declaration_id=declaration.id, procedure_id=p.id) for p in procedures])
        session.add(Job(id=str(uuid.uuid4()), task="documents.export_register", params={"q": "quy trình"},
                        tenant_id=khcn.id, user_id=secretary.id, status="finished", result=b"\x00\xffPK\x03",
                        result_name="sổ đăng ký.xlsx"))
        session.add(CalendarFeed(token_hash=hashlib.sha256(b"feed").hexdigest(), label="Lịch của tôi",
                                 user_id=secretary.id, tenant_id=khcn.id))
        session.flush()
    session.commit()


def _prepare_target(session) -> None:
    """Other agencies with enough rows that their ids overlap the source's, the jurisdiction, and
    one account the archive names already (with a password)."""
    from govqms.accounts.models import User
    from govqms.tenancy.models import Jurisdiction, Tenant, Unit

    build_world()
    vn = session.scalar(sa.select(Jurisdiction).where(Jurisdiction.code == "vn"))
    session.add(Jurisdiction(code="khanh-hoa", name="Tỉnh Khánh Hòa", level="province", parent=vn))
    b1 = session.scalar(sa.select(Tenant).where(Tenant.slug == "b1"))
    session.add_all([Unit(tenant_id=b1.id, code=f"P{i}", name=f"Phòng {i}") for i in range(400)])
    user = User(email=REUSED_EMAIL, name="Lê Thị Cúc", locale="vi")  # as in the demo
    user.set_password("already here", method=FAST_HASH)
    session.add(user)
    session.commit()


@pytest.fixture(scope="module")
def databases(backend, tmp_path_factory):
    """A source with the demo (plus extras), and a target template with other agencies."""
    from govqms.core.storage import get_storage
    from govqms.demo import load_demo

    folder = tmp_path_factory.mktemp(f"archive-{backend.name}")
    with contextlib.ExitStack() as stack:
        source = Deployment(_fresh(backend.name, folder / "source", stack), folder / "source-files")
        with source.system() as session:
            load_demo("demo-pass-123")
            session.commit()
            _enrich_source(session, get_storage())
        source.close()
        template = _fresh(backend.name, folder / "target", stack)
        target = Deployment(template, folder / "unused-files")
        with target.system() as session:
            _prepare_target(session)
        target.close()
        yield source, template
        source.close()


@pytest.fixture(scope="module")
def source(databases):
    return databases[0]


@pytest.fixture
def new_target(databases, tmp_path):
    """``new_target()``: a fresh copy of the target, with an empty file storage."""
    made = []

    def _make() -> Deployment:
        database, drop = _clone(databases[1], tmp_path)
        deployment = Deployment(database, tmp_path / f"files-{len(made)}")
        made.append((deployment, drop))
        return deployment

    yield _make
    for deployment, drop in made:
        deployment.close()
        drop()


@pytest.fixture(scope="module")
def archive1(source):
    return source.export(SOURCE_SLUG)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rows(data: bytes, table: str) -> list[dict]:
    return json.loads(members(data)[f"tables/{table}.json"])


def rewrite(data: bytes, change) -> bytes:
    """The archive with ``change(name, content)`` applied to every member (None drops it); the
    manifest's checksums are left as they were."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members(data).items():
            changed = change(name, content)
            if changed is not None:
                archive.writestr(name, changed)
    return out.getvalue()


# --- the schema is fully described ---------------------------------------------------------

def test_every_column_is_understood():
    from govqms.tenancy.archive import schema_problems

    assert schema_problems() == []


def test_insertion_order_puts_referenced_tables_first_and_defers_cycles():
    from govqms.tenancy.archive import insertion_order

    metadata = sa.MetaData()
    parent = sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("parent_id", sa.ForeignKey("parent.id")),  # self-reference
                      sa.Column("favourite_id", sa.Integer))
    child = sa.Table("child", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("parent_id", sa.ForeignKey("parent.id"), nullable=False))
    # a cycle: parent.favourite_id -> child, child.parent_id -> parent (required)
    parent.append_constraint(sa.ForeignKeyConstraint(["favourite_id"], ["child.id"]))
    order, deferred = insertion_order([child, parent])
    assert [t.name for t in order] == ["parent", "child"]
    assert deferred == {"parent": ["favourite_id", "parent_id"]}

    # a longer cycle is broken at its one nullable reference: z.x_id
    def table(name, target, nullable=False):
        return sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column(f"{target}_id", sa.ForeignKey(f"{target}.id"), nullable=nullable))

    cycle = [table("x", "y"), table("y", "z"), table("z", "x", nullable=True)]
    order, deferred = insertion_order(cycle)
    assert [t.name for t in order] == ["z", "y", "x"] and deferred == {"z": ["x_id"]}


# --- export --------------------------------------------------------------------------------

def test_export_is_deterministic_complete_and_canonical(source, archive1):
    from govqms.tenancy.archive import FORMAT, FORMAT_VERSION, tenant_tables

    again = source.export(SOURCE_SLUG)
    first, second = members(archive1), members(again)
    assert first.keys() == second.keys()
    assert {k: v for k, v in first.items() if k != "manifest.json"} == {k: v for k, v in second.items()
                                                                       if k != "manifest.json"}
    manifest = json.loads(first["manifest.json"])
    assert manifest["format"] == FORMAT and manifest["format_version"] == FORMAT_VERSION
    assert manifest["tenant"] == SOURCE_SLUG and manifest["app_version"] and manifest["exported_at"]
    assert {t["name"] for t in manifest["tables"]} == {"tenant", *(t.name for t in tenant_tables())}
    for name, member in manifest["members"].items():
        assert hashlib.sha256(first[name]).hexdigest() == member["sha256"]

    with source.system() as session:
        khcn = source.tenant(session, SOURCE_SLUG)
        for entry in manifest["tables"]:
            if entry["name"] != "tenant":
                table = sa.table(entry["name"], sa.column("tenant_id"))
                count = session.scalar(sa.select(sa.func.count()).select_from(table)
                                       .where(table.c.tenant_id == khcn.id))
                assert entry["rows"] == count, entry["name"]
        files = session.scalar(sa.text("select count(*) from document_file where tenant_id = :t"), {"t": khcn.id})
    assert files > 0 and sum(1 for name in first if name.startswith("files/")) > 0

    # Vietnamese as is, in UTF-8; no password hash anywhere
    assert KHCN_NAME.encode() in first["tables/tenant.json"]
    assert "Tổ công tác tạm thời".encode() in first["tables/activity_entry.json"]
    assert not any(b"password_hash" in content or b"pbkdf2:" in content for content in first.values())
    # canonical ids: ranks from 1, sorted; the deleted unit keeps a rank (a gap) that its log entries use
    units = rows(archive1, "unit")
    ranks = [u["id"] for u in units]
    assert ranks == sorted(ranks) and ranks[0] == 1
    gaps = set(range(1, ranks[-1] + 1)) - set(ranks)
    deleted = [e for e in rows(archive1, "activity_entry") if e["entity"] == "unit" and e["action"] == "delete"]
    assert gaps and {e["entity_id"] for e in deleted} == gaps
    # references by natural key, files by checksum, bytes in base64
    assert rows(archive1, "tenant")[0]["jurisdiction_id"] == "khanh-hoa"
    assert {m["user_id"] for m in rows(archive1, "membership")} >= {REUSED_EMAIL}
    assert all(f["storage_key"].startswith("sha256:") for f in rows(archive1, "document_file"))
    assert next(j for j in rows(archive1, "job") if j["task"] == "documents.export_register")["result"] == "AP9QSwM="


# --- round trip ----------------------------------------------------------------------------

def _same_archive(first: bytes, second: bytes, imports: int) -> None:
    """Equal table documents, files and recreated platform rows; the second's log has *imports* more entries."""
    a, b = members(first), members(second)
    assert a.keys() == b.keys()
    for name in a:
        if name == "tables/activity_entry.json":
            log_a, log_b = json.loads(a[name]), json.loads(b[name])
            assert log_b[:len(log_a)] == log_a
            assert [e["action"] for e in log_b[len(log_a):]] == ["import"] * imports
        elif name.startswith(("tables/", "files/")) or name in (
                "globals/user.json", "globals/data_call.json", "globals/inspection_plan.json"):
            assert a[name] == b[name], name


UNITS_OF = sa.text("select id from unit where tenant_id = :t order by id")


def test_round_trip_is_exact_across_databases_with_colliding_ids(source, archive1, new_target):
    from govqms.core.storage import get_storage
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.tenancy.models import Unit

    yte = source.export("kh-so-yte")
    target = new_target()
    with source.system() as session:
        old_id = source.tenant(session, SOURCE_SLUG).id
        old_units = session.scalars(UNITS_OF, {"t": old_id}).all()
        source_files = {hashlib.sha256(p.read_bytes()).hexdigest(): p.read_bytes()
                        for p in (source.storage / str(old_id)).rglob("*") if p.is_file()}
    logged_before = target.state()[0]["activity_entry"]
    new_id, result = target.import_(archive1)
    assert target.state()[0]["activity_entry"] == logged_before + len(rows(archive1, "activity_entry")) + 1
    target.import_(yte)
    assert result.accounts_created and REUSED_EMAIL not in result.accounts_created

    with target.system() as session:
        new_units = session.scalars(UNITS_OF, {"t": new_id}).all()
        taken = session.scalars(sa.text("select id from unit where tenant_id <> :t"), {"t": new_id}).all()
        assert set(old_units) & set(taken), "the target must already use the source's ids"
        assert len(new_units) == len(old_units) and not set(new_units) & set(taken)
        # references point into the agency's own new rows
        bad = session.execute(sa.text(
            "select d.id from document d left join document_revision r on r.id = d.current_revision_id "
            "where d.tenant_id = :t and d.current_revision_id is not null "
            "and (r.document_id is distinct from d.id or r.tenant_id <> :t)"), {"t": new_id}).all()
        assert bad == []
        for (unit_ids,) in session.execute(sa.text("select unit_ids from audit where tenant_id = :t"), {"t": new_id}):
            assert set(json.loads(unit_ids) if isinstance(unit_ids, str) else unit_ids) <= set(new_units)
        yte_id = target.tenant(session, "kh-so-yte").id
        findings = session.scalars(sa.text("select findings from inspection where tenant_id = :t"), {"t": yte_id}).all()
        nc_ids = [f["nc_id"] for found in findings for f in (json.loads(found) if isinstance(found, str) else found)]
        assert nc_ids and set(nc_ids) <= set(session.scalars(
            sa.text("select id from nonconformity where tenant_id = :t"), {"t": yte_id}).all())
        # accounts: reused with their password, or created without one
        hashes = dict(session.execute(sa.text(
            "select email, password_hash from \"user\" where email like '%@demo.govqms.vn'")).all())
        assert hashes.pop(REUSED_EMAIL).startswith("pbkdf2:")
        assert set(hashes.values()) == {None}
        assert target.tenant(session, SOURCE_SLUG).name == KHCN_NAME
        # stored files byte-identical, under the new agency's folder
        storage = get_storage()
        for key, digest in session.execute(
                sa.text("select storage_key, sha256 from document_file where tenant_id = :t"), {"t": new_id}):
            assert key.startswith(f"{new_id}/") and hashlib.sha256(storage.get(key)).hexdigest() == digest
        # one entry for the import, by the importer; none per imported row
        log = session.execute(sa.text("select action, actor_label from activity_entry where tenant_id = :t "
                                      "order by id desc"), {"t": new_id}).all()
        assert log[0] == ("import", "tests") and [a for a, _ in log].count("import") == 1
        # the sequences moved past the imported ids: the agency goes on working (rolled back)
        with scoped(TenantScope.tenant(new_id), session):
            session.add(Unit(code="MOI", name="Phòng mới sau khi chuyển"))
            session.flush()
    target_files = {hashlib.sha256(p.read_bytes()).hexdigest(): p.read_bytes()
                    for p in (target.storage / str(new_id)).rglob("*") if p.is_file()}
    assert target_files == source_files

    archive2 = target.export(SOURCE_SLUG)
    _same_archive(archive1, archive2, imports=1)

    third = new_target()
    third.import_(archive2)
    _same_archive(archive1, third.export(SOURCE_SLUG), imports=2)


def test_merged_agency_needs_its_successor(source, new_target):
    from govqms.tenancy.archive import ArchiveError

    merged = source.export("kh-so-tttt")
    target = new_target()
    before = target.state()
    with pytest.raises(ArchiveError, match="agency 'kh-so-khcn' does not exist in this database: import it first"):
        target.import_(merged)
    assert target.state() == before
    target.import_(source.export(SOURCE_SLUG))
    tttt_id, _ = target.import_(merged)
    with target.system() as session:
        tenant = target.tenant(session, "kh-so-tttt")
        assert tenant.id == tttt_id and tenant.status == "merged" and tenant.merged_into.slug == SOURCE_SLUG


# --- refusals: nothing written -------------------------------------------------------------

def test_existing_slug_is_refused_and_nothing_written(source, archive1):
    from govqms.tenancy.archive import ArchiveError

    before = source.state()
    with pytest.raises(ArchiveError, match="'kh-so-khcn' already exists"):
        source.import_(archive1)
    assert source.state() == before


DAMAGES = {
    # what is damaged: (how, the refusal)
    "a stored file": (lambda name, content: content + b"\0" if name.startswith("files/") else content,
                      "checksum mismatch, the archive is damaged: files/"),
    "a table": (lambda name, content: content.replace("Văn phòng".encode(), b"Van phong")
                if name == "tables/unit.json" else content, "checksum mismatch, the archive is damaged: tables/unit"),
    "the format version": (lambda name, content: content.replace(b'"format_version": 1', b'"format_version": 2')
                           if name == "manifest.json" else content, "archive format version 2 is not supported"),
    "a missing member": (lambda name, content: None if name == "tables/unit.json" else content,
                         "does not match its manifest: missing \\['tables/unit.json'\\]"),
    "not a zip": (None, "not a GovQMS archive"),
}


def test_damaged_archives_are_refused_and_nothing_written(archive1, new_target):
    from govqms.tenancy.archive import ArchiveError

    target = new_target()
    before = target.state()
    for what, (change, refusal) in DAMAGES.items():
        damaged = rewrite(archive1, change) if change else archive1[100:]
        with pytest.raises(ArchiveError, match=refusal):
            target.import_(damaged)
        assert target.state() == before, what

    owner = sa.create_engine(target.database.owner_url)
    with owner.begin() as conn:
        conn.execute(sa.text("delete from jurisdiction where code = 'khanh-hoa'"))
    owner.dispose()
    before = target.state()
    with pytest.raises(ArchiveError, match="jurisdiction 'khanh-hoa' does not exist"):
        target.import_(archive1)
    assert target.state() == before


def test_files_are_removed_when_the_commit_fails(archive1, new_target, monkeypatch):
    from govqms.extensions import db
    from govqms.tenancy.archive import ArchiveError

    target = new_target()
    before = target.state()
    written = []

    def failing_commit():
        written.extend(p for p in target.storage.rglob("*") if p.is_file())
        raise sa.exc.OperationalError("COMMIT", {}, Exception("the disk is full"))

    monkeypatch.setattr(db.session, "commit", failing_commit)
    with pytest.raises(ArchiveError, match="the disk is full"):
        target.import_(archive1)
    assert written, "the files were written before the commit"
    assert target.state() == before


# --- the commands --------------------------------------------------------------------------

def test_cli_exports_and_imports(source, new_target, tmp_path):
    path = tmp_path / "khcn.zip"
    exported = source.app.test_cli_runner().invoke(args=["export-tenant", SOURCE_SLUG, str(path)])
    assert exported.exit_code == 0, exported.output
    assert f"exported {SOURCE_SLUG} to {path}" in exported.output and "document_file" in exported.output
    assert zipfile.is_zipfile(path) and not list(tmp_path.glob("*.partial"))

    unknown = source.app.test_cli_runner().invoke(args=["export-tenant", "no-such-agency", str(tmp_path / "x.zip")])
    assert unknown.exit_code == 1 and "no agency 'no-such-agency'" in unknown.output
    assert not (tmp_path / "x.zip").exists()

    target = new_target()
    runner = target.app.test_cli_runner()
    imported = runner.invoke(args=["import-tenant", str(path)])
    assert imported.exit_code == 0, imported.output
    assert f"imported {SOURCE_SLUG} ({KHCN_NAME})" in imported.output
    assert "activity_entry" in imported.output and "govqms tenants invite EMAIL" in imported.output
    with target.system() as session:
        entry = session.execute(sa.text("select actor_label, entity from activity_entry where action = 'import'")).one()
        assert entry == ("cli:import-tenant", "tenant")

    before = target.state()
    again = runner.invoke(args=["import-tenant", str(path)])
    assert again.exit_code == 1
    assert f"'{SOURCE_SLUG}' already exists" in again.output and "Nothing was imported" in again.output
    assert target.state() == before
