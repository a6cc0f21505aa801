"""Code facts from every dex file of an app: catalogued references, paths to sinks, SDKs, hiding.

The API catalog (rules/catalog/apis.yaml) says what to look for. Each dex is searched for the
indices of those methods, fields and strings only; the methods holding them are decoded, and the
call-graph search runs from the reading methods. Dex files hidden in assets or raw resources are
scanned the same way when they are plain dex.
"""

from __future__ import annotations

import bisect
import math
import struct
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache

from auditor.containers import ApkPiece
from auditor.containers.zipsafe import ZipArchive
from auditor.dex import integrity
from auditor.dex.reader import CONST_STRING, CONST_STRING_JUMBO, FIELD_OPS, INVOKE_OPS, DexFile, DexFormatError
from auditor.errors import CorruptArchive, NotAnAndroidPackage
from auditor.extract.dexstrings import DexStrings
from auditor.extract.paths import PathFinder
from auditor.extract.prefetch import Prefetch, Read, read_now
from auditor.extract.program import DexUnit, Node, Program
from auditor.flow import engine as flow_engine
from auditor.flow.engine import Flow, FlowEngine, FlowResult, SourceIndex
from auditor.flow.labels import endpoint_label
from auditor.flow.library import Library
from auditor.limits import Limits
from auditor.model import CodeFacts, CodeRef, Evidence, Origin, SdkUse
from auditor.records import record
from auditor.ruleset.ruleset import ApiEntry, RuleSet, glob_matches

STRING_OPS = bytes([CONST_STRING, CONST_STRING_JUMBO])
OBFUSCATED_NAME_SHARE = 0.5
"""Share of an app's own classes with obfuscated-looking names above which the code counts as obfuscated."""
CONFUSABLE = "IlO0oCc1"
"""Obfuscators such as the one in Obad build names from letters that look alike (oCIlCll)."""


KNOWN_MAGIC = (b"dex\n", b"PK\x03\x04", b"\x7fELF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"OggS",
               b"ID3", b"\x00\x00\x00", b"{", b"<", b"\x1f\x8b", b"\x03\x00\x08\x00", b"\x02\x00\x0c\x00",
               b"pro\x00", b"prm\x00", b"wOFF", b"OTTO", b"\x00\x01\x00\x00", b"fLaC", b"\x1aE\xdf\xa3")
"""File types an asset may legitimately be (including ART baseline profiles, fonts, audio and video);
an encrypted payload matches none of them."""
ENCRYPTED_ENTROPY = 7.5
"""Bits per byte above which an unrecognised asset is taken to be encrypted or compressed."""


DECRYPTOR_PARAMS = {("Ljava/lang/String;",), ("[B",), ("[C",), ("I",), ("Ljava/lang/String;", "I"), ("I", "I"),
                    ("I", "I", "I"), ("Ljava/lang/String;", "Ljava/lang/String;"), ("[B", "[B")}
"""Parameter lists of the String-returning helpers that string encryptors generate (Obad: oCIlCll(III)String)."""
ARRAY_READS = frozenset(range(0x44, 0x4B))
"""aget and its typed forms: ciphers walk a key or ciphertext array."""
TRANSFORMS = frozenset({0x97, 0xB7, 0xD7, 0xDF, 0x8D, 0x8E})
"""xor-int (all forms), int-to-byte and int-to-char: the arithmetic that turns ciphertext into characters."""
LITERAL_OPS = {1: frozenset({0x12}), 2: frozenset({0x13, 0x1A}), 3: frozenset({0x14, 0x1B})}
"""Constant loads by width in code units (const/4; const/16, const-string; const, const-string/jumbo)."""
MIN_LITERAL_CALLS = 8
"""Calls with a literal argument (an encrypted string or its index) it takes before routines count as a decryptor."""
MAX_DECRYPTOR_CANDIDATES = 300
URL_NEEDLE = "://"
"""What every URL constant holds: the strings searched for destinations."""
MAX_DESTINATION_SEEDS = 200
"""Methods holding URL constants that the data-flow engine also starts from (to learn destinations)."""


def called_with_literal(data: bytes, invoke_at: int) -> bool:
    """Whether the instruction just before an invoke loads a constant (the encrypted string or its index)."""
    return any(invoke_at - 2 * units >= 0 and data[invoke_at - 2 * units] in ops for units, ops in LITERAL_OPS.items())


