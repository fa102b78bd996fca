from __future__ import annotations

from sqlalchemy import select

from govqms.accounts.models import User
from govqms.competence.models import Qualification, QualificationKind, StaffProfile
from govqms.extensions import db
from govqms.tenancy.models import Membership


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
        .where(Membership.tenant_id == tenant_id, User.id.in_(qualified)).distinct().order_by(User.name)))


def save_profile(tenant_id: int, user_id: int, unit_id: int | None, job_title: str) -> StaffProfile:
    profile = db.session.scalar(select(StaffProfile).where(StaffProfile.tenant_id == tenant_id,
                                                           StaffProfile.user_id == user_id))
    if profile is None:
        profile = StaffProfile(tenant_id=tenant_id, user_id=user_id)
        db.session.add(profile)
    profile.unit_id, profile.job_title = unit_id, job_title
    db.session.flush()
    return profile
