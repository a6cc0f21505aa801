"""Fuzz driver: mutate fixture APKs and bundles, scan the mutants, keep what crashes or hangs.

    python -m tests.fuzz.harness --seeds 3000 --start 0 --inputs tests/fixtures/apk tests/fixtures/bundles \\
        [--jobs 2] [--timeout 10] [--max-memory 1024] [--out tests/fuzz/regressions]
    python -m tests.fuzz.harness --reproduce tests/fuzz/regressions/crash-1a2b3c4d.apk
    python -m tests.fuzz.harness --atheris [libFuzzer options]   (only when atheris is installed)

Mutant number S is `mutators.mutate(source, name, S)` with source = the S-th input modulo their
count, so a run is reproducible from (inputs, seed). Mutants are written in batches to a temp
folder and scanned by the real LocalExecutor (forked workers, per-file timeout and memory limit).
Each result falls in one class:

    ok            analysed normally
    expected      an error result with a one-line reason (corrupt-archive, limit-exceeded...)
    crash         error_kind "internal-error": an unexpected exception inside the pipeline (BUG)
    hang          killed by the executor after --timeout seconds (BUG)
    worker-died   the worker process died: a crash in C code, or over --max-memory (BUG)
    bad-message   an error whose reason is empty or spans several lines (BUG)
    render-crash  a result that the json, jsonl or table formatter cannot render (BUG)

Workers capture evidence next to each mutant: the traceback of a crash (the file is re-run with
debug=True in the worker), the Python stack of a hang (faulthandler, dumped just before the
deadline) and the render traceback. Findings are grouped by signature (exception and innermost
frame, or the hung function); crashes are minimised by dropping mutation steps and reverting
changed bytes while the signature holds; one reproducer per signature is saved to --out as
<kind>-<sha8>.apk with a .txt beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import hashlib
import io
import re
import resource
import shutil
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from auditor.executors import Task
from auditor.executors.local import LocalExecutor
from auditor.limits import Limits, MiB
from auditor.model import AppResult, Report
from auditor.pipeline import audit_path
from auditor.ruleset.ruleset import RuleSet, load_ruleset

from .aapt import compare, have_aapt, permissions, run_aapt, xmltree
from .mutators import Mutant, apply_plan, mutate

REPO = Path(__file__).resolve().parents[2]
DEFAULT_INPUTS = (REPO / "tests" / "fixtures" / "apk", REPO / "tests" / "fixtures" / "bundles")
DEFAULT_OUT = Path(__file__).resolve().parent / "regressions"
SUFFIXES = (".apk", ".apks", ".xapk", ".apkm")
TIMEOUT_PREFIX = "analysis took longer than"
CLASSES = ("ok", "expected", "crash", "hang", "worker-died", "bad-message", "render-crash", "aapt-disagreement")
BUG_CLASSES = frozenset(CLASSES[2:])
EVIDENCE = (".traceback", ".stack", ".render")


def quiet_androguard() -> None:
    """androguard logs every parsed element at DEBUG level through loguru; the CLI silences it too."""
    with contextlib.suppress(ImportError):
        from loguru import logger

        logger.disable("androguard")


def warm_imports() -> None:
    """Import what the pipeline and the render check import lazily, once in the parent, so that
    forked workers start warm and all run one consistent snapshot of the code (a worker that
    imported a formatter edited mid-run would pair it with the parent's older model)."""
    with contextlib.suppress(ImportError):
        import androguard.core.axml  # noqa: F401
        import asn1crypto.cms  # noqa: F401
    from auditor.formats import FORMATS, formatter

    for name in FORMATS:
        formatter(name)


# -- what a worker does -------------------------------------------------------------------------


def render_all(result: AppResult, rules: RuleSet) -> None:
    """Render one result in every output format and encode it as the CLI writes it (UTF-8, as
    `--output` files are written); raises whatever a formatter or the encoding raises."""
    from auditor import __version__
    from auditor.formats import FORMATS, RenderOptions, formatter

    report = Report(__version__, rules.digest, rules.infos(), (result,))
    for name in FORMATS:
        formatter(name)(report, RenderOptions(verbose=True)).encode("utf-8")


def _capture(path: str, suffix: str, action: Callable[[], object]) -> None:
    """Run `action`; if it raises, write the traceback to path+suffix."""
    try:
        action()
    except Exception:  # the traceback is the evidence we want
        Path(path + suffix).write_text(traceback.format_exc())


@dataclass(frozen=True)
class FuzzTask(Task):
    """The pipeline's Task plus evidence capture: crash traceback, hang stack, render check."""

    render: bool = True

    def __call__(self, path: str) -> AppResult:
        with open(path + ".stack", "w") as stack:
            faulthandler.enable(stack)
            faulthandler.dump_traceback_later(max(0.5, self.limits.timeout * 0.8), file=stack)
            try:
                result = audit_path(path, self.rules, self.limits, self.policy_ids, debug=False)
                if result.error_kind == "internal-error":
                    _capture(path, ".traceback", lambda: audit_path(path, self.rules, self.limits, debug=True))
                if self.render:
                    _capture(path, ".render", lambda: render_all(result, self.rules))
            finally:
                faulthandler.cancel_dump_traceback_later()
                faulthandler.disable()
        return result


# -- classification and signatures --------------------------------------------------------------


def classify(result: AppResult, evidence: dict[str, str] | None = None) -> str:
    """One of CLASSES for a result (and the evidence files its worker wrote)."""
    message = result.error or ""
    if result.error_kind == "internal-error":
        return "crash"
    if result.error_kind == "worker-died":
        return "worker-died"
    if result.error_kind == "limit-exceeded" and message.startswith(TIMEOUT_PREFIX):
        return "hang"
    if evidence and evidence.get(".render"):
        return "render-crash"
    if result.status == "ok":
        return "ok"
    if not message.strip() or "\n" in message or "\r" in message:
        return "bad-message"
    return "expected"


_FRAME = re.compile(r'File "([^"]+)", line (\d+),? in (\S+)')


def aapt_disagreement(mutant: Mutant) -> str | None:
    """For a mutant of the platform_manifest family, where aapt (the platform's parser) reads its
    manifest differently from our reader; None when they agree, aapt is absent or there is no
    manifest to compare (an attribute flood is not dumped: aapt would print 10^8 lines)."""
    if not have_aapt() or not any(name == "platform_manifest" for _pos, name in mutant.plan) \
            or any("attribute flood" in note for note in mutant.notes):
        return None
    for manifest in _manifests(mutant.data):
        real_xml, real_perms = run_aapt(manifest)
        for what, ours, theirs in (("xmltree", xmltree(manifest), real_xml),
                                   ("permissions", permissions(manifest), real_perms)):
            difference = compare(ours, theirs) if theirs.status != "timeout" else None
            if difference:
                return f"{what}: {difference}"
    return None


def _manifests(data: bytes) -> list[bytes]:
    """AndroidManifest.xml of a mutant, or of the APKs in it, where zipfile can read them."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        if "AndroidManifest.xml" in names:
            return [archive.read("AndroidManifest.xml")]
        return [m for name in names if name.endswith(".apk") for m in _manifests(archive.read(name))][:4]
    except Exception:  # a mutant zipfile cannot read proves nothing about the manifest reader
        return []


def _short(path: str) -> str:
    for marker in ("/auditor/", "/site-packages/", "/lib/python"):
        if marker in path:
            return path[path.index(marker) + 1:]
    return path


def signature(kind: str, result: AppResult, evidence: dict[str, str]) -> str:
    """What makes two findings the same bug: exception + innermost frame, or the hung function."""
    if kind in ("crash", "render-crash"):
        text = evidence.get(".traceback" if kind == "crash" else ".render", "")
        frames = _FRAME.findall(text)
        last = text.strip().splitlines()[-1] if text.strip() else ""
        exc = last.split(":", 1)[0] if last else "?"
        if frames:
            # the innermost frame of our own code (a stdlib frame says little), without its line
            # number, so that the signature survives edits elsewhere in the file
            own = [f for f in frames if "/auditor/" in f[0]]
            file, _line, func = (own or frames)[-1]
            return f"{kind}: {exc} in {_short(file)}:{func}"
        return f"{kind}: {re.sub(r'[0-9]+', 'N', result.error or '')}"
    if kind == "hang":
        frames = _FRAME.findall(evidence.get(".stack", ""))
        own = [f for f in frames if "/auditor/" in f[0]]
        where = [f"{_short(f[0])}:{f[2]}" for f in frames[:1] + own[:1]]
        return f"hang in {' <- '.join(dict.fromkeys(where)) or 'unknown (no stack dumped)'}"
    if kind == "aapt-disagreement":
        return f"{kind}: {re.sub(r'[0-9]+', 'N', evidence.get('.aapt', ''))[:160]}"
    if kind == "worker-died":
        frames = _FRAME.findall(evidence.get(".stack", ""))
        place = f" in {_short(frames[0][0])}:{frames[0][2]}" if frames else ""
        return f"worker-died: {re.sub(r'[0-9.]+ s', 'N s', result.error or '')}{place}"
    return f"{kind}: {result.error_kind}"


def read_evidence(path: str) -> dict[str, str]:
    out = {}
    for suffix in EVIDENCE:
        with contextlib.suppress(OSError):
            text = Path(path + suffix).read_text(errors="replace")
            if text.strip():
                out[suffix] = text
    return out


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Finding:
    kind: str
    signature: str
    mutant: Mutant
    result: AppResult
    evidence: dict[str, str]
    count: int = 1


@dataclass
class Stats:
    tried: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    expected_kinds: Counter[str] = field(default_factory=Counter)
    slowest: list[tuple[float, str]] = field(default_factory=list)

    def add(self, kind: str, result: AppResult, label: str) -> None:
        self.tried += 1
        self.classes[kind] += 1
        if kind == "expected":
            self.expected_kinds[result.error_kind or "?"] += 1
        self.slowest = sorted([*self.slowest, (result.elapsed, label)], reverse=True)[:5]


def collect_sources(inputs: Iterable[Path]) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every APK/bundle under the inputs, sorted for determinism."""
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            files.extend(sorted(p for p in item.iterdir() if p.suffix in SUFFIXES and p.is_file()))
        elif item.is_file():
            files.append(item)
    return [(p.name, p.read_bytes()) for p in files]


def fuzz_limits(timeout: float = 10.0, max_memory_mb: int = 1024) -> Limits:
    """Tight limits, so that bombs and slow paths hit them within a fuzz run: besides the time and
    memory ceilings, 32 MiB per dex and 512 MiB unpacked per archive (defaults: 256 MiB, 2 GiB)."""
    return Limits(timeout=timeout, max_memory_mb=max_memory_mb, max_dex_bytes=32 * MiB, max_unpacked_bytes=512 * MiB)


def make_task(timeout: float = 10.0, max_memory_mb: int = 1024, render: bool = True) -> FuzzTask:
    """The task fuzz runs use: the built-in rules, fuzz_limits(), evidence capture."""
    quiet_androguard()
    warm_imports()
    return FuzzTask(load_ruleset(), fuzz_limits(timeout, max_memory_mb), render=render)


def read_meta(path: Path) -> dict[str, str]:
    """The "key: value" header lines of a reproducer's .txt (status, kind, signature...)."""
    meta: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in path.read_text(errors="replace").splitlines():
            key, sep, value = line.partition(": ")
            if not sep or line.startswith(" ") or key in meta:
                continue
            meta[key] = value.strip()
    return meta


def open_signatures(folder: Path = DEFAULT_OUT) -> set[str]:
    """Signatures of the reproducers in `folder` whose .txt says "status: open" (known, unfixed bugs)."""
    return {meta["signature"] for txt in sorted(folder.glob("*.txt"))
            if (meta := read_meta(txt)).get("status") == "open" and "signature" in meta}


def saved_signatures(folder: Path) -> dict[str, Path]:
    """Signature -> reproducer for the open bugs `folder` already holds. A signature whose
    reproducer is marked fixed is not in here: finding it again means the fix is incomplete,
    and the new mutant is saved beside the old one."""
    out: dict[str, Path] = {}
    for txt in sorted(folder.glob("*.txt")):
        meta = read_meta(txt)
        if "signature" in meta and meta.get("status") == "open":
            out.setdefault(meta["signature"], txt.with_suffix(".apk"))
    return out


def reproducers(folder: Path = DEFAULT_OUT) -> list[Path]:
    """Saved reproducer files (everything in `folder` but the .txt notes and the README)."""
    return sorted(p for p in folder.glob("*") if p.is_file() and p.suffix not in (".txt", ".md"))


def scan(paths: list[str], task: FuzzTask, jobs: int) -> Iterable[tuple[AppResult, str, dict[str, str]]]:
    """Scan files with the LocalExecutor; yields (result, class, evidence)."""
    for result in LocalExecutor(jobs).run(paths, task):
        evidence = read_evidence(result.input)
        yield result, classify(result, evidence), evidence


def generate(sources: list[tuple[str, bytes]], seeds: Iterable[int], pool: tuple[bytes, ...]) -> Iterable[Mutant]:
    for seed in seeds:
        name, data = sources[seed % len(sources)]
        yield mutate(data, name, seed, pool)


class Fuzzer:
    """Runs batches of mutants and keeps findings grouped by signature."""

    def __init__(self, sources: list[tuple[str, bytes]], task: FuzzTask, jobs: int, workdir: Path,
                 log: Callable[[str], None] = print) -> None:
        self.sources = sources
        self.by_name = dict(sources)
        self.pool = tuple(data for name, data in sources if name.endswith(".apk"))[:8]
        self.task = task
        self.jobs = jobs
        self.workdir = workdir
        self.log = log
        self.stats = Stats()
        self.findings: dict[str, Finding] = {}

    def run_batch(self, seeds: range) -> None:
        folder = self.workdir / f"batch-{seeds.start}"
        folder.mkdir()
        mutants: dict[str, Mutant] = {}
        for mutant in generate(self.sources, seeds, self.pool):
            path = folder / f"{mutant.seed:08d}{mutant.suffix}"
            path.write_bytes(mutant.data)
            mutants[str(path)] = mutant
        for result, kind, evidence in scan(list(mutants), self.task, self.jobs):
            mutant = mutants[result.input]
            disagreement = aapt_disagreement(mutant) if kind not in BUG_CLASSES else None
            if disagreement:
                kind, evidence = "aapt-disagreement", {**evidence, ".aapt": disagreement}
            self.stats.add(kind, result, f"seed {mutant.seed} ({mutant.source})")
            if kind in BUG_CLASSES:
                self._record(Finding(kind, signature(kind, result, evidence), mutant, result, evidence))
        shutil.rmtree(folder)

    def _record(self, finding: Finding) -> None:
        known = self.findings.get(finding.signature)
        if known is None:
            self.findings[finding.signature] = finding
            self.log(f"  NEW {finding.signature}  (seed {finding.mutant.seed}, {finding.mutant.source}: "
                     f"{finding.mutant.describe()[:160]})")
            return
        known.count += 1
        if len(finding.mutant.data) < len(known.mutant.data):
            finding.count = known.count
            self.findings[finding.signature] = finding

    # -- minimising ------------------------------------------------------------------------------

    def _same(self, finding: Finding, data: bytes) -> tuple[AppResult, dict[str, str]] | None:
        folder = Path(tempfile.mkdtemp(dir=self.workdir))
        path = folder / f"candidate{finding.mutant.suffix}"
        path.write_bytes(data)
        try:
            for result, kind, evidence in scan([str(path)], self.task, 1):
                if kind == finding.kind and signature(kind, result, evidence) == finding.signature:
                    return result, evidence
            return None
        finally:
            shutil.rmtree(folder)

    def minimise(self, finding: Finding, budget: int = 60) -> Finding:
        """Drop mutation steps, then revert changed byte runs, while the signature holds."""
        if finding.kind not in ("crash", "render-crash", "bad-message"):
            return finding
        source = self.by_name[finding.mutant.source]
        best = finding
        plan = list(finding.mutant.plan)
        tries = 0
        shrunk = True
        while shrunk and len(plan) > 1 and tries < budget:
            shrunk = False
            for index in range(len(plan)):
                candidate_plan = plan[:index] + plan[index + 1:]
                candidate = apply_plan(source, finding.mutant.source, finding.mutant.seed, candidate_plan, self.pool)
                tries += 1
                same = self._same(finding, candidate.data)
                if same is not None:
                    plan = candidate_plan
                    best = Finding(best.kind, best.signature, candidate, same[0], same[1], best.count)
                    shrunk = True
                    break
        data = best.mutant.data
        if len(data) == len(source):
            runs = _diff_runs(source, data)
            if len(runs) <= 64:
                for start, end in runs:
                    if tries >= budget:
                        break
                    candidate_data = data[:start] + source[start:end] + data[end:]
                    tries += 1
                    same = self._same(finding, candidate_data)
                    if same is not None:
                        data = candidate_data
                        note = f"reverted to the source except {len(_diff_runs(source, data))} byte runs"
                        mutant = Mutant(data, best.mutant.source, best.mutant.seed, best.mutant.plan,
                                        (*best.mutant.notes, note), best.mutant.suffix)
                        best = Finding(best.kind, best.signature, mutant, same[0], same[1], best.count)
        return best


def _diff_runs(a: bytes, b: bytes) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = None
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y and start is None:
            start = i
        elif x == y and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(a)))
    return runs


