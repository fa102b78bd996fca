"""Verifying the digital signatures of uploaded PDFs (pyHanko), against the trust anchors the operator
configures (``GOVQMS_TRUST_ANCHORS``: the government CA's roots, say).

Signing stays outside the platform (the official's token, a remote signing service); the platform
verifies what it receives: each signature's integrity (the digest of the bytes it covers, and nothing
changed after it but what signing and form filling allow), its signer, its signing time (claimed, and
its timestamp if any) and its signer's chain to a configured anchor. Nothing is fetched from the
network (no CRL, no OCSP), so a result depends on the file and the anchors only and can be computed
again; it says that revocation was not checked online.

The result is kept per agency and file content (:class:`SignatureCheck`) with the fingerprints of the
anchors used, so a page can say when it was computed with other anchors than today's ("check again").
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Iterable, Sequence

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from govqms.config import ConfigError
from govqms.core import activity
from govqms.core.activity import current_actor
from govqms.core.db import utcnow
from govqms.core.storage import get_storage, storage_key
from govqms.extensions import db
from govqms.jobs.services import enqueue
from govqms.signatures.models import SignatureCheck, SignatureStatus

#: what a stored file's digest looks like in a URL or a storage key
DIGEST = re.compile(r"[0-9a-f]{64}")
#: the extensions of the files read from an anchors directory
ANCHOR_SUFFIXES = (".pem", ".crt", ".cer")
#: revocation is not looked up on the network: results are the same whenever they are computed
REVOCATION_NOT_CHECKED = "not_checked_online"


# --- trust anchors ----------------------------------------------------------------------------------

class AnchorError(ConfigError):
    """``GOVQMS_TRUST_ANCHORS`` names no readable certificate: the message says which file and why."""


@dataclass(frozen=True)
class Anchor:
    """A certificate the operator trusts as the root of signers' chains."""

    subject: str
    issuer: str
    #: SHA-256 of the certificate (DER), lower-case hexadecimal
    fingerprint: str
    not_before: dt.datetime
    not_after: dt.datetime
    #: the file it was read from
    source: str
    der: bytes = field(repr=False)

    @property
    def display_fingerprint(self) -> str:
        return ":".join(self.fingerprint[i:i + 2] for i in range(0, len(self.fingerprint), 2)).upper()

    def valid_on(self, moment: dt.datetime) -> bool:
        return self.not_before <= moment <= self.not_after