@lru_cache(maxsize=256)
def entropy(sample: bytes) -> float:
    """Shannon entropy of a byte string, in bits per byte.

    Kept for the last samples: the stub-packer check here and the unlisted-packer check
    (auditor/extract/loaders.py) both weigh the head of every large asset.
    """
    if not sample:
        return 0.0
    counts = [0] * 256
    for byte in sample:
        counts[byte] += 1
    total = len(sample)
    return -sum(c / total * math.log2(c / total) for c in counts if c)


def looks_obfuscated(descriptor: str) -> bool:
    """A class whose simple name has one or two letters, or only confusable letters."""
    name = descriptor.rstrip(";")
    name = name[name.rfind("/") + 1:]
    simple = name[:name.find("$")] if "$" in name else name
    return len(simple) <= 2 or not simple.strip(CONFUSABLE)


@record
class Site:
    """A catalogued reference found in one method."""

    entry: ApiEntry
    node: Node
    value: str


def is_main_dex(name: str) -> bool:
    return name.startswith("classes") and name.endswith(".dex") and "/" not in name


def load_units(pieces: list[tuple[ApkPiece, str | None]], limits: Limits) -> tuple[list[DexUnit], list[str]]:
    """Dex files of every piece (main ones first, then hidden ones), and those that could not be read.

    Each piece's dex files are unpacked by a background thread (auditor/extract/prefetch.py) while
    this one indexes the ones already unpacked."""
    units: list[DexUnit] = []
    unreadable: list[str] = []
    for piece, split in pieces:
        names = piece.archive.names()
        main = sorted((n for n in names if is_main_dex(n)), key=_dex_order)
        hidden = [n for n in names if n.endswith((".dex", ".odex", ".bin", ".dat")) and not is_main_dex(n)
                  and n.startswith(("assets/", "res/raw/")) and _may_be_dex(piece, n)]
        with Prefetch(main + hidden, _dex_reader(piece, limits)) as reads:
            for read in reads:
                is_hidden = read.name not in main
                dex = _open_dex(read, split, hidden=is_hidden, unreadable=unreadable)
                if dex is not None:
                    dex.prepare()  # meanwhile the reading thread hashes this dex, then inflates the next
                    units.append(_checked_unit(piece, read, dex, split, hidden=is_hidden, unreadable=unreadable))
        units += _jar_units(piece, split, limits)
    return units, unreadable


def _may_be_dex(piece: ApkPiece, name: str) -> bool:
    """Whether an asset named like a hidden dex starts like one, judged from its first bytes.

    Apps ship megabytes of other data under such names (an input method's dictionaries in
    assets/*.bin: 0.1 s of inflating on airtest_yosemite), which used to be unpacked whole only to be
    dropped for lacking the dex magic. An entry whose start cannot be read without a full read
    (damaged, encrypted, another method) is still read whole, as before."""
    try:
        start = piece.archive.peek(name, 4)
    except CorruptArchive:
        return False  # a full read would have failed the same way, and a hidden one is then skipped
    return start is None or start == b"dex\n"


def _dex_reader(piece: ApkPiece, limits: Limits) -> Callable[[str], bytes]:
    return lambda name: piece.archive.read(name, max_bytes=limits.max_dex_bytes, limit_name="--max-dex")


def _jar_units(piece: ApkPiece, split: str | None, limits: Limits) -> list[DexUnit]:
    """Dex files inside jars or zips in assets and raw resources: the usual wrapping of a payload
    that DexClassLoader loads. Opened in memory under the input's unpack budget, never extracted."""
    units: list[DexUnit] = []
    for name in piece.archive.names():
        if not (name.startswith(("assets/", "res/raw/")) and name.endswith((".jar", ".zip", ".apk"))):
            continue
        try:
            data = _dex_reader(piece, limits)(name)
            inner = ZipArchive.from_bytes(data, limits, label=name, budget=piece.archive.budget)
        except (CorruptArchive, NotAnAndroidPackage):
            continue  # not a readable jar: nothing hidden that we could scan
        container = ApkPiece(name, data, inner)
        for dex_name in sorted((n for n in inner.names() if n.endswith(".dex")), key=_dex_order):
            read = read_now(dex_name, _dex_reader(container, limits))
            dex = _open_dex(read, split, hidden=True, unreadable=[])
            if dex is not None:
                unit = _checked_unit(container, read, dex, split, hidden=True, unreadable=[])
                units.append(DexUnit(dex, split, f"{name}!{dex_name}", hidden=True, hashes=unit.hashes))
    return units


