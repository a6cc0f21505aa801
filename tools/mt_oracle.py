#!/usr/bin/env python3
"""Run Mariana Trench (MT) as an oracle for the data-flow analysis (issue 11). Dev-only: never a runtime
dependency of the auditor; see docs/flow-oracle.md for setup, results and how to read them.

Usage:
    python tools/mt_oracle.py [--mt-bin DIR] [--work DIR] [--json OUT] [--time] APK...

For each APK this script
  1. lists every framework/library class, method and field the app's dex files reference (with the
     auditor's own dex reader) and writes a stub jar of them: class files with no code, so MT treats
     each library method as "obscure" (taint passes from arguments to the result and the receiver);
  2. turns the sources and sinks of rules/catalog/apis.yaml, and the sinks and stream marks of
     rules/catalog/flows.yaml, into MT model generators, literal models and rules (one rule per channel
     and sink kind, and per channel and mark);
  3. runs `mariana-trench` and reads its issues back as a level per channel: `upload` where MT found a
     flow from a channel source to a sink, else `-`.
A split bundle, App Bundle, .dex or .jar becomes one APK of all its dex files first (see mt_input).
With --time it wraps MT in /usr/bin/time -v and reports CPU seconds and peak RSS; MT is stopped when it
runs past --timeout or its resident memory passes --max-rss-mb.
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

from auditor.containers import open_input  # noqa: E402
from auditor.dex.insns import decode_body  # noqa: E402
from auditor.dex.reader import DexFile, DexFormatError  # noqa: E402
from auditor.errors import AuditorError  # noqa: E402
from auditor.limits import Limits  # noqa: E402
from auditor.ruleset.ruleset import load_ruleset  # noqa: E402

CHANNEL_KINDS = {"contacts": "ContactsData", "sms": "SmsData", "call_log": "CallLogData"}
SINK_KINDS = {"network": "NetworkSend", "sms": "SmsSend", "storage": "SharedStorage"}
MT_DEFAULT_GENERATORS = ("taint_in_taint_out", "taint_in_taint_this", "join_override_generator")
"""MT's built-in C++ generators we keep: library methods without code pass taint from arguments to
the result and to the receiver, and a call reaches every override."""

MARK_KINDS = {"network": "NetworkStream", "storage": "StorageLocation"}
"""flows.yaml `mark`s (HttpURLConnection.getOutputStream, Environment.getExternalStorageDirectory) become
sources of their own kind on the method's result: a stream, file or writer built around the marked value
carries the mark too (taint_in_taint_this on constructors), and a write is a sink only when its receiver
carries a mark and an argument carries a channel's data (an MT multi-source rule: partial sinks "a" on the
receiver and "b" on the arguments), as the auditor's `kind: marked` sink."""
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
    # AsyncTask.execute(params) runs doInBackground(params) (the compiler's Object[] bridge, which calls the
    # typed one); the hand-off of its result to onPostExecute cannot be said as a shim.
    _shim(r"Landroid/os/AsyncTask;\.execute:\(\[Ljava/lang/Object;\)Landroid/os/AsyncTask;",
          {"type_of": "Argument(0)", "method_name": "doInBackground:([Ljava/lang/Object;)Ljava/lang/Object;",
           "parameters_map": {"Argument(1)": "Argument(1)"}}),
    _shim(r"Landroid/os/AsyncTask;\.executeOnExecutor:\(Ljava/util/concurrent/Executor;\[Ljava/lang/Object;\)Landroid/os/AsyncTask;",
          {"type_of": "Argument(0)", "method_name": "doInBackground:([Ljava/lang/Object;)Ljava/lang/Object;",
           "parameters_map": {"Argument(1)": "Argument(2)"}}),
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
    # android.view/android.widget: an app view extending one of these calls ViewGroup/View methods on
    # itself; inferred from receivers alone the chain can stop short of ViewGroup and MT aborts
    # ("Caller and callee intervals do not intersect", simplestnotes: ExpandedMenuView extends ListView)
    "Landroid/view/ViewGroup;": "Landroid/view/View;",
    "Landroid/widget/LinearLayout;": "Landroid/view/ViewGroup;",
    "Landroid/widget/FrameLayout;": "Landroid/view/ViewGroup;",
    "Landroid/widget/RelativeLayout;": "Landroid/view/ViewGroup;",
    "Landroid/widget/AdapterView;": "Landroid/view/ViewGroup;",
    "Landroid/widget/AbsListView;": "Landroid/widget/AdapterView;",
    "Landroid/widget/ListView;": "Landroid/widget/AbsListView;",
    "Landroid/widget/ExpandableListView;": "Landroid/widget/ListView;",
    "Landroid/widget/GridView;": "Landroid/widget/AbsListView;",
    "Landroid/widget/AbsSpinner;": "Landroid/widget/AdapterView;",
    "Landroid/widget/Spinner;": "Landroid/widget/AbsSpinner;",
    "Landroid/widget/ScrollView;": "Landroid/widget/FrameLayout;",
    "Landroid/widget/HorizontalScrollView;": "Landroid/widget/FrameLayout;",
    "Landroid/widget/ImageView;": "Landroid/view/View;",
    "Landroid/widget/ImageButton;": "Landroid/widget/ImageView;",
    "Landroid/widget/EditText;": "Landroid/widget/TextView;",
    "Landroid/widget/AutoCompleteTextView;": "Landroid/widget/EditText;",
    "Landroid/widget/MultiAutoCompleteTextView;": "Landroid/widget/AutoCompleteTextView;",
    "Landroid/widget/CheckedTextView;": "Landroid/widget/TextView;",
    "Landroid/widget/CompoundButton;": "Landroid/widget/Button;",
    "Landroid/widget/CheckBox;": "Landroid/widget/CompoundButton;",
    "Landroid/widget/RadioButton;": "Landroid/widget/CompoundButton;",
    "Landroid/widget/Switch;": "Landroid/widget/CompoundButton;",
    "Landroid/widget/ToggleButton;": "Landroid/widget/CompoundButton;",
    "Landroid/widget/ProgressBar;": "Landroid/view/View;",
    "Landroid/widget/AbsSeekBar;": "Landroid/widget/ProgressBar;",
    "Landroid/widget/SeekBar;": "Landroid/widget/AbsSeekBar;",
    "Landroid/widget/RatingBar;": "Landroid/widget/AbsSeekBar;",
    "Landroid/widget/RadioGroup;": "Landroid/widget/LinearLayout;",
    "Landroid/widget/TableLayout;": "Landroid/widget/LinearLayout;",
    "Landroid/widget/TableRow;": "Landroid/widget/LinearLayout;",
    "Landroid/widget/ViewAnimator;": "Landroid/widget/FrameLayout;",
    "Landroid/widget/ViewFlipper;": "Landroid/widget/ViewAnimator;",
    "Landroid/widget/AbsoluteLayout;": "Landroid/view/ViewGroup;",
    "Landroid/webkit/WebView;": "Landroid/widget/AbsoluteLayout;",
    "Landroid/view/SurfaceView;": "Landroid/view/View;",
    "Landroid/view/TextureView;": "Landroid/view/View;",
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
    subtypes: dict[str, list[tuple[str, bool]]] = field(default_factory=lambda: defaultdict(list))
    """Library class -> library types a call on one of its values names ((type, is_interface)):
    `EditText.setText` called as `TextView.setText` says EditText is a TextView."""
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
                _receiver_types(dex, code, refs)
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


