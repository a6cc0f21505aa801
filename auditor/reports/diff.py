"""`auditor diff OLD NEW`: what changed in an app's reach into other people's data between versions.

Meant for release pipelines: the exit code says whether exposure went up (a channel level rose,
the score rose, a finding that carries points appeared, or a rule that already fired gained a new
upload path), so a CI job can stop an update that starts uploading the contact list even when the
app was already above a --fail-on band. Beyond findings it shows what else a release changed:
the signing certificate, targetSdk, SDKs added or removed, permissions, and the endpoints the data
can go to. Fields are read through serialize.app_dict so names match the JSON contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from auditor import __version__
from auditor.baseline import mark
from auditor.formats import RenderOptions, story
from auditor.formats import html as html_format
from auditor.formats import sarif as sarif_format
from auditor.formats.markdown import md_code, md_text
from auditor.formats.safe import dumps, terminal_safe
from auditor.formats.serialize import SCHEMA_VERSION, app_dict, evidence_dict
from auditor.i18n import name as name_of
from auditor.i18n import text
from auditor.model import CHANNELS, AppResult, Evidence, Finding, Report, SdkUse, level_rank
from auditor.records import record

FORMATS: tuple[str, ...] = ("table", "json", "markdown", "html", "sarif")
UPLOAD_KINDS = frozenset({"flow", "path"})
"""Evidence that data leaves the phone: `flow` from the data-flow engine, `path` from the older
call-graph proximity search."""
EXIT_SAME, EXIT_UP, EXIT_ERROR = 0, 1, 2
"""The exit codes auditor.cli documents (0 clean, 1 worse, 2 an input not analysed), as diff uses them."""
SUMMARY_KEYS = ("input", "package", "label", "version_name", "version_code", "sha256", "score", "band")


@record
class ChannelChange:
    channel: str
    old: str
    new: str

    @property
    def direction(self) -> int:
        """+1 when the level rose, -1 when it fell, 0 when unchanged."""
        delta = level_rank(self.new) - level_rank(self.old)
        return (delta > 0) - (delta < 0)


@record
class AppDiff:
    """The difference between two analysed versions; both results must be ok."""

    old: AppResult
    new: AppResult
    permissions_added: tuple[str, ...]
    permissions_removed: tuple[str, ...]
    channels: tuple[ChannelChange, ...]
    new_findings: tuple[Finding, ...]
    gone_findings: tuple[Finding, ...]
    sdks_added: tuple[SdkUse, ...] = ()
    sdks_removed: tuple[SdkUse, ...] = ()
    endpoints_added: tuple[str, ...] = ()
    endpoints_removed: tuple[str, ...] = ()
    new_uploads: tuple[tuple[str, Evidence], ...] = ()
    """(rule id, upload evidence) new under a rule that already fired in the old version."""

    @property
    def certs(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        old, new = (r.facts.manifest.cert_sha256 if r.facts else () for r in (self.old, self.new))
        return old, new

    @property
    def cert_changed(self) -> bool:
        """Signed with another key: a different publisher, or a repackaged app."""
        old, new = self.certs
        return set(old) != set(new)

    @property
    def target_sdk(self) -> tuple[int | None, int | None]:
        old, new = (r.facts.manifest.target_sdk if r.facts else None for r in (self.old, self.new))
        return old, new

    @property
    def score_old(self) -> int:
        return self.old.score.value if self.old.score else 0

    @property
    def score_new(self) -> int:
        return self.new.score.value if self.new.score else 0

    @property
    def exposure_up(self) -> bool:
        """Any channel level up, the score up, a new finding worth points, or a new upload path."""
        return (any(c.direction > 0 for c in self.channels) or self.score_new > self.score_old
                or any(f.points > 0 for f in self.new_findings) or bool(self.new_uploads))


def _endpoints(r: AppResult) -> set[str]:
    """Every URL or host the app's code sends to (evidence kind `endpoint`, and flows' endpoints)."""
    assert r.facts is not None
    evidence = [e for f in r.findings for e in f.evidence] + [e for c in r.facts.channels.values() for e in c.evidence]
    return {e.value for e in evidence if e.kind == "endpoint"} | {x for e in evidence for x in e.endpoints}


def _upload_key(e: Evidence) -> tuple[object, ...]:
    return (e.kind, e.value, e.location, e.path, e.entry_point, e.endpoints)


def _new_uploads(old: AppResult, new: AppResult) -> tuple[tuple[str, Evidence], ...]:
    """Upload evidence in the new version under a rule that fired in the old one too, but not seen there."""
    before = {f.rule_id: {_upload_key(e) for e in f.evidence if e.kind in UPLOAD_KINDS} for f in old.findings}
    return tuple(dict.fromkeys((f.rule_id, e) for f in new.findings if f.rule_id in before
                               for e in f.evidence if e.kind in UPLOAD_KINDS and _upload_key(e) not in before[f.rule_id]))


def diff_results(old: AppResult, new: AppResult) -> AppDiff:
    """Compare two ok results (raises ValueError if either could not be analysed)."""
    if old.facts is None or new.facts is None:
        raise ValueError("both inputs must have been analysed")
    old_perms, new_perms = set(app_dict(old)["permissions"]), set(app_dict(new)["permissions"])
    old_ids, new_ids = {f.rule_id for f in old.findings}, {f.rule_id for f in new.findings}
    old_sdks, new_sdks = {s.name: s for s in old.facts.code.sdks}, {s.name: s for s in new.facts.code.sdks}
    old_hosts, new_hosts = _endpoints(old), _endpoints(new)
    return AppDiff(
        old, new,
        permissions_added=tuple(sorted(new_perms - old_perms)),
        permissions_removed=tuple(sorted(old_perms - new_perms)),
        channels=tuple(ChannelChange(c, old.facts.channels[c].level, new.facts.channels[c].level) for c in CHANNELS),
        new_findings=tuple(f for f in new.findings if f.rule_id not in old_ids),
        gone_findings=tuple(f for f in old.findings if f.rule_id not in new_ids),
        sdks_added=tuple(new_sdks[n] for n in sorted(new_sdks.keys() - old_sdks.keys())),
        sdks_removed=tuple(old_sdks[n] for n in sorted(old_sdks.keys() - new_sdks.keys())),
        endpoints_added=tuple(sorted(new_hosts - old_hosts)),
        endpoints_removed=tuple(sorted(old_hosts - new_hosts)),
        new_uploads=_new_uploads(old, new),
    )


def diff_pair(old: AppResult, new: AppResult) -> tuple[int, AppDiff | None]:
    """(exit code, diff): EXIT_ERROR and no diff when either input could not be analysed,
    else EXIT_UP when exposure went up, else EXIT_SAME."""
    if not (old.ok and new.ok):
        return EXIT_ERROR, None
    change = diff_results(old, new)
    return (EXIT_UP if change.exposure_up else EXIT_SAME), change


def _side(r: AppResult) -> dict[str, Any]:
    app = app_dict(r)
    return {k: app[k] for k in SUMMARY_KEYS}


def _name(r: AppResult) -> str:
    return f"{r.facts.manifest.package} {story.version_of(r)}" if r.facts else r.input


def _sdk(s: SdkUse) -> dict[str, str]:
    return {"name": s.name, "category": s.category, "prefix": s.prefix}


def to_dict(d: AppDiff) -> dict[str, Any]:
    """The diff as plain data; findings keep the JSON contract's fields (taken from app_dict)."""
    new_ids, gone_ids = {f.rule_id for f in d.new_findings}, {f.rule_id for f in d.gone_findings}
    (old_certs, new_certs), (old_target, new_target) = d.certs, d.target_sdk
    return {
        "schema_version": SCHEMA_VERSION,
        "old": _side(d.old), "new": _side(d.new),
        "permissions": {"added": list(d.permissions_added), "removed": list(d.permissions_removed)},
        "channels": {c.channel: {"old": c.old, "new": c.new, "direction": c.direction} for c in d.channels},
        "findings": {"new": [f for f in app_dict(d.new)["findings"] if f["rule_id"] in new_ids],
                     "gone": [f for f in app_dict(d.old)["findings"] if f["rule_id"] in gone_ids]},
        "uploads": {"new": [{"rule_id": rule_id, "evidence": evidence_dict(e)} for rule_id, e in d.new_uploads]},
        "signing": {"old": list(old_certs), "new": list(new_certs), "changed": d.cert_changed},
        "target_sdk": {"old": old_target, "new": new_target},
        "sdks": {"added": [_sdk(s) for s in d.sdks_added], "removed": [_sdk(s) for s in d.sdks_removed]},
        "endpoints": {"added": list(d.endpoints_added), "removed": list(d.endpoints_removed)},
        "score": {"old": d.score_old, "new": d.score_new, "delta": d.score_new - d.score_old},
        "exposure_up": d.exposure_up,
    }


