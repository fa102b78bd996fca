from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from govqms.core.schemas import InputSchema, TrimmedString
from govqms.performance import periods
from govqms.performance.services import MAX_COUNT, parse_period

#: a count the database can hold and no agency exceeds in a period (as the import checks)
COUNT = validate.Range(min=0, max=MAX_COUNT, error=_l("Enter a whole number from 0 to 10,000,000."))


class PeriodField(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        period = parse_period(value)
        if period is None:
            raise ValidationError(_l("Enter the month as mm/yyyy."))
        return period


class ReportPeriodField(fields.Field):
    """A reporting period as the forms write it (a month, Quý III/2026, 6 tháng đầu năm 2026, a range)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return periods.parse(value)
        except periods.PeriodError as err:
            raise ValidationError(str(err)) from err


class ServiceResultSchema(InputSchema):
    period = ReportPeriodField(required=True)
    field = TrimmedString(load_default="", validate=validate.Length(max=255))
    procedure_code = TrimmedString(load_default="", validate=validate.Length(max=64))
    received = fields.Integer(required=True, validate=COUNT)
    resolved_early = fields.Integer(required=True, validate=COUNT)
    resolved_on_time = fields.Integer(required=True, validate=COUNT)
    resolved_late = fields.Integer(required=True, validate=COUNT)
    pending = fields.Integer(required=True, validate=COUNT)

    @validates_schema
    def _adds_up(self, data, **kwargs):
        parts = sum(data.get(k, 0) for k in ("resolved_early", "resolved_on_time", "resolved_late", "pending"))
        if "received" in data and parts > data["received"]:
            raise ValidationError(_l("Early + on time + late + pending = %(parts)s, more than the %(received)s "
                                     "received.", parts=parts, received=data["received"]), "received")


class SurveySchema(InputSchema):
    period = PeriodField(required=True)
    responses = fields.Integer(required=True, validate=COUNT)
    satisfied = fields.Integer(required=True, validate=COUNT)
    note = TrimmedString(load_default="", validate=validate.Length(max=2000))

    @validates_schema
    def _not_more_satisfied_than_responses(self, data, **kwargs):
        if data.get("satisfied", 0) > data.get("responses", 0):
            raise ValidationError(_l("More satisfied than responses."), "satisfied")
