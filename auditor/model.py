"""The one vocabulary every stage shares.

Values flow one way: containers -> fact extraction -> rule evaluation -> scoring -> rendering.
Every type here is a frozen dataclass so that no stage can change what an earlier stage produced,
and so that results can cross process boundaries (the executors pickle them) unchanged.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal

from auditor.records import record

CHANNELS: tuple[str, ...] = ("contacts", "sms", "call_log")
"""The three kinds of personal data about *other people* that this tool is about."""

LEVELS: tuple[str, ...] = ("none", "declared", "code", "upload")
"""Evidence levels of a channel, weakest first; their order is what `at_least` compares."""

CONFIDENCES: tuple[str, ...] = ("low", "medium", "high")
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
BANDS: tuple[str, ...] = ("none", "low", "medium", "high", "critical")

OriginKind = Literal["app", "sdk", "library"]


def level_rank(level: str) -> int:
    """Position of a level in LEVELS, so levels compare as numbers."""
    return LEVELS.index(level)


@record
class Origin:
    """Whose code holds a piece of evidence: the app's own, a known SDK's, or a generic library's."""

    kind: OriginKind = "app"
    sdk: str | None = None


@record
class FlowStep:
    """One move of a tainted value: in which method, at which instruction, and how it moved.

    `offset` is the instruction's offset in code units from the start of the method (as baksmali
    and Mariana Trench print it), so a reader can find the step in a disassembly.
    """

    method: str
    offset: int
    action: str


@record
class Evidence:
    """One observed fact that supports a finding.

    `kind` is one of: permission, api, field, string, sink, serializer, receiver, service, picker,
    reflection, dynamic_loading, packer, hidden_dex, obfuscation, anti_analysis, and, from the
    data-flow analysis:
    - `flow`: a value read from a channel proven to reach an off-device sink (the only evidence
      that makes a channel `upload`); `steps` trace it, `entry_point` is where the flow starts,
      `endpoints` where the data goes;
    - `sink_nearby`: a read and a sink only close in the call graph (no flow shown);
    - `endpoint`: a URL, host or IP constant reaching a sink's address (`value`; "cleartext" in
      `detail` for http://);
    - `data_taken`: what is read (cursor columns, e.g. "display_name, data1");
    - `flow_lost`: where the analysis lost a value it could not follow (reflection, native code,
      a budget), so that a missing flow is never a silent downgrade.
    `location` is the smali signature of the method holding it (None for manifest facts);
    `path` lists the methods from a data read to a sink, one step per method.
    """

    kind: str
    value: str
    location: str | None = None
    split: str | None = None
    origin: Origin | None = None
    path: tuple[str, ...] = ()
    dex: str | None = None
    steps: tuple[FlowStep, ...] = ()
    entry_point: str | None = None
    endpoints: tuple[str, ...] = ()
    detail: str | None = None


@record
class PermissionUse:
    """A permission the manifest requests (or that the platform implies for it)."""

    name: str
    max_sdk: int | None = None
    implied: bool = False
    split: str | None = None
    element: str = "uses-permission"


@record
class Component:
    """A manifest component relevant to the audit (SMS receivers, notification listeners)."""

    kind: str
    name: str
    detail: str
    split: str | None = None


@record
class ManifestFacts:
    """What the (merged) manifests of an app declare."""

    package: str
    label: str | None
    version_name: str | None
    version_code: int | None
    min_sdk: int | None
    target_sdk: int | None
    permissions: tuple[PermissionUse, ...]
    components: tuple[Component, ...] = ()
    cert_sha256: tuple[str, ...] = ()
    splits: tuple[str, ...] = ()
    application_class: str | None = None
    component_classes: tuple[str, ...] = ()
    """Every activity, service, receiver and provider class the manifests declare."""


@record
class CodeRef:
    """A reference in bytecode to a catalogued API, field or string."""

    catalog_id: str
    kind: str
    value: str
    method: str
    split: str | None
    origin: Origin
    dex: str | None = None


@record
class SdkUse:
    """A third-party SDK whose package prefix was found in the app's code."""

    name: str
    category: str
    prefix: str


@record
class CodeFacts:
    """What the bytecode of all dex files of an app reveals."""

    refs: tuple[CodeRef, ...]
    flows: tuple[tuple[str, Evidence], ...]
    """Per channel, the data-flow evidence: flow, endpoint, data_taken, flow_lost, sink_nearby, serializer."""
    sdks: tuple[SdkUse, ...]
    hiding: tuple[Evidence, ...]
    pickers: tuple[Evidence, ...]
    dex_count: int
    class_count: int
    unreadable_dex: tuple[str, ...] = ()
    flow_stats: tuple[tuple[str, int], ...] = ()
    """What the data-flow analysis cost: methods analysed, instructions interpreted."""


@record
class Runtime:
    """A framework whose app code lives outside the dex (Flutter, React Native...): why we say it is
    there (`evidence`: entry or class names) and, in one sentence, what of its code was analysed."""

    name: str
    evidence: tuple[str, ...]
    analysis: str = ""


@record
class ChannelEvidence:
    """Evidence about one channel from code outside the dex (JavaScript, Hermes, Dart, .NET).

    Its kind sets the channel's level as dex evidence does: `api` (a plugin read) gives `code`,
    `sink_nearby` (read and send only close) stays `code`, `flow` (the read's result reaches a
    network call) gives `upload`, and `plugin_unused` (bundled, never called) keeps `declared`.
    """

    channel: str
    evidence: Evidence