def _dex_order(name: str) -> int:
    digits = name[len("classes"):-len(".dex")]
    return int(digits) if digits.isdigit() else 1


def _open_dex(read: Read, split: str | None, *, hidden: bool, unreadable: list[str]) -> DexFile | None:
    """The entry as a dex, or None (noted in `unreadable` unless it is a hidden one) where it is not one."""
    where = _where(read.name, split)
    try:
        data = read.value()
    except CorruptArchive as exc:  # LimitExceeded propagates: the whole input is refused, naming the limit
        if not hidden:
            unreadable.append(f"{where}: {exc.message}")
        return None
    if hidden and not data.startswith(b"dex\n"):
        return None
    try:
        return DexFile(data, where)
    except DexFormatError as exc:
        if not hidden:
            unreadable.append(str(exc))
        return None


def _checked_unit(piece: ApkPiece, read: Read, dex: DexFile, split: str | None, *, hidden: bool,
                  unreadable: list[str]) -> DexUnit:
    """The unit, with what says its bytes are not whole noted in `unreadable` (it is still scanned: what it
    shows is evidence, but it may not be all there is). Waits for the reading thread's hashes."""
    damaged = [*piece.archive.damage(read.name), *integrity.damage(dex.data, read.hashes)]
    if damaged:
        unreadable.append(f"{_where(read.name, split)} is damaged: {'; '.join(damaged)}")
    return DexUnit(dex, split, read.name, hidden, read.hashes)


def _where(name: str, split: str | None) -> str:
    return name if split is None else f"{split}:{name}"


class SdkIndex:
    """Longest-prefix lookup of class descriptors in the SDK catalog."""

    def __init__(self, rules: RuleSet) -> None:
        entries = []
        for sdk in rules.sdks:
            for prefix in sdk.prefixes:
                entries.append(("L" + prefix.replace(".", "/"), sdk))
        self.entries = sorted(entries, key=lambda e: -len(e[0]))
        self._by_prefix = {prefix: sdk for prefix, sdk in self.entries}
        self._origins: dict[str, Origin] = {}

    def origin(self, descriptor: str) -> Origin:
        """The SDK whose longest package prefix holds the class; cached per package.

        Prefixes are whole package names, so trying the class's package and its parents in a dict
        replaces a scan of every prefix (apps have tens of thousands of classes).
        """
        package = descriptor[:descriptor.rfind("/") + 1]
        cached = self._origins.get(package)
        if cached is None:
            cached = Origin("app", None)
            cut = len(package)
            while cut > 1:
                sdk = self._by_prefix.get(package[:cut])
                if sdk is not None:
                    cached = Origin("library" if sdk.category == "library" else "sdk", sdk.name)
                    break
                cut = package.rfind("/", 0, cut - 1) + 1
            self._origins[package] = cached
        return cached

    def present(self, descriptors: list[str]) -> tuple[SdkUse, ...]:
        ordered = sorted(descriptors)
        found = []
        for prefix, sdk in self.entries:
            i = bisect.bisect_left(ordered, prefix)
            if i < len(ordered) and ordered[i].startswith(prefix):
                found.append(SdkUse(sdk.name, sdk.category, prefix[1:].replace("/", ".")))
        return tuple(sorted(set(found), key=lambda s: (s.category == "library", s.name, s.prefix)))


def _targets(dex: DexFile, dex_strings: DexStrings, entries: list[ApiEntry]) -> tuple[dict[int, ApiEntry], dict[int, ApiEntry], dict[int, ApiEntry]]:
    """Method, field and string indices of this dex that catalog entries name."""
    methods: dict[int, ApiEntry] = {}
    fields: dict[int, ApiEntry] = {}
    strings: dict[int, ApiEntry] = {}
    for entry in entries:
        if entry.kind in ("method", "field"):
            cls, member = entry.match.split("->", 1)
            type_idx = dex.find_type(cls)
            name_idx = dex.find_string(member)
            if type_idx is None or name_idx is None:
                continue
            if entry.kind == "method":
                for m in dex.method_ids_named(type_idx, name_idx):
                    methods[m] = entry
            else:
                for f in dex.iter_field_ids_of(type_idx, name_idx):
                    fields[f] = entry
        elif entry.kind == "string":
            for s in dex_strings.ids_containing(entry.match):
                if _string_matches(dex.string(s), entry):
                    strings[s] = entry
    return methods, fields, strings


