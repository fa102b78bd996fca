"""Two people editing one record: the later save of a form opened before the other's change is refused,
with what changed meanwhile, and the form shown again with its input (nothing overwritten, nothing lost).

An edit form carries the version of the record it showed (``{{ version_field(record) }}``); the view
asks :func:`stale_form` before saving. Two saves at the very same moment that both passed that check
are caught by the version counter itself (:class:`govqms.core.db.Versioned`): the second UPDATE matches
no row, and the app's handler answers it like any refusal (409, with a message).
"""
from __future__ import annotations

from flask import request
from flask_babel import format_datetime, gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select

from govqms.core.activity import ActivityEntry
from govqms.core.errors import Refused
from govqms.extensions import db

#: How many of the changes made meanwhile the message names.
SHOWN = 3


class Conflict(Refused):
    """Someone else saved the record first."""

    status = 409


def _submitted_version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _shown(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def stale_form(record) -> str | None:
    """The message for the user if the posted form showed *record* at an older version than the stored
    one: who changed it since, when, and what (the activity log); None when the form is current. A
    form without a version (posted by hand) is not checked."""
    seen = _submitted_version()
    if seen is None or seen >= record.version:
        return None
    # each save since counted one version and logged one change: the latest ones are those made since
    newer = db.session.scalars(
        select(ActivityEntry).where(ActivityEntry.entity == record.__tablename__,
                                    ActivityEntry.entity_id == str(record.id), ActivityEntry.action != "create")
        .order_by(ActivityEntry.id.desc()).limit(min(SHOWN, record.version - seen))).all()
    lines = []
    for entry in reversed(newer):
        fields = "; ".join(f"{key}: {_shown(after)}" for key, (before, after) in entry.changes.items())
        lines.append(_("%(who)s at %(when)s changed %(fields)s", who=entry.actor_label,
                       when=format_datetime(entry.at, "dd/MM/yyyy HH:mm"), fields=fields or "—"))
    message = _("Someone saved this record after you opened this form, so your changes were not saved; "
                "they are kept below. Check the current record, then save again.")
    return " ".join([message, *lines])


def refuse_if_stale(record) -> None:
    """For a form the view does not show again itself: refused (409) with :func:`stale_form`'s message."""
    message = stale_form(record)
    if message:
        raise Conflict(message)


def version_field(record) -> Markup:
    """The hidden input an edit form carries: the version of the record it shows."""
    if record is None or getattr(record, "version", None) is None:
        return Markup("")
    return Markup('<input type="hidden" name="version" value="%s">') % escape(record.version)
