"""The rule set: catalogs, exposure rules, scoring and policy packs, loaded from `rules/`.

Everything the analysis knows about Android (which APIs reach which data, which SDK owns which
package, what a policy forbids) lives in these data files; this module only reads, checks and
indexes them. A user's `--rules DIR` is read after the built-in folder, and a rule with the same
id replaces the built-in one.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, astuple, field, fields, replace
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from auditor import i18n
from auditor.errors import RuleError
from auditor.model import RuleInfo
from auditor.records import record

log = logging.getLogger("auditor")

CACHE_FORMAT = 2
"""Version of the JSON layout of a cached rule set; another version is rebuilt, never read."""

BUILTIN_DIR = (Path(__file__).parent.parent / "builtin_rules").resolve()
"""The rule set shipped with the tool: a link to the repository's rules/ in a checkout, a copy in a wheel."""

CATALOG_SCHEMAS = {
    "apis.yaml": "apis",
    "permissions.yaml": "permissions",
    "dispatch.yaml": "dispatch",
    "sdks.yaml": "sdks",
    "packers.yaml": "packers",
    "flows.yaml": "flows",
    "channels.yaml": "channels",
    "lifecycles.yaml": "lifecycles",
    "runtimes.yaml": "runtimes",
    "runtime_apis.yaml": "runtime_apis",
}


@record
class ApiEntry:
    id: str
    kind: str
    match: str
    role: str
    source: str
    match_mode: str = "prefix"
    channel: str | None = None
    sink: str | None = None
    permission: tuple[str, ...] = ()
    produces: str = "data"


@record
class PermissionEntry:
    name: str
    channel: str | None
    access: str
    source: str
    group: str | None = None
    implied_by: dict[str, Any] | None = None
    explain: dict[str, dict[str, str]] | None = None


@record
class SdkEntry:
    name: str
    category: str
    prefixes: tuple[str, ...]
    source: str
    collects: tuple[str, ...] = ()


@record
class PackerEntry:
    name: str
    files: tuple[str, ...]
    classes: tuple[str, ...]
    source: str
    kind: str = "packer"


@record
class RuntimeEntry:
    """A framework whose app code lives outside the dex, and the reader that parses that code."""

    name: str
    reader: str
    files: tuple[str, ...]
    classes: tuple[str, ...]
    source: str


@record
class RuntimeApiEntry:
    """A plugin read or a network sink in JavaScript, Hermes, Dart or .NET code."""

    id: str
    role: str
    source: str
    plugin: str | None = None
    channel: str | None = None
    js: tuple[str, ...] = ()
    js_new: tuple[str, ...] = ()
    java: tuple[str, ...] = ()
    flutter_channels: tuple[str, ...] = ()
    dart: tuple[str, ...] = ()
    dotnet: tuple[str, ...] = ()


@record
class DispatchEntry:
    id: str
    base_types: tuple[str, ...]
    callbacks: tuple[str, ...]
    source: str


@record
class LendingSignal:
    """One lending-app signal of rules/catalog/lending.yaml: terms, where to look, and a weight."""

    id: str
    lang: str
    terms: tuple[str, ...]
    places: tuple[str, ...]
    weight: int
    source: str
    case: str = "any"
    match: str = "word"


@record
class LendingCatalog:
    """The lending classifier's data: signals, place multipliers, SDK category weights, thresholds."""

    signals: tuple[LendingSignal, ...] = ()
    places: dict[str, int] = field(default_factory=dict)
    sdk_categories: dict[str, int] = field(default_factory=dict)
    thresholds: dict[str, int] = field(default_factory=dict)
    max_string: int = 400


@record
class ChannelEntry:
    """A kind of personal data the audit reports; `scored` ones feed the contact-exposure score."""

    id: str
    title: str
    source: str
    title_zh: str | None = None
    scored: bool = False


@record
class FlowCall:
    """A library method calling app code back: `method` on the object at `target`, with `args`."""

    target: str
    method: str
    args: tuple[str, ...]
    result: str | None = None
    types: tuple[str, ...] = ()
    """Library classes the target may be an app subclass of, beyond its declared type (the library's
    own hierarchy is not in the app: a StringRequest subclass is a Request)."""


