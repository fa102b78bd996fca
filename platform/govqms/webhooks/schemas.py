from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates

from govqms.core.listing import ListArgs
from govqms.core.schemas import InputSchema, TrimmedString, length
from govqms.webhooks.models import EVENTS
from govqms.webhooks.sending import UnsafeAddress, check_url


class SubscriptionSchema(InputSchema):
    """The form of a new subscription: where to post, and which events."""

    url = TrimmedString(required=True, validate=length(2000, 8))
    events = fields.List(fields.String(validate=validate.OneOf(list(EVENTS), error=_l("Choose among the events."))),
                         required=True, validate=validate.Length(min=1, error=_l("Choose at least one event.")))

    @validates("url")
    def _callable(self, value: str, **kwargs) -> None:
        try:
            check_url(value)
        except UnsafeAddress as refused:
            raise ValidationError(str(refused)) from refused


class DeliveryFilter(ListArgs):
    """The delivery log's query string: only the page."""
