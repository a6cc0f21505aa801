"""Tests for the hostile-input zip reader: tampering recorded, bombs refused, Android's view kept.

Hostile archives are built in memory, with zipfile plus byte patching or with the small raw
builder below (for what zipfile refuses to write: lying sizes, zip64 fields, encryption flags).
"""

from __future__ import annotations

import binascii
import contextlib
import io
import random
import struct
import time
import tracemalloc
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from auditor.containers.zipsafe import ZipAnomaly, ZipArchive, ZipEntry
from auditor.errors import AuditorError, CorruptArchive, LimitExceeded, NotAnAndroidPackage
from auditor.limits import Limits, MiB

LIMITS = Limits()
MAX32 = 0xFFFFFFFF

# Field offsets inside the records, for patching.
CD_FLAGS, CD_METHOD, CD_CRC, CD_CSIZE, CD_USIZE = 8, 10, 16, 20, 24
LFH_FLAGS, LFH_METHOD, LFH_CRC, LFH_CSIZE, LFH_USIZE = 6, 8, 14, 18, 22



def noise(size: int) -> bytes:
    """Incompressible but repeatable bytes (seeded by size), so every CI run sees the same input."""
    return random.Random(size).randbytes(size)

def _corpus_dir() -> Path | None:
    """The shared corpus sits beside the repository (locally /work/shared, in CI a copy)."""
    for candidate in (
        Path(__file__).resolve().parents[2] / "shared" / "corpus",
        Path("/work/shared/corpus"),
    ):
        if candidate.is_dir():
            return candidate
    return None


CORPUS = _corpus_dir()
needs_corpus = pytest.mark.skipif(CORPUS is None, reason="shared corpus not present")


def make_zip(files: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicates we write on purpose
        with zipfile.ZipFile(buffer, "w", method) as archive:
            for name, content in files:
                archive.writestr(name, content)
    return buffer.getvalue()


class Unseekable(io.BytesIO):
    """An output zipfile cannot seek back into, so it writes data descriptors."""

    def seek(self, *args: object) -> int:
        raise OSError("not seekable")


def make_streamed_zip(files: list[tuple[str, bytes]]) -> bytes:
    buffer = Unseekable()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(name, content)
    return buffer.getvalue()


def cd_records(data: bytes) -> list[int]:
    """Offsets of the central-directory records, found through the end record."""
    eocd = data.rindex(b"PK\x05\x06")
    count, _, offset = struct.unpack_from("<HII", data, eocd + 10)
    records, pos = [], offset
    for _ in range(count):
        records.append(pos)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        pos += 46 + name_len + extra_len + comment_len
    return records


def cd_record(data: bytes, name: bytes) -> int:
    for pos in cd_records(data):
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + name_len] == name:
            return pos
    raise KeyError(name)


def local_header(data: bytes, name: bytes) -> int:
    return int(struct.unpack_from("<I", data, cd_record(data, name) + 42)[0])


def patch(data: bytes, pos: int, fmt: str, value: int) -> bytes:
    patched = bytearray(data)
    struct.pack_into(fmt, patched, pos, value)
    return bytes(patched)


def kinds(archive: ZipArchive) -> set[str]:
    return {anomaly.kind for anomaly in archive.anomalies}


def anomaly(archive: ZipArchive, kind: str) -> ZipAnomaly:
    return next(a for a in archive.anomalies if a.kind == kind)


@dataclass
class Raw:
    """One entry for `build`: `payload` is written as is, every header field is ours to set."""

    name: bytes
    payload: bytes
    method: int = 0
    usize: int | None = None
    crc: int | None = None
    flags: int = 0
    zip64: bool = False


