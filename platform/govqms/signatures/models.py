"""The result of verifying the digital signatures of a stored PDF, kept per agency and file content."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govqms.core.db import AwareDateTime, Base, Timestamps
from govqms.core.tenancy import TenantScoped


class SignatureStatus(StrEnum):
    #: every signature intact, covering the file (or only allowed updates after it), its signer's
    #: certificate chaining to a configured trust anchor
    VALID = "valid"
    #: a signature is broken, or the file was modified after it was signed
    INVALID = "invalid"
    #: intact, but a signer's chain does not reach a configured anchor (or none is configured)
    UNTRUSTED = "untrusted"
    NOT_SIGNED = "not_signed"
    #: not a PDF that can be read (malformed, or not a PDF at all)
    UNREADABLE = "unreadable"
    #: asked for; the job that verifies it has not run yet
    PENDING = "pending"


STATUS_LABELS = {
    SignatureStatus.VALID: _l("Signature valid"),
    SignatureStatus.INVALID: _l("Signature invalid"),
    SignatureStatus.UNTRUSTED: _l("Signer not trusted"),
    SignatureStatus.NOT_SIGNED: _l("Not signed"),
    SignatureStatus.UNREADABLE: _l("Unreadable PDF"),
    SignatureStatus.PENDING: _l("Checking the signatures…"),
}
#: Bootstrap colour of each status's badge
STATUS_COLOURS = {
    SignatureStatus.VALID: "success",
    SignatureStatus.INVALID: "danger",
    SignatureStatus.UNTRUSTED: "warning",
    SignatureStatus.NOT_SIGNED: "secondary",
    SignatureStatus.UNREADABLE: "danger",
    SignatureStatus.PENDING: "light border",
}


class SignatureCheck(TenantScoped, Timestamps, Base):
    """The signatures of one stored file (an agency's file is stored once per content, so the same bytes
    attached to two records share one result), checked against the trust anchors of ``anchors``."""

    __tablename__ = "signature_check"
    __table_args__ = (UniqueConstraint("tenant_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default=SignatureStatus.PENDING, nullable=False)
    #: the signers as "common name (organisation)", in signing order, joined by "; "
    signer: Mapped[str | None] = mapped_column(String(500))
    #: when the last signature was made: its trusted timestamp, or the time its signer claimed
    signed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    #: one object per signature (see :func:`govqms.signatures.services.verify_pdf`), or the reason the file
    #: could not be read
    details: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    checked_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    #: SHA-256 fingerprints of the trust anchors the check used: another set means "check again"
    anchors: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
