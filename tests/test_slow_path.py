"""The lean dex reader must find exactly what androguard's full parse finds (issue: speed must not
cost results). For every fixture dex, the set of (method, catalog entry) references is computed
independently by walking every instruction of every method with androguard, and compared."""

from __future__ import annotations

import zipfile

import pytest

from auditor.containers import open_input
from auditor.extract.code import CodeScan, load_units
from auditor.extract.manifest import quiet_androguard, read_piece_manifest
from auditor.limits import Limits
from auditor.ruleset.ruleset import ApiEntry, RuleSet
from tests.conftest import FIXTURES

FIXTURE_FILES = sorted(p.relative_to(FIXTURES).as_posix() for p in (FIXTURES / "apk").glob("*.apk")) + \
    sorted(p.relative_to(FIXTURES).as_posix() for p in (FIXTURES / "bundles").glob("*"))


def _matches(entry: ApiEntry, kind: str, target: str) -> bool:
    if entry.kind == "method" and kind == "method":
        return target.split("(", 1)[0] == entry.match
    if entry.kind == "field" and kind == "field":
        return target.split(" ", 1)[0] == entry.match
    if entry.kind == "string" and kind == "string":
        mode = entry.match_mode
        return target == entry.match if mode == "exact" else entry.match in target if mode == "contains" \
            else target.startswith(entry.match)
    return False


def _slow_refs(dex_bytes: bytes, rules: RuleSet) -> set[tuple[str, str]]:
    """(method signature, catalog id) for every catalogued reference, by androguard's full parse."""
    from androguard.core.dex import DEX

    quiet_androguard()
    found = set()
    for method in DEX(dex_bytes).get_encoded_methods():
        signature = f"{method.get_class_name()}->{method.get_name()}{method.get_descriptor().replace(' ', '')}"
        for insn in method.get_instructions():
            name = insn.get_name()
            kind = "method" if name.startswith("invoke") else "field" if name[:4] in ("iget", "iput", "sget", "sput") else \
                "string" if name.startswith("const-string") else None
            if kind is None:
                continue
            target = insn.get_translated_kind()
            if kind == "string":
                target = str(target)
            for entry in rules.apis:
                if _matches(entry, kind, target):
                    found.add((signature, entry.id))
    return found


@pytest.mark.parametrize("fixture", FIXTURE_FILES)
def test_fast_path_finds_what_androguard_finds(rules: RuleSet, fixture: str) -> None:
    data = (FIXTURES / fixture).read_bytes()
    opened = open_input(data, Limits())
    pieces = [(p, read_piece_manifest(p, rules).split) for p in opened.pieces]
    units, unreadable = load_units(pieces, Limits())
    scan = CodeScan(units, unreadable, rules)
    fast = {(scan.program.signature(s.node), s.entry.id) for s in scan.sites}
    slow: set[tuple[str, str]] = set()
    for unit in units:
        slow |= _slow_refs(unit.dex.data, rules)
    assert fast == slow
    assert fast or fixture.endswith(("benign.apk", "_declared.apk", "hostile_label.apk", "hostile_csv.apk",
                                     "app_v1.apk", "notification_listener.apk", "lending_mkopo.apk", "lending_prestamo.apk",
                                     "lending_utang.apk", "lending_jiekuan.apk",
                                     "flow_device_id.apk",  # flow_device_id: --rules only
                                     # code outside the dex: .NET assemblies, an .aar's JVM classes
                                     "xamarin_contacts.apk", "maui_blob.apk", "library.aar")) or "nonlending_" in fixture


def test_fixture_list_is_not_empty() -> None:
    assert len(FIXTURE_FILES) >= 30 and zipfile.is_zipfile(FIXTURES / FIXTURE_FILES[0])
