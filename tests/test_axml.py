"""The manifest is read as the platform reads it (auditor/extract/axml.py), and agrees with aapt.

The first tests are the tricks of issue 14 that erased permissions under androguard's reader (an
element header of 20 bytes, a misspelt android namespace, 10^6 attributes): each fails with the
old reader. Then the platform's own rules (resource-id merge, typed strings, depth), then the
differential tests against aapt: recorded answers for a fixed-seed sample (no aapt needed), and
live aapt when it is installed.
"""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from auditor.containers import open_input
from auditor.extract.axml import START_TAG, Document, merge
from auditor.extract.manifest import read_piece_manifest
from auditor.limits import Limits
from auditor.pipeline import audit_path
from tests.conftest import FIXTURES
from tests.fuzz.aapt import compare, have_aapt, permissions, run_aapt, xmltree
from tests.fuzz.manifest_mutants import attribute_flood, encode_pool, mutate_manifest, pool_strings, rename_namespace, replace_pool, widen_headers
from tests.test_hostile_input import _rezip
from tools.manifest_diff import fixture_bases, golden_mutant

DECLARED = FIXTURES / "apk" / "contacts_declared.apk"
GOLDEN = FIXTURES / "manifest_golden.json"
PERMISSIONS = ("android.permission.INTERNET", "android.permission.READ_CONTACTS")


def _manifest(apk: Path = DECLARED) -> bytes:
    return zipfile.ZipFile(apk).read("AndroidManifest.xml")


def _audit_manifest(rules, tmp_path: Path, manifest: bytes):
    path = tmp_path / "x.apk"
    path.write_bytes(_rezip(DECLARED, {"AndroidManifest.xml": manifest}))
    return audit_path(str(path), rules, Limits())


def _anti_analysis(result) -> str:
    return " | ".join(e.value for e in result.facts.flags.get("anti_analysis", ()))


def test_element_header_of_20_bytes_keeps_every_permission(rules, tmp_path: Path) -> None:
    result = _audit_manifest(rules, tmp_path, widen_headers(_manifest(), 4))
    assert result.ok
    assert sorted(p.name for p in result.facts.manifest.permissions) == list(PERMISSIONS)
    assert result.facts.channels["contacts"].level == "declared"
    assert "node header of 20 bytes" in _anti_analysis(result)


def test_misspelt_android_namespace_keeps_every_permission(rules, tmp_path: Path) -> None:
    misspelt = rename_namespace(_manifest(), "http://schemas.android.com/apk/res/androix")
    result = _audit_manifest(rules, tmp_path, misspelt)
    assert result.ok
    assert sorted(p.name for p in result.facts.manifest.permissions) == list(PERMISSIONS)
    assert result.facts.manifest.min_sdk == 21 and result.facts.manifest.target_sdk == 29
    assert "by-name reading misses: android.permission.INTERNET" in _anti_analysis(result)


def test_a_million_attributes_are_read_within_the_executor_timeout(tmp_path: Path) -> None:
    """16 elements of 65535 attributes (21 MB of XML): the old reader ran into the 300 s timeout."""
    path = tmp_path / "many.apk"
    with zipfile.ZipFile(DECLARED) as old, zipfile.ZipFile(path, "w") as new:  # stored: no bomb ratio
        for item in old.infolist():
            new.writestr(item.filename, old.read(item.filename) if item.filename != "AndroidManifest.xml"
                         else attribute_flood(_manifest(), 16, 65535))
    done = subprocess.run([sys.executable, "-m", "auditor", "scan", "-f", "json", "--no-cache", str(path)],
                          capture_output=True, timeout=120, check=False)
    app = json.loads(done.stdout)["apps"][0]
    assert app["status"] == "ok", app["error"]
    assert sorted(app["permissions"]) == list(PERMISSIONS)


def test_attributes_out_of_id_order_are_passed_over_as_the_platform_does() -> None:
    doc = Document(_manifest())
    sdk = next(n for n in doc.events() if n.code == START_TAG and doc.name(n) == "uses-sdk")
    attrs = doc.attributes(sdk)
    assert merge(attrs.res, (0x0101020C, 0x01010270)) == {0x0101020C: 0, 0x01010270: 1}
    assert merge(attrs.res[::-1], (0x0101020C, 0x01010270)) == {0x01010270: 0}


def test_utf8_pool_reads_like_the_utf16_pool() -> None:
    data = _manifest()
    utf8 = replace_pool(data, pool_strings(data), True)
    assert utf8 != data and Document(utf8).strings.utf8
    assert xmltree(utf8).out == xmltree(data).out
    assert encode_pool(["a"], True).startswith(b"\x01\x00\x1c\x00")


