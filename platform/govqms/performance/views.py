"""Service results, satisfaction surveys, their import, and the agency's dashboard."""
from __future__ import annotations

import re
import zipfile

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user

from govqms.core.clock import today
from govqms.core.forms import form_status, process_form
from govqms.core.imports import ImportRefused
from govqms.core.permissions import Action
from govqms.core.spreadsheets import check_spreadsheet
from govqms.core.storage import get_storage, storage_key
from govqms.core.uploads import UploadRefused, check_upload
from govqms.core.web import record_or_404, requires, year_arg
from govqms.extensions import db
from govqms.jobs.services import enqueue
from govqms.performance import periods, services
from govqms.performance.models import SatisfactionSurvey, ServiceResult, on_time_rate, satisfaction_rate
from govqms.performance.schemas import ServiceResultSchema, SurveySchema
from govqms.tenancy.blueprints import workspace_blueprint

bp = workspace_blueprint("performance", __name__, "/performance")
blueprints = [bp]
IMPORT_TYPES = ("csv", "xlsx")



@bp.route("/")
@requires(Action.OBJECTIVES_VIEW)
def index():
    year = year_arg()
    months = services.results_of_year(g.tenant.id, year)
    return render_template("performance/index.html", year=year, months=months,
                           surveys=services.surveys_of_year(g.tenant.id, year),
                           fields=services.fields_of_year(g.tenant.id, year),
                           on_time_rate=on_time_rate, satisfaction_rate=satisfaction_rate)


SURVEY_FIELDS = ("responses", "satisfied", "note")


def _survey_form(survey: SatisfactionSurvey | None):
    """One month's survey: one per month."""
    initial = ({"period": f"{survey.month:02d}/{survey.year}", **{k: getattr(survey, k) for k in SURVEY_FIELDS}}
               if survey else {})

    def on_valid(data):
        year, month = data.pop("period")
        saved = services.save_survey(g.tenant.id, survey, year, month, data)
        if isinstance(saved, str):
            return {"period": saved}
        db.session.commit()
        flash(_("Survey of %(period)s saved.", period=f"{month:02d}/{year}"), "success")
        return redirect(url_for(".index", year=year))

    form, errors, done = process_form(SurveySchema(), initial, on_valid, record=survey)
    if done is not None:
        return done
    return render_template("performance/survey_form.html", record=survey, form=form, errors=errors), \
        form_status(errors)


RESULT_FIELDS = ("field", "procedure_code", "received", "resolved_early", "resolved_on_time", "resolved_late",
                 "pending")


def _result_form(result: ServiceResult | None):
    """One period's figures (a month, a quarter…), for the agency, a field or a procedure."""
    initial = ({"period": result.period.label() if result.period.length > 1 or result.period.start.day != 1
                else f"{result.first_month:02d}/{result.year}", **{k: getattr(result, k) for k in RESULT_FIELDS}}
               if result else {})

    def on_valid(data):
        period = data.pop("period")
        saved = services.save_result(g.tenant.id, result, period, data)
        if isinstance(saved, str):
            return {"period": saved}
        db.session.commit()
        flash(_("Results of %(period)s saved.", period=period.label()), "success")
        return redirect(url_for(".index", year=period.year))

    form, errors, done = process_form(ServiceResultSchema(), initial, on_valid, record=result)
    if done is not None:
        return done
    return render_template("performance/result_form.html", record=result, form=form, errors=errors), \
        form_status(errors)


@bp.route("/results/new", methods=["GET", "POST"])
@requires(Action.PERFORMANCE_MANAGE)
def new_result():
    return _result_form(None)


@bp.route("/results/<int:result_id>/edit", methods=["GET", "POST"])
@requires(Action.PERFORMANCE_MANAGE)
def edit_result(result_id: int):
    return _result_form(record_or_404(ServiceResult, result_id))


@bp.route("/surveys/new", methods=["GET", "POST"])
@requires(Action.PERFORMANCE_MANAGE)
def new_survey():
    return _survey_form(None)


@bp.route("/surveys/<int:survey_id>/edit", methods=["GET", "POST"])
@requires(Action.PERFORMANCE_MANAGE)
def edit_survey(survey_id: int):
    return _survey_form(record_or_404(SatisfactionSurvey, survey_id))


# --- import: upload, then map the columns with a preview ----------------------------------------

