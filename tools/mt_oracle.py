#!/usr/bin/env python3
"""Run Mariana Trench (MT) as an oracle for the data-flow analysis (issue 11). Dev-only: never a runtime
dependency of the auditor; see docs/flow-oracle.md for setup, results and how to read them.

Usage:
    python tools/mt_oracle.py [--mt-bin DIR] [--work DIR] [--json OUT] [--time] APK...

For each APK this script
  1. lists every framework/library class, method and field the app's dex files reference (with the
     auditor's own dex reader) and writes a stub jar of them: class files with no code, so MT treats
     each library method as "obscure" (taint passes from arguments to the result and the receiver);
  2. turns the sources and sinks of rules/catalog/apis.yaml into MT model generators, literal models
     and rules (one rule per channel and sink kind);
  3. runs `mariana-trench` and reads its issues back as a level per channel: `upload` where MT found a
     flow from a channel source to a sink, else `-`.
With --time it wraps MT in /usr/bin/time -v and reports wall seconds and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from auditor.dex.reader import DexFile, DexFormatError  # noqa: E402
from auditor.ruleset.ruleset import load_ruleset  # noqa: E402

CHANNEL_KINDS = {"contacts": "ContactsData", "sms": "SmsData", "call_log": "CallLogData"}
SINK_KINDS = {"network": "NetworkSend", "sms": "SmsSend", "storage": "SharedStorage"}
MT_DEFAULT_GENERATORS = ("taint_in_taint_out", "taint_in_taint_this", "join_override_generator")
"""MT's built-in C++ generators we keep: library methods without code pass taint from arguments to
the result and to the receiver, and a call reaches every override."""

EXTRA_NETWORK_SINKS = (
    # The catalog marks HttpURLConnection.getOutputStream as the sink; the data itself is written to
    # the returned stream, which MT cannot tie back to the connection, so the write is the sink here.
    ("Ljava/io/OutputStream;", "write"),
)
RETROFIT_VERBS = ("POST", "GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "HTTP")
"""An app interface method annotated @retrofit2.http.<VERB> sends its arguments (issue 11, item 3)."""

def _shim(pattern: str, *callees: dict) -> dict:
    return {"find": "methods", "where": [{"constraint": "signature_pattern", "pattern": pattern}],
            "shim": {"callees": list(callees)}}


SHIMS = [
    # The hand-offs of rules/catalog/dispatch.yaml and issue 11 item 2 that MT can express as "a call to X
    # also calls Y on this argument" (MT's own shims.json has only Messenger and Fragment ones).
    _shim(r"Ljava/lang/Thread;\.<init>:\(Ljava/lang/Runnable;\)V", {"type_of": "Argument(1)", "method_name": "run:()V"}),
    _shim(r"Ljava/lang/Thread;\.start:\(\)V", {"type_of": "Argument(0)", "method_name": "run:()V"}),
    _shim(r"Ljava/util/concurrent/Executor(Service)?;\.(execute|submit):\(Ljava/lang/Runnable;\).*",
          {"type_of": "Argument(1)", "method_name": "run:()V"}),
    _shim(r"Ljava/util/concurrent/ExecutorService;\.submit:\(Ljava/util/concurrent/Callable;\).*",
          {"type_of": "Argument(1)", "method_name": "call:()Ljava/lang/Object;"}),
    _shim(r"Landroid/os/Handler;\.post(Delayed)?:\(Ljava/lang/Runnable;.*", {"type_of": "Argument(1)", "method_name": "run:()V"}),
    _shim(r"L[^;]+;\.sendMessage(Delayed)?:\(Landroid/os/Message;.*",
          {"type_of": "Argument(0)", "method_name": "handleMessage:(Landroid/os/Message;)V",
           "parameters_map": {"Argument(1)": "Argument(1)"}}),
    _shim(r"L[^;]+;\.setOnClickListener:\(Landroid/view/View\$OnClickListener;\)V",
          {"type_of": "Argument(1)", "method_name": "onClick:(Landroid/view/View;)V"}),
    _shim(r"Landroidx/core/app/JobIntentService;\.enqueueWork:\(Landroid/content/Context;Ljava/lang/Class;ILandroid/content/Intent;\)V",
          {"reflected_type_of": "Argument(1)", "method_name": "onHandleWork:(Landroid/content/Intent;)V",
           "parameters_map": {"Argument(1)": "Argument(3)"}}),
]

KNOWN_SUPERS = {
    "Landroid/app/Activity;": "Landroid/view/ContextThemeWrapper;",
    "Landroid/view/ContextThemeWrapper;": "Landroid/content/ContextWrapper;",
    "Landroid/content/ContextWrapper;": "Landroid/content/Context;",
    "Landroid/app/Service;": "Landroid/content/ContextWrapper;",
    "Landroid/app/IntentService;": "Landroid/app/Service;",
    "Landroid/app/Application;": "Landroid/content/ContextWrapper;",
    "Landroidx/core/app/JobIntentService;": "Landroid/app/Service;",
    "Landroidx/fragment/app/FragmentActivity;": "Landroidx/activity/ComponentActivity;",
    "Landroidx/activity/ComponentActivity;": "Landroidx/core/app/ComponentActivity;",
    "Landroidx/core/app/ComponentActivity;": "Landroid/app/Activity;",
    "Landroidx/appcompat/app/AppCompatActivity;": "Landroidx/fragment/app/FragmentActivity;",
    "Landroidx/work/Worker;": "Landroidx/work/ListenableWorker;",
    "Landroidx/lifecycle/MutableLiveData;": "Landroidx/lifecycle/LiveData;",
    "Ljava/net/HttpURLConnection;": "Ljava/net/URLConnection;",
    "Ljavax/net/ssl/HttpsURLConnection;": "Ljava/net/HttpURLConnection;",
    "Ljava/util/zip/GZIPOutputStream;": "Ljava/util/zip/DeflaterOutputStream;",
    "Ljava/util/zip/DeflaterOutputStream;": "Ljava/io/FilterOutputStream;",
    "Ljava/io/FilterOutputStream;": "Ljava/io/OutputStream;",
    "Ljava/io/ByteArrayOutputStream;": "Ljava/io/OutputStream;",
    "Ljava/io/DataOutputStream;": "Ljava/io/FilterOutputStream;",
    "Ljava/io/BufferedOutputStream;": "Ljava/io/FilterOutputStream;",
    "Ljava/util/ArrayList;": "Ljava/util/AbstractList;",
    "Landroid/widget/Button;": "Landroid/widget/TextView;",
    "Landroid/widget/TextView;": "Landroid/view/View;",
    "Lcom/android/volley/toolbox/StringRequest;": "Lcom/android/volley/Request;",
    "Lkotlin/coroutines/jvm/internal/SuspendLambda;": "Lkotlin/coroutines/jvm/internal/ContinuationImpl;",
    "Lkotlin/coroutines/jvm/internal/ContinuationImpl;": "Lkotlin/coroutines/jvm/internal/BaseContinuationImpl;",
    "Landroid/content/CursorLoader;": "Landroid/content/AsyncTaskLoader;",
    "Landroid/content/AsyncTaskLoader;": "Landroid/content/Loader;",
}
"""Framework superclasses that matter for dispatch and lifecycles; the dex alone does not say them."""

KNOWN_INTERFACES = {
    "Ljava/util/ArrayList;": ("Ljava/util/List;",),
    "Ljava/util/AbstractList;": ("Ljava/util/List;",),
    "Ljava/util/List;": ("Ljava/util/Collection;",),
    "Lkotlin/coroutines/jvm/internal/BaseContinuationImpl;": ("Lkotlin/coroutines/Continuation;",),
}

INVOKE = {0x6E: "virtual", 0x6F: "super", 0x70: "direct", 0x71: "static", 0x72: "interface",
          0x74: "virtual", 0x75: "super", 0x76: "direct", 0x77: "static", 0x78: "interface"}
STATIC_FIELD_OPS = range(0x60, 0x6E)
INSTANCE_FIELD_OPS = range(0x52, 0x60)
TYPE_OPS = (0x1C, 0x1F, 0x20, 0x22)


# --------------------------------------------------------------------------- what the app references


@dataclass
class ExternalClass:
    """A class the app references but does not define, with the members it references."""

    interface: bool = False
    methods: set[tuple[str, str, bool]] = field(default_factory=set)  # name, proto, static
    fields: set[tuple[str, str, bool]] = field(default_factory=set)  # name, type, static


@dataclass
class Refs:
    defined: dict[str, tuple[str, list[str], set[tuple[str, str]]]] = field(default_factory=dict)
    """App class -> (superclass, interfaces, methods with code as (name, proto))."""
    external: dict[str, ExternalClass] = field(default_factory=lambda: defaultdict(ExternalClass))


def _class_types(descriptor: str) -> list[str]:
    """Class descriptors named in a type or proto descriptor (array element types included)."""
    return re.findall(r"L[^;]+;", descriptor)


def collect(apk: Path) -> Refs:
    """What the app's dex files define and reference, read with the auditor's own dex reader."""
    refs = Refs()
    dexes = []
    with zipfile.ZipFile(apk) as archive:
        for name in sorted(n for n in archive.namelist() if re.fullmatch(r"classes\d*\.dex", n)):
            try:
                dexes.append(DexFile(archive.read(name), name))
            except DexFormatError:
                continue
    for dex in dexes:
        methods = dex.class_methods()
        for cls, sup, _off, ifaces in dex.class_defs():
            own = {dex.method_ref(m.method_idx)[1:] for m in methods.get(cls, [])}
            refs.defined[dex.type_name(cls)] = (dex.type_name(sup) if sup != 0xFFFFFFFF else "",
                                                [dex.type_name(i) for i in ifaces], own)
    uses: list[tuple[str, str, str, str]] = []  # (kind, class, name, descriptor)
    for dex in dexes:
        for codes in dex.class_methods().values():
            for code in codes:
                for insn in dex.decode(code):
                    if insn.op in INVOKE:
                        cls, name, proto = dex.method_ref(insn.index)
                        uses.append((INVOKE[insn.op], cls, name, proto))
                    elif insn.op in STATIC_FIELD_OPS or insn.op in INSTANCE_FIELD_OPS:
                        cls, name, ftype = dex.field_ref(insn.index)
                        uses.append(("sfield" if insn.op in STATIC_FIELD_OPS else "ifield", cls, name, ftype))
                    elif insn.op in TYPE_OPS:
                        uses.append(("type", dex.type_name(insn.index), "", ""))
    for sup, ifaces, _own in refs.defined.values():
        for t in [sup, *ifaces]:
            if t and t not in refs.defined:
                refs.external[t].interface |= t in ifaces
    for kind, cls, name, desc in uses:
        _record_use(refs, kind, cls, name, desc)
    _lift_overrides(refs)
    for ext in list(refs.external.values()):
        for _n, desc, _s in list(ext.methods) + list(ext.fields):
            for t in _class_types(desc):
                if t not in refs.defined:
                    refs.external.setdefault(t, ExternalClass())
    return refs


def _record_use(refs: Refs, kind: str, cls: str, name: str, desc: str) -> None:
    for t in _class_types(cls) + _class_types(desc):
        if t not in refs.defined:
            refs.external.setdefault(t, ExternalClass())
    if kind == "type" or not cls.startswith("L"):
        return
    if kind == "interface" and cls in refs.defined:
        return  # an app interface declares its own (abstract) methods
    owner = _external_owner(refs, cls, name, desc) if kind not in ("sfield", "ifield") else \
        (cls if cls not in refs.defined else None)
    if owner is None:
        return
    ext = refs.external[owner]
    if kind in ("sfield", "ifield"):
        ext.fields.add((name, desc, kind == "sfield"))
    else:
        ext.interface |= kind == "interface" and owner == cls
        ext.methods.add((name, desc, kind == "static"))


def _external_owner(refs: Refs, cls: str, name: str, proto: str) -> str | None:
    """Where a referenced method lives: the class itself if external, else the nearest external
    ancestor of an app class that does not define it (e.g. MainActivity->setContentView)."""
    seen = set()
    while cls in refs.defined and cls not in seen:
        seen.add(cls)
        sup, _ifaces, own = refs.defined[cls]
        if (name, proto) in own:
            return None
        cls = sup
    return cls or None


def _lift_overrides(refs: Refs) -> None:
    """App methods that may override a framework method (onCreate, run, onChanged...) get a
    declaration in each external supertype, so that MT sees the override and its lifecycles."""
    for cls, (_sup, ifaces, own) in refs.defined.items():
        ancestors = [t for t in [_external_owner(refs, cls, "\0", "()V"), *ifaces] if t and t not in refs.defined]
        for ext_name in ancestors:
            ext = refs.external[ext_name]
            for name, proto in own:
                if not name.startswith("<"):
                    ext.methods.add((name, proto, False))


# --------------------------------------------------------------------------- stub jar (class files)


class ConstantPool:
    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.index: dict[tuple[int, str], int] = {}

    def utf8(self, text: str) -> int:
        return self._add(1, text, struct.pack(">BH", 1, len(text.encode())) + text.encode())

    def klass(self, internal: str) -> int:
        name = self.utf8(internal)
        return self._add(7, internal, struct.pack(">BH", 7, name))

    def _add(self, tag: int, key: str, raw: bytes) -> int:
        if (tag, key) not in self.index:
            self.entries.append(raw)
            self.index[(tag, key)] = len(self.entries)
        return self.index[(tag, key)]


def _members(found: set[tuple[str, str, bool]]) -> list[tuple[tuple[str, str], bool]]:
    """One declaration per name and descriptor (a class file may not hold two), static if any use is."""
    merged: dict[tuple[str, str], bool] = {}
    for name, desc, static in found:
        merged[(name, desc)] = merged.get((name, desc), False) or static
    return sorted(merged.items())


def class_file(descriptor: str, ext: ExternalClass) -> bytes:
    """A Java 8 class file declaring the class and its members, none with code (native or abstract)."""
    internal = descriptor[1:-1]
    pool = ConstantPool()
    this = pool.klass(internal)
    sup_desc = "" if descriptor == "Ljava/lang/Object;" else KNOWN_SUPERS.get(descriptor, "Ljava/lang/Object;")
    sup = pool.klass(sup_desc[1:-1]) if sup_desc else 0
    ifaces = [pool.klass(i[1:-1]) for i in KNOWN_INTERFACES.get(descriptor, ())]
    flags = 0x0001 | (0x0200 | 0x0400 if ext.interface else 0)
    fields = [(0x0001 | (0x0008 if static else 0), pool.utf8(n), pool.utf8(t)) for (n, t), static in _members(ext.fields)]
    methods = []
    for (name, proto), static in _members(ext.methods):
        if name == "<clinit>":
            continue
        # public abstract in an interface, public native elsewhere: a declaration without code
        access = 0x0401 if ext.interface and not static else 0x0101 | (0x0008 if static else 0)
        methods.append((access, pool.utf8(name), pool.utf8(proto)))
    out = [struct.pack(">IHHH", 0xCAFEBABE, 0, 52, len(pool.entries) + 1), *pool.entries,
           struct.pack(">HHHH", flags, this, sup, len(ifaces)), *(struct.pack(">H", i) for i in ifaces),
           struct.pack(">H", len(fields)), *(struct.pack(">HHHH", a, n, t, 0) for a, n, t in fields),
           struct.pack(">H", len(methods)), *(struct.pack(">HHHH", a, n, t, 0) for a, n, t in methods),
           struct.pack(">H", 0)]
    return b"".join(out)


def add_lifecycles(refs: Refs, lifecycles: list[dict]) -> list[dict]:
    """MT's lifecycle wrappers whose base class the app extends; their callees are declared in the stubs
    (MT refuses a wrapper whose base class lacks a callee). Returns the wrappers to use."""
    kept = []
    for wrapper in lifecycles:
        base = wrapper["base_class_name"]
        if base not in refs.external:
            continue
        kept.append(wrapper)
        for callee in wrapper["callees"]:
            if callee.get("defined_in_derived_class"):
                continue
            proto = f"({''.join(callee['argument_types'])}){callee['return_type']}"
            refs.external[base].methods.add((callee["method_name"], proto, False))
            for t in _class_types(proto):
                if t not in refs.defined:
                    refs.external.setdefault(t, ExternalClass())
    return kept


def write_stub_jar(refs: Refs, path: Path) -> int:
    """Write the stub jar; returns how many classes it holds."""
    classes = dict(refs.external)
    for desc in ("Ljava/lang/Object;", *KNOWN_SUPERS.values()):
        if desc not in refs.defined:
            classes.setdefault(desc, ExternalClass())
    for desc, ifaces in KNOWN_INTERFACES.items():
        if desc in classes:
            for i in ifaces:
                classes.setdefault(i, ExternalClass(interface=True)).interface = True
    with zipfile.ZipFile(path, "w") as jar:
        for desc, ext in sorted(classes.items()):
            if desc.startswith("L") and desc.endswith(";"):
                jar.writestr(desc[1:-1] + ".class", class_file(desc, ext))
    return len(classes)


# --------------------------------------------------------------------------- MT configuration


def _method_generator(parent: str, name: str, model: dict) -> dict:
    where = [{"constraint": "signature_match", "parent": parent, "name": name}] if name else \
        [{"constraint": "parent", "inner": {"constraint": "name", "pattern": re.escape(parent)}}]
    return {"find": "methods", "where": where, "model": model}


def _all_arguments(kind: str, key: str) -> dict:
    return {"for_all_parameters": [{"variable": "x", "where": [], key: [{"kind": kind, "port": "Argument(x)"}]}]}


def write_config(work: Path) -> dict[str, Path]:
    """MT configuration mirroring the catalog's sources and sinks; returns the option paths."""
    rules = load_ruleset()
    generators: list[dict] = []
    literals: list[dict] = []
    for entry in rules.apis:
        if entry.role == "source" and entry.channel in CHANNEL_KINDS:
            kind = CHANNEL_KINDS[entry.channel]
            if entry.kind == "field":
                cls, name = entry.match.split(";->")
                generators.append({"find": "fields", "where": [
                    {"constraint": "name", "pattern": re.escape(name)},
                    {"constraint": "parent", "inner": {"constraint": "name", "pattern": re.escape(cls + ";")}}],
                    "model": {"sources": [{"kind": kind}]}})
            elif entry.kind == "method":
                cls, name = entry.match.split(";->")
                generators.append(_method_generator(cls + ";", name, {"sources": [{"kind": kind, "port": "Return"}]}))
            elif entry.kind == "string":
                tail = "" if entry.match_mode == "exact" else ".*"
                head = ".*" if entry.match_mode == "contains" else ""
                literals.append({"pattern": head + re.escape(entry.match) + tail, "description": entry.id,
                                 "sources": [{"kind": kind}]})
        elif entry.role == "sink" and entry.kind == "method" and entry.sink in SINK_KINDS:
            cls, name = entry.match.split(";->")
            generators.append(_method_generator(cls + ";", name, _all_arguments(SINK_KINDS[entry.sink], "sinks")))
    for cls, name in EXTRA_NETWORK_SINKS:
        generators.append(_method_generator(cls, name, _all_arguments(SINK_KINDS["network"], "sinks")))
    generators.append({"find": "methods", "where": [{"constraint": "any_of", "inners": [
        {"constraint": "has_annotation", "type": f"Lretrofit2/http/{verb};"} for verb in RETROFIT_VERBS]}],
        "model": _all_arguments(SINK_KINDS["network"], "sinks")})
    search = work / "generators"
    search.mkdir(parents=True, exist_ok=True)
    (search / "CatalogFlows.models").write_text(json.dumps({"model_generators": generators}, indent=1))
    config = work / "generator_config.json"
    config.write_text(json.dumps([{"name": "CatalogFlows"}, *({"name": n} for n in MT_DEFAULT_GENERATORS)]))
    literal_path = work / "literals.json"
    literal_path.write_text(json.dumps(literals, indent=1))
    mt_rules = []
    for c_index, (channel, source_kind) in enumerate(CHANNEL_KINDS.items()):
        for s_index, (sink, sink_kind) in enumerate(SINK_KINDS.items()):
            mt_rules.append({"name": f"{channel} -> {sink}", "code": 9100 + 10 * c_index + s_index,
                             "description": f"{channel} data reaches a {sink} sink",
                             "sources": [source_kind], "sinks": [sink_kind]})
    rules_path = work / "rules.json"
    rules_path.write_text(json.dumps(mt_rules, indent=1))
    return {"config": config, "search": search, "literals": literal_path, "rules": rules_path}


