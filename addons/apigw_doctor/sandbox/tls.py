"""A throwaway CA and one leaf certificate for every host name the sandbox answers for."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SANDBOX_DNS_NAMES: tuple[str, ...] = (
    "*.execute-api.us-east-1.amazonaws.com",
    "*.execute-api.eu-west-1.amazonaws.com",
    "*.lambda-url.us-east-1.on.aws",
    "*.auth.us-east-1.amazoncognito.com",
    "cognito-idp.us-east-1.amazonaws.com",
    "cognito-identity.us-east-1.amazonaws.com",
    "api.sandbox.example",  # config.CUSTOM_DOMAIN
    "localhost",
)
SANDBOX_IPS: tuple[str, ...] = ("127.0.0.1",)


@dataclass(frozen=True, slots=True)
class CertPaths:
    ca: Path  # trust this one (httpx verify=, mitmproxy ssl_verify_upstream_trusted_ca)
    cert: Path  # leaf followed by the CA, as a server sends its chain
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "apigw-doctor sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """Signing keys only (EC): a CA may sign certificates and CRLs, a leaf only handshakes."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def make_certs(
    directory: str | Path,
    dns_names: tuple[str, ...] = SANDBOX_DNS_NAMES,
    ips: tuple[str, ...] = SANDBOX_IPS,
    days: int = 30,
) -> CertPaths:
    """Write ca.pem, leaf.pem and leaf-key.pem into `directory` (created if needed) and return their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    not_before = now - datetime.timedelta(days=1)
    not_after = now + datetime.timedelta(days=days)

    # EC keys: generating them is far faster than RSA, and nothing here needs RSA.
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("apigw-doctor sandbox CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _key_usage(ca=True),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_names[0] if dns_names else "sandbox"))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(ca=False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
        # Python 3.13's default context sets VERIFY_X509_STRICT, which rejects a leaf without an AKI.
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    paths = CertPaths(ca=out / "ca.pem", cert=out / "leaf.pem", key=out / "leaf-key.pem")
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    paths.ca.write_bytes(ca_pem)
    paths.cert.write_bytes(leaf_cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
    paths.key.write_bytes(_pem_key(leaf_key))
    paths.key.chmod(0o600)
    return paths