def _string_matches(text: str, entry: ApiEntry) -> bool:
    if entry.match_mode == "exact":
        return text == entry.match
    if entry.match_mode == "contains":
        return entry.match in text
    return text.startswith(entry.match)


CORRUPT_DEX = (DexFormatError, IndexError, struct.error, ValueError, UnicodeDecodeError)
"""What a dex with tampered offsets raises when one of its tables is read."""


NO_SOURCES = SourceIndex({}, {}, {})


def find_sites(units: list[DexUnit], strings: list[DexStrings], rules: RuleSet,
               unreadable: list[str]) -> tuple[list[Site], list[SourceIndex]]:
    """Every catalogued reference in the code, each with the method that holds it, and per dex the
    indices of the sources (what the data-flow engine starts from).

    A dex whose tables turn out to be corrupt is recorded in `unreadable` (the app then is not
    assessable) and its partial sites dropped; the other dex files are still scanned.
    """
    sites: list[Site] = []
    sources: list[SourceIndex] = []
    for index, unit in enumerate(units):
        try:
            unit_sites, unit_sources = _unit_sites(index, unit, strings[index], rules)
            sites += unit_sites
            sources.append(unit_sources)
        except CORRUPT_DEX as exc:
            unreadable.append(f"{unit.dex.name}: corrupt dex ({type(exc).__name__})")
            sources.append(NO_SOURCES)
    return sites, sources


def _unit_sites(index: int, unit: DexUnit, dex_strings: DexStrings, rules: RuleSet) -> tuple[list[Site], SourceIndex]:
    entries = [e for e in rules.apis if e.kind in ("method", "field", "string")]
    dex = unit.dex
    methods, fields, strings = _targets(dex, dex_strings, entries)
    source_index = SourceIndex(*({i: e for i, e in table.items() if e.role == "source"} for table in (methods, fields, strings)))
    def field_text(idx: int) -> str:
        return "{}->{}:{}".format(*dex.field_ref(idx))

    groups: tuple[tuple[bytes, dict[int, ApiEntry], Callable[[int], str]], ...] = (
        (INVOKE_OPS, methods, dex.method_signature),
        (FIELD_OPS, fields, field_text),
        (STRING_OPS, strings, dex.string),
    )
    found = dex.find_sites_many([(ops, set(table)) for ops, table, _ in groups])
    sites: list[Site] = []
    for (_ops, table, describe), hits in zip(groups, found, strict=True):
        for code, insn in hits:
            sites.append(Site(table[insn.index], (index, code.start), describe(insn.index)))
    return sites, source_index


