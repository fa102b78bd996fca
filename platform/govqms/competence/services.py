"""Where members work, what they are trained in, what each job title requires."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from govqms.accounts.models import User
from govqms.competence.models import CompetenceRequirement, Qualification, QualificationKind, StaffProfile
from govqms.core.db import vi_order
from govqms.extensions import db
from govqms.tenancy.models import Membership, Unit


@dataclass(frozen=True)
class Overview:
    """What the competence page shows besides the agency's members and units."""

    #: staff profiles by user id
    profiles: dict[int, StaffProfile]
    qualifications: list[Qualification]
    requirements: list[CompetenceRequirement]


def overview(tenant_id: int) -> Overview:
    """The agency's staff profiles, its current qualifications (latest first) and requirements (by job title)."""
    profiles = {p.user_id: p for p in db.session.scalars(select(StaffProfile).where(
        StaffProfile.tenant_id == tenant_id))}
    qualifications = db.session.scalars(select(Qualification).where(
        Qualification.tenant_id == tenant_id, Qualification.archived_at.is_(None))
        .order_by(Qualification.completed_on.desc())).all()
    requirements = db.session.scalars(select(CompetenceRequirement).where(
        CompetenceRequirement.tenant_id == tenant_id, CompetenceRequirement.archived_at.is_(None))
        .order_by(vi_order(CompetenceRequirement.job_title))).all()
    return Overview(profiles, list(qualifications), list(requirements))


def is_unit_of(tenant_id: int, unit_id: int) -> bool:
    """Whether *unit_id* names a unit of the agency (archived or not)."""
    return db.session.scalar(select(Unit.id).where(Unit.id == unit_id, Unit.tenant_id == tenant_id)) is not None


def units_of(tenant_id: int, user_ids: list[int]) -> dict[int, int | None]:
    """Each person's unit in the agency (from their staff profile)."""
    if not user_ids:
        return {}
    return {p.user_id: p.unit_id for p in db.session.scalars(
        select(StaffProfile).where(StaffProfile.tenant_id == tenant_id, StaffProfile.user_id.in_(user_ids)))}


def qualified_auditors(tenant_id: int) -> list[User]:
    """Members of the agency holding an internal-auditor qualification: the audit team picker's list."""
    qualified = select(Qualification.user_id).where(Qualification.tenant_id == tenant_id,
                                                    Qualification.kind == QualificationKind.INTERNAL_AUDITOR,
                                                    Qualification.archived_at.is_(None))
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant_id, User.id.in_(qualified)).group_by(User.id)
        .order_by(vi_order(User.name))))


def save_profile(tenant_id: int, user_id: int, unit_id: int | None, job_title: str) -> StaffProfile:
    profile = db.session.scalar(select(StaffProfile).where(StaffProfile.tenant_id == tenant_id,
                                                           StaffProfile.user_id == user_id))
    if profile is None:
        profile = StaffProfile(tenant_id=tenant_id, user_id=user_id)
        db.session.add(profile)
    profile.unit_id, profile.job_title = unit_id, job_title
    db.session.flush()
    return profile


def add_qualification(tenant_id: int, **values) -> Qualification:
    qualification = Qualification(tenant_id=tenant_id, **values)
    db.session.add(qualification)
    db.session.flush()
    return qualification


def add_requirement(tenant_id: int, **values) -> CompetenceRequirement:
    requirement = CompetenceRequirement(tenant_id=tenant_id, **values)
    db.session.add(requirement)
    db.session.flush()
    return requirement