def _channel_line(c: ChannelChange, lang: str) -> str:
    line = text("diff.channel", lang, channel=text(f"col.{c.channel}", lang),
                old=text(f"level.{c.old}", lang), new=text(f"level.{c.new}", lang))
    return f"{line} ({text('diff.up' if c.direction > 0 else 'diff.down', lang)})"


Escape = Callable[[object], str]
"""How a format makes an app- or rule-controlled value inert (terminal_safe, md_text)."""


def _finding_line(f: Finding, lang: str, esc: Escape) -> str:
    return f"{f.rule_id} +{f.points} {story.severity_confidence(f, lang)} {esc(f.title_in(lang))}"


def _upload_line(rule_id: str, e: Evidence, lang: str, esc: Escape) -> str:
    where = f" @ {esc(e.location)}" if e.location else ""
    return f"{rule_id}: {esc(story.evidence_value(e, lang))}{where}"


def _sections(d: AppDiff, lang: str, esc: Escape) -> list[tuple[str, list[str]]]:
    """(heading, lines with values escaped by `esc`) pairs shared by the table, markdown and HTML;
    the sections beyond findings only when something changed there."""
    def sdk(s: SdkUse) -> str:
        return f"{esc(s.name)} ({esc(name_of('sdk_category', s.category, lang))})"

    always = [(text("diff.permissions_added", lang), [esc(p) for p in d.permissions_added]),
              (text("diff.permissions_removed", lang), [esc(p) for p in d.permissions_removed]),
              (text("diff.channels", lang), [_channel_line(c, lang) for c in d.channels if c.direction]),
              (text("diff.new_findings", lang), [_finding_line(f, lang, esc) for f in d.new_findings]),
              (text("diff.gone_findings", lang), [_finding_line(f, lang, esc) for f in d.gone_findings])]
    when_any = [(text("diff.new_uploads", lang), [_upload_line(rule_id, e, lang, esc) for rule_id, e in d.new_uploads]),
                (text("diff.sdks_added", lang), [sdk(s) for s in d.sdks_added]),
                (text("diff.sdks_removed", lang), [sdk(s) for s in d.sdks_removed]),
                (text("diff.endpoints_added", lang), [esc(x) for x in d.endpoints_added]),
                (text("diff.endpoints_removed", lang), [esc(x) for x in d.endpoints_removed])]
    return always + [(heading, items) for heading, items in when_any if items]