RESULT_OPS = (0x0C,)
OBJECT_MOVES = (0x07, 0x08, 0x09)
NO_WRITE = frozenset([*range(0x27, 0x2D), *range(0x32, 0x3E), *range(0x4B, 0x52), *range(0x59, 0x60),
                      *range(0x67, 0x79), 0x0E, 0x0F, 0x10, 0x11, 0x1D, 0x1E, 0x26, 0x00])


def _receiver_types(dex: DexFile, code, refs: Refs) -> None:
    """Straight-line guess of each register's static type (new-instance, check-cast, results, fields,
    parameters), to learn from `invoke-virtual {v}, C->m` that the value's type T is a subtype of C."""
    try:
        body = decode_body(dex.data, code.start, code.end)
    except (DexFormatError, IndexError, struct.error):
        return
    types: dict[int, str] = {}
    last_result = ""
    for insn in body.insns:
        op = insn.op
        if op in INVOKE:
            callee, _n, callee_proto = dex.method_ref(insn.index)
            receiver = insn.regs[0] if insn.regs else None
            if INVOKE[op] in ("virtual", "interface") and receiver in types:
                t = types[receiver]
                if t != callee and t.startswith("L"):
                    refs.subtypes[t].append((callee, INVOKE[op] == "interface"))
            last_result = callee_proto[callee_proto.index(")") + 1:]
            continue
        if op in RESULT_OPS and insn.regs:
            types[insn.regs[0]] = last_result
        elif op in (0x22, 0x1F) and insn.regs:  # new-instance, check-cast
            types[insn.regs[0]] = dex.type_name(insn.index)
        elif op in (0x54, 0x62) and insn.regs:  # iget-object, sget-object
            types[insn.regs[0]] = dex.field_ref(insn.index)[2]
        elif op in OBJECT_MOVES and len(insn.regs) == 2 and insn.regs[1] in types:
            types[insn.regs[0]] = types[insn.regs[1]]
        elif op not in NO_WRITE and insn.regs:
            types.pop(insn.regs[0], None)
        last_result = ""