def _certificates_in(path: Path) -> list[bytes]:
    """The DER of every certificate in one PEM (one or several) or DER file."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        data = path.read_bytes()
    except OSError as err:
        raise AnchorError(f"GOVQMS_TRUST_ANCHORS: {path} cannot be read ({err.strerror or err})") from err
    try:
        if b"-----BEGIN" in data:
            found = x509.load_pem_x509_certificates(data)
        else:
            found = [x509.load_der_x509_certificate(data)]
    except ValueError as err:
        raise AnchorError(f"GOVQMS_TRUST_ANCHORS: {path} holds no readable X.509 certificate "
                          f"(PEM or DER expected: {err})") from err
    return [certificate.public_bytes(Encoding.DER) for certificate in found]


def _anchor(der: bytes, source: Path) -> Anchor:
    from cryptography import x509

    certificate = x509.load_der_x509_certificate(der)
    return Anchor(subject=certificate.subject.rfc4514_string(), issuer=certificate.issuer.rfc4514_string(),
                  fingerprint=hashlib.sha256(der).hexdigest(), not_before=certificate.not_valid_before_utc,
                  not_after=certificate.not_valid_after_utc, source=source.name, der=der)


def read_anchors(location: str) -> tuple[Anchor, ...]:
    """The certificates of *location*: a PEM or DER file, or a directory of ``.pem``/``.crt``/``.cer``
    files. Raises :class:`AnchorError` for a location that is missing or holds none, or a file that is
    not a certificate, naming it."""
    path = Path(location).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in ANCHOR_SUFFIXES)
        if not files:
            raise AnchorError(f"GOVQMS_TRUST_ANCHORS: the directory {path} holds no "
                              f"{', '.join(ANCHOR_SUFFIXES)} file")
    elif path.is_file():
        files = [path]
    else:
        raise AnchorError(f"GOVQMS_TRUST_ANCHORS: {path} does not exist")
    anchors: dict[str, Anchor] = {}
    for file in files:
        for der in _certificates_in(file):
            anchor = _anchor(der, file)
            anchors.setdefault(anchor.fingerprint, anchor)
    return tuple(sorted(anchors.values(), key=lambda a: (a.subject, a.fingerprint)))


#: Read once per process and location (the web workers and the job workers each read them at start-up).
_loaded: dict[str, tuple[Anchor, ...]] = {}


def anchors_at(location: str | None) -> tuple[Anchor, ...]:
    """The anchors of *location*, read the first time only (none for no location)."""
    if not location:
        return ()
    if location not in _loaded:
        _loaded[location] = read_anchors(location)
    return _loaded[location]


def trust_anchors() -> tuple[Anchor, ...]:
    """The configured anchors (none when ``GOVQMS_TRUST_ANCHORS`` is unset)."""
    return anchors_at(current_app.config.get("TRUST_ANCHORS"))


def fingerprints(anchors: Iterable[Anchor]) -> list[str]:
    return sorted(anchor.fingerprint for anchor in anchors)


# --- verification -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    """What :func:`verify_pdf` found: the overall status, the signers, when the last signature was made,
    and the details per signature (plain JSON, kept with the result)."""

    status: SignatureStatus
    signer: str | None = None
    signed_at: dt.datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.timezone.utc).isoformat() if moment is not None else None


def _name_part(name, key: str) -> str | None:
    value = name.native.get(key) if name is not None else None
    if isinstance(value, list):  # a name may repeat an attribute
        value = ", ".join(str(v) for v in value)
    return str(value) if value else None


def _certificate_summary(certificate) -> dict[str, Any]:
    validity = certificate["tbs_certificate"]["validity"]
    return {
        "common_name": _name_part(certificate.subject, "common_name"),
        "organisation": _name_part(certificate.subject, "organization_name"),
        "subject": certificate.subject.human_friendly,
        "issuer": certificate.issuer.human_friendly,
        "serial": format(certificate.serial_number, "X"),
        "valid_from": _iso(validity["not_before"].native),
        "valid_to": _iso(validity["not_after"].native),
        "fingerprint": hashlib.sha256(certificate.dump()).hexdigest(),
    }


def _coverage_name(coverage) -> str:
    from pyhanko.sign.validation import SignatureCoverageLevel

    return {SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
            SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision"}.get(coverage, "partial")


def _one_signature(embedded, context_factory) -> dict[str, Any]:
    """Validate one signature (or document timestamp) of the file; never raises for what the file holds."""
    entry: dict[str, Any] = {"field": None, "kind": "signature", "status": SignatureStatus.INVALID.value,
                             "intact": False, "modified_after_signing": None, "chain": "untrusted",
                             "problem": None}
    try:
        entry.update(_validated(embedded, context_factory))
    except Exception as err:  # noqa: BLE001 - a broken or unsupported signature is reported, not raised
        entry["status"] = SignatureStatus.INVALID.value
        entry["problem"] = (str(err) or type(err).__name__)[:500]
    return entry


def _validated(embedded, context_factory) -> dict[str, Any]:
    from pyhanko.sign.validation import (
        SignatureCoverageLevel,
        validate_pdf_signature,
        validate_pdf_timestamp,
    )
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    entry: dict[str, Any] = {"field": str(embedded.field_name)}
    if embedded.sig_object_type == "/DocTimeStamp":
        entry["kind"] = "timestamp"
        status = validate_pdf_timestamp(embedded, validation_context=context_factory())
    else:
        # Officials' certificates carry non-repudiation, some signing services' only digital signature.
        usage = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"})
        status = validate_pdf_signature(embedded, signer_validation_context=context_factory(),
                                        key_usage_settings=usage)
    coverage = status.coverage
    # Bytes after the signed revision are allowed only as what signing and form filling add
    # (further signatures, timestamps, validation data): pyHanko's difference analysis says so.
    allowed = coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        coverage == SignatureCoverageLevel.ENTIRE_REVISION and bool(status.docmdp_ok))
    level = status.modification_level
    entry.update({
        "intact": bool(status.intact and status.valid),
        "digest_matches": bool(status.intact),
        "coverage": _coverage_name(coverage),
        "modification": level.name.lower() if level is not None else None,
        "modified_after_signing": not allowed,
        "signer": _certificate_summary(status.signing_cert),
        "digest_algorithm": status.md_algorithm,
        "chain": "revoked" if status.revoked else "trusted" if status.trusted else "untrusted",
        "anchor": status.validation_path[0].subject.human_friendly if status.trusted else None,
        "chain_problem": status.trust_problem_indic.name if status.trust_problem_indic is not None else None,
    })
    if entry.get("kind") == "timestamp":
        entry["timestamp"] = {"time": _iso(status.timestamp), "trusted": bool(status.trusted)}
        entry["claimed_time"] = _iso(status.timestamp)
    else:
        entry["claimed_time"] = _iso(status.signer_reported_dt)
        stamp = status.timestamp_validity
        entry["timestamp"] = None if stamp is None else {
            "time": _iso(stamp.timestamp), "trusted": bool(stamp.trusted and stamp.intact and stamp.valid)}
    # A signature whose bytes do not match, that the file changed after, or whose certificate is revoked
    # (known only from what the file embeds) is invalid; intact but not chaining to an anchor, untrusted.
    if not entry["intact"] or not allowed or entry["chain"] == "revoked":
        entry["status"] = SignatureStatus.INVALID.value
    elif entry["chain"] != "trusted":
        entry["status"] = SignatureStatus.UNTRUSTED.value
    else:
        entry["status"] = SignatureStatus.VALID.value
    return entry


def _signing_time(entry: dict[str, Any]) -> dt.datetime | None:
    """A signature's time: its timestamp when a trusted authority stamped it, otherwise what the signer
    claimed."""
    stamp = entry.get("timestamp")
    chosen = stamp["time"] if stamp and stamp.get("trusted") else entry.get("claimed_time")
    return dt.datetime.fromisoformat(chosen) if chosen else None


def _signer_name(entry: dict[str, Any]) -> str | None:
    signer = entry.get("signer") or {}
    name = signer.get("common_name") or signer.get("subject")
    if name and signer.get("organisation"):
        name = f"{name} ({signer['organisation']})"
    return name


def verify_pdf(data: bytes, anchors: Sequence[Anchor]) -> Verification:
    """Verify every signature embedded in the PDF *data* against *anchors*. Whatever the file holds, the
    answer is a :class:`Verification` (``unreadable`` for what cannot be parsed), never an exception."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko_certvalidator import ValidationContext

    details: dict[str, Any] = {"validated_at": _iso(utcnow()), "revocation": REVOCATION_NOT_CHECKED,
                               "anchors": len(anchors), "signatures": [], "problem": None}
    try:
        # strict parsing, as pyHanko's own validator does: a file that needs leniency to be read is not
        # one whose signed bytes can be trusted to mean one thing
        reader = PdfFileReader(BytesIO(data))
        embedded = list(reader.embedded_signatures)
    except Exception as err:  # noqa: BLE001 - a hostile or malformed file is a result, not an error
        details["problem"] = (str(err) or type(err).__name__)[:500]
        return Verification(SignatureStatus.UNREADABLE, details=details)
    roots = [asn1_x509.Certificate.load(anchor.der) for anchor in anchors]

    def context() -> ValidationContext:
        # A fresh context per signature: what one signature's chain teaches is not reused for another.
        return ValidationContext(trust_roots=roots, allow_fetching=False)

    entries = [_one_signature(signature, context) for signature in embedded]
    details["signatures"] = entries
    signatures = [e for e in entries if e["kind"] == "signature"]
    if not signatures:
        return Verification(SignatureStatus.NOT_SIGNED, details=details)
    statuses = {e["status"] for e in entries}
    if SignatureStatus.INVALID.value in statuses:
        status = SignatureStatus.INVALID
    elif SignatureStatus.UNTRUSTED.value in statuses:
        status = SignatureStatus.UNTRUSTED
    else:
        status = SignatureStatus.VALID
    names = [name for name in (_signer_name(e) for e in signatures) if name]
    signer = "; ".join(dict.fromkeys(names))[:500] or None
    return Verification(status, signer=signer, signed_at=_signing_time(signatures[-1]), details=details)


