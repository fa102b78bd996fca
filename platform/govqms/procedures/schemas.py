from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from govqms.core.listing import ListArgs
from govqms.core.schemas import InputSchema, TrimmedString, length


class ProcedureSchema(InputSchema):
    code = TrimmedString(required=True, validate=length(64))
    name = TrimmedString(required=True, validate=length(2000))
    field = TrimmedString(load_default="", validate=validate.Length(max=255))
    work_procedure_id = fields.Integer(load_default=None)


class ProcedureRowSchema(InputSchema):
    """One row of an imported catalogue (numbers in a spreadsheet cell become text)."""

    code = fields.Function(deserialize=lambda v: str(v).strip(), required=True, validate=length(64))
    name = fields.Function(deserialize=lambda v: str(v).strip(), required=True, validate=length(2000))
    field = fields.Function(deserialize=lambda v: str(v).strip(), load_default="",
                            validate=validate.Length(max=255, error=_l("At most 255 characters.")))
    work_procedure = fields.Function(deserialize=lambda v: str(v).strip(), load_default=None)


class ProcedureFilter(ListArgs):
    q = TrimmedString(load_default=None, validate=validate.Length(max=200))
    field = TrimmedString(load_default=None, validate=validate.Length(max=255))
    uncovered = fields.Boolean(load_default=False)
    archived = fields.Boolean(load_default=False)
