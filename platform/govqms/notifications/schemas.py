from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from govqms.core.listing import ListArgs
from govqms.core.schemas import InputSchema
from govqms.notifications.models import DeliveryMode


class SettingsSchema(InputSchema):
    mode = fields.String(required=True, validate=validate.OneOf(
        [m.value for m in DeliveryMode], error=_l("Choose immediate email or a daily digest.")))


class MarkReadSchema(InputSchema):
    """Mark everything read, or the listed notifications."""

    ids = fields.List(fields.Integer(strict=False), load_default=None)


class InboxFilter(ListArgs):
    unread = fields.Boolean(load_default=False)
