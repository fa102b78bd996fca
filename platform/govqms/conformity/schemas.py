from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from govqms.conformity.models import CertificateEnd, ExternalAuditKind
from govqms.core.schemas import FormDate, InputSchema, TrimmedString, length

EDITION = validate.OneOf(["2008", "2015"], error=_l("Choose 2008 or 2015."))


class DeclarationSchema(InputSchema):
    decision_number = TrimmedString(required=True, validate=length(100))
    decided_on = FormDate(required=True)
    edition = fields.String(required=True, validate=EDITION)
    scope_note = TrimmedString(load_default="", validate=validate.Length(max=5000))
    dost_notified_on = FormDate(load_default=None)
    posted_on = FormDate(load_default=None)
    published_on = FormDate(load_default=None)

    @validates_schema
    def _after_decision(self, data, **kwargs):
        for key in ("dost_notified_on", "posted_on", "published_on"):
            if data.get(key) and data.get("decided_on") and data[key] < data["decided_on"]:
                raise ValidationError(_l("This step follows the decision: enter a day on or after it."), key)


class CertificateSchema(InputSchema):
    body = TrimmedString(required=True, validate=length(255))
    number = TrimmedString(required=True, validate=length(100))
    edition = fields.String(required=True, validate=EDITION)
    scope = TrimmedString(load_default="", validate=validate.Length(max=5000))
    issued_on = FormDate(required=True)
    expires_on = FormDate(required=True)

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("issued_on") and data.get("expires_on") and data["expires_on"] <= data["issued_on"]:
            raise ValidationError(_l("The certificate must expire after it is issued."), "expires_on")


class CertificateEndSchema(InputSchema):
    ended_on = FormDate(required=True)
    end_reason = fields.String(required=True, validate=validate.OneOf(
        [e.value for e in CertificateEnd], error=_l("Choose withdrawn or not renewed.")))


class ExternalAuditSchema(InputSchema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ExternalAuditKind],
                                                                error=_l("Choose the kind of audit.")))
    planned_on = FormDate(required=True)
    held_on = FormDate(load_default=None)
    result = TrimmedString(load_default="", validate=validate.Length(max=5000))
    findings = TrimmedString(load_default="", validate=validate.Length(max=10000))


class SteeringSchema(InputSchema):
    decision_number = TrimmedString(required=True, validate=length(100))
    decided_on = FormDate(required=True)
    management_representative = TrimmedString(load_default="", validate=validate.Length(max=255))
    members = TrimmedString(load_default="", validate=validate.Length(max=10000))


class ConsultantSchema(InputSchema):
    name = TrimmedString(required=True, validate=length(255))
    organisation = TrimmedString(load_default="", validate=validate.Length(max=255))
    card_number = TrimmedString(load_default="", validate=validate.Length(max=100))
    card_expires_on = FormDate(load_default=None)