def rule_names(rules_path: Path) -> dict[int, str]:
    return {r["code"]: r["name"] for r in json.loads(rules_path.read_text())}


# --------------------------------------------------------------------------- running MT


def mt_share(bin_dir: Path) -> Path:
    return bin_dir.parent / "share" / "mariana-trench" / "configuration"


def run_mt(apk: Path, work: Path, bin_dir: Path, config: dict[str, Path], timed: bool, timeout: float) -> dict:
    """Run MT on one APK; returns its issues by rule name plus time and memory."""
    work.mkdir(parents=True, exist_ok=True)
    refs = collect(apk)
    share = mt_share(bin_dir)
    lifecycles = add_lifecycles(refs, json.loads((share / "lifecycles.json").read_text()))
    (work / "lifecycles.json").write_text(json.dumps(lifecycles, indent=1))
    (work / "shims.json").write_text(json.dumps(SHIMS, indent=1))
    jar = work / "stubs.jar"
    stub_classes = write_stub_jar(refs, jar)
    (work / "system_jars.json").write_text(json.dumps([str(jar)]))
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    cmd = [str(bin_dir / "mariana-trench"), "--apk-path", str(apk), "--output-directory", str(out),
           "--system-jar-configuration-path", str(work / "system_jars.json"),
           "--model-generator-configuration-paths", str(config["config"]),
           "--model-generator-search-paths", f"{config['search']};{share / 'model-generators'}",
           "--literal-models-paths", str(config["literals"]), "--rules-paths", str(config["rules"]),
           "--lifecycles-paths", str(work / "lifecycles.json"), "--shims-paths", f"{share / 'shims.json'};{work / 'shims.json'}",
           "--maximum-source-sink-distance", "20", "--remove-unreachable-code", "false"]
    if timed:
        cmd = ["/usr/bin/time", "-v", *cmd]
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ.get('PATH', '')}")
    started = time.monotonic()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=work,
                          start_new_session=True) as child:
        try:
            stdout, stderr = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)  # MT's binary is a grandchild: end the whole group
            child.communicate()
            stdout = None
    if stdout is None:
        return {"apk": str(apk), "returncode": None, "seconds": timeout, "issues": {},
                "error": f"no result within {timeout:.0f} s"}
    seconds = time.monotonic() - started
    proc = subprocess.CompletedProcess(cmd, child.returncode, stdout, stderr)
    (work / "mt.log").write_text(proc.stdout + proc.stderr)
    result: dict = {"apk": str(apk), "stub_classes": stub_classes, "returncode": proc.returncode,
                    "seconds": round(seconds, 2), "issues": {}}
    result.update(time_v(proc.stderr))
    if proc.returncode != 0:
        errors = [line for line in (proc.stdout + proc.stderr).splitlines()
                  if re.search(r"MarianaTrench error|RedexError|CRITICAL (?!Exiting)", line)]
        result["error"] = (errors or ["exit status " + str(proc.returncode)])[0][:200]
        return result
    names = rule_names(config["rules"])
    for path in sorted(out.glob("model@*.json")):
        for line in path.read_text().splitlines():
            if not line.startswith("{"):
                continue
            model = json.loads(line)
            for issue in model.get("issues", []):
                name = names.get(issue.get("rule"), str(issue.get("rule")))
                result["issues"].setdefault(name, []).append(
                    {"method": model.get("method"), "callee": issue.get("callee"),
                     "position": issue.get("position", {}).get("line")})
    return result