def infer_supertypes(refs: Refs, fixed: set[str]) -> dict[str, tuple[str, list[str]]]:
    """Superclass and interfaces of library classes whose hierarchy is not `fixed` (JDK classes,
    KNOWN_SUPERS), from what calls on their values name. Without them MT aborts on calls such as
    `TextView.setText` on an EditText (an assertion on class intervals)."""
    out: dict[str, tuple[str, list[str]]] = {}

    def ancestors(t: str) -> set[str]:
        seen: set[str] = set()
        while t and t not in seen:
            seen.add(t)
            t = out.get(t, (KNOWN_SUPERS.get(t, ""), []))[0]
        return seen

    for t, uses in refs.subtypes.items():
        base = _external_owner(refs, t, "\0", "()V") if t in refs.defined else t
        if not base or base in refs.defined or base in fixed:
            continue
        sup, ifaces = out.get(base, ("", []))
        for callee, interface in uses:
            if callee == base or callee in refs.defined or base in ancestors(callee):
                continue
            if interface and callee not in ifaces:
                ifaces.append(callee)
            elif not interface and not sup:
                sup = callee
        out[base] = (sup, ifaces)
    return out


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


def class_file(descriptor: str, ext: ExternalClass, real: tuple[str, list[str], bool] | None = None) -> bytes:
    """A Java 8 class file declaring the class and its members, none with code (native or abstract).
    `real` is the (superclass, interfaces, is_interface) of the JDK's own class of that name."""
    internal = descriptor[1:-1]
    pool = ConstantPool()
    this = pool.klass(internal)
    if real is not None:
        sup_desc, iface_descs, ext.interface = real
    else:
        sup_desc = "" if descriptor == "Ljava/lang/Object;" else KNOWN_SUPERS.get(descriptor, "Ljava/lang/Object;")
        iface_descs = list(KNOWN_INTERFACES.get(descriptor, ()))
    sup = pool.klass(sup_desc[1:-1]) if sup_desc else 0
    ifaces = [pool.klass(i[1:-1]) for i in iface_descs]
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


def write_stub_jar(refs: Refs, path: Path, jdk: Path | None = None) -> int:
    """Write the stub jar (java.* classes with the JDK's own supertypes when `jdk` holds them);
    returns how many classes it holds."""
    classes = dict(refs.external)
    hierarchy: dict[str, tuple[str, list[str], bool]] = {}
    todo = list(classes)
    while jdk is not None and todo:
        desc = todo.pop()
        file = jdk / f"{desc[1:-1]}.class"
        if desc in hierarchy or not desc.startswith("L") or not file.is_file():
            continue
        hierarchy[desc] = class_header(file.read_bytes())
        for t in [hierarchy[desc][0], *hierarchy[desc][1]]:
            if t and t not in refs.defined:
                classes.setdefault(t, ExternalClass())
                todo.append(t)
    for desc in ("Ljava/lang/Object;", *KNOWN_SUPERS.values()):
        if desc not in refs.defined:
            classes.setdefault(desc, ExternalClass())
    for desc, ifaces in KNOWN_INTERFACES.items():
        if desc in classes:
            for i in ifaces:
                classes.setdefault(i, ExternalClass(interface=True)).interface = True
    inferred = infer_supertypes(refs, set(hierarchy) | set(KNOWN_SUPERS))
    for desc, (sup, ifaces) in inferred.items():
        if desc in classes and (sup or ifaces):
            hierarchy[desc] = (sup or "Ljava/lang/Object;", ifaces, classes[desc].interface)
    with zipfile.ZipFile(path, "w") as jar:
        for desc, ext in sorted(classes.items()):
            if desc.startswith("L") and desc.endswith(";"):
                jar.writestr(desc[1:-1] + ".class", class_file(desc, ext, hierarchy.get(desc)))
    return len(classes)


