"""The province and ministry views: every agency side by side, with the heatmap of checks."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from flask import flash, g, get_template_attribute, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from markupsafe import Markup

from govqms.compliance.engine import LEVEL_LABELS, RESULT_LABELS, RULES
from govqms.core.cache import cache
from govqms.core.clock import today
from govqms.core.listing import ListPage, filters_of, list_args
from govqms.core.permissions import Action
from govqms.core.text import sort_key
from govqms.core.web import requires
from govqms.extensions import db
from govqms.jobs.services import enqueue
from govqms.oversight import charts, comparison
from govqms.oversight.schemas import ComparisonFilter
from govqms.tenancy.blueprints import oversight_blueprint
from govqms.tenancy.models import KIND_LABELS
from govqms.tenancy.versions import BUMPED

bp = oversight_blueprint("oversight", __name__)
PER_PAGE = 100


def _as_of_date(source=None) -> dt.date:
    """The day the view is for: ``?on=dd/mm/yyyy``, today by default (in Vietnam). A day before the
    first rules took effect, or past the days anyone enters, has no comparison: today's is shown."""
    from govqms.compliance.engine import RULE_SETS
    from govqms.core.schemas import LAST_DAY

    raw = (source if source is not None else request.args).get("on", "")
    try:
        day = dt.datetime.strptime(raw, "%d/%m/%Y").date()
    except ValueError:
        if raw:
            flash(_("Enter the date as dd/mm/yyyy."), "warning")
        return today()
    first = min(rule_set.applies_from for rule_set in RULE_SETS)
    if not first <= day <= LAST_DAY:
        flash(_("Enter a date between %(start)s and %(end)s.", start=f"{first:%d/%m/%Y}", end=f"{LAST_DAY:%d/%m/%Y}"),
              "warning")
        return today()
    return day


@dataclass(frozen=True)
class Fragments:
    row: Markup
    heat: Markup


def fragments(rows: list[comparison.Row], on: dt.date, labels: dict) -> dict[int, Fragments]:
    """Each shown agency's row of the comparison and of the heatmap, rendered once per standing and
    cached under its key (the same inputs: the agency's version, the day, the language, the code)."""
    keys = {row.tenant.id: "html:" + comparison.standing_key(row.tenant, on) for row in rows}
    writing = db.session.info.get(BUMPED, False)
    found = {} if writing else cache().get_many(list(keys.values()))
    rendered = {}
    row_macro = get_template_attribute("oversight/_rows.html", "comparison_row")
    heat_macro = get_template_attribute("oversight/_rows.html", "heatmap_row")
    for row in rows:
        if keys[row.tenant.id] not in found:
            rendered[keys[row.tenant.id]] = (
                str(row_macro(row, labels["RULES"], labels["RESULT_LABELS"], labels["LEVEL_LABELS"],
                              labels["KIND_LABELS"])),
                str(heat_macro(row, labels["RULES"], labels["RESULT_LABELS"])))
    if rendered and not writing:
        cache().set_many(rendered)
    found.update(rendered)
    return {tenant_id: Fragments(Markup(found[key][0]), Markup(found[key][1])) for tenant_id, key in keys.items()}


#: The templates of the cached body: a deployment that changes them never reads a body cached before.
BODY_VERSION = hashlib.sha256(b"".join(
    (Path(__file__).parent / "templates/oversight" / name).read_bytes()
    for name in ("_overview_body.html", "_rows.html"))).hexdigest()[:12]


@bp.route("/")
@requires(Action.OVERSIGHT_VIEW)
def overview():
    """The comparison. Its body is the same for every overseer of the jurisdiction, so it is kept as
    HTML under everything it is made of: the scope's digest (which agencies, at which versions), the
    day, the filters, the page, the language and the code; a write of any agency shown changes the
    digest, so nothing stale is ever served and a morning rush of overseers renders it once."""
    on = _as_of_date()
    loaded = list_args(ComparisonFilter)
    args, number = filters_of(loaded), loaded["page"]
    scope = comparison.scope_of(g.jurisdiction, on)
    key = ":".join(("page", comparison.CODE_VERSION, BODY_VERSION, str(g.jurisdiction.id), scope.digest,
                    comparison.key_suffix(on), json.dumps(args, sort_keys=True), str(number)))
    writing = db.session.info.get(BUMPED, False)
    body = None if writing else cache().get_many([key]).get(key)
    if body is None:
        body = _body(scope, args, number)
        if not writing:
            cache().set_many({key: body})
    return render_template("oversight/overview.html", jurisdiction=g.jurisdiction, on=on, args=args,
                           body=Markup(body))


def _body(scope: comparison.Scope, args: dict, number: int) -> str:
    on = scope.on
    view = comparison.overview(scope)
    page = ListPage(comparison.filtered(view.rows, args), number, PER_PAGE)
    # translated once here, not once per cell of the heatmap
    labels = {"RULES": [(key, str(label), rule) for key, label, rule in RULES],
              "RESULT_LABELS": {k: str(v) for k, v in RESULT_LABELS.items()},
              "LEVEL_LABELS": {k: str(v) for k, v in LEVEL_LABELS.items()},
              "KIND_LABELS": {k: str(v) for k, v in KIND_LABELS.items()}}
    return render_template("oversight/_overview_body.html", jurisdiction=g.jurisdiction, page=page,
                           total=len(view.rows), levels_chart=charts.levels_over_time(view.tenant_ids, on),
                           check_bars=charts.distribution(view.summary.tally, view.summary.counts["in_scope"], RULES),
                           counts=view.summary.counts,
                           history=comparison.history(g.jurisdiction, on, direct=bool(view.rollup)),
                           rollup=view.rollup, on=on, args=args,
                           kinds=sorted({r.tenant.kind for r in view.rows},
                                        key=lambda k: sort_key(labels["KIND_LABELS"].get(k, k))),
                           fragments=fragments(page.items, on, labels), **labels)


@bp.route("/export", methods=["POST"])
@requires(Action.OVERSIGHT_VIEW)
def export():
    """The comparison as shown (same date, filters and order), built by a job."""
    on = _as_of_date(request.form)
    filters = filters_of(list_args(ComparisonFilter, request.form))
    job = enqueue("oversight.export_comparison", tenant_id=None, user_id=current_user.id,
                  jurisdiction_id=g.jurisdiction.id, on=on.isoformat(), **filters, locale=str(get_locale()))
    return redirect(url_for("jobs.show", job_id=job.id))
