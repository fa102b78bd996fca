from marshmallow import fields, validate

from govqms.core.listing import ListArgs


class ActivityFilter(ListArgs):
    #: the kind of record (a table name); the choices are those the agency's log holds
    entity = fields.String(load_default=None, validate=validate.Length(max=64))