class CodeScan:
    """Runs the code-side extraction for one app and assembles its CodeFacts."""

    def __init__(self, units: list[DexUnit], unreadable: list[str], rules: RuleSet,
                 searched: Iterable[tuple[str, bool]] = ()) -> None:
        """`searched`: what later checks will look for in the dex strings (needle, exact), announced
        so that one pass per dex finds it with the scan's own needles (`strings`)."""
        self.units = units
        self.unreadable = unreadable
        self.rules = rules
        self.program = Program(units, rules.dispatch)
        self.sdk_index = SdkIndex(rules)
        needles = [*((e.match, True) for e in rules.apis if e.kind == "string"), (URL_NEEDLE, True), *searched]
        self.strings = [DexStrings(unit, needles) for unit in units]
        self.sites, self.source_index = find_sites(units, self.strings, rules, unreadable)
        self.by_node: dict[Node, list[Site]] = defaultdict(list)
        for site in self.sites:
            self.by_node[site.node].append(site)

    def origin(self, node: Node) -> Origin:
        return self.sdk_index.origin(self.program.class_of(node))

    def ref(self, site: Site) -> CodeRef:
        unit = self.units[site.node[0]]
        return CodeRef(site.entry.id, site.entry.kind, site.value, self.program.signature(site.node),
                       unit.split, self.origin(site.node), unit.entry)

    def picker_nodes(self) -> set[Node]:
        """Methods that build a pick intent without querying: the compliant Contact Picker."""
        out = set()
        for node, sites in self.by_node.items():
            roles = {s.entry.role for s in sites}
            if "picker" in roles and "query" not in roles:
                out.add(node)
        return out

    def source_nodes(self, channel: str, exclude: set[Node]) -> list[Node]:
        nodes = {s.node for s in self.sites
                 if s.entry.role == "source" and s.entry.channel == channel and s.node not in exclude}
        return sorted(nodes, key=lambda n: (self.origin(n).kind != "app", n))

    def data_flows(self, pickers: set[Node]) -> tuple[tuple[tuple[str, Evidence], ...], FlowResult]:
        """Flows proven by the taint engine, and read/sink pairs that are only close in the call graph."""
        seeds = sorted({s.node for s in self.sites if s.entry.role == "source"},
                       key=lambda n: (self.origin(n).kind != "app", n))
        engine = FlowEngine(self.program, Library(self.rules.flows), self.source_index, self.is_library,
                            (*self.rules.lifecycles, *self.rules.dispatch), flow_engine.INSTRUCTION_BUDGET)
        result = engine.run(seeds, self._destination_nodes() if seeds else [])
        evidence: list[tuple[str, Evidence]] = []
        for flow in result.flows:
            evidence += [(flow.channel, e) for e in self._flow_evidence(flow)]
        for channel, columns in result.taken.items():
            for node in dict.fromkeys(columns.values()):
                names = ", ".join(sorted(name for name, n in columns.items() if n == node))
                evidence.append((channel, self._at(node, "data_taken", names)))
        for lost in result.lost:
            for channel in lost.channels or self._channels():
                evidence.append((channel, self._at(lost.node, "flow_lost", lost.why)))
        proven = {channel for channel, e in evidence if e.kind == "flow"}
        evidence += self._nearby(pickers, proven)
        return tuple(dict.fromkeys(evidence)), result

    def _destination_nodes(self) -> list[Node]:
        """Methods that load a URL constant (scheme://...): where the engine learns destinations."""
        found: list[Node] = []
        for index, unit in enumerate(self.units):
            dex = unit.dex
            ids = {i for i in self.strings[index].ids_containing(URL_NEEDLE) if endpoint_label(dex.string(i)) is not None}
            hits = dex.find_sites_many([(STRING_OPS, ids)])[0] if ids else []
            found += [(index, code.start) for code, _insn in hits if self.origin((index, code.start)).kind != "library"]
        return list(dict.fromkeys(found))[:MAX_DESTINATION_SEEDS]

    def _channels(self) -> list[str]:
        return [c.id for c in self.rules.channels]

    def is_library(self, node: Node) -> bool:
        return self.origin(node).kind == "library"

    def _at(self, node: Node, kind: str, value: str, **extra: object) -> Evidence:
        unit = self.units[node[0]]
        return Evidence(kind, value, self.program.signature(node), unit.split, self.origin(node), dex=unit.entry, **extra)  # type: ignore[arg-type]

    def _flow_evidence(self, flow: Flow) -> list[Evidence]:
        methods = tuple(dict.fromkeys(step.method for step in flow.steps))
        endpoints = tuple(sorted(flow.sink.endpoints))
        cleartext = [e for e in endpoints if e.lower().startswith(("http://", "ws://"))]
        detail = "; ".join(filter(None, ["via " + ", ".join(flow.features) if flow.features else "",
                                         "cleartext: " + ", ".join(cleartext) if cleartext else ""])) or None
        node = flow.source.node
        found = [self._at(node, "flow", f"{flow.channel} -> {flow.sink.kind}: {flow.sink.call}", path=methods,
                          steps=flow.steps, entry_point=flow.entry_point, endpoints=endpoints, detail=detail)]
        sink_method = flow.steps[-1].method if flow.steps else None
        for endpoint in endpoints:
            found.append(Evidence("endpoint", endpoint, sink_method, self.units[node[0]].split, self.origin(node),
                                  detail="cleartext" if endpoint in cleartext else None))
        return found

    def _nearby(self, pickers: set[Node], proven: set[str]) -> list[tuple[str, Evidence]]:
        """A read and a sink close in the call graph, for channels without a proven flow: weaker evidence."""
        sinks = {s.node for s in self.sites if s.entry.role == "sink"}
        finder = PathFinder(self.program, sinks, self.is_library)
        found: list[tuple[str, Evidence]] = []
        for channel in self._channels():
            if channel in proven:
                continue
            for chain in finder.paths(self.source_nodes(channel, pickers)):
                sink_site = next(s for s in self.by_node[chain[-1]] if s.entry.role == "sink")
                steps = tuple(self.program.signature(n) for n in chain)
                found.append((channel, self._at(chain[0], "sink_nearby", f"{channel} read near {sink_site.entry.sink}: {sink_site.value}",
                                                path=steps)))
        return found

    def hiding(self, pieces: list[ApkPiece]) -> tuple[Evidence, ...]:
        return (*self._packers(pieces), *self._dynamic_loading(), *self._reflection(),
                *self._hidden_dex(), *self._obfuscation(), *self._string_decryptors(), *self._tampered_dex())

    def _string_decryptors(self) -> list[Evidence]:
        """App routines that turn a literal (string, bytes or index) into a String by array arithmetic.

        Each candidate returns a String from ints, strings or arrays, reads array elements and
        transforms them (XOR, int-to-char); it counts when its call sites pass literal constants,
        as generated string-encryption code does (ordinary helpers are called on variables).
        """
        found = []
        for index, unit in enumerate(self.units):
            dex = unit.dex
            protos = dex.proto_ids_matching("Ljava/lang/String;", DECRYPTOR_PARAMS)
            candidates = [c for m in dex.method_ids_with_proto(protos) if (c := dex.code_of(m)) is not None
                          and self.origin((index, c.start)).kind == "app"][:MAX_DECRYPTOR_CANDIDATES]
            candidates = [c for c in candidates if (ops := dex.opcodes(c)) & ARRAY_READS and ops & TRANSFORMS]
            defined = {c.method_idx: c for c in candidates}
            literal_calls: dict[int, int] = defaultdict(int)
            for _code, insn in dex.find_sites(INVOKE_OPS, {c.method_idx for c in candidates}):
                literal_calls[insn.index] += called_with_literal(dex.data, insn.offset)
            total = sum(literal_calls.values())
            if total >= MIN_LITERAL_CALLS:
                top = max(literal_calls, key=literal_calls.__getitem__)
                routines = sum(1 for n in literal_calls.values() if n)
                found.append(Evidence("string_encryption",
                                      f"{routines} string decryption routine(s) called {total} times with literal arguments",
                                      dex.method_signature(top), unit.split, self.origin((index, defined[top].start))))
        return found

    def _tampered_dex(self) -> list[Evidence]:
        """Dex files whose header checksum or signature does not match: edited after build, or built to break tools."""
        found = []
        for u in self.units:
            hashes = u.hashes or integrity.hashes(u.dex.data)
            if not hashes.checksum_ok:
                found.append(Evidence("anti_analysis", f"{u.dex.name}: dex header checksum does not match its contents",
                                      None, u.split))
            elif not hashes.signature_ok:
                found.append(Evidence("anti_analysis", f"{u.dex.name}: dex SHA-1 signature does not match its contents "
                                      "(edited after build, checksum recomputed)", None, u.split))
        return found

    def _packers(self, pieces: list[ApkPiece]) -> list[Evidence]:
        found = []
        # a cheap first pass over every name: framework-res has thousands of entries and few match any glob
        ends, starts = self.rules.packer_name_ends
        names = [n for p in pieces for n in p.archive.names() if n.endswith(ends) or n.startswith(starts)]
        prefixes = self.rules.packer_class_prefixes  # likewise one pass over the classes, not one per packer
        classes = [c for c in self.program.classes if c.startswith(prefixes)] if prefixes else []
        for packer in self.rules.packers:
            hits = [n for n in names if any(glob_matches(n, g) for g in packer.files)]
            hits += [c for c in classes if c.startswith(packer.classes)] if packer.classes else []
            if hits:
                # only a packer hides the code; protectors and obfuscators leave it readable
                kind = "packer" if packer.kind == "packer" else "obfuscation"
                found.append(Evidence(kind, f"{packer.name} ({packer.kind}): {', '.join(sorted(hits)[:3])}"))
        if any(s.entry.role == "dynamic_loading" and self.origin(s.node).kind != "library" for s in self.sites):
            found += self._encrypted_payloads(pieces)  # library loaders (androidx MultiDex) load the app's own dex
        return found

    def _encrypted_payloads(self, pieces: list[ApkPiece]) -> list[Evidence]:
        """A stub packer: code loaded at run time plus an asset that is encrypted, not a known file type."""
        found = []
        for piece in pieces:
            for entry in piece.archive.entries():
                if not entry.name.startswith(("assets/", "res/raw/")) or entry.uncompressed_size < 1024:
                    continue
                try:
                    head = piece.archive.head(entry.name, 4096)  # inflates 4 KB, not the whole asset
                except CorruptArchive:
                    continue  # an unreadable asset is no evidence either way
                if not head.startswith(KNOWN_MAGIC) and entropy(head) > ENCRYPTED_ENTROPY:
                    found.append(Evidence("packer", f"encrypted payload {entry.name} loaded at run time"))
        return found

    def _dynamic_loading(self) -> list[Evidence]:
        """Run-time code loading by the app or an SDK; generic libraries (androidx MultiDex) load the app's own dex."""
        return [Evidence("dynamic_loading", s.value, self.program.signature(s.node),
                         self.units[s.node[0]].split, self.origin(s.node))
                for s in self.sites if s.entry.role == "dynamic_loading" and self.origin(s.node).kind != "library"]

    def _reflection(self) -> list[Evidence]:
        out = []
        for node, sites in self.by_node.items():
            roles = {s.entry.role for s in sites}
            if {"reflection", "reflection_target"} <= roles:
                target = next(s.value for s in sites if s.entry.role == "reflection_target")
                out.append(Evidence("reflection", f"reflective call on {target}", self.program.signature(node),
                                    self.units[node[0]].split, self.origin(node)))
        return out

    def _hidden_dex(self) -> list[Evidence]:
        return [Evidence("hidden_dex", u.entry, None, u.split) for u in self.units if u.hidden]

    def _obfuscation(self) -> list[Evidence]:
        own = [c for c in self.program.classes if self.sdk_index.origin(c).kind == "app"]
        odd = [c for c in own if looks_obfuscated(c)]
        if len(own) >= 10 and len(odd) > OBFUSCATED_NAME_SHARE * len(own):
            return [Evidence("obfuscation", f"{len(odd)} of {len(own)} app classes have obfuscated names, e.g. {odd[0]}")]
        return []

    def _guarded(self, what: str, compute: Callable[[], tuple[Evidence, ...]]) -> tuple[Evidence, ...]:
        """Run a whole-program step; a corrupt dex met on the way makes the app unassessable, not a crash."""
        try:
            return compute()
        except CORRUPT_DEX as exc:
            self.unreadable.append(f"{what} stopped at a corrupt dex ({type(exc).__name__})")
            return ()

    def facts(self, pieces: list[ApkPiece]) -> CodeFacts:
        pickers = self.picker_nodes()
        # A site is one instruction; a fact is "this method refers to that API": one per method.
        refs = tuple(dict.fromkeys(self.ref(s) for s in self.sites))
        picker_refs = tuple(dict.fromkeys(Evidence("picker", s.value, self.program.signature(s.node), self.units[s.node[0]].split,
                                     self.origin(s.node)) for s in self.sites if s.node in pickers and s.entry.role == "source"))
        flows, stats = self._flows_guarded(pickers)
        return CodeFacts(
            refs=refs,
            flows=flows,
            sdks=self.sdk_index.present(list(self.program.classes)),
            hiding=self._guarded("the hidden-code checks", lambda: self.hiding(pieces)),
            pickers=picker_refs,
            dex_count=len(self.units),
            class_count=len(self.program.classes),
            unreadable_dex=tuple(self.unreadable),
            flow_stats=stats,
        )

    def _flows_guarded(self, pickers: set[Node]) -> tuple[tuple[tuple[str, Evidence], ...], tuple[tuple[str, int], ...]]:
        """The data-flow analysis; a corrupt dex met on the way makes the app unassessable, not a crash."""
        try:
            flows, result = self.data_flows(pickers)
        except CORRUPT_DEX as exc:
            self.unreadable.append(f"the data-flow analysis stopped at a corrupt dex ({type(exc).__name__})")
            return (), ()
        return flows, (("methods", result.analysed), ("instructions", result.instructions))
