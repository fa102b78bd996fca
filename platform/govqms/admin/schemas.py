"""The back office's own forms (Flask-Admin's model forms validate themselves)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from govqms.core.schemas import FormDate, InputSchema

#: A record id: what an INTEGER column holds (a larger number is no record, not a database error).
RECORD_ID = validate.Range(min=1, max=2**31 - 1, error=_l("Enter a valid value."))


class MergeSchema(InputSchema):
    """Merge an agency into its successor on a date; ``confirm`` once the preview was seen."""

    source = fields.Integer(required=True, validate=RECORD_ID)
    successor = fields.Integer(required=True, validate=RECORD_ID)
    merged_on = FormDate(required=True)
    confirm = fields.Boolean(load_default=False)


class ManifestTextSchema(InputSchema):
    """A manifest sent back from its preview (its text and file name), applied when ``apply``."""

    text = fields.String(load_default="")
    filename = fields.String(load_default="")
    apply = fields.Boolean(load_default=False)


class RunNowSchema(InputSchema):
    """"Run now" on the schedule page: one of the scheduled tasks."""

    task = fields.String(load_default=None)

    @validates_schema
    def _scheduled(self, data, **kwargs):
        # a missing task says the same as an unknown one: the button names a task of the schedule
        from govqms.jobs.cron import SCHEDULE

        if data["task"] not in {name for name, _expression in SCHEDULE}:
            raise ValidationError(_l("Choose one of the scheduled jobs."), "task")