def _facts_lines(d: AppDiff, lang: str, esc: Escape) -> list[str]:
    old_band, new_band = (r.score.band if r.score else "none" for r in (d.old, d.new))
    lines = [text("diff.score", lang, old=d.score_old, new=d.score_new, delta=d.score_new - d.score_old),
             text("diff.band", lang, old=text(f"band.{old_band}", lang), new=text(f"band.{new_band}", lang))]
    old_target, new_target = d.target_sdk
    if old_target != new_target:
        lines.append(text("diff.target_sdk", lang, old=old_target or "-", new=new_target or "-"))
    if d.cert_changed:
        old_certs, new_certs = d.certs
        lines.append(text("diff.signing", lang, old=esc(", ".join(c[:16] for c in old_certs) or "-"),
                          new=esc(", ".join(c[:16] for c in new_certs) or "-")))
    old_pkg, new_pkg = (r.facts.manifest.package if r.facts else "" for r in (d.old, d.new))
    if old_pkg != new_pkg:
        lines.append(text("diff.other_package", lang, old=esc(old_pkg), new=esc(new_pkg)))
    return lines


def _verdict(d: AppDiff, lang: str) -> str:
    return text("diff.exposure_up" if d.exposure_up else "diff.exposure_same", lang)


def render_table(d: AppDiff, lang: str) -> str:
    title = text("diff.title", lang, old=terminal_safe(_name(d.old)), new=terminal_safe(_name(d.new)))
    lines = [title, *(f"  {x}" for x in _facts_lines(d, lang, terminal_safe))]
    for heading, items in _sections(d, lang, terminal_safe):
        lines.append(f"{heading}:" + ("" if items else f" {text('diff.nothing', lang)}"))
        lines += [f"  {x}" for x in items]
    return "\n".join([*lines, _verdict(d, lang), story.scope_line(lang)]) + "\n"


