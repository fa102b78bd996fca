"""Bringing the database in line with the jurisdiction files.

``plan()`` compares validated files with the database and lists what would change (create,
update, merge) and what is only reported (unchanged, in the database but missing from the
files). ``apply()`` carries the plan out in the caller's transaction. Nothing is ever
deleted: an agency missing from its file is reported and kept.

Members of a merged agency belong to its successor, so the accounts a file lists under a
historical agency are given their roles in the agency it was merged into.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import select

from govqms.accounts.models import User
from govqms.accounts.services import issue_invitation, normalise_email
from govqms.extensions import db
from govqms.tenancy import merge as merging
from govqms.tenancy.manifests import ManifestSet
from govqms.tenancy.models import Jurisdiction, Membership, OversightRole, Tenant, TenantStatus, Unit

#: Functions that fill a newly created agency from its kind's template: ``seeder(tenant, kind)``,
#: run in ``order`` (units before documents, documents before the records that cite them).
#: Each domain registers its own in its ``seeds`` module.
TENANT_SEEDERS: list[tuple[int, Callable[[Tenant, dict[str, Any]], None]]] = []


def tenant_seeder(order: int):
    def register(func):
        if func not in [f for _, f in TENANT_SEEDERS]:
            TENANT_SEEDERS.append((order, func))
            TENANT_SEEDERS.sort(key=lambda item: item[0])
        return func

    return register


@dataclass(frozen=True)
class Change:
    action: str  # create | update | merge | unchanged | missing
    entity: str  # jurisdiction | tenant | unit | account | membership | oversight
    key: str
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.action:<9} {self.entity:<12} {self.key}"
        return f"{text}  {self.detail}" if self.detail else text


@dataclass
class SyncPlan:
    manifests: ManifestSet
    changes: list[Change] = field(default_factory=list)

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action in ("create", "update", "merge")]

    @property
    def missing(self) -> list[Change]:
        return [c for c in self.changes if c.action == "missing"]

    @property
    def unchanged_count(self) -> int:
        return sum(1 for c in self.changes if c.action == "unchanged")

    def summary(self) -> str:
        lines = [str(c) for c in self.pending]
        lines += [f"{c}  (kept: sync never deletes)" for c in self.missing]
        if not self.pending:
            lines.append("Nothing to do: the database matches the files.")
        lines.append(f"{len(self.pending)} to change, {self.unchanged_count} unchanged, "
                     f"{len(self.missing)} only in the database.")
        return "\n".join(lines)


@dataclass
class SyncResult:
    plan: SyncPlan
    invitations: list[tuple[str, str]] = field(default_factory=list)  # (email, token)


def _diff(obj: Any, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (getattr(obj, k), v) for k, v in values.items() if getattr(obj, k) != v}


def _tenant_values(entry: dict) -> dict[str, Any]:
    """The agency's fields a manifest sets; an establishment date left out keeps the one recorded."""
    values = {"name": entry["name"], "kind": entry["kind"]}
    if entry["established_on"] is not None:
        values["established_on"] = entry["established_on"]
    return values


def _describe(diff: dict[str, tuple[Any, Any]]) -> str:
    return ", ".join(f"{k}: {old!r} → {new!r}" for k, (old, new) in diff.items())


class _State:
    """What the database holds, loaded once (a fixed number of queries)."""

    def __init__(self, manifests: ManifestSet):
        slugs = [t["slug"] for _, _, t in manifests.tenants()]
        self.jurisdictions = {j.code: j for j in db.session.scalars(select(Jurisdiction))}
        self.tenants = {t.slug: t for t in db.session.scalars(select(Tenant))}
        emails = {normalise_email(a["email"]) for _, _, t in manifests.tenants() for a in t["accounts"]}
        emails |= {normalise_email(o["email"]) for m in manifests.manifests for o in m.oversight}
        self.users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
        ids = [t.id for s, t in self.tenants.items() if s in slugs]
        self.units = {(u.tenant_id, u.code): u for u in db.session.scalars(select(Unit).where(Unit.tenant_id.in_(ids)))}
        self.memberships = {(m.user_id, m.tenant_id, m.role) for m in db.session.scalars(select(Membership))}
        self.oversight = {(o.user_id, o.jurisdiction_id, o.role) for o in db.session.scalars(select(OversightRole))}


def final_successor(slug: str, successor_of: dict[str, str]) -> str:
    seen = set()
    while slug in successor_of and slug not in seen:
        seen.add(slug)
        slug = successor_of[slug]
    return slug


