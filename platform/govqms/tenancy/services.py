"""Resolving who may see which tenant and jurisdiction, and changing units.

Each function issues a fixed number of queries whatever the number of tenants.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import joinedload

from govqms.accounts.models import User
from govqms.core.db import utcnow, vi_order
from govqms.core.listing import page_of
from govqms.core.permissions import Access, OversightRoleKind, TenantRole
from govqms.core.tenancy import reading_as
from govqms.extensions import db
from govqms.tenancy.models import Jurisdiction, Membership, OversightRole, Tenant, TenantStatus, Unit


def successor_chain(tenant: Tenant) -> list[int]:
    """The agencies *tenant* was merged into, nearest first."""
    chain, current = [], tenant.merged_into
    while current is not None and current.id not in chain and current.id != tenant.id:
        chain.append(current.id)
        current = current.merged_into
    return chain


def access_for(user, tenant: Tenant) -> Access:
    """The user's access to *tenant*: one query (more for a merged agency's lineage).

    Members of a successor read the history of the agencies merged into it: their roles
    apply there too, read-only like everything in a merged agency.

    The memberships are read as *user* (:func:`reading_as`): before any agency is in scope,
    row-level security shows a person's own memberships only, and *user* is not always the one
    signed in (a calendar feed's owner, when a calendar application opens the feed).
    """
    if user is None or not user.is_authenticated:
        return Access(writable_tenant=tenant.writable)
    lineage = [tenant.id, *successor_chain(tenant)] if tenant.merged_into_id else [tenant.id]
    with reading_as(user.id), db.session.no_autoflush:
        rows = db.session.execute(
            select(literal("member"), Membership.role)
            .where(Membership.user_id == user.id, Membership.tenant_id.in_(lineage))
            .union_all(select(literal("oversight"), OversightRole.role)
                       .join(Jurisdiction, OversightRole.jurisdiction_id == Jurisdiction.id)
                       .where(OversightRole.user_id == user.id,
                              Jurisdiction.path.in_(tenant.jurisdiction.ancestor_paths())))).all()
    return Access(
        roles=frozenset(TenantRole(r) for kind, r in rows if kind == "member"),
        oversight=frozenset(OversightRoleKind(r) for kind, r in rows if kind == "oversight"),
        writable_tenant=tenant.writable,
    )


def tenant_by_slug(slug: str) -> Tenant | None:
    """The agency of *slug* with its jurisdiction: one query."""
    return db.session.scalar(select(Tenant).options(joinedload(Tenant.jurisdiction)).where(Tenant.slug == slug))


def oversight_access(user, jurisdiction: Jurisdiction) -> Access:
    if user is None or not user.is_authenticated:
        return Access()
    roles = db.session.scalars(
        select(OversightRole.role)
        .join(Jurisdiction, OversightRole.jurisdiction_id == Jurisdiction.id)
        .where(OversightRole.user_id == user.id, Jurisdiction.path.in_(jurisdiction.ancestor_paths()))
    ).all()
    return Access(oversight=frozenset(OversightRoleKind(r) for r in roles))


def members(tenant_id: int) -> list[User]:
    """The agency's people (any role), by name: whom a form may name as owner or participant."""
    return list(db.session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                   .where(Membership.tenant_id == tenant_id).group_by(User.id)
                                   .order_by(vi_order(User.name))))


def active_units(tenant_id: int) -> list[Unit]:
    """The agency's units not archived, by code: what every form choosing a unit offers."""
    return list(db.session.scalars(select(Unit).where(Unit.tenant_id == tenant_id, Unit.archived_at.is_(None))
                                   .order_by(Unit.code)))


def active_tenant_ids() -> list[int]:
    """Every agency not merged away, by id: what the nightly jobs go through."""
    return list(db.session.scalars(select(Tenant.id).where(Tenant.status == TenantStatus.ACTIVE)
                                   .order_by(Tenant.id)))


def jurisdiction_by_code(code: str | None) -> Jurisdiction | None:
    return db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == code)) if code else None


@dataclass(frozen=True)
class HomeFigures:
    unit_count: int
    member_count: int
    #: agencies merged into this one, directly or through a chain: each opens its own history
    predecessors: list[Tenant]


def home_figures(tenant: Tenant) -> HomeFigures:
    """What the agency's home page counts, and the merged agencies whose history it links to."""
    unit_count = db.session.scalar(select(func.count()).select_from(Unit).where(
        Unit.tenant_id == tenant.id, Unit.archived_at.is_(None)))
    member_count = db.session.scalar(select(func.count(func.distinct(Membership.user_id))).where(
        Membership.tenant_id == tenant.id))
    history = predecessor_ids(tenant)
    predecessors = list(db.session.scalars(select(Tenant).where(Tenant.id.in_(history)).order_by(vi_order(Tenant.name)))
                        ) if history else []
    return HomeFigures(unit_count, member_count, predecessors)


def units_page(tenant_id: int, args: dict):
    """The agency's units by code (archived ones too when ``args["archived"]``): a page."""
    query = select(Unit).where(Unit.tenant_id == tenant_id)
    if not args.get("archived"):
        query = query.where(Unit.archived_at.is_(None))
    return page_of(query, args, per_page=25, orderings={"code": (Unit.code,)})


def member_roles(tenant_id: int) -> list[tuple[User, list[str]]]:
    """The agency's people by name, each with their roles here."""
    rows = db.session.execute(select(User, Membership.role).join(Membership, Membership.user_id == User.id)
                              .where(Membership.tenant_id == tenant_id).order_by(vi_order(User.name), Membership.role))
    people: dict[int, tuple[User, list[str]]] = {}
    for user, role in rows:
        people.setdefault(user.id, (user, []))[1].append(role)
    return list(people.values())


