from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from govqms.competence.models import QualificationKind
from govqms.core.schemas import FormDate, InputSchema, TrimmedString, length


class ProfileSchema(InputSchema):
    user_id = fields.Integer(required=True)
    unit_id = fields.Integer(load_default=None)
    job_title = TrimmedString(load_default="", validate=validate.Length(max=255))


class QualificationSchema(InputSchema):
    user_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in QualificationKind],
                                                                error=_l("Choose a kind of training.")))
    course = TrimmedString(required=True, validate=length(500))
    completed_on = FormDate(required=True)
    certificate = TrimmedString(load_default="", validate=validate.Length(max=255))


class RequirementSchema(InputSchema):
    job_title = TrimmedString(required=True, validate=length(255))
    requirement = TrimmedString(required=True, validate=length(5000))
