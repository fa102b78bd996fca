"""The demo: the manifests in ``tenants/jurisdictions/`` plus a known password and an operator.

``govqms demo`` syncs the files like ``govqms tenants sync`` (so running it twice changes
nothing), then gives every account of the files that has no password yet the demo password
instead of an invitation, and prints the logins.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from govqms.accounts.models import User
from govqms.extensions import db
from govqms.tenancy import provisioning, sync

OPERATOR = ("vanhanh@demo.govqms.vn", "Quản trị nền tảng")


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


def load_demo(password: str) -> DemoReport:
    plan = provisioning.plan_files(provisioning.jurisdiction_files())
    report = DemoReport(password, changes=len(plan.pending))
    if plan.pending:
        sync.apply(plan, invite=False)
    method = current_app.config["PASSWORD_HASH_METHOD"]
    emails = _logins(plan, report)
    operator = db.session.scalar(select(User).where(User.email == OPERATOR[0]))
    if operator is None:
        operator = User(email=OPERATOR[0], name=OPERATOR[1], is_operator=True)
        db.session.add(operator)
        report.changes += 1
    report.logins.append((OPERATOR[0], "operator @ /admin/"))
    for user in db.session.scalars(select(User).where(User.email.in_([*emails, OPERATOR[0]]))):
        if user.password_hash is None:
            user.set_password(password, method=method)
    db.session.commit()
    return report


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
