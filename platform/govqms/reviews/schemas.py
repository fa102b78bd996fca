from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from govqms.core.schemas import FormDate, InputSchema, TrimmedString, length


class ReviewSchema(InputSchema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100, error=_l("Enter a year.")))
    meeting_on = FormDate(required=True)
    chair = TrimmedString(required=True, validate=length(255))
    attendees = TrimmedString(load_default="", validate=validate.Length(max=5000))


class NotesSchema(InputSchema):
    conclusion = TrimmedString(load_default="", validate=validate.Length(max=10000))


class HeldSchema(InputSchema):
    held_on = FormDate(required=True)
