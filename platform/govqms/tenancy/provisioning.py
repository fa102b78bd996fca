"""Provisioning from manifests, as the CLI, the back office and the demo use it."""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from govqms.accounts.models import User
from govqms.accounts.services import invitation_link, send_invitation
from govqms.extensions import db
from govqms.tenancy import sync
from govqms.tenancy.manifests import load_kinds, load_manifests, read_manifest_texts
from govqms.tenancy.models import Jurisdiction, Tenant


def _database_lineage() -> tuple[dict[str, str | None], list[str]]:
    tenants = {slug: None for slug in db.session.scalars(select(Tenant.slug))}
    for tenant in db.session.scalars(select(Tenant).where(Tenant.merged_into_id.is_not(None))):
        tenants[tenant.slug] = tenant.merged_into.slug
    return tenants, list(db.session.scalars(select(Jurisdiction.code)))


def plan_texts(texts: list[tuple[str, str]]) -> sync.SyncPlan:
    """Validate manifest texts against the kinds and the database; raise ManifestError or plan."""
    tenants, jurisdictions = _database_lineage()
    manifests = load_manifests(texts, kinds=load_kinds(), existing_tenants=tenants,
                               existing_jurisdictions=jurisdictions)
    return sync.plan(manifests)


def plan_files(paths: list[Path]) -> sync.SyncPlan:
    return plan_texts(read_manifest_texts(paths))


def apply_plan(plan: sync.SyncPlan) -> list[tuple[str, str, bool]]:
    """Apply, then email the invitations where mail is configured: ``(email, link, mailed)``."""
    result = sync.apply(plan)
    db.session.flush()
    sent = []
    for email, token in result.invitations:
        user = db.session.scalar(select(User).where(User.email == email))
        sent.append((email, invitation_link(token), _mail_quietly(user, token)))
    return sent


def _mail_quietly(user: User, token: str) -> bool:
    try:
        return send_invitation(user, token)
    except OSError:
        current_app.logger.exception("could not email the invitation to %s", user.email)
        return False


def jurisdiction_files() -> list[Path]:
    return sorted((Path(current_app.config["TENANTS_DIR"]) / "jurisdictions").glob("*.yaml"))
