"""Hostile input through the whole pipeline: tampering is evidence, limits are named, nothing crashes."""

from __future__ import annotations

import io
import random
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from auditor.limits import Limits
from auditor.pipeline import audit_path
from tests.conftest import FIXTURES

BENIGN = FIXTURES / "apk" / "benign.apk"


def _rezip(source: Path, replace: dict[str, bytes], extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item.filename, replace.get(item.filename, old.read(item.filename)))
        for name, data in (extra or {}).items():
            new.writestr(name, data)
    return buffer.getvalue()


def _audit(rules, tmp_path: Path, data: bytes, name: str = "x.apk", limits: Limits | None = None):
    path = tmp_path / name
    path.write_bytes(data)
    return audit_path(str(path), rules, limits or Limits())


def test_dex_edited_after_build_is_anti_analysis(rules, tmp_path: Path) -> None:
    dex = bytearray(zipfile.ZipFile(BENIGN).read("classes.dex"))
    dex[-1] ^= 0xFF
    result = _audit(rules, tmp_path, _rezip(BENIGN, {"classes.dex": bytes(dex)}))
    assert result.ok
    assert any("checksum" in e.value for e in result.facts.flags["anti_analysis"])
    assert result.score.band != "none"


def test_dex_with_broken_header_is_not_assessable(rules, tmp_path: Path) -> None:
    broken = b"dex\n035\0" + b"\xff" * 200
    result = _audit(rules, tmp_path, _rezip(BENIGN, {"classes.dex": broken}))
    assert result.ok and not result.facts.assessable
    assert "CEA-HIDDEN-NOT-ASSESSABLE" in {f.rule_id for f in result.findings}


def _bomb(manifest: bytes, gib: int = 1) -> bytes:
    """An APK whose classes.dex is a ~1 MB deflate stream of `gib` GiB of zeros.

    zipfile cannot write a pre-compressed entry, so the stream is stored and the two headers'
    method and uncompressed-size fields are then patched to say 'deflated, 1 GiB'.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = b"\0" * (1 << 20)
    stream = b"".join(compressor.compress(zeros) for _ in range(1024 * gib)) + compressor.flush()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("AndroidManifest.xml", manifest)
        archive.writestr("classes.dex", stream)
    return deflated_with_size(buffer.getvalue(), b"classes.dex", (1 << 30) * gib - 1)


def deflated_with_size(apk: bytes, name: bytes, size: int) -> bytes:
    """`apk` with entry `name` (stored, holding a raw deflate stream) relabelled in both headers
    as deflated and `size` bytes long, so a bomb can claim any size."""
    data = bytearray(apk)
    for signature, name_len_at, name_at, method_at, size_at in ((b"PK\x03\x04", 26, 30, 8, 22),
                                                                (b"PK\x01\x02", 28, 46, 10, 24)):
        pos = data.find(signature)
        while pos >= 0:
            length = int.from_bytes(data[pos + name_len_at:pos + name_len_at + 2], "little")
            if data[pos + name_at:pos + name_at + length] == name:
                data[pos + method_at:pos + method_at + 2] = (8).to_bytes(2, "little")
                data[pos + size_at:pos + size_at + 4] = size.to_bytes(4, "little")
            pos = data.find(signature, pos + 4)
    return bytes(data)


def test_zip_bomb_is_refused_with_flat_memory_and_the_limit_named(rules, tmp_path: Path) -> None:
    bomb = _bomb(zipfile.ZipFile(BENIGN).read("AndroidManifest.xml"))
    tracemalloc.start()
    try:
        result = _audit(rules, tmp_path, bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024, "refused without inflating the gigabyte"
    assert result.status == "error" and result.error_kind == "limit-exceeded"
    assert "limit" in result.error


def test_bundle_nested_too_deep_is_refused(rules, tmp_path: Path) -> None:
    inner = FIXTURES.joinpath("bundles", "bundle.xapk").read_bytes()
    middle = io.BytesIO()
    with zipfile.ZipFile(middle, "w") as archive:
        archive.writestr("toc.pb", b"")
        archive.writestr("splits/nested.apk", inner)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as archive:
        archive.writestr("toc.pb", b"")
        archive.writestr("splits/nested.apk", middle.getvalue())
    result = _audit(rules, tmp_path, outer.getvalue(), "deep.apks", Limits(max_nesting=2))
    assert result.status == "error" and "--max-nesting" in result.error


@pytest.mark.parametrize(("content", "words"), [(b"MZ" + b"\0" * 300, "Windows executable"),
                                                (b"hello, I am not an apk\n" * 10, "text file"),
                                                (b"", "empty file")])
def test_disguised_files_are_one_line_errors(rules, tmp_path: Path, content: bytes, words: str) -> None:
    result = _audit(rules, tmp_path, content)
    assert result.status == "error" and words in result.error and "\n" not in result.error


def test_unpacked_limit_counts_every_nested_archive(rules, tmp_path: Path) -> None:
    """Six splits of 4 MiB dex each: each under the limit alone, together over it."""
    dex = zipfile.ZipFile(BENIGN).read("classes.dex")
    big_dex = dex + random.Random(7).randbytes(4 << 20)  # incompressible: only the total limit can stop it
    split = _rezip(BENIGN, {"classes.dex": big_dex})
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("toc.pb", b"")
        for i in range(6):
            archive.writestr(f"splits/s{i}-master.apk", split)
    result = _audit(rules, tmp_path, bundle.getvalue(), "many.apks", Limits(max_unpacked_bytes=16 << 20))
    assert result.status == "error" and "--max-unpacked" in result.error
    assert _audit(rules, tmp_path, bundle.getvalue(), "many.apks", Limits(max_unpacked_bytes=256 << 20)).ok


def test_dex_wrapped_in_a_jar_in_assets_is_scanned(rules, tmp_path: Path) -> None:
    payload = zipfile.ZipFile(FIXTURES / "apk" / "hidden_dex.apk").read("assets/payload.dex")
    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("classes.dex", payload)
    result = _audit(rules, tmp_path, _rezip(BENIGN, {}, {"assets/payload.jar": jar.getvalue()}))
    contacts = result.facts.channels["contacts"]
    assert contacts.level == "upload"
    assert any(e.dex == "assets/payload.jar!classes.dex" for e in contacts.evidence if e.kind != "permission")
    assert "hidden_dex" in result.facts.flags


def test_assets_named_like_hidden_dex_are_unpacked_only_when_they_start_like_one(rules, tmp_path: Path) -> None:
    """assets/*.bin and *.dat are where hidden dex files hide, and also where apps keep megabytes of
    other data (an input method's dictionaries). Only an entry that starts with the dex magic is
    unpacked whole: 64 MB of dictionary cost nothing, and no limit meant for code refuses the app."""
    with zipfile.ZipFile(BENIGN) as apk:
        dex = apk.read("classes.dex")
    data = _rezip(BENIGN, {}, {"assets/dict.bin": b"\x00dictionary" * 6_000_000, "assets/payload.dat": dex})
    result = _audit(rules, tmp_path, data, limits=Limits(max_dex_bytes=2 * 1024 * 1024))
    assert result.ok, result.error
    assert result.facts.code.dex_count == 2  # classes.dex and the hidden payload.dat, not dict.bin