def jdk_classes(work: Path) -> Path | None:
    """The running JDK's java.base class files (extracted once with jimage), for their hierarchy.

    MT cannot load the JDK's class files themselves (Redex's jar loader rejects invokedynamic
    constant-pool entries), but the stubs can copy their superclass and interfaces: with made-up
    java.* supertypes MT aborts on some apps (an assertion on class intervals in Model.cpp)."""
    root = work / "java-base"
    if not (root / "java.base").is_dir():
        java = shutil.which("java")
        if java is None or shutil.which("jimage") is None:
            return None
        modules = Path(java).resolve().parent.parent / "lib" / "modules"
        subprocess.run(["jimage", "extract", "--dir", str(root), "--include", r"regex:/java\.base/.*", str(modules)],
                       check=True, capture_output=True)
    return root / "java.base"


CP_WIDTHS = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2, 17: 4, 18: 4, 19: 2, 20: 2}


def class_header(data: bytes) -> tuple[str, list[str], bool]:
    """(superclass, interfaces, is_interface) of a class file, as descriptors."""
    count = struct.unpack_from(">H", data, 8)[0]
    pos, utf8, classes = 10, {}, {}
    i = 1
    while i < count:
        tag = data[pos]
        if tag == 1:
            (length,) = struct.unpack_from(">H", data, pos + 1)
            utf8[i] = data[pos + 3:pos + 3 + length].decode("utf-8", "replace")
            pos += 3 + length
        else:
            if tag == 7:
                classes[i] = struct.unpack_from(">H", data, pos + 1)[0]
            pos += 1 + CP_WIDTHS[tag]
        i += 2 if tag in (5, 6) else 1
    flags, _this, sup, n = struct.unpack_from(">HHHH", data, pos)
    ifaces = struct.unpack_from(f">{n}H", data, pos + 8)

    def name(idx: int) -> str:
        return f"L{utf8[classes[idx]]};"

    return (name(sup) if sup else ""), [name(k) for k in ifaces], bool(flags & 0x0200)


# --------------------------------------------------------------------------- MT configuration


def _method_generator(parent: str, name: str, model: dict) -> dict:
    where = [{"constraint": "signature_match", "parent": parent, "name": name}] if name else \
        [{"constraint": "parent", "inner": {"constraint": "name", "pattern": re.escape(parent)}}]
    return {"find": "methods", "where": where, "model": model}


def _all_arguments(kind: str, key: str) -> dict:
    return {"for_all_parameters": [{"variable": "x", "where": [], key: [{"kind": kind, "port": "Argument(x)"}]}]}


def _ports(positions: list[str] | tuple[str, ...]) -> list[str] | None:
    """MT ports for flows.yaml positions (`receiver`, `argN`); None for `args` (every argument). The
    flows.yaml sinks are instance methods, so `argN` is MT's Argument(N) and the receiver Argument(0)."""
    if "args" in positions:
        return None
    return ["Argument(0)" if p == "receiver" else f"Argument({p[3:]})" for p in positions]


def _sink_model(kind: str, positions: list[str] | tuple[str, ...]) -> dict:
    ports = _ports(positions)
    if ports is None:
        return _all_arguments(kind, "sinks")
    return {"sinks": [{"kind": kind, "port": port} for port in ports]}


def _marked_kind(channel: str, mark: str) -> str:
    return f"{CHANNEL_KINDS[channel]}To{MARK_KINDS[mark]}"


