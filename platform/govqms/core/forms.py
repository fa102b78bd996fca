"""The form round trip every simple page shares: show, load through a schema, save or explain."""
from __future__ import annotations

from typing import Any, Callable

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError

from govqms.core.schemas import first_errors


def form_data(list_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    data: dict[str, Any] = request.form.to_dict()
    for name in list_fields:
        data[name] = request.form.getlist(name)
    return data


#: The key of a form's errors that says the record changed since the form was opened (status 409).
CONFLICT = "_conflict"


def conflict_errors(record) -> dict[str, str]:
    """For an edit form posted about *record*: ``{CONFLICT: message}`` (the message flashed on the page
    shown again) if someone saved it after the form was opened, else ``{}``."""
    from govqms.core.conflicts import stale_form

    message = stale_form(record) if record is not None else None
    if not message:
        return {}
    flash(message, "danger")
    return {CONFLICT: message}


def form_status(errors: dict) -> int:
    """The status of a form page shown (again): 409 when it conflicts, 400 with errors, else 200."""
    return 409 if CONFLICT in errors else 400 if errors else 200


def process_form(schema: Schema, initial: dict, on_valid: Callable[[dict], Any], *,
                 list_fields: tuple[str, ...] = (), record=None) -> tuple[dict, dict, Any]:
    """GET: ``(initial, {}, None)``. POST: the schema loads the form; *on_valid* receives the data
    and returns either a response (done) or a dict of field errors (shown, nothing lost). An edit form
    of *record* opened before someone else saved it is shown again with its input (:data:`CONFLICT`)."""
    if request.method != "POST":
        return initial, {}, None
    form = form_data(list_fields)
    conflict = conflict_errors(record)
    if conflict:
        return form, conflict, None
    try:
        data = schema.load(form)
    except ValidationError as err:
        return form, first_errors(err.messages), None
    result = on_valid(data)
    if isinstance(result, dict):
        return form, result, None
    return form, {}, result


def confirm_page(*, title: str, message: str, action_label: str, cancel_url: str, danger: bool = True):
    """The confirmation asked before an archive or other lasting change (GET shows it, POST acts)."""
    return render_template("confirm.html", title=title, message=message, action_label=action_label,
                           cancel_url=cancel_url, danger=danger)


def archive_flow(record, *, title: str, message: str, done: str, back: str = ".index"):
    """Deleting is archiving: GET asks for confirmation, POST sets ``archived_at`` (logged like any
    change) and returns to the list."""
    from govqms.core.db import utcnow
    from govqms.extensions import db

    if request.method == "GET":
        return confirm_page(title=title, message=message, action_label=_("Archive"), cancel_url=url_for(back))
    record.archived_at = record.archived_at or utcnow()
    db.session.commit()
    flash(done, "info")
    return redirect(url_for(back))
