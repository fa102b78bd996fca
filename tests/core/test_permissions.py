"""The permission module is the one place roles map to actions; README's role table follows it."""
from __future__ import annotations

import re

from govqms.core.permissions import (
    OVERSIGHT_TENANT_ACTIONS,
    WRITE_ACTIONS,
    Access,
    Action,
    OversightRoleKind,
    TenantRole,
    role_table,
)
from tests.conftest import ROOT


def test_overseers_never_write():
    access = Access(oversight=frozenset({OversightRoleKind.OVERSEER}))
    assert not any(access.can(a) for a in WRITE_ACTIONS)
    assert not (OVERSIGHT_TENANT_ACTIONS & WRITE_ACTIONS)
    assert access.can(Action.WORKSPACE_VIEW) and access.can(Action.OVERSIGHT_VIEW)


def test_merged_tenant_allows_no_writes_to_anyone():
    head = Access(roles=frozenset({TenantRole.HEAD}), writable_tenant=False)
    assert not any(head.can(a) for a in WRITE_ACTIONS)
    assert head.can(Action.WORKSPACE_VIEW) and head.read_only


def test_no_role_no_access():
    assert not any(Access().can(a) for a in Action)


def test_readme_role_table_matches_the_permission_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Roles", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = sorted(re.findall(r"`([a-z_.]+)`", cells[2]))
    assert rows == dict(role_table())
