"""Runtimes whose app code lives outside the dex, and evidence from that code.

Detection looks only at zip entry names (one regular expression per runtime over the names) and
at class names in the dex (a binary search of each string table), so apps without such a runtime
pay almost nothing: not even the import of its reader. A detected runtime's code is then read by its reader (a file per format in
this folder): JavaScript parsed with tree-sitter, Hermes bytecode with hermes-dec, libapp.so with
pyelftools, .NET assemblies with dnfile.

Plugins connect the two worlds: a plugin's Java side in the dex reads the channel, the runtime's
code calls it. A plugin that is bundled but provably never called from JavaScript leaves the
channel at `declared` (its dex reads are set aside, with evidence saying why).
"""

from __future__ import annotations

import posixpath

from auditor.containers import ApkPiece
from auditor.errors import CorruptArchive, LimitExceeded
from auditor.extract.program import DexUnit
from auditor.limits import Limits
from auditor.model import ChannelEvidence, Evidence, Origin, Runtime, RuntimeFacts
from auditor.records import record
from auditor.ruleset.ruleset import RuleSet, RuntimeApiEntry, RuntimeEntry, glob_matches

RN_BUNDLE = "assets/index.android.bundle"
WEB_ROOTS = {"Cordova": "assets/www/", "Capacitor": "assets/public/"}
WEB_SKIP = ("cordova.js", "cordova_plugins.js", "native-bridge.js")
"""Runtime files of Cordova and Capacitor: they define the plugin objects but are not the app."""
MAX_SCRIPT_BYTES = 64 * 1024 * 1024
"""JavaScript read per app at most; a bundle is rarely over 20 MB."""
ABI_ORDER = ("arm64-v8a", "armeabi-v7a", "x86_64", "x86")


@record
class Files:
    """Entry names of every piece, and a way to read one (within the input's limits)."""

    pieces: tuple[ApkPiece, ...]
    limits: Limits

    def names(self) -> list[str]:
        return [name for piece in self.pieces for name in piece.archive.names()]

    def read(self, name: str) -> bytes | None:
        for piece in self.pieces:
            if piece.archive.has(name):
                try:
                    return piece.archive.read(name, max_bytes=self.limits.max_dex_bytes, limit_name="--max-dex")
                except (CorruptArchive, LimitExceeded):
                    return None
        return None

    def head(self, name: str, size: int) -> bytes:
        for piece in self.pieces:
            if piece.archive.has(name):
                try:
                    return piece.archive.head(name, size)
                except CorruptArchive:
                    return b""
        return b""


def dex_has_prefix(unit: DexUnit, prefix: str) -> bool:
    """Whether any string of the dex starts with `prefix` (a class or package name it uses)."""
    try:
        return unit.dex.has_string_prefix(prefix)
    except (IndexError, ValueError, UnicodeDecodeError):
        return False


def detect(names: list[str], units: list[DexUnit], rules: RuleSet) -> list[tuple[RuntimeEntry, tuple[str, ...]]]:
    """Runtimes present, each with the entry or class names that show it (at most three)."""
    found = []
    ends, starts = rules.runtime_name_ends
    named = [n for n in names if n.endswith(ends) or n.startswith(starts)]  # in C: the few a glob may match
    for entry in rules.runtimes:
        hits = [n for n in named if any(glob_matches(n, g) for g in entry.files)][:3]
        if not hits:
            hits = [c for c in entry.classes if any(dex_has_prefix(u, c) for u in units)][:3]
        if hits:
            found.append((entry, tuple(hits)))
    return found


def _present_java(units: list[DexUnit], apis: tuple[RuntimeApiEntry, ...]) -> set[str]:
    prefixes = {p for e in apis for p in e.java}
    return {p for p in prefixes if any(dex_has_prefix(u, p) for u in units)}


