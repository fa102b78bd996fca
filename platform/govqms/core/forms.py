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


def process_form(schema: Schema, initial: dict, on_valid: Callable[[dict], Any], *,
                 list_fields: tuple[str, ...] = ()) -> tuple[dict, dict, Any]:
    """GET: ``(initial, {}, None)``. POST: the schema loads the form; *on_valid* receives the data
    and returns either a response (done) or a dict of field errors (shown, nothing lost)."""
    if request.method != "POST":
        return initial, {}, None
    form = form_data(list_fields)
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