# -- saving -------------------------------------------------------------------------------------


def save_finding(finding: Finding, out: Path, command: str) -> Path:
    """Write <kind>-<sha8>.apk and its .txt (status, signature, error, mutations, evidence)."""
    out.mkdir(parents=True, exist_ok=True)
    sha8 = hashlib.sha256(finding.mutant.data).hexdigest()[:8]
    path = out / f"{finding.kind}-{sha8}.apk"
    path.write_bytes(finding.mutant.data)
    lines = [
        "status: open",
        f"kind: {finding.kind}",
        f"signature: {finding.signature}",
        f"result: {finding.result.status}",
        f"error_kind: {finding.result.error_kind}",
        f"error: {finding.result.error}",
        f"found: seed {finding.mutant.seed} of {finding.mutant.source} ({finding.count} mutants with this signature)",
        f"regenerate: {command} --seeds 1 --start {finding.mutant.seed}",
        f"reproduce: python -m tests.fuzz.harness --reproduce {_display(path)}",
        "mutations:",
        *(f"  - {note}" for note in finding.mutant.notes),
    ]
    for suffix, title in ((".traceback", "traceback (debug=True)"), (".render", "render traceback"),
                          (".stack", "stack (faulthandler)"), (".aapt", "disagreement with aapt")):
        if suffix in finding.evidence and (suffix != ".stack" or finding.kind in ("hang", "worker-died")):
            lines += [f"{title}:", *("  " + line for line in finding.evidence[suffix].rstrip().splitlines())]
    path.with_suffix(".txt").write_text("\n".join(lines) + "\n")
    return path


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


