"""v1 signature certificates: the plain-DER reader gives what asn1crypto gives, and hands it anything else."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from auditor.extract.signing import _asn1crypto_certs, _der_certs

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _signatures() -> list[bytes]:
    found = []
    for apk in sorted((FIXTURES / "apk").glob("*.apk")):
        with zipfile.ZipFile(apk) as archive:
            found += [archive.read(n) for n in archive.namelist()
                      if n.startswith("META-INF/") and n.upper().endswith((".RSA", ".DSA", ".EC"))]
    return found


def test_der_reader_matches_asn1crypto_on_every_fixture_signature() -> None:
    signatures = _signatures()
    assert len(signatures) > 10
    for signature in signatures:
        certs = _der_certs(signature)
        assert certs and certs == _asn1crypto_certs(signature)


def _indefinite(signature: bytes) -> bytes:
    """The same ContentInfo with its outer length in BER's indefinite form (0x80 ... 00 00)."""
    count = signature[1] & 0x7F if signature[1] & 0x80 else 0
    return b"\x30\x80" + signature[2 + count:] + b"\x00\x00"


def test_anything_but_plain_der_goes_to_asn1crypto() -> None:
    signature = _signatures()[0]
    ber = _indefinite(signature)
    with pytest.raises(ValueError):
        _der_certs(ber)
    assert _asn1crypto_certs(ber) == _der_certs(signature)  # asn1crypto reads BER: same certificates
    for broken in (b"", b"\x30", signature[:40], b"\x31" + signature[1:]):
        with pytest.raises(ValueError):
            _der_certs(broken)
