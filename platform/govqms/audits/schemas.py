from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from govqms.audits.models import FindingType
from govqms.core.schemas import FormDate, InputSchema, TrimmedString, length


class AuditSchema(InputSchema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100, error=_l("Enter a year.")))
    title = TrimmedString(required=True, validate=length(500))
    planned_start = FormDate(required=True)
    planned_end = FormDate(required=True)
    lead_auditor_id = fields.Integer(load_default=None)
    team_ids = fields.List(fields.Integer(), load_default=list)
    unit_ids = fields.List(fields.Integer(), load_default=list)
    process_ids = fields.List(fields.Integer(), load_default=list)
    clauses = fields.List(fields.String(), load_default=list)

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("planned_start") and data.get("planned_end") and data["planned_end"] < data["planned_start"]:
            raise ValidationError(_l("The audit cannot end before it starts."), "planned_end")
        if not data.get("unit_ids") and not data.get("process_ids"):
            raise ValidationError(_l("Choose the units or processes in scope."), "unit_ids")


class FindingSchema(InputSchema):
    type = fields.String(required=True, validate=validate.OneOf([t.value for t in FindingType],
                                                                error=_l("Choose the kind of finding.")))
    clause = TrimmedString(load_default="", validate=validate.Length(max=16))
    unit_id = fields.Integer(load_default=None)
    description = TrimmedString(required=True, validate=length(5000))
    evidence = TrimmedString(load_default="", validate=validate.Length(max=5000))


class ReportSchema(InputSchema):
    actual_start = FormDate(required=True)
    actual_end = FormDate(required=True)
    conclusion = TrimmedString(required=True, validate=length(10000))
