"""Demo: the internal audit of each of the last two years in the agencies with a history (findings
that open nonconformities), and the recent audit of the agency shown all in order."""
from __future__ import annotations

import datetime as dt

from govqms.audits import services
from govqms.audits.models import Audit
from govqms.competence.services import add_qualification, qualified_auditors
from govqms.conformity.services import edition_applied
from govqms.core.demo import DemoContext, acting, demo_step
from govqms.tenancy.services import active_units, members


@demo_step(50)
def internal_audits(ctx: DemoContext) -> int:
    words = ctx.section("audits")
    added = 0
    for agency in ctx.histories():
        tenant, drafter = agency.tenant, agency.drafter
        years = (ctx.today.year - 2, ctx.today.year - 1)
        if any(services.audits_of_year(tenant.id, year) for year in years):
            continue
        units = active_units(tenant.id)
        # the auditors' own units are not in scope: the reviewer's is the last one, the drafter's the first
        scope = [u.id for u in units[1:] if u.id != units[-1].id] or [units[1].id]
        unit_of = {"first": scope[0], "last": scope[-1]}
        for year in years:
            held = dt.date(year, 10, 15)
            edition = edition_applied(tenant.id, held)
            with acting(drafter):
                audit = services.save_audit(
                    Audit(tenant_id=tenant.id), edition=edition, lead_auditor_id=drafter.id, team_ids=[],
                    unit_ids=scope, clauses_=list(words["clauses"]), process_ids=[], year=year,
                    title=words["title"].format(year=year), planned_start=held, planned_end=held)
                services.build_checklist(audit, edition)
                for finding in words["findings"]:
                    services.add_finding(audit, type=finding["type"], clause=finding["clause"],
                                         unit_id=unit_of[finding["unit"]], description=finding["description"],
                                         evidence=finding["evidence"])
                services.report(audit, words["conclusion"], held, held)
            added += 1
    return added


@demo_step(51)
def audit_in_order(ctx: DemoContext) -> int:
    """The agency shown all in order was audited two months ago."""
    words = ctx.section("state_records")
    added = 0
    for slug, state in ctx.section("states").items():
        tenant = ctx.tenant(slug)
        held = ctx.today - dt.timedelta(days=60)
        if state != "green" or tenant is None or services.audits_of_year(tenant.id, held.year):
            continue
        with ctx.in_agency(tenant):
            lead = members(tenant.id)[0]  # a trained internal auditor leads it
            if lead not in qualified_auditors(tenant.id):
                training = ctx.section("competence")
                add_qualification(tenant.id, user_id=lead.id, kind="internal_auditor",
                                  course=training["internal_auditor_course"], completed_on=training["completed_on"],
                                  certificate=f"{training['certificate_prefix']}-{lead.id:04d}")
            edition = edition_applied(tenant.id, held)
            audit = services.save_audit(
                Audit(tenant_id=tenant.id), edition=edition, lead_auditor_id=lead.id, team_ids=[], unit_ids=[],
                clauses_=["4.4", "9.2"], process_ids=[], year=held.year,
                title=ctx.section("audits")["title"].format(year=held.year), planned_start=held, planned_end=held)
            services.report(audit, words["audit_conclusion"], held, held)
        added += 1
    return added
