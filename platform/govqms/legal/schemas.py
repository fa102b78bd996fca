from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from govqms.core.schemas import FormDate, InputSchema, TrimmedString, length


class LegalChangeSchema(InputSchema):
    number = TrimmedString(required=True, validate=length(100))
    title = TrimmedString(required=True, validate=length(2000))
    effective_on = FormDate(required=True)
    qms_updated_on = FormDate(load_default=None)
    document_ids = fields.List(fields.Integer(), load_default=list)
    note = TrimmedString(load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("qms_updated_on") and data.get("effective_on") and data["qms_updated_on"] < data["effective_on"]:
            raise ValidationError(_l("The QMS cannot be updated before the text takes effect."), "qms_updated_on")
