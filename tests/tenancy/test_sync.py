"""`govqms tenants sync`: create or update from files, report the rest, never delete."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT
from tests.tenancy.test_manifests import GOOD


def counts(db):
    from govqms.accounts.models import Invitation, User
    from govqms.core.activity import ActivityEntry
    from govqms.tenancy.models import Jurisdiction, Membership, OversightRole, Tenant, TenantMerge, Unit

    return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Jurisdiction, Tenant, Unit, User, Membership, OversightRole, Invitation, TenantMerge,
                      ActivityEntry)}


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_sync_twice_second_run_has_nothing_to_do(cli, tmp_path, system_scope):
    path = write(tmp_path, "tinh-thu.yaml", GOOD)
    first = cli("tenants", "sync", path)
    assert first.exit_code == 0, first.output
    assert "create    tenant       tt-so-khcn" in first.output
    assert "invitation for thuky@tinh-thu.gov.vn" in first.output
    second = cli("tenants", "sync", path)
    assert second.exit_code == 0 and "Nothing to do" in second.output, second.output


def test_shipped_manifests_sync_twice(cli, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    paths = [str(p) for p in sorted((ROOT / "tenants" / "jurisdictions").glob("*.yaml"))]
    assert cli("tenants", "sync", *paths).exit_code == 0
    again = cli("tenants", "sync", *paths)
    assert again.exit_code == 0 and "Nothing to do" in again.output, again.output
    tttt = db.session.scalar(select(Tenant).where(Tenant.slug == "kh-so-tttt"))
    assert tttt.status == "merged" and tttt.merged_into.slug == "kh-so-khcn"
    assert tttt.merged_on.isoformat() == "2025-03-01"


def test_dry_run_writes_nothing(cli, tmp_path, system_scope):
    from govqms.extensions import db

    before = counts(db)
    result = cli("tenants", "sync", "--dry-run", write(tmp_path, "t.yaml", GOOD))
    assert result.exit_code == 0 and "Dry run" in result.output and "create" in result.output
    assert counts(db) == before


def test_three_mistakes_refused_whole_and_nothing_written(cli, tmp_path, system_scope):
    from govqms.extensions import db

    bad = (GOOD.replace("kind: science_technology", "kind: rocket_science")
               .replace("roles: [iso_secretary, auditor]", "roles: [iso_secretary, king]")
               .replace("merged_on: 2025-03-01", "merged_on: 2025-02-30"))
    before = counts(db)
    result = cli("tenants", "sync", write(tmp_path, "bad.yaml", GOOD.replace("tt-", "ok-").replace(
        "code: tinh-thu", "code: tinh-ok")), write(tmp_path, "tinh-thu.yaml", bad))
    assert result.exit_code == 1
    for place in ("tinh-thu.yaml: tenants[0].kind", "tinh-thu.yaml: tenants[0].accounts[0].roles[1]",
                  "tinh-thu.yaml: tenants[1].merged_on"):
        assert place in result.output, result.output
    assert "3 problem(s)" in result.output
    assert counts(db) == before


def test_new_tenant_is_seeded_from_its_kind(cli, tmp_path, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.manifests import load_kinds
    from govqms.tenancy.models import Tenant, Unit

    cli("tenants", "sync", write(tmp_path, "t.yaml", GOOD))
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "tt-so-khcn"))
    codes = set(db.session.scalars(select(Unit.code).where(Unit.tenant_id == tenant.id)))
    assert codes == {u["code"] for u in load_kinds()["science_technology"]["units"]}


def test_explicit_units_override_the_kind_and_are_kept_in_step(cli, tmp_path, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant, Unit

    text = GOOD.replace("    kind: science_technology\n",
                        "    kind: science_technology\n    units:\n      - code: VP\n"
                        "        name: Văn phòng\n")
    cli("tenants", "sync", write(tmp_path, "t.yaml", text))
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "tt-so-khcn"))
    assert set(db.session.scalars(select(Unit.name).where(Unit.tenant_id == tenant.id))) == {"Văn phòng"}
    renamed = text.replace("name: Văn phòng\n", "name: Văn phòng Sở\n")
    result = cli("tenants", "sync", write(tmp_path, "t.yaml", renamed))
    assert "update    unit         tt-so-khcn/VP" in result.output
    db.session.expire_all()
    assert set(db.session.scalars(select(Unit.name).where(Unit.tenant_id == tenant.id))) == {"Văn phòng Sở"}


def test_updates_are_applied_and_missing_tenants_reported_not_removed(cli, tmp_path, system_scope):
    from govqms.extensions import db
    from govqms.tenancy.models import Tenant

    cli("tenants", "sync", write(tmp_path, "t.yaml", GOOD))
    without_second = GOOD.split("  - slug: tt-so-tttt")[0].replace("name: Sở Khoa học và Công nghệ tỉnh Thử",
                                                                       "name: Sở KH&CN tỉnh Thử")
    result = cli("tenants", "sync", write(tmp_path, "t.yaml", without_second))
    assert "update    tenant       tt-so-khcn  name:" in result.output
    assert "missing   tenant       tt-so-tttt" in result.output and "kept" in result.output
    assert db.session.scalar(select(Tenant).where(Tenant.slug == "tt-so-tttt")) is not None


def test_accounts_of_a_merged_agency_belong_to_its_successor(cli, tmp_path, system_scope):
    from govqms.accounts.models import User
    from govqms.extensions import db
    from govqms.tenancy.models import Membership, Tenant

    text = GOOD + textwrap_account()
    assert cli("tenants", "sync", write(tmp_path, "t.yaml", text)).exit_code == 0
    user = db.session.scalar(select(User).where(User.email == "cu@tinh-thu.gov.vn"))
    tenants = set(db.session.scalars(select(Tenant.slug).join(Membership, Membership.tenant_id == Tenant.id)
                                     .where(Membership.user_id == user.id)))
    assert tenants == {"tt-so-khcn"}
    assert "Nothing to do" in cli("tenants", "sync", write(tmp_path, "t.yaml", text)).output


def textwrap_account() -> str:
    return ("    accounts:\n      - email: cu@tinh-thu.gov.vn\n        name: Cán Bộ Cũ\n"
            "        roles: [staff]\n")