@bp.route("/import", methods=["GET", "POST"])
@requires(Action.PERFORMANCE_MANAGE)
def import_upload():
    if request.method == "POST":
        try:
            checked = check_upload(request.files.get("file"), IMPORT_TYPES)
            check_spreadsheet(checked.data, checked.extension)  # a bomb is never stored
        except (UploadRefused, ImportRefused) as err:
            flash(err.errors[0].message if isinstance(err, ImportRefused) else str(err), "danger")
            return render_template("performance/import.html"), 400
        get_storage().put(g.tenant.id, checked.data)
        return redirect(url_for(".import_mapping", digest=checked.sha256, ext=checked.extension))
    return render_template("performance/import.html")


def _uploaded(digest: str, extension: str) -> bytes:
    """The file this agency uploaded: found by its hash under the agency's own folder only."""
    if not re.fullmatch(r"[0-9a-f]{64}", digest) or extension not in IMPORT_TYPES:
        abort(404)
    key = storage_key(g.tenant.id, digest)
    storage = get_storage()
    if not storage.exists(key):
        abort(404)
    return storage.get(key)


#: The mapping step reads only the top of the file: the whole sheet is read by the job.
PREVIEW_ROWS = 60


@bp.route("/import/<digest>", methods=["GET", "POST"])
@requires(Action.PERFORMANCE_MANAGE)
def import_mapping(digest: str):
    """The layout found (header rows, period from the title, which column is which) with the first rows
    as they will be stored; the user corrects the mapping or types the period, then the job imports."""
    extension = request.args.get("ext", "")
    data = _uploaded(digest, extension)
    try:
        check_spreadsheet(data, extension)  # a bomb is refused before anything in it is unpacked
        rows = services.read_sheet(data, extension, limit=PREVIEW_ROWS)
    except ImportRefused as refused:
        flash(refused.errors[0].message, "danger")
        return redirect(url_for(".import_upload"))
    except (ValueError, UnicodeDecodeError, OSError, KeyError, zipfile.BadZipFile):
        flash(_("The file could not be read as a table."), "danger")
        return redirect(url_for(".import_upload"))
    found = services.analyse(rows)
    width = max((len(r) for r in rows), default=0)
    labels = found.labels if found else [str(c or "") for c in (rows[0] if rows else [])]
    labels = labels + [""] * (width - len(labels))
    mapping = dict(found.mapping) if found else {}
    period_text = ""
    title_period = services.period_in_title(found)
    errors: list = []
    if request.method == "POST":
        chosen = {field: request.form.get(field, "") for field in services.FIELDS}
        mapping = {field: int(value) for field, value in chosen.items() if value.isdigit() and int(value) < width}
        period_text = request.form.get("period_text", "").strip()[:100]
        missing = [field for field in services.REQUIRED if field not in mapping and not (
            field == "pending" and ("pending_not_due" in mapping or "pending_overdue" in mapping))]
        try:
            typed = periods.parse(period_text) if period_text else None
        except periods.PeriodError as err:
            typed, errors = None, [str(err)]
        if not period_text and title_period is None and "period" not in mapping:
            errors.append(_("Type the period: the title of the sheet names none."))
        if missing:
            errors.append(_("Choose a column for every required field."))
        if not errors:
            job = enqueue("performance.import_service_results", tenant_id=g.tenant.id, user_id=current_user.id,
                          digest=digest, extension=extension, locale=str(get_locale()),
                          period=period_text if typed else "",
                          **{f"col_{field}": index for field, index in mapping.items()})
            return redirect(url_for("jobs.show", job_id=job.id))
        for error in errors:
            flash(error, "danger")
    preview, preview_errors = None, []
    if found is not None and all(f in mapping for f in services.REQUIRED[:4]):
        try:
            preview = services.plan(g.tenant.id, rows, mapping, title_period or periods.Period.month(
                today().year, today().month), found, preview=True)
        except ImportRefused as refused:
            preview_errors = refused.errors[:10]
    return render_template("performance/import_mapping.html", labels=labels, found=found, mapping=mapping,
                           fields=services.FIELDS, required=services.REQUIRED, title_period=title_period,
                           period_text=period_text, preview=preview, preview_errors=preview_errors,
                           found_rows=", ".join(str(r + 1) for r in found.header_rows) if found else "",
                           first_rows=rows[:12], more=len(rows) >= PREVIEW_ROWS), \
        200 if request.method == "GET" else 400
