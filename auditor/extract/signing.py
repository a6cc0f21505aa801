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
    from asn1crypto import cms

    out: list[bytes] = []
    for name in piece.archive.names():
        if name.startswith("META-INF/") and name.upper().endswith((".RSA", ".DSA", ".EC")):
            info = cms.ContentInfo.load(piece.archive.read(name, max_bytes=1 << 20))
            out.extend(cert.chosen.dump() for cert in info["content"]["certificates"] or [])
    return out


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
