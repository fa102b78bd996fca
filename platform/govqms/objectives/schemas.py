from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from govqms.core.schemas import FormDate, InputSchema, TrimmedString, length
from govqms.objectives.models import EvaluationKind, Source
from govqms.objectives.rules import Comparator, Frequency


def _one_of(values, error):
    return validate.OneOf([v.value for v in values], error=error)


class PolicySchema(InputSchema):
    text = TrimmedString(required=True, validate=length(10000))
    issued_on = FormDate(required=True)
    issued_by = TrimmedString(required=True, validate=length(255))
    decision_number = TrimmedString(load_default="", validate=validate.Length(max=100))
    posted = fields.Boolean(load_default=False, truthy={"1", "on", "y", "true"}, falsy={"0", "off", "n", "false"})


class ObjectiveSchema(InputSchema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100, error=_l("Enter a year.")))
    unit_id = fields.Integer(load_default=None)
    statement = TrimmedString(required=True, validate=length(2000))
    indicator = TrimmedString(required=True, validate=length(500))
    comparator = fields.String(required=True, validate=_one_of(Comparator, _l("Choose ≥, ≤ or =.")))
    target = fields.Float(required=True, error_messages={"invalid": _l("Enter a number.")})
    unit_of_measure = TrimmedString(load_default="", validate=validate.Length(max=32))
    frequency = fields.String(required=True, validate=_one_of(Frequency, _l("Choose a frequency.")))
    source = fields.String(load_default=Source.TYPED.value, validate=_one_of(Source, _l("Choose a source.")))
    owner_id = fields.Integer(load_default=None)
    plan = TrimmedString(load_default="", validate=validate.Length(max=5000))


class MeasurementSchema(InputSchema):
    period_index = fields.Integer(required=True)
    value = fields.Float(required=True, error_messages={"invalid": _l("Enter a number.")})
    note = TrimmedString(load_default="", validate=validate.Length(max=2000))


class EvaluationSchema(InputSchema):
    kind = fields.String(required=True, validate=_one_of(EvaluationKind, _l("Choose the evaluation.")))
    comment = TrimmedString(load_default="", validate=validate.Length(max=5000))
