"""Benchmark the auditor on big real apps: how close to the I/O floor, how far ahead of androguard.

    python bench/run.py [--runs 3] [--large-dir bench/large] [--corpus ../shared/corpus] [--out bench/results/latest.md]

Every measurement is a separate process, timed from outside (wall clock, time.perf_counter) with
its peak resident memory taken from os.wait4 (ru_maxrss, KiB on Linux). wait4 reports the largest
RSS of the process *and of every descendant it reaped*, so the auditor's forked worker counts too.
Medians of --runs runs are reported. See bench/README.md for what each column means and the targets.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]
MB = 1_000_000
DEX_NAME = re.compile(r"classes\d*\.dex")
EXTENSIONS = (".apk", ".xapk", ".apks", ".apkm", ".aab")
LARGE_NAMES = ("airtest_yosemite.apk", "android10_framework-res.apk", "appium_espresso_server_test.apk",
               "appium_settings.apk", "appium_uiautomator2_server.apk", "poco_pocoservice.apk")
"""The six files fetch-large.sh provides (it is parsed for its `have NAME` lines; this is the fallback)."""

ANALYZE_ONE = ("import sys\nfrom loguru import logger\nlogger.remove()\nfrom androguard.misc import AnalyzeAPK\n"
               "AnalyzeAPK(sys.argv[1])\n")
ANALYZE_MANY = ("import sys\nfrom loguru import logger\nlogger.remove()\nfrom androguard.misc import AnalyzeAPK\n"
                "failed = 0\nfor path in sys.argv[1:]:\n    try:\n        AnalyzeAPK(path)\n"
                "    except Exception:\n        failed += 1\nprint(failed)\n")

TARGET_FLOOR_RATIO = 5.0
TARGET_ANDROGUARD_SPEEDUP = 10.0
TARGET_PEAK_MB = 300.0
TARGET_FRAMEWORK_S = 0.5
TARGET_TINY_S = 0.5
TARGET_JOBS_SPEEDUP = 1.6
TARGET_WARM_FRACTION = 0.10


# --- measuring one process -------------------------------------------------------------------


@dataclass
class Run:
    """One finished process: wall and CPU seconds, peak RSS in MiB, exit code, and whether we killed it.

    CPU seconds (user + system, the process and its reaped workers) are reported next to wall time
    because they barely move when other jobs share the machine, while wall time does.
    """

    wall: float
    peak_mb: float
    returncode: int
    timed_out: bool
    cpu: float = 0.0
    stdout: str = ""
    stderr: str = ""


def _reset_peak_rss() -> None:
    """Reset this process's RSS high-water mark (Linux >= 4.0; best effort).

    subprocess starts children with vfork, and exec records the high-water mark of the memory it
    replaces into the child's ru_maxrss, i.e. *ours*. Resetting it first means a child's reported
    peak is max(its own peak, our current RSS of ~20 MB), not max(its own, our historic peak).
    """
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


PRIORITY = 0
"""Autogroup nice for measured processes (set by --priority); 0 leaves scheduling alone."""


def _boost(pid: int) -> None:
    """Raise a measured process's share of the CPUs against other sessions on a shared machine.

    Linux groups processes by session for scheduling (autogroup), so plain `nice` does nothing
    against other sessions; the autogroup's own nice does. Needs root or CAP_SYS_NICE; best effort.
    """
    if PRIORITY:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/autogroup").write_text(str(PRIORITY))


def measure(cmd: Sequence[str], timeout: float, env: dict[str, str] | None = None, capture: bool = False) -> Run:
    """Run `cmd` to completion and report wall time and peak RSS (via os.wait4).

    Output goes to /dev/null (as a user would redirect it), unless `capture` asks for the end of
    stdout. The child gets its own session, so a timeout kills its whole process group (the
    auditor's workers included), not just the top process.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        _reset_peak_rss()
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out if capture else subprocess.DEVNULL,
                                stderr=err, env=env, start_new_session=True)
        _boost(proc.pid)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # we reaped it; tell Popen so it does not try again
        return Run(wall, usage.ru_maxrss / 1024, proc.returncode, killed.is_set(), usage.ru_utime + usage.ru_stime,
                   _tail(out), _tail(err))