def _successors(manifests: ManifestSet, state: _State) -> dict[str, str]:
    successor_of = {s: t.merged_into.slug for s, t in state.tenants.items() if t.merged_into is not None}
    successor_of.update({t["slug"]: t["merged_into"] for _, _, t in manifests.tenants() if t.get("merged_into")})
    return successor_of


def plan(manifests: ManifestSet) -> SyncPlan:
    state = _State(manifests)
    result = SyncPlan(manifests)
    add = result.changes.append
    successor_of = _successors(manifests, state)

    for manifest in sorted(manifests.manifests, key=lambda m: m.jurisdiction.get("parent") is not None):
        j = manifest.jurisdiction
        existing = state.jurisdictions.get(j["code"])
        if existing is None:
            add(Change("create", "jurisdiction", j["code"], j["name"]))
        else:
            diff = _diff(existing, {"name": j["name"], "level": j["level"]})
            parent = existing.parent.code if existing.parent else None
            if parent != j.get("parent"):
                diff["parent"] = (parent, j.get("parent"))
            add(Change("update" if diff else "unchanged", "jurisdiction", j["code"], _describe(diff)))

    file_slugs = set()
    for manifest, _, entry in manifests.tenants():
        slug = entry["slug"]
        file_slugs.add(slug)
        tenant = state.tenants.get(slug)
        if tenant is None:
            add(Change("create", "tenant", slug, entry["name"]))
        else:
            diff = _diff(tenant, _tenant_values(entry))
            if tenant.jurisdiction.code != manifest.jurisdiction["code"]:
                diff["jurisdiction"] = (tenant.jurisdiction.code, manifest.jurisdiction["code"])
            add(Change("update" if diff else "unchanged", "tenant", slug, _describe(diff)))
            if entry["units"] is not None:
                for unit in entry["units"]:
                    current = state.units.get((tenant.id, unit["code"]))
                    if current is None:
                        add(Change("create", "unit", f"{slug}/{unit['code']}", unit["name"]))
                    elif current.name != unit["name"]:
                        add(Change("update", "unit", f"{slug}/{unit['code']}",
                                   _describe({"name": (current.name, unit["name"])})))
        if entry.get("merged_into"):
            merged_into = tenant.merged_into.slug if tenant is not None and tenant.merged_into else None
            if merged_into is None:
                add(Change("merge", "tenant", slug, f"→ {entry['merged_into']} ({entry['merged_on']:%d/%m/%Y})"))
            elif merged_into != entry["merged_into"] or tenant.merged_on != entry["merged_on"]:
                add(Change("missing", "tenant", slug,
                           f"merged into {merged_into} on {tenant.merged_on:%d/%m/%Y} in the database, not as the "
                           f"file says: undo that merge in the back office first"))
        target = final_successor(slug, successor_of)
        for account in entry["accounts"]:
            email = normalise_email(account["email"])
            user = state.users.get(email)
            _plan_account(add, user, email, account["name"])
            target_tenant = state.tenants.get(target)
            for role in account["roles"]:
                key = f"{email} {role} @ {target}"
                if user is None or target_tenant is None or (user.id, target_tenant.id, role) not in state.memberships:
                    add(Change("create", "membership", key))
                else:
                    add(Change("unchanged", "membership", key))

    for manifest in manifests.manifests:
        code = manifest.jurisdiction["code"]
        for entry in manifest.oversight:
            email = normalise_email(entry["email"])
            user = state.users.get(email)
            _plan_account(add, user, email, entry["name"])
            jurisdiction = state.jurisdictions.get(code)
            key = f"{email} {entry['role']} @ /o/{code}"
            if user is None or jurisdiction is None or (user.id, jurisdiction.id, entry["role"]) not in state.oversight:
                add(Change("create", "oversight", key))
            else:
                add(Change("unchanged", "oversight", key))

    codes = {m.jurisdiction["code"] for m in manifests.manifests}
    for slug, tenant in sorted(state.tenants.items()):
        if tenant.jurisdiction.code in codes and slug not in file_slugs:
            add(Change("missing", "tenant", slug, "in the database, not in its jurisdiction's file"))
    return _dedupe(result)


def _plan_account(add, user, email, name):
    if user is None:
        add(Change("create", "account", email, name))
    elif user.name != name:
        add(Change("update", "account", email, _describe({"name": (user.name, name)})))
    else:
        add(Change("unchanged", "account", email))


