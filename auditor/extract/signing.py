"""SHA-256 fingerprints of an APK's signing certificates (v1 JAR signature, v2/v3 signing block).

Read from the bytes we already hold: the v2/v3 APK Signing Block sits just before the central
directory; v1 certificates are in META-INF/*.RSA|DSA|EC (PKCS#7). A malformed block yields no
fingerprint rather than an error: a missing signature is itself worth showing.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable

from auditor.containers import ApkPiece

SIG_BLOCK_MAGIC = b"APK Sig Block 42"
V2_ID, V3_ID, V31_ID = 0x7109871A, 0xF05368C0, 0x1B93AD61
SIGNED_DATA_OID = bytes.fromhex("2a864886f70d010702")
"""1.2.840.113549.1.7.2, id-signedData (RFC 5652, 5.1), as DER content bytes."""


def _prefixed(data: bytes, pos: int, end: int) -> tuple[bytes, int]:
    (size,) = struct.unpack_from("<I", data, pos)
    start = pos + 4
    if start + size > end:
        raise ValueError("length prefix runs past its parent")
    return data[start:start + size], start + size


def _sequence(blob: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos + 4 <= len(blob):
        item, pos = _prefixed(blob, pos, len(blob))
        out.append(item)
    return out


def _block_certs(data: bytes) -> list[bytes]:
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if eocd < 0:
        return []
    (cd_offset,) = struct.unpack_from("<I", data, eocd + 16)
    if cd_offset < 32 or data[cd_offset - 16:cd_offset] != SIG_BLOCK_MAGIC:
        return []
    (size,) = struct.unpack_from("<Q", data, cd_offset - 24)
    start = cd_offset - size - 8
    if start < 0:
        return []
    pos, end = start + 8, cd_offset - 24
    certs: list[bytes] = []
    while pos + 12 <= end:
        (pair_len,) = struct.unpack_from("<Q", data, pos)
        (pair_id,) = struct.unpack_from("<I", data, pos + 8)
        value = data[pos + 12:pos + 8 + pair_len]
        if pair_id in (V2_ID, V3_ID, V31_ID):
            for signer in _sequence(_prefixed(value, 0, len(value))[0]):
                signed_data, _ = _prefixed(signer, 0, len(signer))
                _digests, pos2 = _prefixed(signed_data, 0, len(signed_data))
                certs.extend(_sequence(_prefixed(signed_data, pos2, len(signed_data))[0]))
        pos += 8 + pair_len
    return certs


def _v1_certs(piece: ApkPiece) -> list[bytes]:
    out: list[bytes] = []
    for name in piece.archive.names():
        if name.startswith("META-INF/") and name.upper().endswith((".RSA", ".DSA", ".EC")):
            signature = piece.archive.read(name, max_bytes=1 << 20)
            try:
                out.extend(_der_certs(signature))
            except ValueError:
                out.extend(_asn1crypto_certs(signature))
    return out


def _asn1crypto_certs(signature: bytes) -> list[bytes]:
    """The certificates of a PKCS#7 signature as asn1crypto reads it: BER, odd choices, its errors."""
    from asn1crypto import cms  # 18 ms to import: only for what _der_certs does not take

    info = cms.ContentInfo.load(signature)
    return [cert.chosen.dump() for cert in info["content"]["certificates"] or []]


def _tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at `pos`; ValueError for anything else."""
    if pos + 2 > end or data[pos] & 0x1F == 0x1F:
        raise ValueError("no element, or a multi-byte tag")
    first, start = data[pos + 1], pos + 2
    if first & 0x80:
        count = first & 0x7F
        if not 1 <= count <= 4:
            raise ValueError("indefinite or oversized length")
        first, start = int.from_bytes(data[start:start + count], "big"), start + count
    if start + first > end:
        raise ValueError("element runs past its parent")
    return data[pos], start, start + first


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, content start, content end) of each element between start and end."""
    out = []
    while start < end:
        tag, body, stop = _tlv(data, start, end)
        out.append((tag, start, body, stop))
        start = stop
    return out


def _der_certs(signature: bytes) -> list[bytes]:
    """The certificates of a PKCS#7 SignedData in plain DER, without asn1crypto (the usual v1 signature).

    ContentInfo { signedData OID, [0] SignedData { version, digestAlgorithms, encapContentInfo,
    [0] certificates?, [1] crls?, signerInfos } } (RFC 5652, 5.1): each certificate is its
    element's bytes, as asn1crypto dumps them. Anything else (BER lengths, another content type,
    other certificate choices) raises ValueError, and asn1crypto reads it instead.
    """
    tag, body, end = _tlv(signature, 0, len(signature))
    top = _children(signature, body, end) if tag == 0x30 else []
    if [t for t, *_ in top] != [0x06, 0xA0] or signature[top[0][2]:top[0][3]] != SIGNED_DATA_OID:
        raise ValueError("not a ContentInfo of SignedData")
    inner = _children(signature, top[1][2], top[1][3])
    if len(inner) != 1 or inner[0][0] != 0x30:
        raise ValueError("not one SignedData")
    fields = _children(signature, inner[0][2], inner[0][3])
    tags = [t for t, *_ in fields]
    if tags not in ([0x02, 0x31, 0x30, 0xA0, 0x31], [0x02, 0x31, 0x30, 0xA0, 0xA1, 0x31]):
        raise ValueError("SignedData fields are not the usual ones")
    certs = _children(signature, fields[3][2], fields[3][3])
    if any(t != 0x30 for t, *_ in certs):
        raise ValueError("a certificate choice other than a plain certificate")
    return [signature[start:stop] for _t, start, _body, stop in certs]


def cert_fingerprints(piece: ApkPiece) -> tuple[str, ...]:
    """Distinct SHA-256 fingerprints of the certificates signing this APK, v2/v3 first."""
    certs: list[bytes] = []
    readers: tuple[Callable[[], list[bytes]], ...] = (lambda: _block_certs(piece.data), lambda: _v1_certs(piece))
    for reader in readers:
        try:
            certs.extend(reader())
        except MemoryError:
            raise  # missing certificates would be cached as part of an ok result
        except Exception:
            continue
    return tuple(dict.fromkeys(hashlib.sha256(c).hexdigest() for c in certs))
