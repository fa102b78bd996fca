"""What a notification says, rendered in the reader's language from its kind and parameters.

Parameters hold only what the records say (titles, names, dates as ISO strings); every word
around them comes from the translation catalogue when the notification is read or emailed.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from flask_babel import gettext as _, lazy_gettext as _l

from govqms.core.i18n import format_date

#: What a reminder is about: kind → phrase with the record's own words.
SUBJECTS = {
    "action": _l("action “%(title)s”"),
    "nonconformity": _l("corrective-action report for nonconformity “%(title)s”"),
    "document_review": _l("periodic review of document %(title)s"),
    "data_call": _l("reply to data call “%(title)s”"),
    "inspection_report": _l("corrective-action report after the inspection plan %(title)s"),
}

#: One-off events: kind → the whole sentence.
EVENTS = {
    "data_call_sent": _l("%(sender)s sent a data call: “%(title)s”, to answer by %(deadline)s."),
    "data_call_replied": _l("%(agency)s replied to the data call “%(title)s”."),
    "data_call_missing": _l("The deadline of the data call “%(title)s” has passed: %(missing)s agency(ies) "
                            "did not reply."),
}

KIND_LABELS = {
    "action": _l("Action to take"),
    "nonconformity": _l("Nonconformity"),
    "document_review": _l("Document review"),
    "data_call": _l("Data call"),
    "rule": _l("Compliance"),
    "inspection_report": _l("Inspection"),
    "data_call_sent": _l("Data call"),
    "data_call_replied": _l("Data call"),
    "data_call_missing": _l("Data call"),
}


def _day(value: str | None) -> str:
    return format_date(dt.date.fromisoformat(value)) if value else ""


#: How a kind names what a notification is about, for kinds whose params hold no title (registered by
#: the domain that makes them, e.g. compliance for its rules).
SUBJECT_OF: dict[str, Callable[[dict], str]] = {}


def subject(kind: str):
    def decorator(func: Callable[[dict], str]) -> Callable[[dict], str]:
        SUBJECT_OF[kind] = func
        return func

    return decorator


def subject_phrase(kind: str, params: dict) -> str:
    if kind in SUBJECT_OF:
        return SUBJECT_OF[kind](params)
    template = SUBJECTS.get(kind)
    return str(template) % {"title": params.get("title", "")} if template else params.get("title", "")


def render(kind: str, step: str, params: dict, due_on: dt.date | None = None) -> str:
    """The notification's sentence, in the current language."""
    if step == "event":
        template = EVENTS.get(kind)
        if template is None:
            return kind
        values = dict(params)
        for key in ("deadline", "date"):
            if key in values:
                values[key] = _day(values[key])
        return str(template) % values
    what = subject_phrase(kind, params)
    agency = params.get("agency", "")
    due = format_date(due_on) if due_on else ""
    if step == "overdue":
        text = _("Overdue since %(date)s: %(what)s.", date=due, what=what)
    elif step == "due":
        text = _("Due today (%(date)s): %(what)s.", date=due, what=what)
    else:
        days = step.removeprefix("before-")
        text = _("Due within %(days)s days, by %(date)s: %(what)s.", days=days, date=due, what=what)
    return f"{agency}: {text}" if agency else text
