from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from govqms.api.models import ACCESS, MAX_DAYS
from govqms.core.schemas import InputSchema, TrimmedString, length


class TokenSchema(InputSchema):
    """A new token: its name, the one place it reaches (``agency:<id>`` or ``jurisdiction:<id>``, among
    the person's own), read or write, and how many days it lives."""

    name = TrimmedString(required=True, validate=length(100))
    place = fields.String(required=True, validate=validate.Regexp(r"^(agency|jurisdiction):\d{1,9}$"))
    access = fields.String(required=True, validate=validate.OneOf(ACCESS))
    days = fields.Integer(load_default=90, validate=validate.Range(
        min=1, max=MAX_DAYS, error=_l("Between 1 and %(max)s days.", max=MAX_DAYS)))

    @validates_schema
    def _place_known(self, data, **kwargs):
        if data.get("place") and data["place"] not in self.context_places:
            raise ValidationError(_l("Choose one of your agencies or jurisdictions."), "place")

    def __init__(self, places: set[str], **kwargs):
        super().__init__(**kwargs)
        self.context_places = places