def build(entries: list[Raw], *, prefix: bytes = b"", zip64_end: bool = False) -> bytes:
    """A zip whose offsets count from the start of the file (prefix included)."""
    out = bytearray(prefix)
    directory = bytearray()
    for entry in entries:
        usize = len(entry.payload) if entry.usize is None else entry.usize
        crc = zlib.crc32(entry.payload) if entry.crc is None else entry.crc
        csize, offset = len(entry.payload), len(out)
        sizes = (MAX32, MAX32) if entry.zip64 else (csize, usize)
        local_extra = struct.pack("<HHQQ", 1, 16, usize, csize) if entry.zip64 else b""
        out += struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            45,
            entry.flags,
            entry.method,
            0,
            0,
            crc,
            *sizes,
            len(entry.name),
            len(local_extra),
        )
        out += entry.name + local_extra + entry.payload
        cd_extra = struct.pack("<HHQQQ", 1, 24, usize, csize, offset) if entry.zip64 else b""
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            45,
            45,
            entry.flags,
            entry.method,
            0,
            0,
            crc,
            *sizes,
            len(entry.name),
            len(cd_extra),
            0,
            0,
            0,
            0,
            MAX32 if entry.zip64 else offset,
        )
        directory += entry.name + cd_extra
    return bytes(out + directory + _end_records(len(out), len(directory), len(entries), zip64_end))


def _end_records(cd_offset: int, cd_size: int, count: int, zip64: bool) -> bytes:
    if not zip64:
        return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, cd_size, cd_offset, 0)
    record_offset = cd_offset + cd_size
    record = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, cd_size, cd_offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, record_offset, 1)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, MAX32, MAX32, 0)
    return record + locator + eocd


