"""Base for every input schema: unknown keys dropped, error messages in the user's language."""
from __future__ import annotations

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
}


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
        messages = dict(MESSAGES)
        for field_type, extra in TYPE_MESSAGES.items():
            if isinstance(field_obj, field_type):
                messages.update(extra)
        field_obj.error_messages = {**field_obj.error_messages, **{
            k: v for k, v in messages.items() if k in field_obj.error_messages or k in ("required", "null")
        }}


class TrimmedString(fields.String):
    """A string with surrounding white space removed (then checked by its validators). A NUL
    character is refused: PostgreSQL cannot store it, and no one types it."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in result:
            raise ValidationError(_l("This text contains a character that cannot be stored."))
        return result.strip()


class FormDate(fields.Date):
    """A date as people write it here: dd/mm/yyyy."""

    def __init__(self, **kwargs):
        super().__init__(format="%d/%m/%Y", **kwargs)


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
