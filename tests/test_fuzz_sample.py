"""A small, fixed fuzz sample for CI, and the saved fuzz reproducers as regression tests.

The sample is 200 deterministic mutants of tests/fixtures/apk and tests/fixtures/bundles (see
tests/fuzz/mutators.py), scanned by the real LocalExecutor with fuzz limits (10 s, 1024 MiB per
file): no result may be an internal error, a dead worker or a timeout, every error must have a
one-line reason, and every result must render. It takes a few seconds on two cores.

A bug that already has a reproducer in tests/fuzz/regressions/ with "status: open" in its .txt
makes the sample xfail instead of fail (it is known and tracked); any other finding fails.
Each reproducer is also a test of its own: strict xfail while open, so that the fix is noticed
(then set "status: fixed" in its .txt and the test must pass from then on).
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from auditor.model import AppResult  # noqa: E402
from tests.fuzz import harness  # noqa: E402

SAMPLE_START = 0
SAMPLE_SIZE = 200
JOBS = 2
TIMEOUT = 10.0
MAX_MEMORY_MB = 1024


@pytest.fixture(scope="module")
def task() -> harness.FuzzTask:
    return harness.make_task(TIMEOUT, MAX_MEMORY_MB)


def _describe(findings: list[harness.Finding]) -> str:
    lines = []
    for finding in findings:
        lines.append(f"{finding.signature} (x{finding.count}; seed {finding.mutant.seed} of {finding.mutant.source}: "
                     f"{finding.mutant.describe()})")
        lines.append(f"  error: {finding.result.error}")
        for text in finding.evidence.values():
            lines += ["  " + line for line in text.strip().splitlines()[-12:]]
    lines.append("regenerate and save: python -m tests.fuzz.harness --seeds 1 --start SEED")
    return "\n".join(lines)


def test_fuzz_sample(task: harness.FuzzTask, tmp_path: Path) -> None:
    sources = harness.collect_sources(harness.DEFAULT_INPUTS)
    assert len(sources) >= 30, "the fixtures are missing"
    fuzzer = harness.Fuzzer(sources, task, JOBS, tmp_path, log=lambda _line: None)
    for first in range(SAMPLE_START, SAMPLE_START + SAMPLE_SIZE, 100):
        fuzzer.run_batch(range(first, min(first + 100, SAMPLE_START + SAMPLE_SIZE)))

    stats = fuzzer.stats
    assert stats.tried == SAMPLE_SIZE
    # the sample must exercise both outcomes, or the mutators have stopped doing anything useful
    assert stats.classes["ok"] > 0 and stats.classes["expected"] > 0, stats.classes

    known = harness.open_signatures()
    unknown = [f for sig, f in fuzzer.findings.items() if sig not in known]
    if unknown:
        pytest.fail("new fuzz findings:\n" + _describe(unknown), pytrace=False)
    if fuzzer.findings:
        pytest.xfail("known open fuzz bugs (tests/fuzz/regressions): " + "; ".join(sorted(fuzzer.findings)))


REPRODUCERS = harness.reproducers()


@pytest.mark.parametrize("path", REPRODUCERS or [pytest.param(None, marks=pytest.mark.skip(reason="no reproducers yet"))],
                         ids=[p.name for p in REPRODUCERS] or ["none"])
def test_regression(path: Path, task: harness.FuzzTask, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    meta = harness.read_meta(path.with_suffix(".txt"))
    if meta.get("status") == "open":
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"open fuzz bug: {meta.get('signature', '?')}"))
    copy = tmp_path / path.name  # workers write evidence beside the file: keep it out of the repo
    shutil.copyfile(path, copy)
    outcomes = list(harness.scan([str(copy)], task, 1))
    assert len(outcomes) == 1
    result, kind, evidence = outcomes[0]
    assert kind in ("ok", "expected"), (
        f"{kind}: {result.error_kind}: {result.error}\n" + "\n".join(evidence.values()))
    if result.status == "error":
        assert result.error and "\n" not in result.error


def _fake_audit(path: str, *_args: object, debug: bool = False, **_kwargs: object) -> AppResult:
    """Stands in for audit_path in the workers: each file name says how to misbehave."""
    name = Path(path).name
    if name.startswith("hang"):
        time.sleep(30)
    if name.startswith("crash"):
        if debug:
            raise IndexError("index out of range")
        return AppResult(path, None, None, "error", error="internal error (IndexError: index out of range)",
                         error_kind="internal-error")
    if name.startswith("multiline"):
        return AppResult(path, None, None, "error", error="two\nlines", error_kind="corrupt-archive")
    return AppResult(path, None, None, "error", error="not an Android package (a text file)",
                     error_kind="not-an-android-package")


def test_harness_classifies_crashes_and_hangs(task: harness.FuzzTask, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness itself: a hang is killed and classified with its stack, a crash keeps its traceback."""
    monkeypatch.setattr(harness, "audit_path", _fake_audit)  # inherited by the forked workers
    quick = replace(task, limits=replace(task.limits, timeout=1.0), render=False)
    paths = []
    for name in ("hang.apk", "crash.apk", "multiline.apk", "fine.apk"):
        (tmp_path / name).write_bytes(b"x")
        paths.append(str(tmp_path / name))
    outcomes = {Path(r.input).name: (kind, harness.signature(kind, r, ev)) for r, kind, ev in harness.scan(paths, quick, 2)}
    assert outcomes["hang.apk"][0] == "hang"
    assert "_fake_audit" in outcomes["hang.apk"][1]  # the faulthandler stack names the hung function
    kind, sig = outcomes["crash.apk"]
    assert kind == "crash"
    assert sig.startswith("crash: IndexError in ") and sig.endswith("test_fuzz_sample.py:_fake_audit")
    assert outcomes["multiline.apk"][0] == "bad-message"
    assert outcomes["fine.apk"][0] == "expected"
