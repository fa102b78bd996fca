"""Base for every input schema: unknown keys dropped, error messages in the user's language, and every
number and date held within what its column stores (a value beyond it is the field's error, not the
database's)."""
from __future__ import annotations

import datetime as dt
import re

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

MESSAGES = {
    "required": _l("This field is required."),
    "null": _l("This field is required."),
    "invalid": _l("Enter a valid value."),
}
TYPE_MESSAGES = {
    fields.Email: {"invalid": _l("Enter a valid email address.")},
    fields.Integer: {"invalid": _l("Enter a whole number.")},
    fields.Date: {"invalid": _l("Enter a date as dd/mm/yyyy.")},
    fields.Float: {"special": _l("Enter a number.")},
}
#: What an INTEGER column holds: a whole number without a range of its own is held within it.
INTEGER_RANGE = validate.Range(min=-(2**31), max=2**31 - 1, error=MESSAGES["invalid"])
#: The days anyone has a reason to enter (a date column holds years 1 to 9999, the calendar code
#: that adds months or years to a date does not).
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
DATE_RANGE = validate.Range(min=FIRST_DAY, max=LAST_DAY, error=_l(
    "Enter a date between %(start)s and %(end)s.", start=f"{FIRST_DAY:%d/%m/%Y}", end=f"{LAST_DAY:%d/%m/%Y}"))
#: Control characters a pasted text may carry other than tab and the line ends: invisible, and refused
#: by the XML of a spreadsheet or a document export. A word processor's line and page breaks are line ends.
PASTED_CONTROLS = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")
PASTED_BREAKS = re.compile(r"[\x0b\x0c]")


class InputSchema(Schema):
    """Form posts, API bodies and file rows are all loaded through one of these."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _blank_is_missing(self, data, **kwargs):
        """An empty form field means "not given": optional fields take their default,
        required ones say they are required."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and v.strip() == "")}
        return data

    def on_bind_field(self, field_name, field_obj):
        _bound(field_obj.inner if isinstance(field_obj, fields.List) else field_obj)
        messages = dict(MESSAGES)
        for field_type, extra in TYPE_MESSAGES.items():
            if isinstance(field_obj, field_type):
                messages.update(extra)
        field_obj.error_messages = {**field_obj.error_messages, **{
            k: v for k, v in messages.items() if k in field_obj.error_messages or k in ("required", "null")
        }}


def _bound(field_obj) -> None:
    """Hold a whole number without a range of its own within an INTEGER column, and a date within
    the days anyone enters (the field is the schema instance's own copy)."""
    if isinstance(field_obj, fields.Integer) and not any(
            isinstance(v, validate.Range) for v in field_obj.validators):
        field_obj.validators = [*field_obj.validators, INTEGER_RANGE]
    elif isinstance(field_obj, fields.Date) and DATE_RANGE not in field_obj.validators:
        field_obj.validators = [*field_obj.validators, DATE_RANGE]


class TrimmedString(fields.String):
    """A string with surrounding white space removed (then checked by its validators). A NUL
    character is refused: PostgreSQL cannot store it, and no one types it; the other control
    characters a pasted text may carry are removed (its line and page breaks become line ends)."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in result:
            raise ValidationError(_l("This text contains a character that cannot be stored."))
        return PASTED_CONTROLS.sub("", PASTED_BREAKS.sub("\n", result)).strip()


class FormDate(fields.Date):
    """A date as people write it here: dd/mm/yyyy, between FIRST_DAY and LAST_DAY."""

    def __init__(self, **kwargs):
        super().__init__(format="%d/%m/%Y", **kwargs)
        self.validators = [*self.validators, DATE_RANGE]


def length(max_len: int, min_len: int = 1) -> validate.Length:
    return validate.Length(min=min_len, max=max_len,
                           error=_l("Enter between %(min)s and %(max)s characters.", min=min_len, max=max_len))


def first_errors(messages: dict) -> dict[str, str]:
    """One message per field, for forms."""
    out = {}
    for key, value in messages.items():
        while isinstance(value, (list, tuple)) and value:
            value = value[0]
        out[key] = str(value)
    return out