# --- results kept per stored file --------------------------------------------------------------------

def digest_of(key: str | None) -> str | None:
    """The SHA-256 in a storage key (``core.storage.storage_key``), or None."""
    if not key:
        return None
    digest = key.rsplit("/", 1)[-1]
    return digest if DIGEST.fullmatch(digest) else None


def is_pdf(name: str | None) -> bool:
    """A stored file is a PDF when its name says so (uploads are checked: the content agrees)."""
    return bool(name) and name.lower().endswith(".pdf")


def check_of(tenant_id: int, digest: str) -> SignatureCheck | None:
    if not DIGEST.fullmatch(digest or ""):
        return None
    return db.session.scalar(select(SignatureCheck).where(SignatureCheck.tenant_id == tenant_id,
                                                          SignatureCheck.sha256 == digest))


def checks_for(tenant_id: int, digests: Iterable[str | None]) -> dict[str, SignatureCheck]:
    """The results for the agency's files of *digests*, by digest, in one query."""
    wanted = sorted({d for d in digests if d and DIGEST.fullmatch(d)})
    if not wanted:
        return {}
    rows = db.session.scalars(select(SignatureCheck).where(SignatureCheck.tenant_id == tenant_id,
                                                           SignatureCheck.sha256.in_(wanted)))
    return {row.sha256: row for row in rows}


