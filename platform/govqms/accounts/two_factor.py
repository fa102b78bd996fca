"""Two-factor sign-in: a time-based code (TOTP, RFC 6238) from an authenticator app, enrolled from the
account page with a QR code, and ten one-time recovery codes for a lost phone.

The secret is written when enrolment starts and in force once a first code confirms it; recovery codes
are kept as hashes. A setting (``GOVQMS_2FA_REQUIRED_FOR``) makes it mandatory for oversight roles and
operators: signed in with a password alone, they can do nothing but enrol.
"""
from __future__ import annotations

import base64
import hashlib
import io
import secrets
from collections.abc import Callable

import pyotp
import segno
from flask import current_app
from sqlalchemy import select

from govqms.accounts.models import RecoveryCode, User
from govqms.core.db import utcnow
from govqms.extensions import db

ISSUER = "GovQMS"
RECOVERY_CODES = 10


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def start_enrolment(user: User) -> str:
    """A new secret for *user* (not in force until confirmed); returns it."""
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled_at = None
    db.session.commit()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(user: User) -> str:
    """The enrolment QR code as an SVG data URI (the page's policy allows data: images only)."""
    out = io.BytesIO()
    segno.make(provisioning_uri(user), error="m").save(out, kind="svg", scale=5, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def _totp_ok(user: User, code: str) -> bool:
    digits = "".join(ch for ch in code if ch.isdigit())
    return bool(user.totp_secret) and len(digits) == 6 and pyotp.TOTP(user.totp_secret).verify(digits,
                                                                                                valid_window=1)


def confirm_enrolment(user: User, code: str) -> list[str] | None:
    """The first code from the app puts two-factor in force; returns the recovery codes (shown once), or
    None if the code is wrong."""
    if not user.totp_secret or not _totp_ok(user, code):
        return None
    user.totp_enabled_at = utcnow()
    codes = new_recovery_codes(user)
    db.session.commit()
    return codes


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh recovery codes (the old ones stop working); the caller commits."""
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all([RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes])
    return codes


def verify(user: User, code: str) -> str | None:
    """Check a sign-in's second factor: a code of the app ("totp") or an unused recovery code, then used
    up ("recovery"); None if neither."""
    if _totp_ok(user, code):
        return "totp"
    found = db.session.scalar(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                         RecoveryCode.code_hash == _hash(code),
                                                         RecoveryCode.used_at.is_(None)))
    if found is None:
        return None
    found.used_at = utcnow()
    db.session.commit()
    return "recovery"


def recovery_codes_left(user: User) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                                RecoveryCode.used_at.is_(None))).all())


def disable(user: User) -> None:
    user.totp_secret, user.totp_enabled_at = None, None
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    db.session.commit()


#: What kinds of access a user holds beyond their agencies ("oversight"), told by the packages that
#: know (tenancy registers its oversight roles; accounts imports no package above it).
ACCESS_KINDS: list[Callable[[User], set[str]]] = []


def access_kinds(func: Callable[[User], set[str]]):
    ACCESS_KINDS.append(func)
    return func


def required_for(user: User) -> bool:
    """Whether the installation requires two-factor of *user*: ``GOVQMS_2FA_REQUIRED_FOR`` lists
    ``oversight`` (any oversight role) and/or ``operator``."""
    required = set(current_app.config.get("TWO_FACTOR_REQUIRED_FOR") or ())
    if not required:
        return False
    kinds = {"operator"} if user.is_operator else set()
    for found in ACCESS_KINDS:
        kinds |= found(user)
    return bool(required & kinds)
