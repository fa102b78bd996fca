"""Verifying a PDF's signatures: a test certificate chain signs a generated PDF; valid with its root as the
configured anchor, invalid once a byte of the signed range changes or the file is modified after signing,
untrusted without the anchor, "not signed" without a signature, unreadable for what is not a PDF."""
from __future__ import annotations

import datetime as dt

import pytest

from govqms.core.demo import pdf
from govqms.signatures.models import SignatureStatus
from govqms.signatures.services import AnchorError, read_anchors, verify_pdf
from tests.signatures.pki import make_pki, modified_after_signing, sign_pdf, tampered


@pytest.fixture(scope="module")
def pki():
    return make_pki()


@pytest.fixture(scope="module")
def signed(pki):
    return sign_pdf(pdf("Quyet dinh cong bo HTQLCL phu hop TCVN ISO 9001:2015"), pki)


@pytest.fixture
def anchors(pki, tmp_path):
    (tmp_path / "root.pem").write_bytes(pki.pem())
    return read_anchors(str(tmp_path / "root.pem"))


def test_a_signed_pdf_is_valid_with_its_root_configured(signed, anchors):
    result = verify_pdf(signed, anchors)
    assert result.status == SignatureStatus.VALID
    assert result.signer == "Nguyễn Văn An (Sở Khoa học và Công nghệ Một)"
    assert abs(result.signed_at - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=5)
    (entry,) = result.details["signatures"]
    assert entry["field"] == "Signature1" and entry["intact"] and entry["modified_after_signing"] is False
    assert entry["coverage"] == "entire_file"
    assert entry["chain"] == "trusted" and "Test Root CA" in entry["anchor"]
    assert entry["signer"]["common_name"] == "Nguyễn Văn An"
    assert "Common Name: Test Sub CA" in entry["signer"]["issuer"]
    assert entry["claimed_time"] is not None and entry["timestamp"] is None
    assert result.details["revocation"] == "not_checked_online"


def test_a_byte_changed_in_the_signed_range_makes_it_invalid(signed, anchors):
    result = verify_pdf(tampered(signed, b"quyet dinh"), anchors)
    assert result.status == SignatureStatus.INVALID
    (entry,) = result.details["signatures"]
    assert entry["digest_matches"] is False and entry["intact"] is False
    assert result.signer == "Nguyễn Văn An (Sở Khoa học và Công nghệ Một)"  # who claims to have signed it


def test_a_file_modified_after_signing_is_invalid(signed, anchors):
    result = verify_pdf(modified_after_signing(signed), anchors)
    assert result.status == SignatureStatus.INVALID
    (entry,) = result.details["signatures"]
    assert entry["intact"] is True  # the signed revision itself is untouched...
    assert entry["modified_after_signing"] is True and entry["coverage"] == "entire_revision"  # ...the file is not


def test_a_second_signature_is_an_allowed_update(pki, signed, anchors):
    other = make_pki("Trần Thị Bình", "Chi cục Tiêu chuẩn Đo lường Chất lượng")
    twice = sign_pdf(signed, other, field_name="Signature2")
    result = verify_pdf(twice, anchors)
    first, second = result.details["signatures"]
    assert first["modified_after_signing"] is False and first["coverage"] == "entire_revision"
    assert first["status"] == "valid" and second["status"] == "untrusted"  # its root is not configured
    assert result.status == SignatureStatus.UNTRUSTED
    assert result.signer == ("Nguyễn Văn An (Sở Khoa học và Công nghệ Một); "
                             "Trần Thị Bình (Chi cục Tiêu chuẩn Đo lường Chất lượng)")