def checks_of_records(tenant_id: int, records: Iterable[Any], key: str = "file_key", name: str = "file_name"
                      ) -> dict[int, SignatureCheck | None]:
    """For each of the agency's *records* whose stored file (its attributes *key* and *name*) is a PDF: the
    result of its check, or None when it was never checked (stored before checks existed); by record id,
    in one query."""
    pdfs = {record.id: digest_of(getattr(record, key)) for record in records if is_pdf(getattr(record, name))}
    pdfs = {record_id: digest for record_id, digest in pdfs.items() if digest}
    found = checks_for(tenant_id, pdfs.values())
    return {record_id: found.get(digest) for record_id, digest in pdfs.items()}


def entries(check: SignatureCheck) -> list[dict[str, Any]]:
    """The signatures of a result as a page shows them: times as aware datetimes."""
    shown = []
    for entry in (check.details or {}).get("signatures", []):
        entry = dict(entry)
        entry["claimed_time"] = _parsed(entry.get("claimed_time"))
        if entry.get("timestamp"):
            entry["timestamp"] = {**entry["timestamp"], "time": _parsed(entry["timestamp"].get("time"))}
        shown.append(entry)
    return shown


def _parsed(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def stored_pdf(tenant_id: int, digest: str) -> bool:
    """The agency has stored a PDF of this digest (in its own folder: another agency's file is not found)."""
    if not DIGEST.fullmatch(digest or ""):
        return False
    storage = get_storage()
    key = storage_key(tenant_id, digest)
    return storage.exists(key) and storage.get(key)[:5] == b"%PDF-"


def outdated(check: SignatureCheck) -> bool:
    """Computed with other trust anchors than the configured ones: its trust may have changed."""
    return check.status != SignatureStatus.PENDING and list(check.anchors or []) != fingerprints(trust_anchors())


def _row(tenant_id: int, digest: str) -> SignatureCheck:
    """The agency's result row for *digest*, made (pending) if there is none yet."""
    found = check_of(tenant_id, digest)
    if found is not None:
        return found
    row = SignatureCheck(tenant_id=tenant_id, sha256=digest, status=SignatureStatus.PENDING, details={},
                         anchors=[])
    try:
        with db.session.begin_nested():  # two uploads of the same file at once: one row
            db.session.add(row)
    except IntegrityError:
        return check_of(tenant_id, digest)
    return row


def request_check(tenant_id: int, digest: str, *, again: bool = False) -> SignatureCheck:
    """Have the signatures of the agency's stored PDF *digest* verified, unless a result computed with
    today's anchors is there already (or *again*: the user asks). Runs as a job: commits the session.

    A job rather than in the request: the file is untrusted input, and on the queue it is parsed by a
    worker's forked work-horse, under the job time limit, so a hostile PDF costs a worker process, never a
    web worker. Without Redis the job runs at once (a 20 MB signed PDF verifies in well under a second,
    nothing being fetched), and the uploader sees the result with the file."""
    check = _row(tenant_id, digest)
    done = check.status != SignatureStatus.PENDING and list(check.anchors or []) == fingerprints(trust_anchors())
    if done and not again:
        return check
    check.status = SignatureStatus.PENDING
    db.session.flush()
    enqueue("signatures.verify", tenant_id=tenant_id, user_id=current_actor().user_id, digest=digest)
    return check


def request_check_of_upload(tenant_id: int, key: str | None, name: str | None) -> SignatureCheck | None:
    """After a file is stored for a record: a PDF's signatures are verified; other files have none."""
    digest = digest_of(key)
    if digest is None or not is_pdf(name):
        return None
    return request_check(tenant_id, digest)


def attach_signed_pdf(record, file, *, key: str = "signed_minutes_key", name: str = "signed_minutes_name") -> None:
    """Keep *file* as *record*'s signed PDF (replacing one uploaded before) in its agency's storage,
    log the upload in the agency's activity log, and have its signatures verified (commits, with the
    job that verifies them). The caller writes in the agency's scope."""
    setattr(record, key, get_storage().put(record.tenant_id, file.data))
    setattr(record, name, file.filename)
    activity.label(record, "upload", note=file.filename)
    db.session.flush()
    request_check_of_upload(record.tenant_id, getattr(record, key), file.filename)


def record_check(tenant_id: int, digest: str) -> SignatureCheck:
    """Verify the stored file now and keep the result (the job's work; safe to run again)."""
    check = _row(tenant_id, digest)
    anchors = trust_anchors()
    try:
        data = get_storage().get(storage_key(tenant_id, digest))
    except (OSError, ValueError) as err:
        result = Verification(SignatureStatus.UNREADABLE,
                              details={"problem": f"the stored file cannot be read ({type(err).__name__})",
                                       "signatures": [], "revocation": REVOCATION_NOT_CHECKED})
    else:
        result = verify_pdf(data, anchors)
    check.status, check.signer, check.signed_at = result.status, result.signer, result.signed_at
    check.details, check.anchors, check.checked_at = result.details, fingerprints(anchors), utcnow()
    db.session.flush()
    return check


def results_after(after_id: int, limit: int) -> list[SignatureCheck]:
    """The next *limit* results (of every agency the scope shows) after the id *after_id*, by id."""
    return list(db.session.scalars(select(SignatureCheck).where(SignatureCheck.id > after_id)
                                   .order_by(SignatureCheck.id).limit(limit)))


def recheck(check: SignatureCheck) -> bool:
    """Verify *check*'s file again if its result was computed with other anchors than today's (or never
    finished); returns whether it did."""
    if check.status != SignatureStatus.PENDING and list(check.anchors or []) == fingerprints(trust_anchors()):
        return False
    record_check(check.tenant_id, check.sha256)
    return True
