"""One input file through every stage: container -> facts -> rules -> score.

This is the unit of work that executors run, possibly in another process, so it takes a path and
plain settings and returns a picklable AppResult. Expected failures become error results with a
one-line reason; unexpected ones too (as "internal-error"), unless `debug` asks for the traceback.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Callable
from dataclasses import replace

from auditor.classify import classify
from auditor.containers import CODE_ONLY, OpenedInput, open_input
from auditor.errors import AuditorError, LimitExceeded, NotAFile, NotAnAndroidPackage
from auditor.evaluate import evaluate
from auditor.extract import loaders
from auditor.extract.code import CodeScan, load_units
from auditor.extract.facts import assemble, merge_manifests
from auditor.extract.lending import dex_needles, lending_signals
from auditor.extract.loaders import unlisted_packer
from auditor.extract.manifest import read_piece_manifest
from auditor.extract.prefetch import start_helper
from auditor.extract.signing import cert_fingerprints
from auditor.headline import headline
from auditor.inputs import unusable
from auditor.limits import Limits
from auditor.model import AppFacts, AppResult, Evidence
from auditor.policy import judge_policies
from auditor.ruleset.ruleset import RuleSet
from auditor.runtimes import runtime_facts
from auditor.scoring import caps_for, score

JVM_CODE = "classes.jar: an Android library's code is JVM class files, which are not analysed (only its manifest is)"


def extract_facts(opened: OpenedInput, rules: RuleSet, limits: Limits) -> AppFacts:
    """Manifest and code facts of an opened input, merged across its pieces."""
    manifests = [read_piece_manifest(piece, rules) for piece in opened.pieces]
    base_index = next((i for i, m in enumerate(manifests) if m.split is None), 0)
    if not manifests[base_index].package and opened.container not in CODE_ONLY:
        raise NotAnAndroidPackage("not an Android package (the manifest names no package)")
    pieces = [(piece, m.split) for piece, m in zip(opened.pieces, manifests, strict=True)]
    units, unreadable = load_units(pieces, limits)
    manifest = merge_manifests(manifests, cert_fingerprints(opened.pieces[base_index]), rules)
    if opened.container in ("dex", "jar"):
        manifest = replace(manifest, permissions=())  # no manifest: no permission is implied either
    scan = CodeScan(units, unreadable, rules, searched=(*loaders.SEARCHED, *dex_needles(rules.lending)))
    code = scan.facts(list(opened.pieces))
    packed = unlisted_packer(manifest, scan, list(opened.pieces), code)
    if packed:
        code = replace(code, hiding=(*code.hiding, *packed))
    if opened.container == "aar" and not code.dex_count:
        code = replace(code, unreadable_dex=(*code.unreadable_dex, JVM_CODE))
    runtime = runtime_facts(list(opened.pieces), units, rules, limits)
    archives = [opened.outer, *(p.archive for p in opened.pieces if p.archive is not opened.outer)]
    anomalies = tuple(dict.fromkeys(
        [Evidence("anti_analysis", f"{a.kind}: {a.detail}") for archive in archives for a in archive.anomalies]
        + [Evidence("anti_analysis", f"{m.piece}: {text}" if m.piece else text) for m in manifests for text in m.anomalies]))
    base_present = any(m.split is None for m in manifests)
    facts = assemble(manifest, code, rules, anomalies, any(m.has_code for m in manifests), base_present, runtime)
    lending = lending_signals(rules.lending, manifest.label, manifest.package, code.sdks, opened.pieces, scan.strings)
    facts = replace(facts, lending=lending)
    if opened.container in ("dex", "jar"):  # no manifest: requested permissions are unknown, not absent
        facts = replace(facts, channels={name: replace(state, undeclared_access=False) for name, state in facts.channels.items()})
    return facts


RESOURCE_ERRNOS = {errno.ENOMEM: "--max-memory", errno.EMFILE: "open files per process, ulimit -n",
                   errno.ENFILE: "open files on the system"}
"""OS errors that say a resource ran out, not that the file is bad: transient, never cached."""


def _read(path: str, limits: Limits) -> bytes:
    """The file's bytes, if it is a regular file within --max-unpacked.

    Opened without blocking and checked before anything is read: the input list holds regular
    files only, but a path can be replaced by a FIFO or a device between listing and reading, and
    a FIFO would block the worker while /dev/zero would never end.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with open(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotAFile(unusable(path))
        if info.st_size > limits.max_unpacked_bytes:
            raise LimitExceeded(f"file is {info.st_size} bytes, over the {limits.max_unpacked_bytes} byte limit "
                                "(--max-unpacked)", "--max-unpacked")
        return handle.read(info.st_size)  # what was checked, even if the file grows meanwhile


def _in_memory(data: bytes, limits: Limits) -> bytes:
    if len(data) > limits.max_unpacked_bytes:
        raise LimitExceeded(f"input is {len(data)} bytes, over the {limits.max_unpacked_bytes} byte limit (--max-unpacked)",
                            "--max-unpacked")
    return data


def audit_path(path: str, rules: RuleSet, limits: Limits, policy_ids: tuple[str, ...] = (),
               debug: bool = False, assume_lending: bool = False) -> AppResult:
    """Audit one file; never raises for a bad input (unless `debug`)."""
    return _audit(path, lambda: _read(path, limits), rules, limits, policy_ids, debug, assume_lending)


def audit_bytes(data: bytes, name: str, rules: RuleSet, limits: Limits, policy_ids: tuple[str, ...] = (),
                debug: bool = False, assume_lending: bool = False) -> AppResult:
    """Audit an input held in memory, reported under `name`; the same stages and errors as audit_path."""
    return _audit(name, lambda: _in_memory(data, limits), rules, limits, policy_ids, debug, assume_lending)


class _Digest:
    """The input's SHA-256, computed on the other core while the analysis runs (hashlib releases the
    interpreter lock: 15 ms for a 24 MB APK that no longer adds to the scan's time)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._hex: str | None = None
        self._thread = start_helper(self._run, "auditor-sha256")  # without one: hashed when asked

    def _run(self) -> None:
        try:
            self._hex = hashlib.sha256(self._data).hexdigest()
        except MemoryError:
            self._hex = None  # hashed again when asked, where a failure is reported

    def hexdigest(self) -> str:
        if self._thread is not None:
            self._thread.join()
        if self._hex is None:
            self._hex = hashlib.sha256(self._data).hexdigest()
        return self._hex


def _audit(path: str, load: Callable[[], bytes], rules: RuleSet, limits: Limits, policy_ids: tuple[str, ...],
           debug: bool, assume_lending: bool) -> AppResult:
    started = time.perf_counter()
    container = None
    digest: _Digest | None = None

    def sha256() -> str | None:
        return digest.hexdigest() if digest is not None else None

    try:
        data = load()
        digest = _Digest(data)
        opened = open_input(data, limits)
        container = opened.container
        facts = extract_facts(opened, rules, limits)
        findings = evaluate(facts, rules)
        kind = classify(facts, rules.lending, assume_lending)
        return AppResult(path, sha256(), container, "ok", facts=facts, findings=findings,
                         score=score(findings, rules.scoring, caps_for(facts, rules.scoring)),
                         policies=judge_policies(facts, rules, policy_ids, kind),
                         elapsed=time.perf_counter() - started, app_kind=kind,
                         headline=headline(facts, kind, rules.headlines, rules.flag_channels))
    except AuditorError as exc:
        return _error(path, sha256(), container, exc.kind, exc.message, started, getattr(exc, "limit", None))
    except OSError as exc:
        if exc.errno in RESOURCE_ERRNOS:
            limit = RESOURCE_ERRNOS[exc.errno]
            return _error(path, sha256(), container, "limit-exceeded", f"{exc.strerror} (limit {limit})", started, limit)
        return _error(path, sha256(), container, "unreadable-file", f"cannot read file ({exc.strerror or exc})", started)
    except MemoryError:
        return _error(path, sha256(), container, "limit-exceeded", "ran out of memory (limit --max-memory)", started,
                      "--max-memory")
    except Exception as exc:
        if debug:
            raise
        detail = str(exc).splitlines()[0] if str(exc) else ""
        return _error(path, sha256(), container, "internal-error",
                      f"internal error ({type(exc).__name__}: {detail}); rerun with --debug for the traceback", started)


def _error(path: str, sha256: str | None, container: str | None, kind: str, message: str, started: float,
           limit: str | None = None) -> AppResult:
    one_line = " ".join(message.split())
    return AppResult(path, sha256, container, "error", error=one_line, error_kind=kind, limit=limit,
                     elapsed=time.perf_counter() - started)
