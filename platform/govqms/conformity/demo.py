"""Demo: agencies in every state of conformity (README lists them; a test checks them): all in order,
certified with the surveillance audit close, a lapsed certificate now history, and a declaration on the
2008 edition whose transition is overdue."""
from __future__ import annotations

import datetime as dt

from govqms.conformity import services
from govqms.core.demo import DemoContext, demo_step


@demo_step(70)
def conformity_states(ctx: DemoContext) -> int:
    words = ctx.section("state_records")
    certificate = words["certificate"]
    issued_by = {"body": certificate["body"], "edition": "2015", "scope": certificate["scope"]}
    added = 0
    for slug, state in ctx.section("states").items():
        tenant = ctx.tenant(slug)
        if tenant is None or services.overview(tenant.id).declarations:
            continue
        with ctx.in_agency(tenant):
            if state == "declared_2008":
                decision, edition = words["declared_2008"], "2008"
                number = decision["decision_number"]
            else:
                decision, edition = words["declared_2015"], "2015"
                number = decision["decision_number"].format(number=20 + len(slug), agency=slug[3:].upper())
            services.declare(tenant.id, decision_number=number, decided_on=decision["decided_on"], edition=edition,
                             dost_notified_on=decision["notified_on"], posted_on=decision["posted_on"],
                             published_on=decision["posted_on"])
            if state == "surveillance_due":
                issued = ctx.today - dt.timedelta(days=350)
                services.add_certificate(tenant.id, **issued_by, number=certificate["surveillance_due_number"],
                                         issued_on=issued,
                                         expires_on=issued.replace(year=issued.year + 3))
            elif state == "certificate_lapsed":
                lapsed = certificate["lapsed"]
                services.add_certificate(tenant.id, **issued_by, number=lapsed["number"], issued_on=lapsed["issued_on"],
                                         expires_on=lapsed["expires_on"])
        added += 1
    return added