# -- reproduce one file -------------------------------------------------------------------------


def reproduce(path: str, timeout: float, max_memory_mb: int) -> int:
    """Audit one file in this process with debug=True: print the result, or the traceback (exit 1).
    A hang prints the stack after `timeout` seconds and exits 3."""
    quiet_androguard()
    if max_memory_mb > 0:
        resource.setrlimit(resource.RLIMIT_AS, (max_memory_mb * MiB, max_memory_mb * MiB))
    rules = load_ruleset()
    faulthandler.dump_traceback_later(timeout, exit=True)
    try:
        result = audit_path(path, rules, fuzz_limits(timeout, max_memory_mb), debug=True)
    except Exception:  # a crash is what we are here to show
        traceback.print_exc()
        return 1
    finally:
        faulthandler.cancel_dump_traceback_later()
    print(f"status: {result.status}")
    if result.status == "error":
        print(f"error_kind: {result.error_kind}\nerror: {result.error}")
    try:
        render_all(result, rules)
    except Exception:  # a crash is what we are here to show
        traceback.print_exc()
        return 1
    return 0


# -- atheris (optional) -------------------------------------------------------------------------


def run_atheris(argv: list[str], timeout: float) -> int:
    """Coverage-guided fuzzing of audit_path on raw bytes with atheris, when it is installed."""
    try:
        import atheris
    except ImportError:
        print("atheris is not installed; skipping (pip install atheris to enable this mode)")
        return 0
    quiet_androguard()
    rules = load_ruleset()
    limits = fuzz_limits(timeout)
    folder = Path(tempfile.mkdtemp(prefix="auditor-atheris-"))
    target = str(folder / "input.apk")

    def one_input(data: bytes) -> None:
        Path(target).write_bytes(data)
        result = audit_path(target, rules, limits, debug=False)
        if result.error_kind == "internal-error":
            audit_path(target, rules, limits, debug=True)  # raises: atheris reports the traceback
            raise AssertionError(result.error)
        if result.error and "\n" in result.error:
            raise AssertionError(f"multi-line error: {result.error!r}")

    atheris.instrument_all()  # the auditor is already imported: instrument every loaded function
    atheris.Setup([sys.argv[0], *argv, f"-timeout={int(timeout)}"], one_input)
    atheris.Fuzz()
    return 0