@record
class RuntimeFacts:
    """What the runtimes of an app show: which are present, channel evidence from their code, and
    the dex packages of plugins that the app's runtime code provably never calls (their reads in
    the dex are not the app's)."""

    runtimes: tuple[Runtime, ...] = ()
    evidence: tuple[ChannelEvidence, ...] = ()
    unused: tuple[tuple[str, str], ...] = ()
    """(channel, class descriptor prefix) of plugins bundled but never called."""


@record
class ChannelState:
    """How far an app reaches into one channel, and on what evidence."""

    level: str = "none"
    undeclared_access: bool = False
    evidence: tuple[Evidence, ...] = ()
    readers: tuple[Origin, ...] = ()


@record
class AppFacts:
    """Everything extracted from one app, before any rule is applied."""

    manifest: ManifestFacts
    code: CodeFacts
    channels: dict[str, ChannelState]
    flags: dict[str, tuple[Evidence, ...]]
    assessability: tuple[str, ...]
    anti_analysis: tuple[Evidence, ...] = ()
    lending: tuple[Evidence, ...] = ()
    """Lending-app signals found (kind `lending`; `detail` names the catalog entry and its weight)."""
    runtime: RuntimeFacts = RuntimeFacts()

    @property
    def assessable(self) -> bool:
        return not self.assessability


APP_KINDS: tuple[str, ...] = ("lending", "other", "unknown")


@record
class AppKind:
    """What the app is for, as far as static signals tell: a lending app, something else, or unknown.

    `score` is the weighted sum of the signals in `evidence` (rules/catalog/lending.yaml), so a
    reader can see why the classifier decided as it did.
    """

    kind: str
    confidence: str
    score: int = 0
    evidence: tuple[Evidence, ...] = ()
    reason: str = ""


@record
class Finding:
    """A rule that matched, with how bad (severity) and how sure (confidence) kept apart."""

    rule_id: str
    title: str
    channel: str | None
    severity: str
    confidence: str
    points: int
    evidence: tuple[Evidence, ...]
    title_zh: str | None = None
    baseline_state: str | None = None
    """With --baseline: "new" or "unchanged" (already recorded for this package); else None."""

    def title_in(self, lang: str) -> str:
        """The title in `lang` where the rule provides one (zh-CN), else English."""
        return self.title_zh if lang == "zh-CN" and self.title_zh else self.title


@record
class ScoreItem:
    """One contribution to a score: which finding added how many points."""

    rule_id: str
    points: int


@record
class Score:
    """The score, its band, the points behind it, and the caps (rules/scoring.yaml) that held it down."""

    value: int
    band: str
    items: tuple[ScoreItem, ...] = ()
    capped_by: tuple[str, ...] = ()


@record
class Headline:
    """The headline verdict (rules/headlines.yaml): its row id, texts, the channels it names, its evidence.

    Texts hold a {channels} placeholder that renderers fill with `channels` in the report's language.
    """

    id: str
    title: str
    title_zh: str
    reason: str
    reason_zh: str
    channels: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


@record
class PolicyViolation:
    requirement: str
    text: str
    evidence: tuple[Evidence, ...]
    text_zh: str | None = None

    def text_in(self, lang: str) -> str:
        """The requirement's text in `lang` where the pack provides one (zh-CN), else English."""
        return self.text_zh if lang == "zh-CN" and self.text_zh else self.text


@record
class PolicyVerdict:
    policy: str
    verdict: str
    violations: tuple[PolicyViolation, ...] = ()
    reasons: tuple[str, ...] = ()
    reasons_zh: tuple[str, ...] = ()
    """The same reasons in Simplified Chinese, one for one."""

    def reasons_in(self, lang: str) -> tuple[str, ...]:
        return self.reasons_zh if lang == "zh-CN" and len(self.reasons_zh) == len(self.reasons) else self.reasons


@record
class AppResult:
    """The outcome for one input: either an assessed app, or an error with a one-line reason."""

    input: str
    sha256: str | None
    container: str | None
    status: Literal["ok", "error"]
    error: str | None = None
    error_kind: str | None = None
    facts: AppFacts | None = None
    findings: tuple[Finding, ...] = ()
    score: Score | None = None
    policies: tuple[PolicyVerdict, ...] = ()
    elapsed: float = 0.0
    app_kind: AppKind | None = None
    limit: str | None = None
    """For error_kind "limit-exceeded": the option whose limit was hit ("--max-unpacked",
    "--timeout"), which decides whether the result may be cached."""
    headline: Headline | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """This result as the JSON contract's app entry (what `-f json` writes under "apps")."""
        from auditor.formats.serialize import app_dict  # rendering sits above the vocabulary

        return app_dict(self)


@record
class RuleInfo:
    """The reader-facing part of a rule, carried into reports (SARIF help, explanations)."""

    id: str
    title: str
    channel: str | None
    severity: str
    points: int
    rationale: str
    sources: tuple[str, ...]
    file: str


@record
class Report:
    """A whole run: the tool, the rule set it used, and one result per input."""

    tool_version: str
    rules_digest: str
    rules: tuple[RuleInfo, ...]
    results: tuple[AppResult, ...] = field(default_factory=tuple)
    incomplete: tuple[int, int] | None = None
    """(files done, files given) when Ctrl-C stopped the run: the results are only the finished files."""
