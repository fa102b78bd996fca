from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from govqms.core.listing import ListArgs
from govqms.core.schemas import FormDate, InputSchema, TrimmedString, length
from govqms.improvement.models import DecisionCategory, NcSource, NcStatus, RiskKind

SCALE = validate.Range(min=1, max=5, error=_l("From 1 to 5."))


class NonconformitySchema(InputSchema):
    source = fields.String(required=True, validate=validate.OneOf([s.value for s in NcSource],
                                                                  error=_l("Choose the source.")))
    found_on = FormDate(required=True)
    description = TrimmedString(required=True, validate=length(5000))
    clause = TrimmedString(load_default="", validate=validate.Length(max=16))
    unit_id = fields.Integer(load_default=None)
    due_on = FormDate(load_default=None)


class AnalysisSchema(InputSchema):
    correction = TrimmedString(load_default="", validate=validate.Length(max=5000))
    root_cause = TrimmedString(required=True, validate=length(10000))


class ActionSchema(InputSchema):
    description = TrimmedString(required=True, validate=length(5000))
    owner_id = fields.Integer(load_default=None)
    due_on = FormDate(required=True)
    category = fields.String(load_default=None, validate=validate.OneOf([c.value for c in DecisionCategory],
                                                                        error=_l("Choose a category.")))


class CompleteSchema(InputSchema):
    note = TrimmedString(load_default="", validate=validate.Length(max=5000))


class VerifySchema(InputSchema):
    effective = fields.Boolean(required=True, truthy={"1", "yes"}, falsy={"0", "no"})
    note = TrimmedString(required=True, validate=length(5000))


class RiskSchema(InputSchema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in RiskKind],
                                                                error=_l("Choose risk or opportunity.")))
    description = TrimmedString(required=True, validate=length(5000))
    process = TrimmedString(load_default="", validate=validate.Length(max=500))
    unit_id = fields.Integer(load_default=None)
    likelihood = fields.Integer(required=True, validate=SCALE)
    impact = fields.Integer(required=True, validate=SCALE)
    treatment = TrimmedString(load_default="", validate=validate.Length(max=5000))


#: the nonconformity list's status filter for every status but closed
NOT_CLOSED = "not_closed"


class NonconformityFilter(ListArgs):
    status = fields.String(load_default=None, validate=validate.OneOf([NOT_CLOSED, *(s.value for s in NcStatus)]))
    #: only those with an action overdue
    overdue = fields.Boolean(load_default=False)


class ActionFilter(ListArgs):
    #: everyone's actions, not only the user's own
    everyone = fields.Boolean(data_key="all", load_default=False)
    open_only = fields.Boolean(data_key="open", load_default=True)
