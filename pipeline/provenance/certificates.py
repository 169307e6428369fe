"""The certificates that sign Content Credentials: a root certificate authority and an ES256
signing certificate issued by it, as C2PA validators expect them (key usage digitalSignature,
extended key usage emailProtection, subject and authority key identifiers).

`ensure_identity` makes both on first use and keeps them in a folder; operators can bring their
own chain and key instead (`load_identity`). Private keys are written readable by the owner
only.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pipeline.once import build_once

ROOT_FILE = "root.pem"
ROOT_KEY_FILE = "root.key"
CHAIN_FILE = "signing-chain.pem"
KEY_FILE = "signing.key"


class CertificateError(Exception):
    """Certificates or keys are missing, unreadable or do not belong together."""


@dataclass(frozen=True)
class SigningIdentity:
    chain_pem: bytes
    """The signing certificate, then the certificates that issued it (root last or absent)."""
    key_pem: bytes
    root_pem: bytes
    """The trust anchor validators are given: the root the chain ends in."""

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificates(self.chain_pem)[0]

    @property
    def issuer(self) -> str:
        return self.certificate.subject.rfc4514_string()


def _name(organization: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def create_identity(
    organization: str = "OpenReel", *, years: int = 10
) -> tuple[SigningIdentity, bytes]:
    """A new root and signing certificate; returns the identity and the root's private key."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate clocks a little behind
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(organization, f"{organization} provenance root")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(organization, f"{organization} content credentials"))
        .issuer_name(root_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * years - 1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    root_pem = root.public_bytes(pem)
    identity = SigningIdentity(
        chain_pem=leaf.public_bytes(pem) + root_pem,
        key_pem=_private_pem(leaf_key),
        root_pem=root_pem,
    )
    return identity, _private_pem(root_key)


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_identity(chain: Path, key: Path, root: Path | None = None) -> SigningIdentity:
    """An operator's chain (signing certificate first) and its private key; `root` is the trust
    anchor, by default the last certificate of the chain."""
    try:
        chain_pem = Path(chain).read_bytes()
        key_pem = Path(key).read_bytes()
        root_pem = Path(root).read_bytes() if root is not None else None
    except OSError as exc:
        raise CertificateError(f"cannot read {exc.filename}: {exc.strerror}") from None
    try:
        certificates = x509.load_pem_x509_certificates(chain_pem)
        private_key = serialization.load_pem_private_key(key_pem, password=None)
        if root_pem is None:
            root_pem = certificates[-1].public_bytes(serialization.Encoding.PEM)
        x509.load_pem_x509_certificate(root_pem)
    except (ValueError, TypeError) as exc:
        raise CertificateError(f"{chain} / {key}: {exc}") from None
    leaf_public = (
        certificates[0]
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    key_public = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if leaf_public != key_public:
        raise CertificateError(f"{key} is not the private key of the first certificate in {chain}")
    if (
        not isinstance(private_key, ec.EllipticCurvePrivateKey)
        or private_key.curve.name != "secp256r1"
    ):
        raise CertificateError(f"{key}: the signing key must be an ECDSA P-256 key (ES256)")
    return SigningIdentity(chain_pem=chain_pem, key_pem=key_pem, root_pem=root_pem)


def ensure_identity(directory: Path, organization: str = "OpenReel") -> SigningIdentity:
    """The identity kept in `directory`, made there on first use.

    Several processes may start at once: each builds its files in a scratch folder and the
    first to rename it into place wins; the others read what it wrote."""

    def write(scratch: Path) -> None:
        identity, root_key = create_identity(organization)
        for name, data, private in (
            (ROOT_FILE, identity.root_pem, False),
            (ROOT_KEY_FILE, root_key, True),
            (CHAIN_FILE, identity.chain_pem, False),
            (KEY_FILE, identity.key_pem, True),
        ):
            _write(scratch / name, data, private)

    directory = build_once(Path(directory), CHAIN_FILE, write)
    return load_identity(directory / CHAIN_FILE, directory / KEY_FILE, directory / ROOT_FILE)


def _write(path: Path, data: bytes, private: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