# -- command line -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.harness", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=1000, help="number of mutants (default 1000)")
    parser.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--inputs", type=Path, nargs="+", default=list(DEFAULT_INPUTS),
                        help="files or folders of APKs/bundles to mutate (default: the fixtures)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per mutant (default 10)")
    parser.add_argument("--max-memory", type=int, default=1024, help="MiB of address space per worker (default 1024)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where reproducers are saved")
    parser.add_argument("--batch", type=int, default=100, help="mutants written and scanned at a time")
    parser.add_argument("--keep-all", action="store_true", help="do not minimise findings before saving")
    parser.add_argument("--no-render", action="store_true", help="do not check that results render")
    parser.add_argument("--no-save", action="store_true", help="report findings without writing reproducers")
    parser.add_argument("--reproduce", metavar="FILE", help="audit one file with debug=True and print the outcome")
    parser.add_argument("--atheris", action="store_true", help="coverage-guided mode (needs atheris); "
                        "unknown options go to libFuzzer")
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    args, extra = parse_args(argv)
    if args.reproduce:
        return reproduce(args.reproduce, args.timeout, args.max_memory)
    if args.atheris:
        return run_atheris(extra, args.timeout)
    if extra:
        print(f"unknown arguments: {' '.join(extra)}", file=sys.stderr)
        return 2
    sources = collect_sources(args.inputs)
    if not sources:
        print("no APK or bundle found in --inputs", file=sys.stderr)
        return 2
    task = make_task(args.timeout, args.max_memory, render=not args.no_render)
    command = "python -m tests.fuzz.harness --inputs " + " ".join(_display(p) for p in args.inputs)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="auditor-fuzz-") as tmp:
        fuzzer = Fuzzer(sources, task, args.jobs, Path(tmp))
        baseline = _baseline(sources, task, Path(tmp), args.jobs)
        if baseline:
            print("WARNING: unmutated inputs already fail (findings below may be noise):")
            for line in baseline:
                print(f"  {line}")
        end = args.start + args.seeds
        print(f"fuzzing seeds {args.start}..{end - 1} over {len(sources)} inputs, {args.jobs} jobs, "
              f"timeout {args.timeout:g} s, max memory {args.max_memory} MiB", flush=True)
        for first in range(args.start, end, args.batch):
            fuzzer.run_batch(range(first, min(first + args.batch, end)))
            counts = ", ".join(f"{k} {v}" for k, v in fuzzer.stats.classes.most_common())
            print(f"[{time.monotonic() - started:7.1f} s] {fuzzer.stats.tried}/{args.seeds}: {counts}", flush=True)
        saved: dict[str, Path] = {}
        if not args.no_save:
            already = saved_signatures(args.out)
            for sig, finding in sorted(fuzzer.findings.items()):
                if sig in already:  # a reproducer of this bug is there from an earlier run
                    saved[sig] = already[sig]
                    continue
                if not args.keep_all:
                    finding = fuzzer.minimise(finding)
                saved[sig] = save_finding(finding, args.out, command)
    _summary(fuzzer, saved, time.monotonic() - started)
    return 1 if fuzzer.findings else 0


