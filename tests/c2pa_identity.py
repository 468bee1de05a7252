"""Test C2PA signing identities made with ``cryptography`` (no key or certificate is stored in
the repository): a root CA and a signing certificate it issued, with the profile C2PA asks for
(digitalSignature, emailProtection, an authority key identifier, not self-signed), and a few
bad ones. Used by tests/output/test_provenance.py and tests/batch/test_sign.py."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PEM = serialization.Encoding.PEM


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tests"),
        ]
    )


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def certificate(subject, issuer, public, signer, *, ca: bool, eku: bool = True, days: int = 30):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(ca=ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if issuer != subject:  # C2PA's profile wants the issuer's key named
        issuer_public = signer.public_key()
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False
        )
    if not ca and eku:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=True
        )
    return builder.sign(signer, hashes.SHA256())


def key_pem(key, fmt=serialization.PrivateFormat.PKCS8, encryption=None) -> bytes:
    return key.private_bytes(PEM, fmt, encryption or serialization.NoEncryption())


def write_identity(folder: Path) -> dict[str, Path]:
    """A root CA, a signing certificate it issued (P-256), their PEM files in ``folder``
    (``key``, ``chain``: the signing certificate then the root, ``root``), and a few bad ones."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = certificate(_name("test root"), _name("test root"), root_key.public_key(), root_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = certificate(_name("stillcam test signer"), root.subject, key.public_key(), root_key, ca=False)
    files = {
        "key": key_pem(key),
        "sec1_key": key_pem(key, serialization.PrivateFormat.TraditionalOpenSSL),
        "chain": leaf.public_bytes(PEM) + root.public_bytes(PEM),
        "root": root.public_bytes(PEM),
        "other_key": key_pem(ec.generate_private_key(ec.SECP256R1())),
        "encrypted_key": key_pem(key, encryption=serialization.BestAvailableEncryption(b"secret passphrase")),
        "garbage": b"not a PEM file\n",
    }
    self_key = ec.generate_private_key(ec.SECP256R1())
    files["self_key"] = key_pem(self_key)
    files["self_cert"] = certificate(
        _name("self"), _name("self"), self_key.public_key(), self_key, ca=False
    ).public_bytes(PEM)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    files["small_rsa_key"] = key_pem(small)
    files["small_rsa_cert"] = certificate(
        _name("rsa"), root.subject, small.public_key(), root_key, ca=False
    ).public_bytes(PEM)
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.pem"
        paths[name].write_bytes(data)
    return paths
