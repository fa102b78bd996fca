"""A new agency receives its kind's starter objectives for the current year."""
from __future__ import annotations

from govqms.core.clock import today
from govqms.extensions import db
from govqms.objectives.models import Objective
from govqms.tenancy.models import Tenant
from govqms.tenancy.sync import tenant_seeder


@tenant_seeder(order=30)
def seed_objectives(tenant: Tenant, kind: dict) -> None:
    year = today().year
    for entry in kind.get("objectives", []):
        db.session.add(Objective(
            tenant_id=tenant.id, year=year, statement=entry["statement"], indicator=entry["indicator"],
            comparator=entry["comparator"], target=entry["target"], unit_of_measure=entry["unit_of_measure"],
            frequency=entry["frequency"], source=entry.get("source", "typed")))