def _tail(handle: IO[bytes], size: int = 2000) -> str:
    """The last `size` bytes of a temp file, without reading all of it into our own memory."""
    handle.seek(0, os.SEEK_END)
    handle.seek(max(0, handle.tell() - size))
    return handle.read().decode(errors="replace")


@dataclass
class Series:
    """The same command run N times; medians are what the tables show."""

    runs: list[Run] = field(default_factory=list)
    ok_codes: tuple[int, ...] = (0, 1, 2)  # auditor: 1 = --fail-on reached, 2 = some input is an error result

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def failed(self) -> bool:
        return self.last.returncode not in self.ok_codes

    @property
    def peak_mb(self) -> float:
        return statistics.median(r.peak_mb for r in self.runs)

    @property
    def timed_out(self) -> bool:
        return any(r.timed_out for r in self.runs)

    @property
    def last(self) -> Run:
        return self.runs[-1]


def series(label: str, runs: int, make: Callable[[int], Sequence[str]], timeout: float,
           env: dict[str, str] | None = None, capture: bool = False, ok_codes: tuple[int, ...] = (0, 1, 2)) -> Series:
    result = Series(ok_codes=ok_codes)
    for i in range(runs):
        run = measure(make(i), timeout, env, capture)
        result.runs.append(run)
        note = " TIMEOUT" if run.timed_out else f" rc={run.returncode}" if run.returncode else ""
        print(f"  {label} [{i + 1}/{runs}]: {run.wall:.2f} s (cpu {run.cpu:.2f} s), {run.peak_mb:.0f} MB{note}",
              file=sys.stderr, flush=True)
        if run.timed_out:
            break  # one timeout says enough; do not spend another `timeout` seconds on it
    return result


# --- inputs ----------------------------------------------------------------------------------


@dataclass
class Target:
    """One row of the main table: a large APK, or the whole corpus as one batch."""

    name: str
    paths: list[str]
    size: int
    dex_count: int
    dex_bytes: int
    dex_paths: list[str]  # the paths holding dex (androguard is only run on those)


def dex_stats(data: bytes | str, depth: int = 0) -> tuple[int, int]:
    """(number of dex files, their uncompressed bytes), looking one level into bundles' APKs."""
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as archive:
            count = size = 0
            for info in archive.infolist():
                if DEX_NAME.fullmatch(info.filename):
                    count, size = count + 1, size + info.file_size
                elif depth == 0 and info.filename.lower().endswith(".apk"):
                    inner = dex_stats(archive.read(info), depth + 1)
                    count, size = count + inner[0], size + inner[1]
            return count, size
    except Exception:  # broken or hostile files are part of the corpus; they simply have no readable dex
        return 0, 0


def target(name: str, paths: list[str]) -> Target:
    stats = {p: dex_stats(p) for p in paths}
    return Target(name, paths, sum(os.path.getsize(p) for p in paths), sum(c for c, _ in stats.values()),
                  sum(b for _, b in stats.values()), [p for p, (c, _) in stats.items() if c])


def large_names(fetch_script: Path) -> list[str]:
    if fetch_script.is_file():
        names = re.findall(r"have\s+([\w.-]+\.apk)", fetch_script.read_text())
        if names:
            return list(dict.fromkeys(names))
    return list(LARGE_NAMES)


def ensure_large(large_dir: Path, corpus: Path) -> list[Path]:
    """The large APKs, fetched with the corpus's fetch-large.sh if any is missing."""
    script = corpus / "fetch-large.sh"
    names = large_names(script)
    missing = [n for n in names if not (large_dir / n).is_file() or not (large_dir / n).stat().st_size]
    if missing:
        if not script.is_file():
            sys.exit(f"bench: {', '.join(missing)} missing from {large_dir} and no {script} to fetch them")
        print(f"bench: fetching {len(missing)} large APK(s) into {large_dir} ...", file=sys.stderr, flush=True)
        subprocess.run(["bash", str(script), str(large_dir)], check=True, stdout=sys.stderr)
    return [large_dir / n for n in names if (large_dir / n).is_file()]


