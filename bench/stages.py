"""Where one scan's time goes: a per-stage breakdown of a whole `auditor scan` process.

    python bench/stages.py APK            # prints one JSON object: seconds per stage

Runs `python -m auditor -q scan --debug --no-cache --jobs 1 -f json -o /dev/null APK` inside this
process (`--debug` keeps the analysis in this process instead of a forked worker) with a timer
wrapped around the functions that start each stage. Time is *exclusive*: a stage that calls
another (the site search indexing a dex on first use) is charged only for its own part, so the
stages add up to the time spent inside them. Wrapped functions are found by name; one that does
not exist (yet, or any more) is skipped, so the script keeps working while the code moves.

Stage times are CPU seconds of the scanning thread (time.thread_time), which a busy shared machine
distorts far less than wall time. "helper threads" is the CPU time of the threads that unpack and
hash the dex files and the input beside it (auditor/extract/prefetch.py, pipeline._Digest): work
that overlaps the stages on a second core instead of adding to the wall time. `start-up` is not
measured here but by the caller: the whole process's CPU time minus the sum of the stages below
(interpreter start, imports, rule loading, input discovery, exit).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("zip", ("auditor.pipeline:audit_path", "auditor.pipeline:_read", "auditor.containers:open_input",
             "auditor.extract.signing:cert_fingerprints")),
    ("manifest", ("auditor.extract.manifest:read_piece_manifest", "auditor.extract.facts:merge_manifests")),
    ("dex index", ("auditor.extract.code:load_units", "auditor.extract.program:Program.__init__",
                   "auditor.dex.reader:DexFile.class_methods", "auditor.dex.reader:DexFile.class_defs",
                   "auditor.dex.reader:DexFile.__init__")),
    ("site search", ("auditor.extract.code:find_sites", "auditor.extract.code:CodeScan.__init__")),
    ("flow", ("auditor.extract.code:CodeScan.data_flows", "auditor.extract.code:CodeScan._nearby",
              "auditor.extract.code:CodeScan.paths", "auditor.flow.engine:FlowEngine.run")),
    ("other checks", ("auditor.extract.code:CodeScan.hiding", "auditor.extract.code:SdkIndex.present",
                      "auditor.extract.lending:lending_signals", "auditor.extract.code:CodeScan.facts")),
    ("rules", ("auditor.extract.facts:assemble", "auditor.evaluate:evaluate", "auditor.scoring:score",
               "auditor.policy:judge_policies", "auditor.verdict:classify", "auditor.classify:classify")),
    ("render", ("auditor.formats:formatter",)),
)
"""Stage -> the functions (module:qualname) whose calls it is charged with."""

ORDER = ("start-up", *(name for name, _ in STAGES))


class Timer:
    """Exclusive time per stage, kept with a stack of the stages currently running."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.stack: list[list[Any]] = []

    def wrap(self, stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            now = time.thread_time()
            if self.stack:
                outer = self.stack[-1]
                self.spent[outer[0]] += now - outer[1]
            self.stack.append([stage, now])
            try:
                result = func(*args, **kwargs)
            finally:
                end = time.thread_time()
                name, since = self.stack.pop()
                self.spent[name] += end - since
                if self.stack:
                    self.stack[-1][1] = end
            if stage == "render" and callable(result) and not getattr(result, "_timed", False):
                inner = self.wrap("render", result)
                inner._timed = True  # type: ignore[attr-defined]
                return inner
            return result

        return timed


def _install(timer: Timer) -> None:
    """Replace each target by its timed wrapper, in its module, on its class, and wherever it was imported by name."""
    replaced: dict[int, Callable[..., Any]] = {}
    for stage, targets in STAGES:
        for target in targets:
            module_name, qualname = target.split(":")
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            owner: Any = module
            *path, attr = qualname.split(".")
            for part in path:
                owner = getattr(owner, part, None)
            original = getattr(owner, attr, None) if owner is not None else None
            if original is None:
                continue
            wrapped = timer.wrap(stage, original)
            setattr(owner, attr, wrapped)
            replaced[id(original)] = wrapped
    for name, module in list(sys.modules.items()):
        if not name.startswith("auditor") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if id(value) in replaced and not isinstance(value, type):
                setattr(module, attr, replaced[id(value)])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    started = time.process_time()
    started_thread = time.thread_time()
    sys.path.insert(0, str(REPO))
    timer = Timer()
    importlib.import_module("auditor.pipeline")
    _install(timer)
    sys.argv = ["auditor", "-q", "scan", "--debug", "--no-cache", "--jobs", "1", "-f", "json", "-o", "/dev/null", argv[0]]
    from auditor.cli.main import main as command  # the group exits with SystemExit; `python -m auditor` ends the process
    with contextlib.suppress(SystemExit):
        command()
    stages = {name: round(timer.spent.get(name, 0.0), 4) for name, _ in STAGES}
    process, main_thread = time.process_time() - started, time.thread_time() - started_thread
    stages["helper threads"] = round(max(0.0, process - main_thread), 4)
    stages["in-process"] = round(process, 4)
    print(json.dumps(stages))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
