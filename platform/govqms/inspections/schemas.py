from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from govqms.core.schemas import FormDate, InputSchema, TrimmedString, length
from govqms.inspections.models import InspectionForm


class PlanSchema(InputSchema):
    decision_number = TrimmedString(load_default="", validate=length(100, 0))
    approved_on = FormDate(load_default=None)


class PlanningSchema(InputSchema):
    form = fields.String(required=True, validate=validate.OneOf([f.value for f in InspectionForm]))
    inspecting_unit = TrimmedString(load_default="", validate=length(255, 0))
    planned_start = FormDate(load_default=None)
    planned_end = FormDate(load_default=None)
    cost = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000_000))
    decision_number = TrimmedString(load_default="", validate=length(100, 0))
    decision_on = FormDate(load_default=None)
    team = TrimmedString(load_default="", validate=length(5_000, 0))  # a member a line, the leader first

    @validates_schema
    def _dates_in_order(self, data, **kwargs):
        if data.get("planned_start") and data.get("planned_end") and data["planned_end"] < data["planned_start"]:
            raise ValidationError(_l("The inspection cannot end before it starts."), "planned_end")


class RequestSchema(InputSchema):
    """The written request of a paper inspection: the agency's report is asked for by a deadline."""

    request_number = TrimmedString(load_default="", validate=length(100, 0))
    request_on = FormDate(required=True)
    request_deadline = FormDate(required=True)

    @validates_schema
    def _deadline_after_request(self, data, **kwargs):
        if data.get("request_on") and data.get("request_deadline") and data["request_deadline"] <= data["request_on"]:
            raise ValidationError(_l("The deadline comes after the day of the request."), "request_deadline")


class MinutesSchema(InputSchema):
    held_on = FormDate(required=True)
    minutes_on = FormDate(required=True)
    conclusion = TrimmedString(load_default="", validate=length(20_000, 0))
    findings = TrimmedString(load_default="", validate=length(50_000, 0))
    signed = fields.Boolean(required=True, validate=validate.Equal(True))

    @validates_schema
    def _minutes_after_inspection(self, data, **kwargs):
        if data.get("held_on") and data.get("minutes_on") and data["minutes_on"] < data["held_on"]:
            raise ValidationError(_l("The minutes cannot be signed before the inspection."), "minutes_on")


class ReportSchema(InputSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(["received", "accepted", "not_accepted"]))
    on = FormDate(required=True)
    note = TrimmedString(load_default="", validate=length(5_000, 0))


def parse_findings(text: str) -> list[dict]:
    """One finding per line; a leading clause like ``7.2: …`` is kept apart."""
    findings = []
    for line in (text or "").splitlines():
        line = line.strip(" -•\t")
        if not line:
            continue
        clause, _sep, rest = line.partition(":")
        if rest and len(clause) <= 8 and clause.replace(".", "").isdigit():
            findings.append({"clause": clause, "description": rest.strip()})
        else:
            findings.append({"clause": "", "description": line})
    return findings