def test_intact_but_without_the_anchor_is_untrusted(signed, tmp_path):
    assert verify_pdf(signed, ()).status == SignatureStatus.UNTRUSTED
    (tmp_path / "other.pem").write_bytes(make_pki(ca_name="Another CA").pem())
    result = verify_pdf(signed, read_anchors(str(tmp_path / "other.pem")))
    assert result.status == SignatureStatus.UNTRUSTED
    (entry,) = result.details["signatures"]
    assert entry["intact"] is True and entry["chain"] == "untrusted" and entry["anchor"] is None
    assert entry["chain_problem"]


def test_an_unsigned_pdf_is_not_signed(anchors):
    result = verify_pdf(pdf("Bien ban"), anchors)
    assert result.status == SignatureStatus.NOT_SIGNED
    assert result.signer is None and result.details["signatures"] == []


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\n" + b"\x00garbage" * 200,
    b"%PDF-",
    b"%PDF-1.4 trailer << /Root 1 0 R >> startxref 999999 %%EOF",
    b"not a pdf at all",
], ids=["garbage", "header-only", "broken-xref", "not-pdf"])
def test_garbage_is_unreadable_not_an_error(data, anchors):
    result = verify_pdf(data, anchors)
    assert result.status == SignatureStatus.UNREADABLE
    assert result.details["problem"]


def test_a_truncated_signed_pdf_is_unreadable_or_invalid(signed, anchors):
    assert verify_pdf(signed[: len(signed) // 2], anchors).status == SignatureStatus.UNREADABLE
    # the signature's contents overwritten: the signature cannot be parsed, so it is not valid
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    broken = signed[:start] + b"00" * 40 + signed[start + 80:]
    assert verify_pdf(broken, anchors).status in (SignatureStatus.INVALID, SignatureStatus.UNREADABLE)


def test_anchors_from_a_directory_in_pem_and_der(pki, tmp_path):
    other = make_pki(ca_name="Root Hai")
    (tmp_path / "a.crt").write_bytes(pki.pem() + pki.pem(pki.intermediate))  # a bundle of two
    (tmp_path / "b.cer").write_bytes(other.der())
    (tmp_path / "a-copy.pem").write_bytes(pki.pem())  # the same root twice counts once
    (tmp_path / "README.txt").write_text("not read")
    anchors = read_anchors(str(tmp_path))
    assert len(anchors) == 3
    assert {a.source for a in anchors} >= {"a.crt", "b.cer"}
    root = next(a for a in anchors if "Test Root CA" in a.subject)
    assert len(root.fingerprint) == 64 and root.display_fingerprint.count(":") == 31
    assert root.valid_on(dt.datetime.now(dt.timezone.utc))


def _missing(folder):
    return folder / "missing.pem"


def _bad_pem(folder):
    (folder / "bad.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    return folder / "bad.pem"


def _junk_der(folder):
    (folder / "junk.der").write_bytes(b"\x30\x03\x02\x01\x01")
    return folder / "junk.der"


def _empty_directory(folder):
    (folder / "empty").mkdir()
    (folder / "empty" / "notes.txt").write_text("no certificate here")
    return folder / "empty"


@pytest.mark.parametrize("setup, message", [
    (_missing, "missing.pem does not exist"),
    (_bad_pem, "bad.pem holds no readable X.509 certificate"),
    (_junk_der, "junk.der holds no readable X.509 certificate"),
    (_empty_directory, "holds no .pem, .crt, .cer file"),
], ids=["missing", "bad-pem", "junk-der", "empty-directory"])
def test_a_bad_anchors_location_says_which_file_and_why(tmp_path, setup, message):
    with pytest.raises(AnchorError, match="GOVQMS_TRUST_ANCHORS") as raised:
        read_anchors(str(setup(tmp_path)))
    assert message in str(raised.value)


def test_a_bad_anchors_file_stops_the_start(tmp_path):
    from govqms import create_app
    from govqms.config import ConfigError

    (tmp_path / "bad.pem").write_text("nothing")
    with pytest.raises(ConfigError, match="bad.pem"):
        create_app({"GOVQMS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "TRUST_ANCHORS": str(tmp_path / "bad.pem")})