def time_v(stderr: str) -> dict[str, float]:
    """Peak RSS (MB) and CPU seconds (user + system) from /usr/bin/time -v's report. CPU time is what
    to compare on a loaded machine: wall time there mostly measures the other jobs."""
    out: dict[str, float] = {}
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    if peak:
        out["peak_mb"] = round(int(peak.group(1)) / 1024, 1)
    cpu = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", stderr)
    if cpu:
        out["cpu_s"] = round(sum(map(float, cpu)), 2)
    return out


def run_auditor(apk: Path, repo: Path, timeout: float) -> dict:
    """The auditor's levels for the same APK, from `repo` (a checkout), timed like MT; no cache."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "auditor", "scan", "--no-cache", "-f", "json", str(apk)]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=repo, timeout=timeout)
    result: dict = {"seconds": round(time.monotonic() - started, 2), **time_v(proc.stderr)}
    try:
        app = json.loads(proc.stdout)["apps"][0]
    except (ValueError, KeyError, IndexError):
        result["error"] = f"exit status {proc.returncode}"
        return result
    result["levels"] = {c: s.get("level", "?") for c, s in app.get("channels", {}).items()}
    result["flows"] = sorted({f"{c}: {e.get('entry_point')} -> {', '.join(e.get('endpoints') or [])}"
                              for c, s in app.get("channels", {}).items() for e in s.get("evidence", [])
                              if e.get("kind") == "flow"})
    result["status"] = app.get("status")
    return result


def levels(result: dict) -> dict[str, str]:
    """MT's verdict per channel: upload where an issue of that channel's rules was found."""
    found = {name.split(" -> ")[0] for name in result.get("issues", {})}
    return {c: ("upload" if c in found else "-") for c in CHANNEL_KINDS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("apks", nargs="+", type=Path)
    parser.add_argument("--mt-bin", type=Path, default=Path("/tmp/mt-venv/bin"),
                        help="folder holding mariana-trench (a venv's bin; default /tmp/mt-venv/bin)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/mt-oracle"), help="scratch folder")
    parser.add_argument("--json", type=Path, help="write every result here")
    parser.add_argument("--time", action="store_true", help="measure with /usr/bin/time -v")
    parser.add_argument("--auditor", type=Path, metavar="CHECKOUT",
                        help="also run the auditor of this checkout on each APK (levels, time, peak RSS)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per APK (default 1800)")
    args = parser.parse_args(argv)
    config = write_config(args.work)
    results = []
    header = f"{'apk':44} {'contacts':8} {'sms':8} {'call_log':8} {'cpu s':>7} {'MB':>7}"
    print(header + (f" | auditor: {header[45:]}" if args.auditor else ""))
    for apk in (a.resolve() for a in args.apks):
        result = run_mt(apk, args.work / apk.stem, args.mt_bin, config, args.time, args.timeout)
        results.append(result)
        lv = levels(result)
        status = result.get("error", "")
        line = (f"{apk.name[:44]:44} {lv['contacts']:8} {lv['sms']:8} {lv['call_log']:8} "
                f"{result.get('cpu_s', result['seconds']):7.1f} {result.get('peak_mb', 0):7.0f}")
        if args.auditor:
            ours = result["auditor"] = run_auditor(apk, args.auditor, args.timeout)
            al = ours.get("levels", {})
            line += (f" | {al.get('contacts', '?'):8} {al.get('sms', '?'):8} {al.get('call_log', '?'):8} "
                     f"{ours.get('cpu_s', ours['seconds']):7.1f} {ours.get('peak_mb', 0):7.0f}")
        print(f"{line} {status}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