@record
class FlowEntry:
    """How data moves through one family of library methods (rules/catalog/flows.yaml)."""

    id: str
    source: str
    methods: tuple[str, ...] = ()
    overrides: dict[str, Any] | None = None
    opaque: tuple[str, ...] = ()
    alias: str | None = None
    flows: tuple[str, ...] = ()
    feature: str | None = None
    reads: dict[str, str] | None = None
    columns: dict[str, str] | None = None
    store: dict[str, str] | None = None
    load: dict[str, str] | None = None
    calls: tuple[FlowCall, ...] = ()
    mark: str | None = None
    sink: dict[str, Any] | None = None
    lost: str | None = None


@record
class Rule:
    id: str
    title: str
    channel: str | None
    severity: str
    points: int
    when: dict[str, Any]
    rationale: str
    sources: tuple[str, ...]
    file: str
    line: int
    confidence: str | None = None
    title_zh: str | None = None
    rationale_zh: str | None = None
    tests: dict[str, Any] = field(default_factory=dict)

    def info(self) -> RuleInfo:
        return RuleInfo(self.id, self.title, self.channel, self.severity, self.points,
                        self.rationale, self.sources, self.file)


@record
class Policy:
    id: str
    data: dict[str, Any]
    file: str


@record
class RuleSet:
    apis: tuple[ApiEntry, ...]
    permissions: dict[str, PermissionEntry]
    sdks: tuple[SdkEntry, ...]
    packers: tuple[PackerEntry, ...]
    dispatch: tuple[DispatchEntry, ...]
    flows: tuple[FlowEntry, ...]
    channels: tuple[ChannelEntry, ...]
    lifecycles: tuple[DispatchEntry, ...]
    rules: tuple[Rule, ...]
    policies: dict[str, Policy]
    scoring: dict[str, Any]
    digest: str
    lending: LendingCatalog = field(default_factory=LendingCatalog)
    headlines: tuple[dict[str, Any], ...] = ()
    flag_channels: dict[str, str] = field(default_factory=dict)
    runtimes: tuple[RuntimeEntry, ...] = ()
    runtime_apis: tuple[RuntimeApiEntry, ...] = ()

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @cached_property
    def api_by_id(self) -> dict[str, ApiEntry]:
        """Catalog entries by id (CodeRef.catalog_id points here); built once per rule set."""
        return {entry.id: entry for entry in self.apis}

    @cached_property
    def packer_name_ends(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """name_affixes of every packer's file globs."""
        return name_affixes(glob for packer in self.packers for glob in packer.files)

    @cached_property
    def runtime_name_ends(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """name_affixes of every runtime's file globs."""
        return name_affixes(glob for runtime in self.runtimes for glob in runtime.files)

    @cached_property
    def packer_class_prefixes(self) -> tuple[str, ...]:
        """Every packer's class prefixes: one pass over an app's classes finds the few that start with any."""
        return tuple(dict.fromkeys(prefix for packer in self.packers for prefix in packer.classes))

    def infos(self) -> tuple[RuleInfo, ...]:
        return tuple(r.info() for r in self.rules)


@cache
def glob_affixes(glob: str) -> tuple[str, str]:
    """(tail, head): the literal text after a glob's last wildcard (`*`, `?`, a `[...]` set), which
    must end every name it matches, and the literal text before its first, which must start it."""
    tail = glob[max(glob.rfind(c) for c in "*?]") + 1:]
    return tail, glob[:min((i for i in map(glob.find, "*?[") if i >= 0), default=len(glob))]


def name_affixes(globs: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(ends, starts): a file name that any of the globs matches ends with one of `ends` or starts
    with one of `starts`. A first pass over an app's thousands of entries in C (str.endswith and
    startswith take tuples), before the globs are tried on the few names left; one regex of every
    glob instead cost 30 ms on framework-res.apk's 7,600 entries (each `.*` alternative scanned
    every name) and 9 ms to compile in every process.
    """
    ends: set[str] = set()
    starts: set[str] = set()
    for glob in set(globs):
        tail, head = glob_affixes(glob)
        if tail:
            ends.add(tail)
        else:
            starts.add(head)
    return _shortest(ends, str.endswith), _shortest(starts, str.startswith)


def glob_matches(name: str, glob: str) -> bool:
    """fnmatchcase, with the glob compiled only for a name that has its literal tail and head."""
    tail, head = glob_affixes(glob)
    return name.endswith(tail) and name.startswith(head) and fnmatch.fnmatchcase(name, glob)


def _shortest(affixes: set[str], covers: Callable[[str, str], bool]) -> tuple[str, ...]:
    """The affixes that no shorter one in the set already covers (".so" makes "/libjiagu.so" redundant)."""
    return tuple(sorted(a for a in affixes if not any(o != a and covers(a, o) for o in affixes)))


def _entries(data: Any) -> list[dict[str, Any]]:
    return list(data.get("entries", [])) if isinstance(data, dict) else []


def to_data(rules: RuleSet) -> dict[str, Any]:
    """The rule set as plain JSON data, the form it is cached in: each catalog entry a row of its
    field values in order (astuple: no key repeated 771 times, and rebuilt with one positional call)."""
    return {name: getattr(rules, name) if name in ("scoring", "digest", "headlines", "flag_channels") else _plain(getattr(rules, name))
            for name in (f.name for f in fields(RuleSet))}


def _plain(value: Any) -> Any:
    if isinstance(value, LendingCatalog):
        return {**asdict(value), "signals": [astuple(s) for s in value.signals]}
    if isinstance(value, tuple):
        return [astuple(v) for v in value]
    return {k: astuple(v) for k, v in value.items()}


def from_data(data: dict[str, Any]) -> RuleSet:
    """The RuleSet that to_data() wrote; raises KeyError, TypeError or ValueError on anything else."""
    if not isinstance(data, dict):
        raise TypeError("a cached rule set is a JSON object")
    ruleset = RuleSet(
        apis=tuple(_row(ApiEntry, e) for e in data["apis"]),
        permissions={k: _row(PermissionEntry, e) for k, e in data["permissions"].items()},
        sdks=tuple(_row(SdkEntry, e) for e in data["sdks"]),
        packers=tuple(_row(PackerEntry, e) for e in data["packers"]),
        dispatch=tuple(_row(DispatchEntry, e) for e in data["dispatch"]),
        flows=tuple(_flow_row(e) for e in data["flows"]),
        channels=tuple(_row(ChannelEntry, e) for e in data["channels"]),
        lifecycles=tuple(_row(DispatchEntry, e) for e in data["lifecycles"]),
        rules=tuple(_row(Rule, e) for e in data["rules"]),
        policies={k: _row(Policy, e) for k, e in data["policies"].items()},
        scoring=dict(data["scoring"]),
        digest=str(data["digest"]),
        lending=_build(LendingCatalog, {**data["lending"], "signals": [_row(LendingSignal, e) for e in data["lending"]["signals"]]}),
        headlines=tuple(data["headlines"]),
        flag_channels=dict(data["flag_channels"]),
        runtimes=tuple(_row(RuntimeEntry, e) for e in data["runtimes"]),
        runtime_apis=tuple(_row(RuntimeApiEntry, e) for e in data["runtime_apis"]),
    )
    if not all(isinstance(r.id, str) and isinstance(r.when, dict) for r in ruleset.rules):
        raise ValueError("a cached rule is malformed")
    return ruleset


def _build(cls: Any, entry: dict[str, Any]) -> Any:
    """A catalog dataclass from a schema-checked entry; documentary keys (note, see_also) are dropped."""
    known, tuples, _ = _shape(cls)
    values = {k: v for k, v in entry.items() if k in known}
    for name in tuples:
        if name in values:
            values[name] = tuple(values[name] or ())
    return cls(**values)


def _row(cls: Any, row: list[Any]) -> Any:
    """A catalog dataclass from its cached row (to_data): the JSON arrays of tuple fields made tuples again."""
    if not isinstance(row, list):
        raise TypeError(f"a cached {cls.__name__} is a JSON array")
    for i in _shape(cls)[2]:
        row[i] = tuple(row[i])
    return cls(*row)


def _flow_row(row: list[Any]) -> FlowEntry:
    entry: FlowEntry = _row(FlowEntry, row)
    calls: tuple[Any, ...] = entry.calls  # rows still: FlowCalls once built
    return replace(entry, calls=tuple(_row(FlowCall, call) for call in calls))


@cache
def _shape(cls: Any) -> tuple[frozenset[str], tuple[str, ...], tuple[int, ...]]:
    """A dataclass's field names, those typed as tuples, and their positions: worked out once per
    class, not once per entry (the cached rule set builds 771 entries on every start-up)."""
    specs = fields(cls)
    tuples = tuple(i for i, f in enumerate(specs) if "tuple" in str(f.type))
    return frozenset(f.name for f in specs), tuple(specs[i].name for i in tuples), tuples


def _lending(data: dict[str, Any]) -> LendingCatalog:
    """The lending catalog from its schema-checked document (a user folder's file replaces the built-in one)."""
    return LendingCatalog(
        signals=tuple(_build(LendingSignal, e) for e in data["entries"]),
        places=dict(data["places"]),
        sdk_categories={c["category"]: c["weight"] for c in data["sdk_categories"]},
        thresholds=dict(data["thresholds"]),
        max_string=data["max_string"],
    )


class _Collector:
    """Accumulates data and errors while the folders are read, then builds the RuleSet."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.catalogs: dict[str, list[dict[str, Any]]] = {name: [] for name in CATALOG_SCHEMAS.values()}
        self.rules: dict[str, Rule] = {}
        self.policies: dict[str, Policy] = {}
        self.scoring: dict[str, Any] | None = None
        self.lending = LendingCatalog()
        self.headlines: tuple[dict[str, Any], ...] = ()
        self.flag_channels: dict[str, str] = {}
        self.hasher = hashlib.sha256()

    def read_dir(self, root: Path) -> None:
        if not root.is_dir():
            self.errors.append(f"{root}: not a directory")
            return
        for path in sorted(root.rglob("*.yaml")) + sorted(root.rglob("*.yml")):
            self.hasher.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
            self._read_file(root, path)

    def _read_file(self, root: Path, path: Path) -> None:
        from auditor.ruleset.loader import load_checked  # YAML and schemas: only when rules are read, not when cached

        rel = path.relative_to(root)
        if rel.parts[0] == "catalog" and path.name in CATALOG_SCHEMAS:
            data, _node, errors = load_checked(path, CATALOG_SCHEMAS[path.name])
            self._keep(errors, lambda: self.catalogs[CATALOG_SCHEMAS[path.name]].extend(_entries(data)))
        elif rel.parts[0] == "catalog" and path.name == "lending.yaml":
            data, _node, errors = load_checked(path, "lending")
            self._keep(errors, lambda: setattr(self, "lending", _lending(data)))
        elif rel.parts[0] == "policies":
            data, _node, errors = load_checked(path, "policy")
            self._keep(errors, lambda: self._add_policy(path, data))
        elif path.name == "headlines.yaml" and len(rel.parts) == 1:
            data, _node, errors = load_checked(path, "headlines")
            self._keep(errors, lambda: self._add_headlines(data))
        elif path.name == "scoring.yaml" and len(rel.parts) == 1:
            data, _node, errors = load_checked(path, "scoring")
            self._keep(errors, lambda: setattr(self, "scoring", data["scoring"]))
        else:
            data, node, errors = load_checked(path, "exposure")
            self._keep(errors, lambda: self._add_rules(path, data, node))

    def _check_channels(self) -> None:
        """Every channel an API, permission or rule names must be declared in channels.yaml."""
        declared = {e["id"] for e in self.catalogs["channels"]}
        named = [("catalog/apis.yaml", e.get("channel")) for e in self.catalogs["apis"]]
        named += [("catalog/permissions.yaml", e.get("channel")) for e in self.catalogs["permissions"]]
        named += [(f"{r.file}:{r.line}", r.channel) for r in self.rules.values()]
        for where, channel in named:
            if channel and channel not in declared:
                self.errors.append(f"{where}: channel {channel!r} is not declared in catalog/channels.yaml")

    def _keep(self, errors: list[str], action: Any) -> None:
        if errors:
            self.errors.extend(errors)
        else:
            action()

    def _add_headlines(self, data: dict[str, Any]) -> None:
        self.headlines = tuple(data["headlines"])
        self.flag_channels = dict(data.get("flag_channels") or {})

    def _add_policy(self, path: Path, data: dict[str, Any]) -> None:
        policy = data["policy"]
        self.policies[policy["id"]] = Policy(policy["id"], policy, str(path))

    def _add_rules(self, path: Path, data: dict[str, Any], node: Any) -> None:
        items = node.value[0][1].value if node is not None else []
        for i, raw in enumerate(data["rules"]):
            line = items[i].start_mark.line + 1 if i < len(items) else 1
            self.rules[raw["id"]] = Rule(
                id=raw["id"], title=raw["title"], channel=raw["channel"], severity=raw["severity"],
                points=raw["points"], when=raw["when"], rationale=raw["rationale"].strip(),
                sources=tuple(raw["sources"]), file=str(path), line=line,
                confidence=raw.get("confidence"), title_zh=raw.get("title_zh"), rationale_zh=raw.get("rationale_zh"),
                tests=raw.get("tests", {}),
            )

    def build(self) -> RuleSet:
        if self.scoring is None:
            self.errors.append("scoring.yaml: missing (the built-in rules folder must have one)")
        self._check_channels()
        if self.errors:
            raise RuleError("\n".join(self.errors))
        assert self.scoring is not None
        return RuleSet(
            apis=tuple(_build(ApiEntry, e) for e in self.catalogs["apis"]),
            permissions={e["name"]: _build(PermissionEntry, e) for e in self.catalogs["permissions"]},
            sdks=tuple(_build(SdkEntry, e) for e in self.catalogs["sdks"]),
            packers=tuple(_build(PackerEntry, e) for e in self.catalogs["packers"]),
            dispatch=tuple(_build(DispatchEntry, e) for e in self.catalogs["dispatch"]),
            flows=tuple(_flow_entry(e) for e in self.catalogs["flows"]),
            channels=tuple(_build(ChannelEntry, e) for e in self.catalogs["channels"]),
            lifecycles=tuple(_build(DispatchEntry, e) for e in self.catalogs["lifecycles"]),
            rules=tuple(sorted(self.rules.values(), key=lambda r: r.id)),
            policies=dict(sorted(self.policies.items())),
            scoring=self.scoring,
            digest="sha256:" + self.hasher.hexdigest(),
            lending=self.lending,
            headlines=self.headlines,
            flag_channels=self.flag_channels,
            runtimes=tuple(_build(RuntimeEntry, e) for e in self.catalogs["runtimes"]),
            runtime_apis=tuple(_build(RuntimeApiEntry, e) for e in self.catalogs["runtime_apis"]),
        )


def _flow_entry(entry: dict[str, Any]) -> FlowEntry:
    built: FlowEntry = _build(FlowEntry, {k: v for k, v in entry.items() if k != "calls"})
    calls = tuple(FlowCall(c["target"], c["method"], tuple(c["args"]), c.get("result"), tuple(c.get("types", ())))
                  for c in entry.get("calls", ()))
    return FlowEntry(**{**built.__dict__, "calls": calls})


def load_ruleset(extra_dirs: tuple[Path, ...] = (), builtin: Path = BUILTIN_DIR) -> RuleSet:
    """Read the built-in rules, then each user folder; raises RuleError listing every problem."""
    collector = _Collector()
    for root in (builtin, *extra_dirs):
        collector.read_dir(root)
    return collector.build()


def validate_dir(root: Path) -> list[str]:
    """Every schema error in one folder (used by `auditor rules validate`)."""
    collector = _Collector()
    collector.read_dir(root)
    return collector.errors


def _sources_digest(roots: tuple[Path, ...], tool: str) -> tuple[str, bool]:
    """sha256 of every rule and schema file under `roots` as stat sees it, and of the tool that
    reads them; and whether those files are settled (cachedir.tree_digest)."""
    from auditor.cachedir import tree_digest

    digest = hashlib.sha256(tool.encode())
    settled = [tree_digest(digest, root, (".yaml", ".yml", ".json")) for root in roots]
    return digest.hexdigest(), all(settled)


def load_ruleset_cached(extra_dirs: tuple[Path, ...] = (), write: bool = True) -> RuleSet:
    """load_ruleset, served from a JSON file in the user's cache folder while no rule, schema or code changed.

    Parsing and schema-checking every file costs about a third of a CLI run's start-up; the
    cached copy is keyed by every file read and by the package's source, as stat sees them
    (cachedir.tree_digest), so any edit means a fresh load and check. The copy is plain data (never unpickled: a planted file must not
    run code), read only from a private cache folder (0700, this user's); a corrupt or foreign
    copy is a warning and a rebuild. `write=False` (--no-cache) only reads an existing copy: it
    creates and writes nothing in the cache folder, yet still spares the run the YAML and schemas.
    The copy also carries the i18n text tables (auditor/i18n/*.yaml, part of the key), so that
    rendering a reason needs no YAML either.
    """
    from auditor.cachedir import UnsafeCacheDir, default_cache_dir, package_fingerprint, package_settled, private_cache_dir

    roots = (BUILTIN_DIR, *extra_dirs)
    if not write and not default_cache_dir().is_dir():
        return load_ruleset(extra_dirs)
    try:
        folder = private_cache_dir()
    except (UnsafeCacheDir, OSError) as exc:
        log.warning("not using the rule-set cache: %s", exc)
        return load_ruleset(extra_dirs)
    key, settled = _sources_digest(roots, package_fingerprint())
    path = folder / f"ruleset-{key[:32]}.json"
    cached = _read_cached(path, key)
    if cached is not None:
        return cached
    rules = load_ruleset(extra_dirs)
    if write and settled and package_settled():  # a file changed in the last seconds: see tree_digest
        _write_cached(path, key, rules)
        _prune_cached(folder)
    return rules


KEPT_CACHED_RULE_SETS = 8
"""Cached rule sets kept in the cache folder, newest first. Every change of the rules, of a --rules
folder or of the tool writes another (about 270 KB); without a bound they pile up for good. Several
are kept, not one, so that two installed versions, or runs with and without --rules, sharing the
folder do not rebuild each other's copy on every run."""


def _prune_cached(folder: Path) -> None:
    """Delete the cached rule sets beyond the KEPT_CACHED_RULE_SETS most recently written. A copy
    another process is reading as it goes is only a cache miss there, never an error."""
    written: list[tuple[int, Path]] = []
    for copy in folder.glob("ruleset-*.json"):
        with contextlib.suppress(OSError):
            written.append((copy.stat().st_mtime_ns, copy))
    for _, copy in sorted(written, reverse=True)[KEPT_CACHED_RULE_SETS:]:
        with contextlib.suppress(OSError):
            copy.unlink()


def _read_cached(path: Path, key: str) -> RuleSet | None:
    try:
        text = path.read_bytes().decode("utf-8")  # read_text's newline translation took 1 ms of the 270 KB
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("rule-set cache %s unreadable (%s); rebuilding it", path, type(exc).__name__)
        return None
    try:
        data = json.loads(text)
        if data.get("format") != CACHE_FORMAT or data.get("key") != key:
            raise ValueError("written for other rules or another version")
        rules = from_data(data["ruleset"])
        if "texts" in data:
            i18n.preload(data["texts"])
        return rules
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        log.warning("rule-set cache %s is corrupt (%s); rebuilding it", path, exc)
        return None


def _write_cached(path: Path, key: str, rules: RuleSet) -> None:
    """Store the rule set if it survives the JSON round trip unchanged (YAML dates, say, would not)."""
    try:
        text = json.dumps({"format": CACHE_FORMAT, "key": key, "ruleset": to_data(rules), "texts": i18n.tables()},
                          ensure_ascii=False)
        if from_data(json.loads(text)["ruleset"]) != rules:
            return
    except Exception as exc:  # a field to_data() does not know yet costs the cache, never the run
        log.debug("rule set not cached: %s: %s", type(exc).__name__, exc)
        return
    try:
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only home: the next run loads and checks again