def test_permission_nested_in_application_is_ignored_and_noted(rules, tmp_path: Path) -> None:
    """The platform only honours <uses-permission> directly under <manifest>."""
    data = _manifest()
    doc = Document(data)
    nodes = [n for n in doc.events() if n.code == START_TAG]
    perm = next(n for n in nodes if doc.name(n) == "uses-permission")
    app = next(n for n in nodes if doc.name(n) == "application")
    size = struct.unpack_from("<I", data, perm.offset + 4)[0]
    copy = data[perm.offset:perm.offset + size + 24]
    at = app.offset + struct.unpack_from("<I", data, app.offset + 4)[0]
    moved = bytearray(data[:perm.offset] + data[perm.offset + len(copy):at] + copy + data[at:])
    result = _audit_manifest(rules, tmp_path, bytes(moved))
    assert [p.name for p in result.facts.manifest.permissions] == ["android.permission.INTERNET"]
    assert result.facts.channels["contacts"].level == "none"
    assert "by-name reading sees but the platform ignores: android.permission.READ_CONTACTS" in _anti_analysis(result)


def test_typed_string_wins_over_the_raw_string(rules, tmp_path: Path) -> None:
    """TypedArray reads a string value from the typed index; a raw index that says otherwise is a trick."""
    data = bytearray(_manifest())
    doc = Document(bytes(data))
    strings = [doc.strings.native(i) for i in range(doc.strings.count)]
    perm = next(n for n in doc.events() if n.code == START_TAG and doc.name(n) == "uses-permission")
    assert doc.strings.java(doc.attributes(perm)[0].data) == "android.permission.READ_CONTACTS"
    struct.pack_into("<i", data, perm.ext + 20 + 8, strings.index("android.permission.INTERNET"))
    result = _audit_manifest(rules, tmp_path, bytes(data))
    assert sorted(p.name for p in result.facts.manifest.permissions) == list(PERMISSIONS)
    assert result.facts.channels["contacts"].level == "declared"
    assert "raw string differs from its typed string" in _anti_analysis(result)
    assert "by-name reading misses: android.permission.READ_CONTACTS" in _anti_analysis(result)


def test_corrupt_manifest_is_a_one_line_error(rules, tmp_path: Path) -> None:
    result = _audit_manifest(rules, tmp_path, _manifest()[:100])
    assert result.error_kind == "corrupt-archive" and "\n" not in (result.error or "")


# -- against aapt ----------------------------------------------------------------------------------

def _golden() -> list[dict[str, object]]:
    return list(json.loads(GOLDEN.read_text(encoding="utf-8"))["mutants"])


def test_golden_sample_matches_recorded_aapt_answers() -> None:
    """Fixed-seed mutants of the fixtures' manifests against aapt's recorded dumps (CI has no aapt)."""
    bases = dict(fixture_bases())
    records = _golden()
    assert len(records) >= 200
    wrong = []
    for record in records:
        base = bases.get(str(record["base"]), b"")
        assert hashlib.sha256(base).hexdigest() == record["base_sha256"], \
            f"{record['base']} changed: regenerate with tools/manifest_diff.py --save-golden"
        data, what = mutate_manifest(base, int(record["seed"]))  # type: ignore[call-overload]
        assert what == record["mutation"], "the mutators changed: regenerate with tools/manifest_diff.py --save-golden"
        ours, perms = xmltree(data), permissions(data)
        got = (ours.status, hashlib.sha256(ours.out).hexdigest(), perms.status, perms.out.decode("utf-8", "surrogateescape"))
        want = (record["xmltree"], record["xmltree_sha256"], record["permissions"], record["permissions_out"])
        if got != want:
            wrong.append(f"seed {record['seed']} [{what}]: ours {got[0]}/{got[2]}, aapt {want[0]}/{want[2]}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.skipif(not have_aapt(), reason="aapt is not installed")
@pytest.mark.parametrize("seed", range(500_000, 500_040))
def test_live_aapt_agrees_on_fresh_mutants(seed: int) -> None:
    _name, data, what = golden_mutant(fixture_bases(), seed)
    real_xml, real_perms = run_aapt(data)
    assert compare(xmltree(data), real_xml) is None, what
    assert compare(permissions(data), real_perms) is None, what


def _androguard_permissions(manifest: bytes) -> list[str]:
    """uses-permission names as androguard's AXMLPrinter reads them (the old reader)."""
    from androguard.core.axml import AXMLPrinter
    from loguru import logger

    logger.disable("androguard")
    root = AXMLPrinter(manifest).get_xml_obj()
    key = "{http://schemas.android.com/apk/res/android}name"
    return [str(e.get(key)) for tag in ("uses-permission", "uses-permission-sdk-23") for e in root.iter(tag)]


@pytest.mark.parametrize("apk", sorted((FIXTURES / "apk").glob("*.apk")), ids=lambda p: p.name)
def test_androguard_agrees_on_untampered_fixtures(apk: Path, rules) -> None:
    """androguard stays the oracle for well-formed manifests: the same permissions in the same
    order, and no trick noted."""
    piece = open_input(apk.read_bytes(), Limits()).pieces[0]
    ours = read_piece_manifest(piece, rules)
    assert [p.name for p in ours.permissions] == _androguard_permissions(_manifest(apk))
    assert ours.anomalies == ()