def zero_bomb_stream(gib: int) -> bytes:
    """A raw deflate stream of `gib` GiB of zeros (~1 MB per GiB), built without inflating
    anything: after a full flush the compressor's output for another MiB of zeros repeats."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return segment * (gib * 1024) + compressor.flush()


# --- ordinary archives ---------------------------------------------------------------------


def test_reads_an_ordinary_zip_like_zipfile() -> None:
    files = [("AndroidManifest.xml", b"<manifest/>" * 50), ("classes.dex", b"dex\n035\0" * 999)]
    data = make_zip(files)
    archive = ZipArchive.from_bytes(data, LIMITS)
    assert archive.names() == ["AndroidManifest.xml", "classes.dex"]
    assert archive.has("classes.dex") and not archive.has("classes2.dex")
    assert archive.size == len(data)
    for name, content in files:
        assert archive.read(name) == content
    first = archive.entries()[0]
    assert first == ZipEntry("AndroidManifest.xml", 8, first.compressed_size, 550, zlib.crc32(files[0][1]), 0, 0)
    assert archive.anomalies == []


def test_accepts_memoryview_and_stored_entries() -> None:
    data = make_zip([("resources.arsc", b"\x02\x00\x0c\x00" * 100)], zipfile.ZIP_STORED)
    archive = ZipArchive.from_bytes(memoryview(data), LIMITS)
    assert archive.read("resources.arsc") == b"\x02\x00\x0c\x00" * 100


def test_empty_zip_has_no_entries() -> None:
    archive = ZipArchive.from_bytes(make_zip([]), LIMITS)
    assert archive.names() == [] and archive.anomalies == []


def test_missing_name_raises_key_error() -> None:
    archive = ZipArchive.from_bytes(make_zip([("a", b"x")]), LIMITS)
    with pytest.raises(KeyError):
        archive.read("b")


@pytest.mark.parametrize("data", [b"", b"APK_DEMO_FILE_v1.0.0\n", b"MZ\x90\x00" + bytes(500), b"PK\x05\x06"])
def test_non_zip_input_is_not_an_android_package(data: bytes) -> None:
    with pytest.raises(NotAnAndroidPackage, match="not a zip archive"):
        ZipArchive.from_bytes(data, LIMITS, label="x.apk")


def test_structure_too_broken_to_read_is_corrupt() -> None:
    data = b"junk" * 10 + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, 46, 3, 0)
    with pytest.raises(CorruptArchive):
        ZipArchive.from_bytes(data, LIMITS)


def test_too_many_entries_are_refused() -> None:
    data = make_zip([(f"f{i}", b"") for i in range(11)])
    with pytest.raises(LimitExceeded, match=r"\(limit --max-entries=10\)"):
        ZipArchive.from_bytes(data, Limits(max_entries=10))
    assert len(ZipArchive.from_bytes(data, Limits(max_entries=11)).names()) == 11


def test_too_many_entries_are_refused_when_recovering_from_local_headers() -> None:
    data = make_zip([(f"f{i}", b"") for i in range(11)])
    without_directory = data[: cd_records(data)[0]]
    with pytest.raises(LimitExceeded, match="--max-entries=10"):
        ZipArchive.from_bytes(without_directory, Limits(max_entries=10))


# --- local headers versus the central directory (BadPack) ----------------------------------


def test_tampered_local_method_is_recorded_and_central_directory_used() -> None:
    content = b"dex\n035\0" + bytes(range(256)) * 40
    data = make_zip([("classes.dex", content), ("AndroidManifest.xml", b"m" * 300)])
    tampered = patch(data, local_header(data, b"classes.dex") + LFH_METHOD, "<H", 0x1234)
    archive = ZipArchive.from_bytes(tampered, LIMITS)
    assert archive.read("classes.dex") == content
    assert archive.read("AndroidManifest.xml") == b"m" * 300
    detail = anomaly(archive, "local-header-mismatch").detail
    assert "'classes.dex'" in detail and "method 4660" in detail


def test_tampered_local_sizes_are_recorded_and_ignored() -> None:
    content = b"x" * 5000
    data = make_zip([("classes.dex", content)])
    lfh = local_header(data, b"classes.dex")
    tampered = patch(patch(data, lfh + LFH_CSIZE, "<I", 7), lfh + LFH_USIZE, "<I", 3)
    archive = ZipArchive.from_bytes(tampered, LIMITS)
    assert archive.read("classes.dex") == content
    assert "sizes 7/3" in anomaly(archive, "local-header-mismatch").detail


def test_data_descriptors_are_not_mismatches() -> None:
    archive = ZipArchive.from_bytes(make_streamed_zip([("classes.dex", b"d" * 3000)]), LIMITS)
    assert archive.entries()[0].flags & 0x8
    assert archive.read("classes.dex") == b"d" * 3000
    assert archive.anomalies == []


# --- compression methods ---------------------------------------------------------------------


def _with_method(data: bytes, name: bytes, method: int) -> bytes:
    data = patch(data, cd_record(data, name) + CD_METHOD, "<H", method)
    return patch(data, local_header(data, name) + LFH_METHOD, "<H", method)


def test_unknown_method_on_stored_data_reads_as_stored() -> None:
    """badpack_deflate_mod.apk: method 30208 on a stored manifest, which libandroidfw reads."""
    data = make_zip([("AndroidManifest.xml", b"\x03\x00\x08\x00" * 99)], zipfile.ZIP_STORED)
    archive = ZipArchive.from_bytes(_with_method(data, b"AndroidManifest.xml", 30208), LIMITS)
    assert archive.read("AndroidManifest.xml") == b"\x03\x00\x08\x00" * 99
    assert "method 30208" in anomaly(archive, "unknown-compression").detail
    assert "bad-crc" not in kinds(archive)


def test_unknown_method_on_deflated_data_reads_as_deflate() -> None:
    """weird_compression_method.apk: method 21 on deflated data, which the v1 verifier reads."""
    data = make_zip([("META-INF/CERT.RSA", b"0\x82" * 500)])
    archive = ZipArchive.from_bytes(_with_method(data, b"META-INF/CERT.RSA", 21), LIMITS)
    assert archive.read("META-INF/CERT.RSA") == b"0\x82" * 500
    assert "unknown-compression" in kinds(archive)


def test_undecodable_unknown_method_fails_only_that_entry() -> None:
    data = make_zip([("classes.dex", b"abc" * 1000), ("AndroidManifest.xml", b"m" * 10)])
    archive = ZipArchive.from_bytes(_with_method(data, b"classes.dex", 99), LIMITS)
    assert "unknown-compression" in kinds(archive)
    assert archive.read("AndroidManifest.xml") == b"m" * 10
    raw = Raw(b"classes.dex", noise(300), method=99, usize=900)
    with pytest.raises(CorruptArchive, match="compression method 99"):
        ZipArchive.from_bytes(build([raw]), LIMITS).read("classes.dex")


def test_stored_flag_on_deflated_data_returns_what_android_reads() -> None:
    """Every Android path reads a stored entry as its uncompressed size of raw bytes."""
    content = b"hello " * 1000
    data = make_zip([("classes.dex", content), ("assets/big", noise(9000))])
    archive = ZipArchive.from_bytes(_with_method(data, b"classes.dex", 0), LIMITS)
    assert "stored-size-mismatch" in kinds(archive)
    raw = archive.read("classes.dex")
    assert len(raw) == len(content) and raw != content
    assert "bad-crc" in kinds(archive)


def test_stored_entry_running_past_the_file_fails_only_that_entry() -> None:
    data = make_zip([("classes.dex", b"hello " * 1000)])
    archive = ZipArchive.from_bytes(_with_method(data, b"classes.dex", 0), LIMITS)
    assert "truncated-entry" in kinds(archive)
    with pytest.raises(CorruptArchive, match="past the end of the file"):
        archive.read("classes.dex")


def test_bad_crc_is_recorded_and_data_returned() -> None:
    data = make_zip([("classes.dex", b"payload" * 100)])
    tampered = patch(data, cd_record(data, b"classes.dex") + CD_CRC, "<I", 0xDEADBEEF)
    archive = ZipArchive.from_bytes(tampered, LIMITS)
    assert archive.read("classes.dex") == b"payload" * 100
    assert archive.read("classes.dex") == b"payload" * 100
    bad = [a for a in archive.anomalies if a.kind == "bad-crc"]
    assert len(bad) == 1 and "'classes.dex'" in bad[0].detail and "0xdeadbeef" in bad[0].detail


def test_corrupt_deflate_stream_raises() -> None:
    raw = Raw(b"classes.dex", b"\xff" * 100, method=8, usize=1000)
    with pytest.raises(CorruptArchive, match="not valid deflate"):
        ZipArchive.from_bytes(build([raw]), LIMITS).read("classes.dex")


def test_size_mismatch_is_recorded() -> None:
    stream = zlib.compress(b"a" * 500)[2:-4]
    archive = ZipArchive.from_bytes(build([Raw(b"x", stream, method=8, usize=400)]), LIMITS)
    assert archive.read("x") == b"a" * 500
    assert "size-mismatch" in kinds(archive)


# --- encryption ------------------------------------------------------------------------------


def test_really_encrypted_entry_raises_on_read() -> None:
    content = b"secret" * 100
    payload = noise(len(content) + 12)  # a ZipCrypto header, then ciphertext
    raw = Raw(b"classes.dex", payload, usize=len(content), crc=zlib.crc32(content), flags=1)
    archive = ZipArchive.from_bytes(build([raw, Raw(b"other", b"ok")]), LIMITS)
    assert "'classes.dex'" in anomaly(archive, "encrypted-entry").detail
    with pytest.raises(CorruptArchive, match=r"entry 'classes\.dex' is encrypted"):
        archive.read("classes.dex")
    assert archive.read("other") == b"ok"


def test_really_encrypted_deflate_entry_raises_on_read() -> None:
    raw = Raw(b"a.dex", noise(400), method=8, usize=1000, crc=1, flags=1)
    with pytest.raises(CorruptArchive, match="is encrypted"):
        ZipArchive.from_bytes(build([raw]), LIMITS).read("a.dex")


def test_pseudo_encrypted_entry_is_read_like_android_does() -> None:
    data = make_zip([("classes.dex", b"plain dex" * 50)])
    flagged = patch(data, cd_record(data, b"classes.dex") + CD_FLAGS, "<H", 1)
    flagged = patch(flagged, local_header(flagged, b"classes.dex") + LFH_FLAGS, "<H", 1)
    archive = ZipArchive.from_bytes(flagged, LIMITS)
    assert archive.read("classes.dex") == b"plain dex" * 50
    assert "encrypted-entry" in kinds(archive)


# --- damaged central directory ---------------------------------------------------------------


def test_truncated_central_directory_falls_back_to_local_headers() -> None:
    files = [("resources.arsc", b"r" * 100), ("AndroidManifest.xml", b"m" * 200)]
    data = make_zip([*files, ("classes.dex", b"dex\n" * 300)])
    eocd = data.rindex(b"PK\x05\x06")
    truncated = data[: eocd - 1] + data[eocd:]  # last record loses a byte, as in the corpus
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(truncated))
    archive = ZipArchive.from_bytes(truncated, LIMITS)
    assert archive.names() == ["resources.arsc", "AndroidManifest.xml", "classes.dex"]
    assert archive.read("classes.dex") == b"dex\n" * 300
    assert "2 of 3" in anomaly(archive, "truncated-central-directory").detail
    assert "bad-crc" not in kinds(archive)


def test_missing_central_directory_recovers_entries_with_data_descriptors() -> None:
    data = make_streamed_zip([("AndroidManifest.xml", b"m" * 700), ("classes.dex", noise(2000))])
    cut = data[: data.index(b"PK\x01\x02")]
    archive = ZipArchive.from_bytes(cut, LIMITS)
    assert archive.names() == ["AndroidManifest.xml", "classes.dex"]
    assert archive.read("AndroidManifest.xml") == b"m" * 700
    assert len(archive.read("classes.dex")) == 2000
    assert "no end-of-central-directory" in anomaly(archive, "truncated-central-directory").detail
    assert kinds(archive) == {"truncated-central-directory"}


def test_hidden_records_beyond_the_declared_count_are_recorded() -> None:
    data = make_zip([("a", b"1"), ("b", b"2")])
    eocd = data.rindex(b"PK\x05\x06")
    fewer = patch(patch(data, eocd + 8, "<H", 1), eocd + 10, "<H", 1)
    archive = ZipArchive.from_bytes(fewer, LIMITS)
    assert archive.names() == ["a"]
    assert "entry-count-mismatch" in kinds(archive)


def test_trailing_data_after_the_end_record_is_recorded() -> None:
    archive = ZipArchive.from_bytes(make_zip([("a", b"1")]) + b"trailing junk", LIMITS)
    assert archive.read("a") == b"1"
    assert "data-after-zip" in kinds(archive)


def test_missing_local_header_fails_only_that_entry() -> None:
    data = make_zip([("a", b"1" * 50), ("b", b"2" * 50)])
    broken = patch(data, local_header(data, b"b"), "<I", 0)
    archive = ZipArchive.from_bytes(broken, LIMITS)
    assert "bad-local-header" in kinds(archive)
    assert archive.read("a") == b"1" * 50
    with pytest.raises(CorruptArchive, match="no local header"):
        archive.read("b")


# --- prepended data (Janus) ------------------------------------------------------------------


def test_prefix_with_unshifted_offsets_is_corrected_like_zipfile() -> None:
    prefix = b"dex\n035\0" + bytes(100)
    data = prefix + make_zip([("classes.dex", b"real" * 100)])
    archive = ZipArchive.from_bytes(data, LIMITS)
    assert archive.read("classes.dex") == b"real" * 100
    assert archive.entries()[0].header_offset == len(prefix)
    detail = anomaly(archive, "data-before-zip").detail
    assert "108 bytes" in detail and "Janus" in detail and "corrected by 108" in detail


def test_janus_prefix_with_absolute_offsets() -> None:
    prefix = b"dex\n035\0" + random.Random(20171356).randbytes(200)  # seeded: CI must be repeatable
    data = build([Raw(b"classes.dex", b"inner" * 10)], prefix=prefix)
    archive = ZipArchive.from_bytes(data, LIMITS)
    assert archive.read("classes.dex") == b"inner" * 10
    detail = anomaly(archive, "data-before-zip").detail
    assert detail.startswith("208 bytes") and "dex\\n035" in detail


def test_zipflinger_padding_entries_are_not_a_prefix() -> None:
    virtual = struct.pack("<IHHHHHIIIHH", 0x04034B50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 70) + bytes(70)
    data = build([Raw(b"classes.dex", b"d" * 10)], prefix=virtual)
    assert "data-before-zip" not in kinds(ZipArchive.from_bytes(data, LIMITS))


# --- names ----------------------------------------------------------------------------------


def test_nul_in_name_is_kept_and_recorded() -> None:
    data = make_zip([("test.txtX", b"t"), ("classes.dex", b"d")])
    data = data.replace(b"test.txtX", b"test.txt\x00")
    archive = ZipArchive.from_bytes(data, LIMITS)
    assert archive.read("test.txt\x00") == b"t"
    assert "'test.txt\\x00'" in anomaly(archive, "nul-in-name").detail


def test_duplicate_names_first_wins() -> None:
    data = make_zip([("classes.dex", b"first"), ("a", b""), ("classes.dex", b"second")])
    archive = ZipArchive.from_bytes(data, LIMITS)
    assert archive.names() == ["classes.dex", "a"]
    assert archive.read("classes.dex") == b"first"
    assert len(archive.entries()) == 2
    assert "'classes.dex'" in anomaly(archive, "duplicate-entry").detail


def test_file_used_as_directory_is_recorded() -> None:
    names = ["AndroidManifest.xml", "AndroidManifest.xml!", "AndroidManifest.xml/xyz", "res/"]
    archive = ZipArchive.from_bytes(make_zip([(n, b"") for n in [*names, "res/a"]]), LIMITS)
    collisions = [a.detail for a in archive.anomalies if a.kind == "name-collision-dir"]
    assert len(collisions) == 1 and "'AndroidManifest.xml/xyz'" in collisions[0]


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/path", "a\\..\\b", "C:\\x"])
def test_suspicious_paths_are_kept_and_recorded(name: str) -> None:
    archive = ZipArchive.from_bytes(make_zip([(name, b"x")]), LIMITS)
    assert archive.read(archive.names()[0]) == b"x"
    assert "suspicious-path" in kinds(archive)


def test_ordinary_names_with_dots_are_not_suspicious() -> None:
    archive = ZipArchive.from_bytes(make_zip([("a..b/c...d", b"x"), ("...", b"y")]), LIMITS)
    assert archive.anomalies == []


def test_names_are_utf8_like_android_and_bad_bytes_recorded() -> None:
    data = build([Raw("assets/中文.txt".encode(), b"1"), Raw(b"bad\xff\xfe", b"2")])
    archive = ZipArchive.from_bytes(data, LIMITS)
    assert archive.names() == ["assets/中文.txt", "bad\u00a0\u25a0"]  # cp437 fallback
    assert "invalid-name-encoding" in kinds(archive)


def test_overlapping_entries_are_recorded() -> None:
    data = make_zip([("a", b"1" * 100), ("b", b"2" * 100)])
    first = struct.unpack_from("<I", data, cd_record(data, b"a") + 42)[0]
    overlapping = patch(data, cd_record(data, b"b") + 42, "<I", first)
    archive = ZipArchive.from_bytes(overlapping, LIMITS)
    assert {"overlapping-entries", "local-header-mismatch"} <= kinds(archive)


# --- zip64 ----------------------------------------------------------------------------------


def test_zip64_end_records_and_extra_fields() -> None:
    stream = zlib.compress(b"z" * 9000)[2:-4]
    entries = [Raw(b"classes.dex", stream, 8, 9000, zlib.crc32(b"z" * 9000), zip64=True)]
    entries.append(Raw(b"AndroidManifest.xml", b"m" * 40))
    archive = ZipArchive.from_bytes(build(entries, zip64_end=True), LIMITS)
    assert archive.names() == ["classes.dex", "AndroidManifest.xml"]
    assert archive.entries()[0].uncompressed_size == 9000
    assert archive.read("classes.dex") == b"z" * 9000
    assert archive.read("AndroidManifest.xml") == b"m" * 40
    assert archive.anomalies == []


def test_zip64_entries_written_by_zipfile() -> None:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as writer,
        writer.open("classes.dex", "w", force_zip64=True) as entry,
    ):
        entry.write(b"q" * 5000)
    archive = ZipArchive.from_bytes(buffer.getvalue(), LIMITS)
    assert archive.read("classes.dex") == b"q" * 5000
    assert archive.anomalies == []


# --- bombs and limits -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb_stream() -> bytes:
    return zero_bomb_stream(10)


def _refusal(archive: ZipArchive, name: str, **kwargs: int) -> tuple[str, int]:
    """The LimitExceeded message and the peak of traced memory while the read was refused."""
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceeded) as refused:
            archive.read(name, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(refused.value), peak


def test_zip_bomb_with_lying_size_is_refused_fast_and_small(bomb_stream: bytes) -> None:
    assert 9 * MiB < len(bomb_stream) < 12 * MiB  # ~10 MB that would inflate to 10 GiB
    data = build([Raw(b"classes.dex", bomb_stream, method=8, usize=4 * MiB, crc=0)])
    archive = ZipArchive.from_bytes(data, LIMITS)
    message, peak = _refusal(archive, "classes.dex")
    assert "(limit --max-ratio=200)" in message and "'classes.dex'" in message
    assert peak < 16 * MiB  # stopped after about one chunk: memory, not wall time, is the repeatable proof


def test_zip_bomb_with_honest_zip64_size_is_refused_before_inflating(bomb_stream: bytes) -> None:
    bomb = Raw(b"classes.dex", bomb_stream, method=8, usize=10 * 1024 * MiB, crc=0, zip64=True)
    archive = ZipArchive.from_bytes(build([bomb]), LIMITS)
    assert archive.entries()[0].uncompressed_size == 10 * 1024 * MiB
    message, peak = _refusal(archive, "classes.dex")
    assert "(limit --max-unpacked: " in message and peak < 4 * MiB


def test_bomb_under_the_ratio_limit_hits_the_unpacked_budget(bomb_stream: bytes) -> None:
    limits = Limits(max_ratio=10**6, max_unpacked_bytes=8 * MiB)
    data = build([Raw(b"classes.dex", bomb_stream, method=8, usize=MiB, crc=0)])
    message, peak = _refusal(ZipArchive.from_bytes(data, limits), "classes.dex")
    assert f"(limit --max-unpacked: {8 * MiB} bytes)" in message
    assert peak < 24 * MiB


def test_max_bytes_is_enforced_while_streaming() -> None:
    content = binascii.hexlify(noise(3 * MiB // 2))  # compresses about 2:1
    stream = zlib.compress(content)[2:-4]
    archive = ZipArchive.from_bytes(build([Raw(b"a.dex", stream, 8, usize=1000)]), LIMITS)
    message, _ = _refusal(archive, "a.dex", max_bytes=2 * MiB)
    assert f"more than {2 * MiB} bytes (limit max_bytes)" in message
    assert len(archive.read("a.dex", max_bytes=4 * MiB)) == 3 * MiB


def test_declared_size_over_max_bytes_is_refused_at_once() -> None:
    archive = ZipArchive.from_bytes(make_zip([("a", b"x" * 5000)]), LIMITS)
    with pytest.raises(LimitExceeded, match="more than 4999 bytes"):
        archive.read("a", max_bytes=4999)


def test_unpacked_budget_is_shared_across_reads() -> None:
    data = make_zip([("a", b"1" * 2000), ("b", b"2" * 2000)])
    archive = ZipArchive.from_bytes(data, Limits(max_unpacked_bytes=3000))
    assert archive.read("a") == b"1" * 2000
    with pytest.raises(LimitExceeded, match="--max-unpacked: 3000 bytes"):
        archive.read("b")


def test_a_kept_entry_is_decoded_once_and_counted_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    archive = ZipArchive.from_bytes(make_zip([("resources.arsc", noise(2000))]), Limits(max_unpacked_bytes=5000))
    first = archive.read("resources.arsc", keep=True)
    monkeypatch.setattr(archive, "_decode", lambda *_: pytest.fail("a kept entry was inflated again"))
    with pytest.raises(LimitExceeded, match="more than 1999 bytes"):
        archive.read("resources.arsc", max_bytes=1999)
    assert archive.read("resources.arsc") == first
    with pytest.raises(LimitExceeded, match="--max-unpacked: 5000 bytes"):  # 2000 + 2000 used: the budget still counts it
        archive.read("resources.arsc")


def test_a_damaged_entry_is_not_kept() -> None:
    data = bytearray(make_zip([("a", b"x" * 100)], zipfile.ZIP_STORED))
    data[data.index(b"x" * 100)] = ord("y")  # the CRC no longer matches
    archive = ZipArchive.from_bytes(bytes(data), LIMITS)
    archive.read("a", keep=True)
    archive.read("a")
    assert archive.damage("a") == ("zip entry CRC does not match",) * 2  # checked again, as without keep


def test_small_entries_may_have_any_ratio() -> None:
    content = bytes(1000 * 1024)  # ~1000:1, but under 1 MiB
    archive = ZipArchive.from_bytes(make_zip([("zeros", content)]), LIMITS)
    assert archive.read("zeros") == content


# --- performance ----------------------------------------------------------------------------


def test_parsing_a_50_mb_apk_with_5000_entries_is_fast() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as writer:
        for index in range(5000):
            writer.writestr(f"res/drawable-xhdpi/icon_{index}.png", b"\x89PNG" + bytes(16))
        writer.writestr("assets/blob.bin", bytes(50 * MiB))
    data = buffer.getvalue()
    timings = []
    for _ in range(3):
        started = time.process_time()
        archive = ZipArchive.from_bytes(data, LIMITS)
        timings.append(time.process_time() - started)
    assert len(archive.names()) == 5001
    assert min(timings) < 0.1, f"from_bytes took {min(timings) * 1000:.1f} ms"


def test_reading_a_10_mb_dex_is_dominated_by_zlib() -> None:
    content = binascii.hexlify(noise(5 * MiB))
    archive = ZipArchive.from_bytes(make_zip([("classes.dex", content)]), LIMITS)
    stream = zlib.compress(content)
    ours, plain = [], []
    for _ in range(3):
        started = time.perf_counter()
        assert archive.read("classes.dex") == content
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        zlib.crc32(zlib.decompress(stream))
        plain.append(time.perf_counter() - started)
    assert min(ours) < 2 * min(plain) + 0.01


# --- the real corpus ------------------------------------------------------------------------


def _corpus_files() -> list[Path]:
    if CORPUS is None:
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in {".apk", ".apks"})


@needs_corpus
@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_file_parses_or_fails_cleanly(path: Path) -> None:
    try:
        archive = ZipArchive.from_bytes(path.read_bytes(), LIMITS, label=path.name)
    except AuditorError:
        return
    for name in archive.names():
        with contextlib.suppress(AuditorError):
            archive.read(name)
    assert all("\n" not in a.detail for a in archive.anomalies)


def _corpus_archive(name: str) -> ZipArchive:
    assert CORPUS is not None
    return ZipArchive.from_bytes((CORPUS / "malformed" / name).read_bytes(), LIMITS)


@needs_corpus
def test_corpus_badpack_manifest_and_dex_are_readable() -> None:
    archive = _corpus_archive("badpack_deflate_mod.apk")
    manifest = archive.read("AndroidManifest.xml")  # binary XML, its magic zeroed too
    assert len(manifest) == 2084 and manifest[2:4] == b"\x08\x00"
    assert archive.read("classes.dex").startswith(b"dex\n")
    assert "'AndroidManifest.xml'" in anomaly(archive, "unknown-compression").detail
    assert "bad-crc" not in kinds(archive)


@needs_corpus
def test_corpus_weird_compression_method_is_readable() -> None:
    archive = _corpus_archive("weird_compression_method.apk")
    assert len(archive.read("META-INF/CERT.RSA")) == 1160
    assert "unknown-compression" in kinds(archive) and "bad-crc" not in kinds(archive)


@needs_corpus
def test_corpus_truncated_central_directory_still_yields_the_dex() -> None:
    archive = _corpus_archive("truncated_central_directory.apk")
    assert archive.read("classes.dex").startswith(b"dex\n")
    assert "truncated-central-directory" in kinds(archive)
    assert "bad-crc" not in kinds(archive)


@needs_corpus
def test_corpus_janus_prefix_is_recorded() -> None:
    archive = _corpus_archive("janus_CVE-2017-13156.apk")
    assert "Janus" in anomaly(archive, "data-before-zip").detail
    assert archive.read("classes.dex").startswith(b"dex\n")


@needs_corpus
def test_corpus_nul_in_entry_name_is_recorded() -> None:
    archive = _corpus_archive("nul_in_entry_name.apk")
    assert archive.has("test.txt\x00") and "nul-in-name" in kinds(archive)


@needs_corpus
@pytest.mark.parametrize("name", ["farseer_pe32_named_apk.apk", "loanbondhu_text_not_zip.apk"])
def test_corpus_non_zips_are_not_android_packages(name: str) -> None:
    with pytest.raises(NotAnAndroidPackage):
        _corpus_archive(name)


def test_head_inflates_only_what_it_returns(bomb_stream: bytes) -> None:
    archive = ZipArchive.from_bytes(build([Raw(b"assets/big", bomb_stream, method=8, usize=10 * 1024 * MiB, crc=0, zip64=True),
                                           Raw(b"assets/plain", b"stored bytes" * 1000)]), LIMITS)
    tracemalloc.start()
    try:
        head = archive.head("assets/big", 4096)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert head == b"\0" * 4096 and peak < 4 * MiB
    assert archive.head("assets/plain", 12) == b"stored bytes"
