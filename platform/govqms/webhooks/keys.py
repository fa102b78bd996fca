"""The subscriptions' secrets: the platform signs with them, so it keeps them, encrypted at rest with a
key derived from ``SECRET_KEY`` (HKDF-SHA256, then Fernet). A database dump alone does not give them;
rotating ``SECRET_KEY`` means rotating every subscription's secret."""
from __future__ import annotations

import base64
import secrets

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "whsec_"


def _fernet(secret_key: str | bytes | None = None) -> Fernet:
    raw = secret_key if secret_key is not None else current_app.config["SECRET_KEY"]
    raw = raw.encode() if isinstance(raw, str) else bytes(raw)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"govqms: webhook secrets").derive(raw)
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