def flow_generators(rules) -> list[dict]:
    """Sinks and marks of rules/catalog/flows.yaml (the auditor's data-flow catalog, richer than apis.yaml:
    XMPP, Volley, OkHttp calls, MQTT, Firebase, WebView, stream and writer writes...). Matched by class and
    method name like the auditor's entries; an obfuscated copy of a library (renamed classes) matches
    neither tool's entry by name."""
    generators: list[dict] = []
    for entry in rules.flows:
        methods = [m.split(";->") for m in entry.methods]
        if entry.mark in MARK_KINDS:
            for cls, name in methods:
                generators.append(_method_generator(cls + ";", name, {"sources": [{"kind": MARK_KINDS[entry.mark], "port": "Return"}]}))
        sink = entry.sink or {}
        if sink.get("kind") in SINK_KINDS:
            for cls, name in methods:
                generators.append(_method_generator(cls + ";", name, _sink_model(SINK_KINDS[sink["kind"]], sink.get("args", ["args"]))))
        elif sink.get("kind") == "marked":
            partial = []
            for channel in CHANNEL_KINDS:
                for mark in MARK_KINDS:
                    kind = _marked_kind(channel, mark)
                    partial.append({"kind": kind, "partial_label": "a", "port": "Argument(0)"})
                    partial.append({"kind": kind, "partial_label": "b", "port": "Argument(x)"})
            model = {"for_all_parameters": [{"variable": "x", "where": [], "sinks": [p for p in partial if p["partial_label"] == "b"]}],
                     "sinks": [p for p in partial if p["partial_label"] == "a"]}
            for cls, name in methods:
                generators.append(_method_generator(cls + ";", name, model))
    return generators


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
    generators.extend(flow_generators(rules))
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
    for c_index, channel in enumerate(CHANNEL_KINDS):
        for m_index, mark in enumerate(MARK_KINDS):
            kind = _marked_kind(channel, mark)
            mt_rules.append({"name": f"{channel} -> {mark} (marked stream)", "code": 9200 + 10 * c_index + m_index,
                             "description": f"{channel} data written to a stream marked {mark}",
                             "multi_sources": {"a": [MARK_KINDS[mark]], "b": [CHANNEL_KINDS[channel]]},
                             "partial_sinks": [kind]})
    rules_path = work / "rules.json"
    rules_path.write_text(json.dumps(mt_rules, indent=1))
    return {"config": config, "search": search, "literals": literal_path, "rules": rules_path}


def rule_names(rules_path: Path) -> dict[int, str]:
    return {r["code"]: r["name"] for r in json.loads(rules_path.read_text())}


# --------------------------------------------------------------------------- running MT


def mt_share(bin_dir: Path) -> Path:
    return bin_dir.parent / "share" / "mariana-trench" / "configuration"


DEX_NAME = re.compile(r"classes\d*\.dex")


def mt_input(path: Path, work: Path) -> tuple[Path, str]:
    """The APK to give MT for `path`, and a note. MT reads one APK; the other containers the auditor opens
    become one APK holding the dex files of every piece (renumbered classes.dex, classes2.dex...), the code
    the auditor analyses, with the base piece's manifest and resources when it has a binary manifest
    (split bundles .apks, .xapk, .apkm). An App Bundle's manifests are protobuf, which MT (Redex) cannot
    read, and a bare .dex or a .jar has none: MT then runs without one (no manifest-based entry points,
    which MT does not need: it analyses every method). An .aar holds JVM class files, not dex: refused."""
    opened = open_input(path.read_bytes(), Limits())
    if opened.container == "apk":
        return path, ""
    base = opened.pieces[0]
    dexes = [piece.archive.read(n) for piece in opened.pieces for n in piece.archive.names()
             if DEX_NAME.fullmatch(n.rsplit("/", 1)[-1])]
    if not dexes:
        raise ValueError(f"a .{opened.container} without dex code")
    merged = work / "merged.apk"
    work.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(merged, "w", zipfile.ZIP_DEFLATED) as out:
        for name in base.archive.names() if base.manifest == "binary" else ():
            if not DEX_NAME.fullmatch(name) and not name.endswith("/"):
                out.writestr(name, base.archive.read(name))
        for index, data in enumerate(dexes):
            out.writestr(f"classes{index + 1 if index else ''}.dex", data)
    pieces = ", ".join(piece.name or path.name for piece in opened.pieces)
    manifest = f"manifest of {base.name}" if base.manifest == "binary" else "no manifest"
    return merged, f"{opened.container}: {manifest}, {len(dexes)} dex from {pieces}"