def corpus_files(corpus: Path) -> list[str]:
    """Every file MANIFEST.tsv lists (else every APK-like file), in a stable order."""
    manifest = corpus / "MANIFEST.tsv"
    if manifest.is_file():
        rows = [line.split("\t")[0] for line in manifest.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
        files = [str(corpus / r) for r in rows if (corpus / r).is_file()]
        if files:
            return sorted(files)
    return sorted(str(p) for p in corpus.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS)


def auditor_command() -> list[str]:
    """The installed console script next to this interpreter (what a user runs), else `python -m auditor`."""
    script = Path(sys.executable).parent / "auditor"
    return [str(script)] if script.is_file() and os.access(script, os.X_OK) else [sys.executable, "-m", "auditor"]


def compile_package(auditor: list[str]) -> None:
    """Byte-compile the measured auditor package first, as pip does when it installs one.

    Otherwise, where PYTHONDONTWRITEBYTECODE is set (as on the development machines) or the
    checkout is read-only, every measured process compiles the package's sources again, which
    adds about 0.1 s of start-up that no installed copy pays.
    """
    python = auditor[0] if auditor[0].endswith(("python", "python3")) or "python" in Path(auditor[0]).name else sys.executable
    found = subprocess.run([python, "-c", "import auditor, os; print(os.path.dirname(auditor.__file__))"],
                           capture_output=True, text=True, check=False, cwd=os.getcwd())
    folder = found.stdout.strip()
    if found.returncode == 0 and folder:
        subprocess.run([python, "-m", "compileall", "-q", folder], check=False, stdout=subprocess.DEVNULL)


def scan_has_option(auditor: list[str], option: str) -> bool:
    helptext = subprocess.run([*auditor, "scan", "--help"], capture_output=True, text=True, check=False).stdout
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", helptext) is not None


# --- the benchmark ---------------------------------------------------------------------------


@dataclass
class Row:
    target: Target
    floor: Series
    androguard: Series | None
    auditor: Series
    statuses: dict[str, int]
    stages: dict[str, float] | None = None


def stage_breakdown(path: str, runs: int, timeout: float, env: dict[str, str]) -> dict[str, float] | None:
    """Median seconds per stage of one scan (bench/stages.py), start-up being what the stages do not cover."""
    samples: list[dict[str, float]] = []
    for i in range(runs):
        run = measure([sys.executable, str(REPO / "bench" / "stages.py"), path], timeout, env, capture=True)
        try:
            stages = json.loads(run.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            print(f"  stages [{i + 1}/{runs}]: no breakdown ({run.stderr.strip()[-200:]})", file=sys.stderr)
            continue
        stages.pop("in-process", None)
        stages = {"start-up": max(0.0, run.cpu - sum(stages.values())), **stages, "total": run.cpu, "wall": run.wall}
        print(f"  stages [{i + 1}/{runs}]: " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()), file=sys.stderr, flush=True)
        samples.append(stages)
    if not samples:
        return None
    return {key: statistics.median(s.get(key, 0.0) for s in samples) for key in samples[0]}


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.auditor = shlex.split(args.auditor) if args.auditor else auditor_command()
        self.has_no_cache = scan_has_option(self.auditor, "--no-cache")
        # A private cache folder: the bench never reads or fills the user's own result cache.
        self.env = {**os.environ, "AUDITOR_CACHE_DIR": str(workdir / "cache")}
        self.cold = ["--no-cache"] if self.has_no_cache else []
        # One ordinary run first, so the checked rule set is cached as it is on a user's machine after
        # the first scan (--no-cache reads that copy but never writes one).
        fixture = REPO / "tests" / "fixtures" / "apk" / "benign.apk"
        if fixture.is_file():
            subprocess.run([*self.auditor, "-q", "scan", "-f", "json", "-o", os.devnull, str(fixture)], env=self.env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    def scan(self, paths: list[str], jobs: int, out: str, cold: bool = True) -> list[str]:
        return [*self.auditor, "-q", "scan", *(self.cold if cold else []), "--jobs", str(jobs), "-f", "json",
                *paths, "-o", out]

    def row(self, tgt: Target) -> Row:
        runs, args = self.args.runs, self.args
        print(f"bench: {tgt.name} ({len(tgt.paths)} file(s), {tgt.size / MB:.1f} MB, {tgt.dex_count} dex)", file=sys.stderr)
        if len(tgt.paths) == 1:
            floor_cmd = ["unzip", "-p", tgt.paths[0], "classes*.dex"]
        else:
            floor_cmd = ["sh", "-c", 'for f in "$@"; do unzip -p "$f" "classes*.dex"; done', "sh", *tgt.paths]
        floor = series("floor", runs, lambda _i: floor_cmd, args.timeout, ok_codes=(0, 11))  # unzip: 11 = no dex matched
        androguard = None
        if tgt.dex_paths and not args.skip_androguard:
            code = ANALYZE_ONE if len(tgt.paths) == 1 else ANALYZE_MANY
            per_file = args.androguard_timeout * (1 if len(tgt.paths) == 1 else max(1, len(tgt.dex_paths) // 4))
            androguard = series("AnalyzeAPK", runs, lambda _i: [sys.executable, "-c", code, *tgt.dex_paths], per_file,
                                capture=True)
        out = str(self.workdir / "scan.json")
        auditor = series("auditor", runs, lambda _i: self.scan(tgt.paths, 1, out), args.timeout, self.env)
        stages = stage_breakdown(tgt.paths[0], runs, args.timeout, self.env) if len(tgt.paths) == 1 else None
        return Row(tgt, floor, androguard, auditor, _statuses(out), stages)

    def startup(self) -> Series | None:
        """The auditor on a tiny test fixture: start-up, imports and rule loading, almost no analysis."""
        fixture = REPO / "tests" / "fixtures" / "apk" / "benign.apk"
        if not fixture.is_file():
            return None
        print("bench: start-up (auditor on a tiny test fixture)", file=sys.stderr)
        return series("start-up", self.args.runs, lambda _i: self.scan([str(fixture)], 1, os.devnull),
                      self.args.timeout, self.env)

    def jobs(self, files: list[str]) -> tuple[Series, Series]:
        """--jobs 1 and --jobs 2 on the corpus, interleaved so drift in machine load hits both alike."""
        print("bench: batch throughput, --jobs 1 vs --jobs 2", file=sys.stderr)
        one, two = Series(), Series()
        for _ in range(self.args.runs):
            one.runs += series("jobs 1", 1, lambda _i: self.scan(files, 1, os.devnull), self.args.timeout, self.env).runs
            two.runs += series("jobs 2", 1, lambda _i: self.scan(files, 2, os.devnull), self.args.timeout, self.env).runs
        return one, two

    def cache(self, files: list[str]) -> CacheRuns | None:
        """(cold --no-cache, first run filling an empty cache, warm re-run, how the warm report compares)."""
        if not self.has_no_cache:
            print("bench: `auditor scan` has no --no-cache option yet; skipping the cache measurement", file=sys.stderr)
            return None
        print("bench: result cache, cold vs warm", file=sys.stderr)
        cold_out, warm_out = str(self.workdir / "cold.json"), str(self.workdir / "warm.json")
        shutil.rmtree(self.workdir / "cache", ignore_errors=True)
        cold = series("cold (--no-cache)", self.args.runs, lambda _i: self.scan(files, 1, cold_out), self.args.timeout, self.env)
        fill = series("fill (empty cache)", 1, lambda _i: self.scan(files, 1, warm_out, cold=False), self.args.timeout, self.env)
        warm = series("warm (cache)", self.args.runs, lambda _i: self.scan(files, 1, warm_out, cold=False),
                      self.args.timeout, self.env)
        return cold, fill, warm, compare_reports(cold_out, warm_out)


def _apps(report_path: str) -> list[dict[str, object]]:
    try:
        apps = json.loads(Path(report_path).read_text(encoding="utf-8")).get("apps", [])
        return apps if isinstance(apps, list) else []
    except (OSError, ValueError, AttributeError):
        return []


def _statuses(report_path: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for app in _apps(report_path):
        key = "ok" if app.get("status") == "ok" else f"error:{app.get('error_kind')}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def _strip_timings(value: object, unordered: bool = False) -> object:
    """A report value without timings; with `unordered`, lists are compared as multisets."""
    if isinstance(value, dict):
        return {k: _strip_timings(v, unordered) for k, v in value.items()
                if "elapsed" not in k and k not in ("stats", "seconds")}
    if isinstance(value, list):
        items = [_strip_timings(v, unordered) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True)) if unordered else items
    return value


def compare_reports(cold_path: str, warm_path: str) -> str:
    """Whether a warm run reports exactly what a cold run does (timings aside), and if not, where it differs."""
    cold = {str(a.get("input")): a for a in _apps(cold_path)}
    warm = {str(a.get("input")): a for a in _apps(warm_path)}
    if not cold or cold.keys() != warm.keys():
        return "**NO** (different sets of files)"
    fields: set[str] = set()
    unordered_only = True
    for name, app in cold.items():
        for key in set(app) | set(warm[name]):
            a, b = _strip_timings(app.get(key)), _strip_timings(warm[name].get(key))
            if a != b:
                fields.add(key)
                unordered_only &= _strip_timings(app.get(key), True) == _strip_timings(warm[name].get(key), True)
    if not fields:
        return "yes"
    if unordered_only:
        return (f"same content, but the order of {', '.join(sorted(fields))} differs (check whether two cold runs "
                "differ too: then the analysis, not the cache, is not order-stable)")
    return f"**NO**: {', '.join(sorted(fields))} differ"


# --- the report ------------------------------------------------------------------------------


def _s(series_: Series | None, peak: bool = False) -> str:
    if series_ is None:
        return "-"
    if series_.timed_out:
        return f"> {series_.last.wall:.0f} (timeout)"
    if series_.failed:
        return f"failed (rc {series_.last.returncode})"
    return f"{series_.wall:.2f} / {series_.peak_mb:.0f}" if peak else f"{series_.wall:.2f}"


def _ratio(numerator: Series | None, denominator: Series | None, minimum: float = 0.005) -> float | None:
    if numerator is None or denominator is None or numerator.timed_out or denominator.timed_out:
        return None
    return numerator.wall / denominator.wall if denominator.wall >= minimum else None


def _cpu_ratio(numerator: Series | None, denominator: Series | None, minimum: float = 0.005) -> float | None:
    """The same ratio in CPU seconds: on a shared, busy machine wall times stretch, CPU times hardly."""
    if numerator is None or denominator is None or numerator.timed_out or denominator.timed_out:
        return None
    return numerator.cpu / denominator.cpu if denominator.cpu >= minimum else None


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}x"


def _mark(ok: bool | None) -> str:
    return "" if ok is None else "PASS" if ok else "**FAIL**"


def _fit(points: list[tuple[float, float]]) -> tuple[float, float, float] | None:
    """Least-squares line through (dex MB, seconds): slope, intercept and R²."""
    if len(points) < 3:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (intercept + slope * x)) ** 2 for x, y in points)
    return slope, intercept, 1 - ss_res / ss_tot if ss_tot else 1.0


def machine() -> str:
    """CPU model and core count, written beside every table: figures from another machine do not compare."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} core(s), {cpu or 'unknown CPU'}"


def _on_machine(load: tuple[float, float, float]) -> str:
    return f"_Machine: {machine()}; load average (1 min) {load[0]:.2f} when the run started._"


STAGE_NOTE = ("CPU seconds per stage of one `auditor scan` of each APK (medians; bench/stages.py runs the analysis in the "
              "scanning process, `--debug`, with a CPU timer of the scanning thread on each stage's functions; time is "
              "exclusive). helper threads is the CPU time of the threads that unpack and hash the dex files and the input "
              "meanwhile, on the second core. start-up is the "
              "whole process's CPU time minus the stages: interpreter, imports, rule loading. flow % is the flow "
              "analysis's share of the whole process's CPU time; CPU ÷ floor compares it with the floor's CPU time.")


def stage_table(rows: list[Row]) -> list[str]:
    staged = [r for r in rows if r.stages]
    if not staged:
        return []
    keys = [k for k in staged[0].stages or {} if k not in ("total", "wall")]
    lines = ["| APK | " + " | ".join(keys) + " | CPU s | wall s | flow % | CPU ÷ floor |",
             "|---|" + "--:|" * (len(keys) + 4)]
    for row in staged:
        st = row.stages or {}
        total = st.get("total", 0.0)
        share = 100 * st.get("flow", 0.0) / total if total else 0.0
        ratio = _x(total / row.floor.cpu) if row.target.dex_count and row.floor.cpu >= 0.005 else "n/a"
        lines.append(f"| {row.target.name} | " + " | ".join(f"{st.get(k, 0.0):.3f}" for k in keys)
                     + f" | {total:.2f} | {st.get('wall', 0.0):.2f} | {share:.0f}% | {ratio} |")
    return lines


def _environment(auditor: list[str]) -> list[str]:
    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO).stdout.strip()
        except OSError:
            return ""

    commit = out(["git", "rev-parse", "--short", "HEAD"]) or "?"
    dirty = " (with uncommitted changes)" if out(["git", "status", "--porcelain", "--untracked-files=no"]) else ""
    try:
        from importlib.metadata import version

        androguard = version("androguard")
    except Exception:
        androguard = "?"
    return [f"- machine: {machine()}; {platform.system()} {platform.release()}",
            f"- Python {platform.python_version()}, androguard {androguard}, "
            f"{'; '.join(out([*auditor, '--version']).splitlines()) or 'auditor ?'}, "
            f"commit {commit}{dirty}"]


CacheRuns = tuple[Series, Series, Series, str]


def render(args: argparse.Namespace, rows: list[Row], startup: Series | None, jobs: tuple[Series, Series],
           cache: CacheRuns | None, auditor: list[str], elapsed: float, load_before: tuple[float, float, float]) -> str:
    load_after = os.getloadavg()
    busy = max(load_before[0], load_after[0]) > (os.cpu_count() or 1) * 0.5
    lines = [f"# Benchmark: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}", "",
             *_environment(auditor),
             f"- load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}"
             + ("" if not busy else " — the machine was busy with other work; measured at raised priority, and CPU s ≈ "
                "wall s below shows whether that was enough" if args.priority else " — **the machine was busy with other "
                "work: wall times and the --jobs ratio are pessimistic; compare the CPU seconds, or rerun with --priority**"),
             f"- medians of {args.runs} run(s); each number is a whole separate process (start-up included); "
             f"peak = max RSS of the process tree (os.wait4); benchmark took {elapsed / 60:.1f} min",
             "- the measured auditor package was byte-compiled first (as pip does on install; "
             f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', 'unset')} here)",
             f"- command: `{shlex.join(['python', 'bench/run.py', *sys.argv[1:]])}`"
             + (" (measured processes at autogroup nice -10, ahead of the other work on the machine)" if args.priority else ""),
             "",
             "## Large APKs and the whole corpus", "", _on_machine(load_before), "",
             "| APK | size MB | dex | dex MB | floor s | AnalyzeAPK s / peak MB | auditor s / peak MB | auditor ÷ floor "
             "| auditor ÷ floor, CPU s | AnalyzeAPK ÷ auditor | auditor results | CPU s: floor / AnalyzeAPK / auditor |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|"]
    for row in rows:
        t = row.target
        floor_ratio = _ratio(row.auditor, row.floor) if t.dex_count else None
        status = ", ".join(f"{k} {v}" for k, v in sorted(row.statuses.items())) or "?"
        lines.append(f"| {t.name} | {t.size / MB:.1f} | {t.dex_count} | {t.dex_bytes / MB:.1f} | {_s(row.floor)} "
                     f"| {_s(row.androguard, peak=True)} | {_s(row.auditor, peak=True)} | {_x(floor_ratio)} "
                     f"| {_x(_cpu_ratio(row.auditor, row.floor) if t.dex_count else None)} "
                     f"| {_x(_ratio(row.androguard, row.auditor))} | {status} | {row.floor.cpu:.2f} "
                     f"/ {'-' if row.androguard is None else f'{row.androguard.cpu:.2f}'} / {row.auditor.cpu:.2f} |")
    large = [r for r in rows if len(r.target.paths) == 1]
    corpus_rows = [r for r in rows if len(r.target.paths) > 1]
    if corpus_rows:
        c = corpus_rows[0].target
        lines += ["", f"The corpus row is one batch of {len(c.paths)} files (one process each for floor, androguard and "
                  f"auditor); AnalyzeAPK is run on the {len(c.dex_paths)} that have dex, the floor only finds top-level dex."]

    stages = stage_table(rows)
    if stages:
        lines += ["", "## Where the time goes (per stage, large APKs)", "", _on_machine(load_before), "", STAGE_NOTE, "",
                  *stages]

    base = startup.cpu if startup is not None and not startup.timed_out else None
    lines += ["", "## Cost against dex size (auditor, large APKs)", "", _on_machine(load_before), ""]
    if startup is not None and base is not None:
        lines += [f"Start-up (auditor on the tiny fixture tests/fixtures/apk/benign.apk): {startup.wall:.2f} s wall, "
                  f"{base:.2f} s CPU, {startup.peak_mb:.0f} MB.", ""]
    lines += ["| APK | dex MB | auditor s | s per dex MB | CPU s per dex MB | (CPU s - start-up CPU s) per dex MB |",
              "|---|--:|--:|--:|--:|--:|"]
    points, cpu_points = [], []
    for row in sorted(large, key=lambda r: r.target.dex_bytes):
        t = row.target
        if not t.dex_bytes or row.auditor.timed_out:
            continue
        mbytes = t.dex_bytes / MB
        points.append((mbytes, row.auditor.wall))
        cpu_points.append((mbytes, row.auditor.cpu))
        net = "n/a" if base is None else f"{(row.auditor.cpu - base) / mbytes:.3f}"
        lines.append(f"| {t.name} | {mbytes:.1f} | {row.auditor.wall:.2f} | {row.auditor.wall / mbytes:.3f} "
                     f"| {row.auditor.cpu / mbytes:.3f} | {net} |")
    for label, fit in (("wall", _fit(points)), ("CPU", _fit(cpu_points))):
        if fit:
            lines += ["", f"Least-squares fit, {label}: auditor s ≈ {fit[1]:.2f} + {fit[0]:.3f} x dex MB (R² = {fit[2]:.3f})."]
    lines += ["", "The intercept is start-up plus per-file work that does not depend on dex size; the slope is the cost "
              "of one more MB of bytecode."]
    framework = next((r for r in large if "framework-res" in r.target.name), None)
    if framework:
        ok = not framework.auditor.timed_out and framework.auditor.wall < TARGET_FRAMEWORK_S
        lines += ["", f"**framework-res.apk** ({framework.target.size / MB:.1f} MB, no dex, large resources.arsc): "
                  f"auditor {_s(framework.auditor)} s, peak {framework.auditor.peak_mb:.0f} MB "
                  f"(target < {TARGET_FRAMEWORK_S:g} s): {_mark(ok)}"]

    one, two = jobs
    files = len(corpus_rows[0].target.paths) if corpus_rows else 0
    speedup = one.wall / two.wall if two.wall else 0.0
    lines += ["", "## Batch throughput on the corpus", "", _on_machine(load_before), "",
              "| jobs | s | files/s | peak MB (largest process) |", "|--:|--:|--:|--:|",
              f"| 1 | {one.wall:.2f} | {files / one.wall:.1f} | {one.peak_mb:.0f} |",
              f"| 2 | {two.wall:.2f} | {files / two.wall:.1f} | {two.peak_mb:.0f} |",
              "", f"--jobs 2 ÷ --jobs 1 throughput: {speedup:.2f}x (target ≥ {TARGET_JOBS_SPEEDUP:g}x, "
              f"on {os.cpu_count()} cores): {_mark(speedup >= TARGET_JOBS_SPEEDUP)}"]

    lines += ["", "## Result cache (corpus, --jobs 1)", "", _on_machine(load_before), ""]
    warm_ok: bool | None = None
    if cache is None:
        lines.append("Skipped: `auditor scan` has no `--no-cache` option yet.")
    else:
        cold, fill, warm, same = cache
        warm_ok = warm.wall <= TARGET_WARM_FRACTION * cold.wall
        lines += ["| run | s | peak MB |", "|---|--:|--:|",
                  f"| cold (`--no-cache`) | {cold.wall:.2f} | {cold.peak_mb:.0f} |",
                  f"| first run, empty cache (analyse + store) | {fill.wall:.2f} | {fill.peak_mb:.0f} |",
                  f"| warm (every file a hit) | {warm.wall:.2f} | {warm.peak_mb:.0f} |",
                  "", f"warm ÷ cold: {warm.wall / cold.wall:.1%} (target ≤ {TARGET_WARM_FRACTION:.0%}): {_mark(warm_ok)}; "
                  f"warm report identical to cold report (timings aside): {same}"]

    lines += ["", "## Targets", "", _on_machine(load_before), "", "| target | result |", "|---|---|"]
    for row in large:
        t, name = row.target, row.target.name
        if t.dex_count:
            r = _ratio(row.auditor, row.floor)
            lines.append(f"| {name}: auditor ≤ {TARGET_FLOOR_RATIO:g}x floor "
                         f"| {_x(r)} {_mark(None if r is None else r <= TARGET_FLOOR_RATIO)} |")
            r = _cpu_ratio(row.auditor, row.floor)
            lines.append(f"| {name}: auditor ≤ {TARGET_FLOOR_RATIO:g}x floor in CPU seconds (load-independent) "
                         f"| {_x(r)} {_mark(None if r is None else r <= TARGET_FLOOR_RATIO)} |")
            r = _ratio(row.androguard, row.auditor)
            lines.append(f"| {name}: ≥ {TARGET_ANDROGUARD_SPEEDUP:g}x faster than AnalyzeAPK "
                         f"| {_x(r)} {_mark(None if r is None else r >= TARGET_ANDROGUARD_SPEEDUP)} |")
        lines.append(f"| {name}: peak RSS ≤ {TARGET_PEAK_MB:g} MB "
                     f"| {row.auditor.peak_mb:.0f} MB {_mark(row.auditor.peak_mb <= TARGET_PEAK_MB)} |")
    if framework:
        lines.append(f"| framework-res < {TARGET_FRAMEWORK_S:g} s | {_s(framework.auditor)} s "
                     f"{_mark(not framework.auditor.timed_out and framework.auditor.wall < TARGET_FRAMEWORK_S)} |")
    if startup is not None:
        tiny_ok = not startup.timed_out and startup.wall < TARGET_TINY_S
        lines.append(f"| tiny app (benign.apk) < {TARGET_TINY_S:g} s, whole process | {startup.wall:.2f} s {_mark(tiny_ok)} |")
    lines.append(f"| --jobs 2 ≥ {TARGET_JOBS_SPEEDUP:g}x --jobs 1 | {speedup:.2f}x {_mark(speedup >= TARGET_JOBS_SPEEDUP)} |")
    warm_text = "skipped (no --no-cache yet)" if cache is None else f"{cache[2].wall / cache[0].wall:.1%} {_mark(warm_ok)}"
    lines.append(f"| warm cache ≤ {TARGET_WARM_FRACTION:.0%} of cold | {warm_text} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; medians are reported (default 3)")
    parser.add_argument("--large-dir", type=Path, default=REPO / "bench" / "large",
                        help="where the large APKs are (fetched if missing)")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus", help="the shared APK corpus")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "latest.md", help="markdown report")
    parser.add_argument("--androguard-timeout", type=float, default=300.0, help="seconds per AnalyzeAPK process (default 300)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per floor/auditor process (default 600)")
    parser.add_argument("--auditor", metavar="CMD", help="auditor command to benchmark, e.g. 'python -m auditor' "
                        "(default: the console script next to this Python)")
    parser.add_argument("--priority", action="store_true",
                        help="on a shared machine: run measured processes at autogroup nice -10 (needs root)")
    parser.add_argument("--skip-androguard", action="store_true", help="leave out AnalyzeAPK (quick checks only)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if shutil.which("unzip") is None:
        parser.error("the floor measurement needs `unzip` on PATH")

    global PRIORITY
    PRIORITY = -10 if args.priority else 0
    started = time.perf_counter()
    load_before = os.getloadavg()
    compile_package(shlex.split(args.auditor) if args.auditor else auditor_command())
    large = ensure_large(args.large_dir, args.corpus)
    files = corpus_files(args.corpus)
    if not files:
        parser.error(f"no corpus files under {args.corpus}")
    targets = [target(p.name, [str(p)]) for p in large] + [target(f"corpus ({len(files)} files)", files)]
    with tempfile.TemporaryDirectory(prefix="auditor-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        startup = bench.startup()
        rows = [bench.row(t) for t in targets]
        jobs = bench.jobs(files)
        cache = bench.cache(files)
        report = render(args, rows, startup, jobs, cache, bench.auditor, time.perf_counter() - started, load_before)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(args.out.name + ".tmp")
    partial.write_text(report, encoding="utf-8")
    partial.replace(args.out)
    print(report)
    print(f"bench: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
