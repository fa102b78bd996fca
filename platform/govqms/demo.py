"""The demo: the manifests in ``tenants/jurisdictions/`` plus a known password and an operator, then
what each domain records in the demo province (``<domain>/demo.py``, words from ``tenants/demo/``).

``govqms demo`` syncs the files like ``govqms tenants sync`` (so running it twice changes
nothing), then gives every account of the files that has no password yet the demo password
instead of an invitation, runs the domains' demo steps (each records nothing it recorded already),
and prints the logins.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy import select

from govqms import import_domain_modules
from govqms.accounts.models import User
from govqms.core.clock import today
from govqms.core.demo import DemoAgency, DemoContext, steps
from govqms.core.tenancy import TenantScope, scoped
from govqms.extensions import db
from govqms.tenancy import provisioning, sync
from govqms.tenancy.models import Tenant

DOMAIN = "demo.govqms.vn"


@dataclass
class DemoReport:
    password: str
    changes: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"Demo ready ({self.changes} changes applied)." if self.changes
                 else "Demo already up to date: nothing to create."]
        lines.append(f"Demo logins (password for all: {self.password}):")
        width = max(len(email) for email, _ in self.logins)
        lines += [f"  {email.ljust(width)}  {what}" for email, what in self.logins]
        return "\n".join(lines)


def content() -> dict:
    """The demo content file: what the domains' demo steps record, in the demo's language."""
    path = Path(current_app.config["TENANTS_DIR"]) / "demo" / "content.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_demo(password: str) -> DemoReport:
    plan = provisioning.plan_files(provisioning.jurisdiction_files())
    report = DemoReport(password, changes=len(plan.pending))
    if plan.pending:
        sync.apply(plan, invite=False)
    words = content()
    method = current_app.config["PASSWORD_HASH_METHOD"]
    emails = _logins(plan, report)
    operator_email = f"{words['operator']['local_part']}@{DOMAIN}"
    operator = db.session.scalar(select(User).where(User.email == operator_email))
    if operator is None:
        operator = User(email=operator_email, name=words["operator"]["name"], is_operator=True)
        db.session.add(operator)
        report.changes += 1
    report.logins.append((operator_email, "operator @ /admin/"))
    for user in db.session.scalars(select(User).where(User.email.in_([*emails, operator_email]))):
        if user.password_hash is None:
            user.set_password(password, method=method)
    db.session.commit()
    ctx = _context(words)
    import_domain_modules("demo")
    for step in steps():
        report.changes += step.run(ctx)
        db.session.commit()
    from govqms.compliance.services import snapshot
    from govqms.notifications.reminders import remind
    from govqms.tenancy.services import active_tenant_ids

    snapshot(active_tenant_ids())  # today's status, so the history starts with the demo
    remind(active_tenant_ids(), today())  # today's reminders, so the inboxes show what comes due
    db.session.commit()
    return report


def _context(words: dict) -> DemoContext:
    def user(local_part: str) -> User | None:
        return db.session.scalar(select(User).where(User.email == f"{local_part}@{DOMAIN}"))

    def tenant(slug: str) -> Tenant | None:
        return db.session.scalar(select(Tenant).where(Tenant.slug == slug))

    @contextmanager
    def in_agency(agency: Tenant):
        with scoped(TenantScope.tenant(agency.id), db.session):
            yield agency
            db.session.commit()

    def histories():
        for entry in words.get("histories") or []:
            found = tenant(entry["slug"])
            people = [user(entry[role]) for role in ("drafter", "reviewer", "approver")]
            if found is None or None in people:
                continue
            with in_agency(found):
                yield DemoAgency(found, *people)

    return DemoContext(today=today(), content=words, user=user, tenant=tenant, histories=histories,
                       in_agency=in_agency)


def _logins(plan: sync.SyncPlan, report: DemoReport) -> list[str]:
    successor_of = {t["slug"]: t["merged_into"] for _, _, t in plan.manifests.tenants() if t.get("merged_into")}
    emails = []
    for manifest in plan.manifests.manifests:
        for entry in manifest.oversight:
            emails.append(entry["email"])
            report.logins.append((entry["email"], f"{entry['role']} @ /o/{manifest.jurisdiction['code']}/"))
    for _, _, tenant in plan.manifests.tenants():
        target = sync.final_successor(tenant["slug"], successor_of)
        for account in tenant["accounts"]:
            emails.append(account["email"])
            report.logins.append((account["email"], ", ".join(account["roles"]) + f" @ /t/{target}/"))
    return emails