def run_mt(apk: Path, work: Path, bin_dir: Path, config: dict[str, Path], timed: bool, timeout: float,
           extra: tuple[str, ...] = (), jdk: Path | None = None, max_rss_mb: float = 8192) -> dict:
    """Run MT on one APK; returns its issues by rule name plus time and memory."""
    work.mkdir(parents=True, exist_ok=True)
    refs = collect(apk)
    share = mt_share(bin_dir)
    lifecycles = add_lifecycles(refs, json.loads((share / "lifecycles.json").read_text()))
    (work / "lifecycles.json").write_text(json.dumps(lifecycles, indent=1))
    (work / "shims.json").write_text(json.dumps(SHIMS, indent=1))
    jar = work / "stubs.jar"
    stub_classes = write_stub_jar(refs, jar, jdk)
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
           "--maximum-source-sink-distance", "20", "--remove-unreachable-code", "false", *extra]
    if timed:
        cmd = ["/usr/bin/time", "-v", *cmd]
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ.get('PATH', '')}")
    started = time.monotonic()
    with open(work / "mt.stdout", "w+") as out_file, open(work / "mt.stderr", "w+") as err_file:
        child = subprocess.Popen(cmd, stdout=out_file, stderr=err_file, text=True, env=env, cwd=work,
                                 start_new_session=True)
        stopped, usage = supervise(child, timeout, max_rss_mb)
        out_file.seek(0)
        err_file.seek(0)
        stdout, stderr = out_file.read(), err_file.read()
    if stopped:
        return {"apk": str(apk), "returncode": None, "seconds": round(time.monotonic() - started, 2), "issues": {},
                "error": stopped, "cpu_s_so_far": usage["cpu_s"], "peak_mb_so_far": usage["peak_mb"]}
    seconds = time.monotonic() - started
    proc = subprocess.CompletedProcess(cmd, child.returncode, stdout, stderr)
    (work / "mt.log").write_text(proc.stdout + proc.stderr)
    result: dict = {"apk": str(apk), "stub_classes": stub_classes, "returncode": proc.returncode,
                    "seconds": round(seconds, 2), "issues": {}}
    result.update(time_v(proc.stderr))
    if proc.returncode != 0:
        result["error"] = mt_error(proc.stdout + proc.stderr) or f"exit status {proc.returncode}"
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


def group_usage(pgid: int) -> tuple[float, float]:
    """(CPU seconds, resident MB) of the live processes of one process group, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu = rss = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the command: state ppid pgrp ...
            cpu += (int(fields[11]) + int(fields[12])) / tick
            rss += int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return cpu, rss


def supervise(child: subprocess.Popen, timeout: float, max_rss_mb: float) -> tuple[str, dict[str, float]]:
    """Wait for MT, ending its whole process group (MT's binary is a grandchild) when it runs longer than
    `timeout` seconds or its resident memory passes `max_rss_mb`; returns why it was stopped ("" if it
    finished) and the group's CPU seconds and peak MB as last seen."""
    started = time.monotonic()
    usage = {"cpu_s": 0.0, "peak_mb": 0.0}
    while True:
        try:
            child.wait(timeout=2)
            return "", usage
        except subprocess.TimeoutExpired:
            pass
        cpu, rss = group_usage(child.pid)
        usage = {"cpu_s": round(max(cpu, usage["cpu_s"]), 1), "peak_mb": round(max(rss, usage["peak_mb"]))}
        reason = ""
        if rss > max_rss_mb:
            reason = f"stopped: resident memory {rss:.0f} MB passed {max_rss_mb:.0f} MB"
        elif time.monotonic() - started > timeout:
            reason = f"no result within {timeout:.0f} s"
        if reason:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            return reason + f" ({usage['cpu_s']:.0f} CPU s, {usage['peak_mb']:.0f} MB so far)", usage


def mt_error(log: str) -> str:
    """The reason in MT's log for a failed run, short: the Python exception that ended it
    (`UnknownSecondaryDexModeException`: no dex), or the C++ assertion with its file and line."""
    exception = re.search(r"^[\w.]*?(\w+(?:Exception|Error))\s*$", log, re.M)
    if exception:
        return exception.group(1)
    assertion = re.search(r"(\w+\.(?:cpp|h):\d+):.*?(assertion `[^']*' failed|Caller and callee intervals do not intersect)", log)
    if assertion:
        return f"{assertion.group(1)}: {assertion.group(2)}"
    line = re.search(r".*(?:MarianaTrench error|RedexError|CRITICAL (?!Exiting)).*", log)
    return line.group(0)[:200] if line else ""


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
                              for c, s in app.get("channels", {}).items() for e in s.get("flows", [])
                              if e.get("kind") == "flow"})
    result["status"] = app.get("status")
    return result


