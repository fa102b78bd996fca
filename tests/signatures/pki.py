"""A certificate chain made in the tests (root CA → intermediate CA → signer) and PDFs signed with it by
pyHanko, as an official's token or a remote signing service would sign them."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import BytesIO

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def _certificate(subject: x509.Name, issuer: x509.Name, key, issuer_key, *, ca: bool, path_length: int | None = None,
                 days: int = 365) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
            .add_extension(_usage(ca), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
            .sign(issuer_key, hashes.SHA256()))


@dataclass
class Pki:
    root: x509.Certificate
    intermediate: x509.Certificate
    signer: x509.Certificate
    signer_key: ec.EllipticCurvePrivateKey

    def pem(self, certificate: x509.Certificate | None = None) -> bytes:
        return (certificate or self.root).public_bytes(serialization.Encoding.PEM)

    def der(self, certificate: x509.Certificate | None = None) -> bytes:
        return (certificate or self.root).public_bytes(serialization.Encoding.DER)


def make_pki(signer_name: str = "Nguyễn Văn An", organisation: str = "Sở Khoa học và Công nghệ Một",
             ca_name: str = "Test Root CA của Chính phủ") -> Pki:
    root_key, intermediate_key, signer_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root_name = _name(ca_name, "Ban Cơ yếu Chính phủ (thử nghiệm)")
    intermediate_name = _name("Test Sub CA", "Ban Cơ yếu Chính phủ (thử nghiệm)")
    root = _certificate(root_name, root_name, root_key, root_key, ca=True, days=3650)
    intermediate = _certificate(intermediate_name, root_name, intermediate_key, root_key, ca=True, path_length=0,
                                days=1825)
    signer = _certificate(_name(signer_name, organisation), intermediate_name, signer_key, intermediate_key, ca=False)
    return Pki(root, intermediate, signer, signer_key)


def sign_pdf(data: bytes, pki: Pki, field_name: str = "Signature1") -> bytes:
    """*data* signed by the PKI's signer (an incremental update, as signing tools write it)."""
    from asn1crypto import keys as asn1_keys, x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    def asn1(certificate: x509.Certificate):
        return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))

    key = asn1_keys.PrivateKeyInfo.load(pki.signer_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    signer = signers.SimpleSigner(signing_cert=asn1(pki.signer), signing_key=key,
                                  cert_registry=SimpleCertificateStore.from_certs([asn1(pki.intermediate),
                                                                                   asn1(pki.root)]))
    writer = IncrementalPdfFileWriter(BytesIO(data))
    return signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name=field_name), signer=signer).getvalue()


def modified_after_signing(signed: bytes, text: bytes = b"BT /F1 12 Tf 56 780 Td (Changed) Tj ET") -> bytes:
    """*signed* with its page's content replaced in a later incremental update: every signature stays intact
    over its own revision, but the file says something else than what was signed."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=text))
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def tampered(signed: bytes, marker: bytes) -> bytes:
    """*signed* with one byte changed inside the signed range (the first byte of *marker*)."""
    at = signed.index(marker)
    return signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1:]
