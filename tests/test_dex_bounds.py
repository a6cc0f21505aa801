"""Issue 14 defect 3: dex structures shared by many classes are read once, and the work per dex stays
linear in its size.

Two hostile shapes (built by tests/fuzz/mutators.py, which also fuzzes them at smaller sizes):
- many classes point at one class_data item that claims 2^32-1 methods (a reader that walks the
  claim per class held a worker for the whole 300 s timeout on a 1 MB APK);
- many classes share one interface list of thousands of types (a class index that copies it per
  class reached the 2 GiB memory cap on a 520 KB APK).
Each is run in a forked child under a CPU-time and address-space limit (not wall time, so a busy
machine cannot fail them): the old reader exceeds both by orders of magnitude.
"""

from __future__ import annotations

import multiprocessing
import resource
import zipfile
from collections.abc import Callable
from pathlib import Path
from zipfile import ZIP_STORED as STORED

import pytest

from auditor.dex import reader
from auditor.dex.reader import MAX_INTERFACES, DexFile
from auditor.extract.program import DexUnit, Program
from auditor.limits import Limits
from auditor.pipeline import audit_path
from auditor.ruleset.ruleset import load_ruleset
from tests.fuzz.mutators import RawEntry, build_zip, dex_shared_interfaces, dex_shared_methods, read_entries

FIXTURE = Path(__file__).parent / "fixtures" / "apk" / "benign.apk"
CPU_SECONDS = 20
MEMORY = 1024 * 1024 * 1024


def _base_dex() -> bytes:
    with zipfile.ZipFile(FIXTURE) as archive:
        return archive.read("classes.dex")


def _in_limited_child(work: Callable[[], None]) -> int | None:
    """Run `work` in a forked child limited to CPU_SECONDS of CPU and MEMORY of address space."""
    def target() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
        work()

    child = multiprocessing.get_context("fork").Process(target=target)
    child.start()
    child.join(20 * CPU_SECONDS)  # a backstop only; the CPU limit ends a runaway child first
    if child.is_alive():
        child.kill()
        child.join()
    return child.exitcode


def _apk_with(dex: bytes, tmp_path: Path) -> Path:
    entries = read_entries(FIXTURE.read_bytes())
    assert entries is not None
    # stored: a repetitive 1 MB dex deflates past --max-ratio, which would refuse it before the reader
    out = [RawEntry(e.name, dex, STORED) if e.name == b"classes.dex" else e for e in entries]
    path = tmp_path / "hostile.apk"
    path.write_bytes(build_zip(out))
    return path


def test_shared_class_data_item_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted in the pure-Python form; the C form (auditor/dex/_native.c) is given the same list of
    distinct offsets, and tests/test_dex_native.py checks it returns the same."""
    monkeypatch.setattr(reader, "_native", None)
    hostile = dex_shared_methods(_base_dex(), classes=16384, entries=150_000)  # about 1 MB
    assert len(hostile) > 900_000
    dex = DexFile(hostile)
    calls: list[int] = []
    original = dex._class_data_tokens

    def counted(offset: int, limit: int) -> tuple[int, list[bytes]] | None:
        calls.append(offset)
        return original(offset, limit)

    dex._class_data_tokens = counted  # type: ignore[method-assign]
    methods = dex.class_methods()
    assert len(set(calls)) == len(calls)  # every distinct item once, however many classes share it
    shared = [c for c, _s, off, _i in dex.class_defs() if off == calls[-1]]
    assert shared and all(methods[c] == [] for c in shared)  # the claim exceeds the file: no methods
    assert any("claims more entries" in note for note in dex.anomalies)


@pytest.mark.parametrize("form", ["native", "python"])
def test_shared_class_data_item_costs_linear_time(form: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if form == "python":
        monkeypatch.setattr(reader, "_native", None)
    elif reader._native is None:
        pytest.skip("the C module was not built in this install")
    hostile = dex_shared_methods(_base_dex(), classes=16384, entries=150_000)

    def work() -> None:
        dex = DexFile(hostile)
        dex.class_methods()
        dex.method_at(len(hostile) // 2)

    assert _in_limited_child(work) == 0


def test_shared_interface_list_is_read_once_and_bounded() -> None:
    hostile = dex_shared_interfaces(_base_dex(), classes=4096, interfaces=20_000)
    dex = DexFile(hostile)
    defs = dex.class_defs()
    lists = [ifaces for _c, _s, _o, ifaces in defs if ifaces]
    assert len(lists) == 4096
    assert all(ifaces is lists[0] for ifaces in lists)  # one shared list object
    assert len(lists[0]) == MAX_INTERFACES
    assert any("interface list" in note for note in dex.anomalies)
    program = Program([DexUnit(dex, None, "classes.dex")], ())
    assert sum(len(subs) for subs in program.subclasses.values()) <= len(defs) * (MAX_INTERFACES + 1)


def test_shared_interface_list_costs_linear_memory() -> None:
    hostile = dex_shared_interfaces(_base_dex(), classes=8192, interfaces=30_000)

    def work() -> None:
        dex = DexFile(hostile)
        program = Program([DexUnit(dex, None, "classes.dex")], ())
        program.ancestors("Lhostile/C1;")

    assert _in_limited_child(work) == 0


@pytest.mark.parametrize("shape", ["methods", "interfaces"])
def test_hostile_dex_apk_is_scanned(shape: str, tmp_path: Path) -> None:
    """Through the whole pipeline: a result (not an internal error), with the same bounds."""
    dex = (dex_shared_methods(_base_dex(), 16384, 150_000) if shape == "methods"
           else dex_shared_interfaces(_base_dex(), 4096, 20_000))
    path = _apk_with(dex, tmp_path)
    rules = load_ruleset()

    def work() -> None:
        result = audit_path(str(path), rules, Limits())
        assert result.status == "ok", result.error

    assert _in_limited_child(work) == 0
