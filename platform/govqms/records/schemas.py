from marshmallow import fields, validate

from govqms.core.listing import ListArgs
from govqms.core.schemas import InputSchema, TrimmedString, length


class RecordEntrySchema(InputSchema):
    name = TrimmedString(required=True, validate=length(500))
    document_id = fields.Integer(load_default=None)
    location = TrimmedString(load_default="", validate=validate.Length(max=255))
    keeper_unit_id = fields.Integer(load_default=None)
    keeper = TrimmedString(load_default="", validate=validate.Length(max=255))
    retention = TrimmedString(required=True, validate=length(100))
    note = TrimmedString(load_default="", validate=validate.Length(max=2000))


class RecordFilter(ListArgs):
    archived = fields.Boolean(load_default=False)
