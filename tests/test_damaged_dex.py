"""A dex that is not whole (truncated, sizes or checksum wrong, zip CRC wrong) is never analysed
as if it were: the app is `assessable: false` with the damage in words, whatever its code shows."""

from __future__ import annotations

import hashlib
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.dex import integrity
from tests.conftest import FIXTURES
from tests.test_hostile_input import _audit, _rezip

UPLOAD = FIXTURES / "apk" / "contacts_upload.apk"
DEX = zipfile.ZipFile(UPLOAD).read("classes.dex")


def fix_checksums(dex: bytearray, sha1: bool = True) -> bytes:
    """Recompute the SHA-1 (unless told not to) and then the Adler-32, as an editing tool would."""
    if sha1:
        dex[12:32] = hashlib.sha1(dex[32:]).digest()
    struct.pack_into("<I", dex, 8, zlib.adler32(bytes(dex[12:])))
    return bytes(dex)


def truncated(dex: bytes) -> bytes:
    return dex[: len(dex) - 64]


def truncated_header_agrees(dex: bytes) -> bytes:
    """Cut short, with the size field and both hashes made to agree: only the tables can tell."""
    cut = bytearray(dex[: len(dex) - 64])
    struct.pack_into("<I", cut, 0x20, len(cut))
    return fix_checksums(cut)


def size_field(dex: bytes) -> bytes:
    edited = bytearray(dex)
    struct.pack_into("<I", edited, 0x20, len(dex) + 4096)
    return fix_checksums(edited)


def header_size_field(dex: bytes) -> bytes:
    edited = bytearray(dex)
    struct.pack_into("<I", edited, 0x24, 0x78)
    return fix_checksums(edited)


def flipped_bits(dex: bytes) -> bytes:
    """Bits flipped inside the code, hashes left alone (a damaged copy)."""
    edited = bytearray(dex)
    for pos in range(len(dex) // 2, len(dex) // 2 + 8):
        edited[pos] ^= 0xFF
    return bytes(edited)


DAMAGE: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "truncated": (truncated, "truncated: "),
    "size-field": (size_field, "truncated: "),
    "header-size": (header_size_field, "header size field is 120, not 112"),
    "adler32": (flipped_bits, "Adler-32 checksum does not match"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_damaged_dex_makes_the_app_not_assessable(rules, tmp_path: Path, case: str) -> None:
    damage, words = DAMAGE[case]
    result = _audit(rules, tmp_path, _rezip(UPLOAD, {"classes.dex": damage(DEX)}))
    assert result.ok and result.facts is not None
    assert not result.facts.assessable, "a damaged dex must not be analysed as if whole"
    reason = next(r for r in result.facts.assessability if "classes.dex is damaged" in r)
    assert words in reason and reason.startswith("dex file could not be read in full")
    assert "CEA-HIDDEN-NOT-ASSESSABLE" in {f.rule_id for f in result.findings}


def test_truncated_dex_with_agreeing_header_is_not_assessable(rules, tmp_path: Path) -> None:
    result = _audit(rules, tmp_path, _rezip(UPLOAD, {"classes.dex": truncated_header_agrees(DEX)}))
    assert result.ok and result.facts is not None and not result.facts.assessable


def test_zip_crc_mismatch_on_a_dex_is_damage(rules, tmp_path: Path) -> None:
    apk = bytearray(_rezip(UPLOAD, {}))
    for signature, name_at, crc_at in ((b"PK\x03\x04", 30, 14), (b"PK\x01\x02", 46, 16)):
        pos = apk.find(signature)
        while pos >= 0:
            if apk[pos + name_at:pos + name_at + 11] == b"classes.dex":
                apk[pos + crc_at:pos + crc_at + 4] = b"\xde\xad\xbe\xef"
            pos = apk.find(signature, pos + 4)
    result = _audit(rules, tmp_path, bytes(apk))
    assert result.ok and result.facts is not None and not result.facts.assessable
    assert any("classes.dex is damaged: zip entry CRC does not match" in r for r in result.facts.assessability)


def test_sha1_edited_with_checksum_recomputed_is_anti_analysis_not_damage(rules, tmp_path: Path) -> None:
    """ART ignores the SHA-1; a wrong one beside a right Adler-32 is a deliberate edit of a whole file."""
    assert b"collect.example" in DEX
    edited = fix_checksums(bytearray(DEX.replace(b"collect.example", b"collecx.example")), sha1=False)
    assert integrity.damage(edited) == [] and not integrity.sha1_ok(edited)
    result = _audit(rules, tmp_path, _rezip(UPLOAD, {"classes.dex": edited}))
    assert result.ok and result.facts is not None and result.facts.assessable
    assert any("SHA-1 signature does not match" in e.value for e in result.facts.flags["anti_analysis"])


def test_whole_fixture_dex_files_have_no_damage() -> None:
    for apk in sorted((FIXTURES / "apk").glob("*.apk")):
        with zipfile.ZipFile(apk) as archive:
            for name in archive.namelist():
                if name.endswith(".dex"):
                    data = archive.read(name)
                    assert integrity.damage(data) == [] and integrity.sha1_ok(data), f"{apk.name}!{name}"