class RuntimeScan:
    """Reads the code of each detected runtime of one app."""

    def __init__(self, pieces: list[ApkPiece], units: list[DexUnit], rules: RuleSet, limits: Limits) -> None:
        self.files = Files(tuple(pieces), limits)
        self.units = units
        self.apis = rules.runtime_apis
        self.rules = rules
        self.present_java = _present_java(units, self.apis) if self.apis else set()

    def facts(self) -> RuntimeFacts:
        names = self.files.names()
        detected = detect(names, self.units, self.rules)
        if not detected:
            return RuntimeFacts()
        runtimes: list[Runtime] = []
        evidence: list[ChannelEvidence] = []
        unused: list[tuple[str, str]] = []
        for entry, hits in detected:
            summary, found, not_called = self._read(entry, names)
            runtimes.append(Runtime(entry.name, hits, summary))
            evidence += found
            unused += not_called
        for channel, prefix in unused:
            plugin = next(e.plugin for e in self.apis if prefix in e.java and e.channel == channel)
            evidence.append(ChannelEvidence(channel, Evidence(
                "plugin_unused", f"{plugin} is bundled but never called from the app's JavaScript",
                prefix, origin=Origin("app"),
                detail="its reads in the dex are not counted: no call of the plugin was found in the parsed code")))
        return RuntimeFacts(tuple(runtimes), tuple(dict.fromkeys(evidence)), tuple(dict.fromkeys(unused)))

    def _read(self, entry: RuntimeEntry, names: list[str]) -> tuple[str, list[ChannelEvidence], list[tuple[str, str]]]:
        if entry.reader == "javascript":
            return self._javascript(entry, names)
        if entry.reader == "flutter":
            return self._flutter(names)
        if entry.reader == "dotnet":
            return self._dotnet(names)
        if entry.reader == "dex":
            return "its code is compiled into the dex and analysed with it", [], []
        return "its code is not analysed", [], []

    # -- JavaScript and Hermes ----------------------------------------------------------------------

    def _javascript(self, entry: RuntimeEntry, names: list[str]) -> tuple[str, list[ChannelEvidence], list[tuple[str, str]]]:
        from auditor.runtimes import hermes, javascript  # each reader imported only for an app that needs it

        apis = tuple(e for e in self.apis if e.js or e.js_new)
        if entry.name == "React Native":
            scripts = [RN_BUNDLE] if RN_BUNDLE in names else []
        else:
            root = WEB_ROOTS.get(entry.name, "assets/www/")
            scripts = [n for n in names if n.startswith(root) and n.endswith(".js")
                       and posixpath.basename(n) not in WEB_SKIP and not n.startswith(root + "plugins/")]
        if not scripts:
            return "no JavaScript found to analyse", [], []
        if scripts == [RN_BUNDLE] and hermes.is_hermes(self.files.head(RN_BUNDLE, 8)):
            data = self.files.read(RN_BUNDLE)
            if data is None:
                return f"{RN_BUNDLE} could not be read", [], []
            result = hermes.analyse(RN_BUNDLE, data, apis)
            return result.summary, list(result.evidence), []
        evidence: list[ChannelEvidence] = []
        called: set[str] = set()
        parsed = skipped = 0
        budget = MAX_SCRIPT_BYTES
        for name in sorted(scripts):
            data = self.files.read(name)
            if data is None or len(data) > budget:
                skipped += 1
                continue
            budget -= len(data)
            parsed += 1
            if not javascript.mentions(data, apis):
                continue
            outcome = javascript.ScriptAnalysis(javascript.Script(name, data), apis).result()
            evidence += outcome.evidence
            called |= outcome.called_plugins
        unused = [] if skipped else self._unused(called)
        summary = f"{parsed} JavaScript file(s) parsed" + (f", {skipped} not read" if skipped else "")
        return summary, evidence, unused

    def _unused(self, called: set[str]) -> list[tuple[str, str]]:
        """(channel, Java prefix) of JavaScript plugins whose native side is bundled but never called."""
        out = []
        for entry in self.apis:
            if entry.role != "source" or not entry.js or entry.channel is None or entry.plugin in called:
                continue
            out += [(entry.channel, p) for p in entry.java if p in self.present_java]
        return out

    # -- Flutter --------------------------------------------------------------------------------------

    def _flutter(self, names: list[str]) -> tuple[str, list[ChannelEvidence], list[tuple[str, str]]]:
        from auditor.runtimes import flutter

        libs = [n for n in names if posixpath.basename(n) == "libapp.so" and n.startswith("lib/")]
        libs.sort(key=lambda n: ABI_ORDER.index(n.split("/")[1]) if n.split("/")[1] in ABI_ORDER else len(ABI_ORDER))
        snapshot = None
        name = libs[0] if libs else None
        if name is not None:
            data = self.files.read(name)
            snapshot = flutter.snapshot_strings(data) if data is not None else None
        channels = {c for e in self.apis for c in e.flutter_channels
                    if any(u.dex.find_string(c) is not None for u in self.units)}
        result = flutter.analyse(snapshot, channels, self.present_java, self.apis, name)
        summary = result.summary + (f"; URLs: {', '.join(result.urls)}" if result.urls else "")
        return summary, list(result.evidence), []

    # -- .NET -----------------------------------------------------------------------------------------

    def _dotnet(self, names: list[str]) -> tuple[str, list[ChannelEvidence], list[tuple[str, str]]]:
        from auditor.runtimes import dotnet

        limit = self.files.limits.max_dex_bytes
        refs: list[dotnet.References] = []
        unreadable: list[str] = []
        manifest = self.files.read("assemblies/assemblies.manifest") if "assemblies/assemblies.manifest" in names else None
        store_names = dotnet.store_names(manifest) if manifest else None
        for name in names:
            if not name.startswith("assemblies/") or not name.endswith((".dll", ".blob")) or dotnet.is_library(name):
                continue
            data = self.files.read(name)
            if data is None:
                unreadable.append(name)
                continue
            try:
                assemblies = (list(dotnet.store_assemblies(name, data, limit, store_names)) if name.endswith(".blob")
                              else [dotnet.Assembly(name, dotnet.decompress(data, limit))])
            except dotnet.AssemblyError:
                unreadable.append(name)
                continue
            for assembly in assemblies:
                try:
                    refs.append(dotnet.references(assembly))
                except dotnet.AssemblyError:
                    unreadable.append(assembly.name)
        result = dotnet.analyse(refs, unreadable, self.apis)
        return result.summary, list(result.evidence), []


def runtime_facts(pieces: list[ApkPiece], units: list[DexUnit], rules: RuleSet, limits: Limits) -> RuntimeFacts:
    """The runtimes of one app and the evidence their code gives."""
    return RuntimeScan(pieces, units, rules, limits).facts()