def _dedupe(result: SyncPlan) -> SyncPlan:
    seen, kept = set(), []
    for change in result.changes:
        if (change.action, change.entity, change.key) not in seen:
            seen.add((change.action, change.entity, change.key))
            kept.append(change)
    result.changes = kept
    return result


def apply(sync_plan: SyncPlan, *, invite: bool = True) -> SyncResult:
    """Carry out *sync_plan* in the current transaction (the caller commits)."""
    manifests = sync_plan.manifests
    result = SyncResult(sync_plan)
    state = _State(manifests)

    for manifest in sorted(manifests.manifests, key=lambda m: m.jurisdiction.get("parent") is not None):
        j = manifest.jurisdiction
        jurisdiction = state.jurisdictions.get(j["code"])
        parent = state.jurisdictions.get(j["parent"]) if j.get("parent") else None
        if jurisdiction is None:
            jurisdiction = Jurisdiction(code=j["code"], name=j["name"], level=j["level"], parent=parent)
            db.session.add(jurisdiction)
            db.session.flush()
            state.jurisdictions[j["code"]] = jurisdiction
        else:
            jurisdiction.name, jurisdiction.level = j["name"], j["level"]

    created: list[tuple[Tenant, dict]] = []
    for manifest, _, entry in manifests.tenants():
        tenant = state.tenants.get(entry["slug"])
        jurisdiction = state.jurisdictions[manifest.jurisdiction["code"]]
        values = _tenant_values(entry)
        if tenant is None:
            tenant = Tenant(slug=entry["slug"], jurisdiction=jurisdiction, **values)
            db.session.add(tenant)
            db.session.flush()
            state.tenants[tenant.slug] = tenant
            created.append((tenant, entry))
        else:
            for key, value in values.items():
                setattr(tenant, key, value)
            tenant.jurisdiction = jurisdiction
            if entry["units"] is not None:
                _sync_units(tenant, entry["units"], state)

    for tenant, entry in created:
        kind = manifests.kinds[entry["kind"]]
        template = dict(kind, units=entry["units"]) if entry["units"] is not None else kind
        for _, seeder in TENANT_SEEDERS:
            seeder(tenant, template)
            db.session.flush()

    for _, _, entry in manifests.tenants():
        tenant = state.tenants[entry["slug"]]
        if entry.get("merged_into") and tenant.status == TenantStatus.ACTIVE:
            merging.merge_tenant(tenant, state.tenants[entry["merged_into"]], entry["merged_on"])

    successor_of = _successors(manifests, state)
    pending_invites: dict[str, User] = {}
    for _, _, entry in manifests.tenants():
        target = state.tenants[final_successor(entry["slug"], successor_of)]
        for account in entry["accounts"]:
            user = _ensure_user(state, account, pending_invites)
            for role in account["roles"]:
                if (user.id, target.id, role) not in state.memberships:
                    db.session.add(Membership(user_id=user.id, tenant_id=target.id, role=role))
                    state.memberships.add((user.id, target.id, role))
    for manifest in manifests.manifests:
        jurisdiction = state.jurisdictions[manifest.jurisdiction["code"]]
        for entry in manifest.oversight:
            user = _ensure_user(state, entry, pending_invites)
            if (user.id, jurisdiction.id, entry["role"]) not in state.oversight:
                db.session.add(OversightRole(user_id=user.id, jurisdiction_id=jurisdiction.id, role=entry["role"]))
                state.oversight.add((user.id, jurisdiction.id, entry["role"]))
    db.session.flush()
    if invite:
        for email, user in pending_invites.items():
            result.invitations.append((email, issue_invitation(user)))
    return result


def _ensure_user(state: _State, account: dict, pending_invites: dict[str, User]) -> User:
    email = normalise_email(account["email"])
    user = state.users.get(email)
    if user is None:
        user = User(email=email, name=account["name"])
        db.session.add(user)
        db.session.flush()
        state.users[email] = user
        pending_invites[email] = user
    elif user.name != account["name"]:
        user.name = account["name"]
    return user


def _sync_units(tenant: Tenant, units: list[dict], state: _State) -> None:
    for unit in units:
        current = state.units.get((tenant.id, unit["code"]))
        if current is None:
            db.session.add(Unit(tenant_id=tenant.id, code=unit["code"], name=unit["name"]))
        elif current.name != unit["name"]:
            current.name = unit["name"]


@tenant_seeder(order=0)
def seed_units(tenant: Tenant, kind: dict[str, Any]) -> None:
    for unit in kind["units"]:
        db.session.add(Unit(tenant_id=tenant.id, code=unit["code"], name=unit["name"]))
