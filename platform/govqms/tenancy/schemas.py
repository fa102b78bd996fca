from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from govqms.core.listing import ListArgs
from govqms.core.schemas import InputSchema, TrimmedString, length

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                       error=_l("Use letters, digits, dot, dash or underscore, starting with a letter or digit."))


class UnitSchema(InputSchema):
    code = TrimmedString(required=True, validate=[length(32), CODE])
    name = TrimmedString(required=True, validate=length(255))


class UnitFilter(ListArgs):
    archived = fields.Boolean(load_default=False)