def render_markdown(d: AppDiff, lang: str) -> str:
    """Headings say what is new and what is gone, so the bullets carry no +/- of their own
    (a '- + x' line would render as a list nested in a list)."""
    title = text("diff.title", lang, old=md_code(_name(d.old)), new=md_code(_name(d.new)))
    lines = [f"# {title}", "", *(f"- {x}" for x in _facts_lines(d, lang, md_text))]
    for heading, items in _sections(d, lang, md_text):
        lines += ["", f"## {heading}", "", *([f"- {x}" for x in items] or [text("diff.nothing", lang)])]
    return "\n".join([*lines, "", f"**{_verdict(d, lang)}**", "", f"> {md_text(story.scope_line(lang))}"]) + "\n"


def render_html(d: AppDiff, lang: str) -> str:
    """One self-contained page, like the scan report's: a verdict banner, then each section."""
    h = html_format.h
    title = text("diff.title", lang, old=_name(d.old), new=_name(d.new))
    band = "high" if d.exposure_up else "none"
    facts = "".join(f"<li>{x}</li>" for x in _facts_lines(d, lang, h))
    body = [f'<header><h1>{h(title)}</h1></header>',
            f'<article><div class="banner band-{band}"><p class="headline">{h(_verdict(d, lang))}</p></div>'
            f"<section><ul>{facts}</ul></section>"]
    for heading, items in _sections(d, lang, h):
        content = "<ul>" + "".join(f"<li>{x}</li>" for x in items) + "</ul>" if items else f"<p>{h(text('diff.nothing', lang))}</p>"
        body.append(f"<section><h3>{h(heading)}</h3>{content}</section>")
    body.append("</article>")
    return html_format.page(title, "\n".join(body), lang)


def render_sarif(d: AppDiff, lang: str, report: Report | None = None) -> str:
    """The new version's SARIF, each result marked baselineState new or unchanged against the old one
    (by package and rule), as GitHub code scanning shows a pull request's changes. `report` (the
    scan of both) gives the tool version and rule descriptions."""
    known = {(d.old.facts.manifest.package, f.rule_id) for f in d.old.findings} if d.old.facts else set()
    if report is None:
        from auditor.ruleset.ruleset import load_ruleset

        rules = load_ruleset()
        report = Report(__version__, rules.digest, rules.infos())
    base = report
    return sarif_format.render(replace(base, results=(mark(d.new, known),)), RenderOptions(lang=lang))


def render(d: AppDiff, fmt: str, lang: str, report: Report | None = None) -> str:
    """The diff in `fmt` (one of FORMATS); SARIF needs the scan `report` for the tool and rules."""
    if fmt == "json":
        return dumps(to_dict(d), indent=2) + "\n"
    if fmt == "sarif":
        return render_sarif(d, lang, report)
    renderers = {"markdown": render_markdown, "html": render_html}
    return renderers.get(fmt, render_table)(d, lang)