def predecessor_ids(tenant: Tenant) -> list[int]:
    """Tenants merged (directly or through a chain) into *tenant*: their history stays readable."""
    found: list[int] = []
    frontier = [tenant.id]
    while frontier:
        frontier = list(db.session.scalars(select(Tenant.id).where(Tenant.merged_into_id.in_(frontier))))
        found.extend(frontier)
    return found


@dataclass(frozen=True)
class HomeEntry:
    tenant: Tenant
    roles: list[str]


def memberships_of(user) -> list[HomeEntry]:
    rows = db.session.execute(
        select(Tenant, Membership.role)
        .join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.user_id == user.id)
        .order_by(vi_order(Tenant.name))
    ).all()
    entries: dict[int, HomeEntry] = {}
    for tenant, role in rows:
        entries.setdefault(tenant.id, HomeEntry(tenant, [])).roles.append(role)
    return list(entries.values())


def oversight_of(user) -> list[tuple[Jurisdiction, str]]:
    return list(
        db.session.execute(
            select(Jurisdiction, OversightRole.role)
            .join(OversightRole, OversightRole.jurisdiction_id == Jurisdiction.id)
            .where(OversightRole.user_id == user.id)
            .order_by(vi_order(Jurisdiction.name))
        ).all()
    )


def subtree_tenants_query(jurisdiction: Jurisdiction):
    """Tenants of a jurisdiction and everything below it."""
    return (
        select(Tenant)
        .join(Jurisdiction, Tenant.jurisdiction_id == Jurisdiction.id)
        .where(Jurisdiction.path.startswith(jurisdiction.path, autoescape=True))
    )


def active_below_query(jurisdiction: Jurisdiction):
    """The active agencies of a jurisdiction and everything below it, by name (a data call's
    recipients, a plan's agencies, a timeline's)."""
    return (subtree_tenants_query(jurisdiction).where(Tenant.status == TenantStatus.ACTIVE)
            .order_by(vi_order(Tenant.name)))


def active_below(jurisdiction: Jurisdiction) -> list[Tenant]:
    return list(db.session.scalars(active_below_query(jurisdiction)))


def in_scope_on(as_of: dt.date):
    """SQL condition: the agency existed on *as_of* (established by then, and active or merged only after
    that day); the same test as :meth:`Tenant.exists_on`."""
    return and_(or_(Tenant.established_on.is_(None), Tenant.established_on <= as_of),
                or_(Tenant.status == TenantStatus.ACTIVE,
                    and_(Tenant.status == TenantStatus.MERGED, Tenant.merged_on > as_of)))


# --- units --------------------------------------------------------------------------------

def create_unit(tenant: Tenant, *, code: str, name: str) -> Unit:
    unit = Unit(tenant_id=tenant.id, code=code, name=name)
    db.session.add(unit)
    db.session.flush()
    return unit


def update_unit(unit: Unit, *, code: str, name: str) -> Unit:
    unit.code = code
    unit.name = name
    db.session.flush()
    return unit


def archive_unit(unit: Unit) -> Unit:
    if unit.archived_at is None:
        unit.archived_at = utcnow()
        db.session.flush()
    return unit


def restore_unit(unit: Unit) -> Unit:
    if unit.archived_at is not None:
        unit.archived_at = None
        db.session.flush()
    return unit


def unit_code_taken(tenant: Tenant, code: str, *, except_id: int | None = None) -> bool:
    query = select(func.count()).select_from(Unit).where(Unit.tenant_id == tenant.id, Unit.code == code)
    if except_id is not None:
        query = query.where(Unit.id != except_id)
    return db.session.scalar(query) > 0


# --- whom to tell ---------------------------------------------------------------------------------

def recipients_with_role(tenant_ids: Iterable[int], roles: Iterable[str]) -> dict[int, dict[str, list[int]]]:
    """Active members of these agencies holding these roles: {tenant: {role: [user ids]}}, one query."""
    found: dict[int, dict[str, list[int]]] = {}
    ids = list(tenant_ids)
    if not ids:
        return found
    for tenant_id, role, user_id in db.session.execute(
            select(Membership.tenant_id, Membership.role, Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .where(Membership.tenant_id.in_(ids), Membership.role.in_(list(roles)), User.active.is_(True))
            .order_by(Membership.user_id)):
        found.setdefault(tenant_id, {}).setdefault(role, []).append(user_id)
    return found


def overseers_of(jurisdiction_ids: Iterable[int]) -> dict[int, list[int]]:
    """Active overseers of each of these jurisdictions, one query: {jurisdiction: [user ids]}."""
    found: dict[int, list[int]] = {}
    ids = set(jurisdiction_ids)
    if not ids:
        return found
    for jurisdiction_id, user_id in db.session.execute(
            select(OversightRole.jurisdiction_id, OversightRole.user_id).join(User, User.id == OversightRole.user_id)
            .where(OversightRole.jurisdiction_id.in_(ids), OversightRole.role == OversightRoleKind.OVERSEER,
                   User.active.is_(True)).order_by(OversightRole.user_id)):
        found.setdefault(jurisdiction_id, []).append(user_id)
    return found


def active_member_ids(tenant_ids: list[int]) -> set[int]:
    """Users who may still be told about these agencies' records: their active members."""
    return set(db.session.scalars(select(Membership.user_id).join(User, User.id == Membership.user_id)
                                  .where(Membership.tenant_id.in_(tenant_ids), User.active.is_(True))))
