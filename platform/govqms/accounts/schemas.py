from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validates_schema

from govqms.core.schemas import InputSchema, TrimmedString, length

MIN_PASSWORD = 10


class LoginSchema(InputSchema):
    email = TrimmedString(required=True, validate=length(255))
    password = fields.String(required=True, validate=length(256))
    next = fields.String(load_default=None)


class SetPasswordSchema(InputSchema):
    """A new password, typed twice (invitation links)."""

    new_password = fields.String(required=True, validate=length(256, MIN_PASSWORD))
    confirm_password = fields.String(required=True, validate=length(256))

    @validates_schema
    def _confirmed(self, data, **kwargs):
        if data.get("new_password") != data.get("confirm_password"):
            raise ValidationError(_l("The two new passwords differ."), "confirm_password")


class PasswordChangeSchema(SetPasswordSchema):
    """A new password for a signed-in user, who proves the current one."""

    current_password = fields.String(required=True, validate=length(256))

    @validates_schema
    def _different(self, data, **kwargs):
        if data.get("new_password") == data.get("current_password"):
            raise ValidationError(_l("Choose a password different from the current one."), "new_password")


class LanguageSchema(InputSchema):
    locale = fields.String(required=True)
    next = fields.String(load_default=None)

