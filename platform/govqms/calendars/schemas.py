from __future__ import annotations

from marshmallow import ValidationError, fields

from govqms.calendars.schedule import KIND_LABELS
from govqms.core.listing import ListArgs
from govqms.core.schemas import MESSAGES, InputSchema, TrimmedString, length


class FeedSchema(InputSchema):
    label = TrimmedString(required=True, validate=length(100))


def scheduled_kind(value: str) -> None:
    """A kind of event some source gives. The kinds are looked up when the query string is loaded:
    the domains' ``schedule`` modules register theirs after this module is imported."""
    if value not in KIND_LABELS:
        raise ValidationError(MESSAGES["invalid"])


class ScheduleFilter(ListArgs):
    """The timeline's filters (its year is ``year_arg``, like every page of a year)."""

    kind = fields.String(load_default=None, validate=scheduled_kind)
    agency_kind = fields.String(load_default=None)
