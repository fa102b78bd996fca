"""Validation of the files in tenants/: whole files refused, every problem with its place."""
from __future__ import annotations

import textwrap

import pytest

from govqms.tenancy.manifests import ManifestError, load_kinds, load_manifests, parse_yaml
from govqms.tenancy.models import TenantKind
from tests.conftest import ROOT

GOOD = textwrap.dedent("""\
    jurisdiction:
      code: tinh-thu
      name: Tỉnh Thử
      level: province
      parent: vn
    oversight:
      - email: tdc@tinh-thu.gov.vn
        name: Người Theo Dõi
        role: overseer
    tenants:
      - slug: tt-so-khcn
        name: Sở Khoa học và Công nghệ tỉnh Thử
        kind: science_technology
        accounts:
          - email: thuky@tinh-thu.gov.vn
            name: Thư Ký
            roles: [iso_secretary, auditor]
      - slug: tt-so-tttt
        name: Sở Thông tin và Truyền thông tỉnh Thử
        kind: information_communications
        established_on: 2008-08-01
        merged_into: tt-so-khcn
        merged_on: 2025-03-01
    """)


@pytest.fixture(scope="module")
def kinds(app):
    with app.app_context():
        return load_kinds()


def load(kinds, *texts, existing=None):
    return load_manifests([(f"f{i}.yaml", t) for i, t in enumerate(texts)], kinds=kinds,
                          existing_tenants=existing or {}, existing_jurisdictions=["vn"])


def problems_of(kinds, *texts, existing=None):
    with pytest.raises(ManifestError) as caught:
        load(kinds, *texts, existing=existing)
    return caught.value.problems


def test_every_kind_has_a_template_and_every_template_a_kind(kinds):
    assert set(kinds) == {k.value for k in TenantKind}


def test_shipped_manifests_are_valid(app, kinds):
    files = sorted((ROOT / "tenants" / "jurisdictions").glob("*.yaml"))
    assert {f.stem for f in files} >= {"vn", "khanh-hoa"}
    loaded = load_manifests([(f.name, f.read_text(encoding="utf-8")) for f in files], kinds=kinds)
    province = next(m for m in loaded.manifests if m.jurisdiction["code"] == "khanh-hoa")
    kinds_used = [t["kind"] for t in province.tenants]
    assert len([k for k in kinds_used if k != "commune"]) >= 10 and kinds_used.count("commune") >= 3
    lineage = {t["slug"]: t.get("merged_into") for t in province.tenants}
    assert lineage["kh-so-tttt"] == "kh-so-khcn" and lineage["kh-so-ldtbxh"] == "kh-so-noivu"
    ministry = next(m for m in loaded.manifests if m.jurisdiction["level"] == "ministry")
    assert len(ministry.tenants) >= 4


def test_good_manifest_loads(kinds):
    loaded = load(kinds, GOOD)
    tenants = loaded.manifests[0].tenants
    assert tenants[1]["merged_on"].isoformat() == "2025-03-01"
    # the edition is not typed in a manifest: it comes from the agency's declaration
    assert tenants[0]["established_on"] is None and tenants[1]["established_on"].isoformat() == "2008-08-01"


def test_three_mistakes_are_all_reported_with_their_paths(kinds):
    bad = (GOOD.replace("kind: science_technology", "kind: rocket_science")
               .replace("roles: [iso_secretary, auditor]", "roles: [iso_secretary, king]")
               .replace("merged_on: 2025-03-01", "merged_on: 2025-02-30"))
    found = {(p.file, p.path) for p in problems_of(kinds, bad)}
    assert found == {("f0.yaml", "tenants[0].kind"), ("f0.yaml", "tenants[0].accounts[0].roles[1]"),
                     ("f0.yaml", "tenants[1].merged_on")}


@pytest.mark.parametrize("change, path, words", [
    (lambda t: t.replace("merged_into: tt-so-khcn", "merged_into: tt-nowhere"), "tenants[1].merged_into", "no agency"),
    (lambda t: t.replace("role: overseer", "role: emperor"), "oversight[0].role", ""),
    (lambda t: t.replace("parent: vn", "parent: atlantis"), "jurisdiction.parent", "no jurisdiction"),
    (lambda t: t.replace("level: province", "level: galaxy"), "jurisdiction.level", ""),
    (lambda t: t.replace("slug: tt-so-tttt", "slug: tt-so-khcn").replace(
        "    merged_into: tt-so-khcn\n    merged_on: 2025-03-01\n", ""), "tenants[1].slug", "twice"),
    (lambda t: t.replace("  - slug: tt-so-khcn\n", "  - slug: tt-so-khcn\n    colour: blue\n"),
     "tenants[0].colour", ""),
])
def test_each_mistake_names_its_place(kinds, change, path, words):
    problems = problems_of(kinds, change(GOOD))
    assert [p.path for p in problems] == [path], problems
    assert words in problems[0].message


def test_duplicate_slug_across_files(kinds):
    other = GOOD.replace("code: tinh-thu", "code: tinh-khac")
    problems = problems_of(kinds, GOOD, other)
    assert {(p.file, p.path) for p in problems} >= {("f1.yaml", "tenants[0].slug"), ("f1.yaml", "tenants[1].slug")}


def test_merge_cycle(kinds):
    cyclic = GOOD.replace("    kind: science_technology\n",
                          "    kind: science_technology\n    merged_into: tt-so-tttt\n"
                          "    merged_on: 2025-04-01\n")
    problems = problems_of(kinds, cyclic)
    assert {p.path for p in problems} == {"tenants[0].merged_into", "tenants[1].merged_into"}
    assert all("cycle" in p.message for p in problems)


def test_merge_cycle_through_the_database(kinds):
    text = GOOD.replace("      - slug: tt-so-tttt", "      - slug: tt-so-tttt").replace(
        "    kind: science_technology\n", "    kind: science_technology\n    merged_into: db-old\n"
        "    merged_on: 2025-04-01\n")
    problems = problems_of(kinds, text, existing={"db-old": "tt-so-tttt"})
    assert any("cycle" in p.message for p in problems)


def test_malformed_yaml_names_the_line(kinds):
    problems = problems_of(kinds, "jurisdiction:\n  code: [unclosed\n")
    assert problems[0].file == "f0.yaml" and "line" in problems[0].path and "YAML" in problems[0].message


def test_dates_stay_text_until_validated():
    assert parse_yaml("d: 2025-03-01", "x") == {"d": "2025-03-01"}


def test_schema_and_lineage_mistakes_are_reported_together(kinds):
    """A bad date in one entry must not hide a merge into nowhere in another, nor a bad kind."""
    text = (GOOD.replace("kind: science_technology", "kind: rocket_science")
                .replace("merged_into: tt-so-khcn", "merged_into: tt-nowhere")
                .replace("merged_on: 2025-03-01", "merged_on: 2025-02-30"))
    paths = sorted(p.path for p in problems_of(kinds, text))
    assert paths == ["tenants[0].kind", "tenants[1].merged_into", "tenants[1].merged_on"]


def test_messages_follow_the_interface_language(app, kinds):
    from flask_babel import force_locale

    text = GOOD.replace("merged_on: 2025-03-01", "merged_on: 2025-02-30")
    with app.test_request_context(), force_locale("vi"):
        (problem,) = problems_of(kinds, text)
        assert problem.message == "Ngày không hợp lệ (YYYY-MM-DD)."
    with app.test_request_context(), force_locale("en"):
        (problem,) = problems_of(kinds, text)
        assert problem.message == "Not a valid date (YYYY-MM-DD)."