def _baseline(sources: list[tuple[str, bytes]], task: FuzzTask, workdir: Path, jobs: int) -> list[str]:
    """Scan the unmutated inputs once (also warms the parent's imports before workers fork)."""
    folder = workdir / "baseline"
    folder.mkdir()
    paths = []
    for index, (name, data) in enumerate(sources):
        path = folder / f"{index:04d}-{name}"
        path.write_bytes(data)
        paths.append(str(path))
    problems = [f"{Path(r.input).name}: {kind}: {r.error}" for r, kind, _ in scan(paths, task, jobs)
                if kind in BUG_CLASSES]
    shutil.rmtree(folder)
    return problems


def _summary(fuzzer: Fuzzer, saved: dict[str, Path], elapsed: float) -> None:
    stats = fuzzer.stats
    print(f"\nmutants tried: {stats.tried} in {elapsed:.0f} s ({stats.tried / max(elapsed, 1e-9):.1f}/s)")
    for kind in CLASSES:
        extra = ""
        if kind == "expected" and stats.expected_kinds:
            extra = "  (" + ", ".join(f"{k} {v}" for k, v in stats.expected_kinds.most_common()) + ")"
        print(f"  {kind:<18}{stats.classes.get(kind, 0):>7}{extra}")
    bugs = sum(stats.classes.get(kind, 0) for kind in BUG_CLASSES)
    print(f"bugs: {bugs} mutants, {len(fuzzer.findings)} distinct signatures")
    per_kind: defaultdict[str, list[Finding]] = defaultdict(list)
    for finding in fuzzer.findings.values():
        per_kind[finding.kind].append(finding)
    for kind in CLASSES[2:]:
        for finding in per_kind.get(kind, []):
            where = f" -> {_display(saved[finding.signature])}" if finding.signature in saved else ""
            print(f"  x{finding.count:<5} {finding.signature}{where}")
    print("slowest: " + "; ".join(f"{label} {seconds:.2f} s" for seconds, label in stats.slowest))


if __name__ == "__main__":
    sys.exit(main())