def levels(result: dict) -> dict[str, str]:
    """MT's verdict per channel: upload where an issue of that channel's rules was found."""
    found = {name.split(" -> ")[0] for name in result.get("issues", {})}
    return {c: ("upload" if c in found else "-") for c in CHANNEL_KINDS}


def agree(result: dict) -> str:
    """Whether MT and the auditor agree on `upload` for every channel ("n/a" when either has no verdict)."""
    ours = result.get("auditor", {}).get("levels")
    if not ours or result.get("error"):
        return "n/a"
    theirs = levels(result)
    same = all((theirs[c] == "upload") == (ours.get(c) == "upload") for c in CHANNEL_KINDS)
    return "yes" if same else "**no**"


def markdown_rows(results: list[dict]) -> list[str]:
    """One table row per result for docs/flow-oracle.md: verdicts, CPU seconds and peak MB of both tools."""
    rows = []
    for result in results:
        ours = result.get("auditor", {})
        error = result.get("error", "")
        mt = " / ".join(levels(result).values()) if not error else f"MT: {error[:90]}"
        cpu = result.get("cpu_s", result.get("cpu_s_so_far"))
        peak = result.get("peak_mb", result.get("peak_mb_so_far"))
        mt_cost = f"{cpu:.1f} / {peak:.0f}" if cpu is not None and peak is not None else ""
        audit = " / ".join(ours.get("levels", {}).get(c, "?") for c in CHANNEL_KINDS)
        audit_cost = f"{ours['cpu_s']:.2f} / {ours['peak_mb']:.0f}" if "cpu_s" in ours and "peak_mb" in ours else ""
        rows.append(f"| `{Path(result['apk']).name}` | {mt} | {mt_cost} | {audit} | {audit_cost} | {agree(result)} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("apks", nargs="*", type=Path)
    parser.add_argument("--table", type=Path, nargs="+", metavar="JSON",
                        help="print the markdown table rows of earlier --json results instead of running anything")
    parser.add_argument("--mt-bin", type=Path, default=Path("/tmp/mt-venv/bin"),
                        help="folder holding mariana-trench (a venv's bin; default /tmp/mt-venv/bin)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/mt-oracle"), help="scratch folder")
    parser.add_argument("--json", type=Path, help="write every result here")
    parser.add_argument("--time", action="store_true", help="measure with /usr/bin/time -v")
    parser.add_argument("--auditor", type=Path, metavar="CHECKOUT",
                        help="also run the auditor of this checkout on each APK (levels, time, peak RSS)")
    parser.add_argument("--cross-component", action="store_true",
                        help="MT's --enable-cross-component-analysis (Intents between the app's components)")
    parser.add_argument("--no-jdk", action="store_true",
                        help="do not copy java.* supertypes from the running JDK's java.base (jimage)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per APK (default 1800)")
    parser.add_argument("--max-rss-mb", type=float, default=8192,
                        help="stop MT when its resident memory passes this many MB (default 8192)")
    args = parser.parse_args(argv)
    if args.table:
        for path in args.table:
            print("\n".join(markdown_rows(json.loads(path.read_text()))))
        return 0
    config = write_config(args.work)
    jdk = None if args.no_jdk else jdk_classes(args.work)
    results = []
    header = f"{'apk':44} {'contacts':8} {'sms':8} {'call_log':8} {'cpu s':>7} {'MB':>7}"
    print(header + (f" | auditor: {header[45:]}" if args.auditor else ""))
    for apk in (a.resolve() for a in args.apks):
        work = args.work / apk.stem
        try:
            given, note = mt_input(apk, work)
        except (ValueError, AuditorError) as exc:
            result = {"apk": str(apk), "seconds": 0, "issues": {}, "error": f"not run: {exc}"}
        else:
            result = run_mt(given, work, args.mt_bin, config, args.time, args.timeout,
                            ("--enable-cross-component-analysis",) if args.cross_component else (), jdk, args.max_rss_mb)
            result.update({"apk": str(apk), "mt_input": note} if note else {})
        results.append(result)
        lv = levels(result)
        status = result.get("error", "")
        line = (f"{apk.name[:44]:44} {lv['contacts']:8} {lv['sms']:8} {lv['call_log']:8} "
                f"{result.get('cpu_s', result.get('cpu_s_so_far', 0)):7.1f} {result.get('peak_mb', result.get('peak_mb_so_far', 0)):7.0f}")
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
