from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from govqms.core.listing import ListArgs
from govqms.core.schemas import FormDate, InputSchema, TrimmedString, length


class DataCallSchema(InputSchema):
    title = TrimmedString(required=True, validate=length(500))
    request = TrimmedString(load_default="", validate=length(20_000, 0))
    deadline = FormDate(required=True)
    tenant_ids = fields.List(fields.Integer(), required=True,
                             validate=validate.Length(min=1, error=_l("Choose at least one agency.")))


class ReplySchema(InputSchema):
    note = TrimmedString(load_default="", validate=length(20_000, 0))


class UnitCallSchema(InputSchema):
    title = TrimmedString(required=True, validate=length(500))
    request = TrimmedString(load_default="", validate=length(20_000, 0))
    deadline = FormDate(required=True)
    unit_ids = fields.List(fields.Integer(), required=True,
                           validate=validate.Length(min=1, error=_l("Choose at least one unit.")))


class RequestFilter(ListArgs):
    """The lists of requests (data calls sent, data calls received, requests to units): latest first,
    a page at a time; no filter of their own yet."""
