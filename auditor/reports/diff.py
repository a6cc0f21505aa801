"""`auditor diff OLD NEW`: what changed in an app's reach into other people's data between versions.

Meant for release pipelines: the exit code says whether exposure went up (a channel level rose,
the score rose, or a finding that carries points appeared), so a CI job can stop an update that
starts uploading the contact list even when the app was already above a --fail-on band.
Fields are read through serialize.app_dict so names match the JSON contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditor.formats import story
from auditor.formats.markdown import md_code, md_text
from auditor.formats.safe import dumps, terminal_safe
from auditor.formats.serialize import SCHEMA_VERSION, app_dict
from auditor.i18n import text
from auditor.model import CHANNELS, AppResult, Finding, level_rank

FORMATS: tuple[str, ...] = ("table", "json", "markdown")
EXIT_SAME, EXIT_UP, EXIT_ERROR = 0, 1, 2
"""The exit codes auditor.cli documents (0 clean, 1 worse, 2 an input not analysed), as diff uses them."""
SUMMARY_KEYS = ("input", "package", "label", "version_name", "version_code", "sha256", "score", "band")


@dataclass(frozen=True)
class ChannelChange:
    channel: str
    old: str
    new: str

    @property
    def direction(self) -> int:
        """+1 when the level rose, -1 when it fell, 0 when unchanged."""
        delta = level_rank(self.new) - level_rank(self.old)
        return (delta > 0) - (delta < 0)


@dataclass(frozen=True)
class AppDiff:
    """The difference between two analysed versions; both results must be ok."""

    old: AppResult
    new: AppResult
    permissions_added: tuple[str, ...]
    permissions_removed: tuple[str, ...]
    channels: tuple[ChannelChange, ...]
    new_findings: tuple[Finding, ...]
    gone_findings: tuple[Finding, ...]

    @property
    def score_old(self) -> int:
        return self.old.score.value if self.old.score else 0

    @property
    def score_new(self) -> int:
        return self.new.score.value if self.new.score else 0

    @property
    def exposure_up(self) -> bool:
        """Any channel level up, the score up, or a new finding worth points."""
        return (any(c.direction > 0 for c in self.channels) or self.score_new > self.score_old
                or any(f.points > 0 for f in self.new_findings))


def diff_results(old: AppResult, new: AppResult) -> AppDiff:
    """Compare two ok results (raises ValueError if either could not be analysed)."""
    if old.facts is None or new.facts is None:
        raise ValueError("both inputs must have been analysed")
    old_perms, new_perms = set(app_dict(old)["permissions"]), set(app_dict(new)["permissions"])
    old_ids, new_ids = {f.rule_id for f in old.findings}, {f.rule_id for f in new.findings}
    return AppDiff(
        old, new,
        permissions_added=tuple(sorted(new_perms - old_perms)),
        permissions_removed=tuple(sorted(old_perms - new_perms)),
        channels=tuple(ChannelChange(c, old.facts.channels[c].level, new.facts.channels[c].level) for c in CHANNELS),
        new_findings=tuple(f for f in new.findings if f.rule_id not in old_ids),
        gone_findings=tuple(f for f in old.findings if f.rule_id not in new_ids),
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


def to_dict(d: AppDiff) -> dict[str, Any]:
    """The diff as plain data; findings keep the JSON contract's fields (taken from app_dict)."""
    new_ids, gone_ids = {f.rule_id for f in d.new_findings}, {f.rule_id for f in d.gone_findings}
    return {
        "schema_version": SCHEMA_VERSION,
        "old": _side(d.old), "new": _side(d.new),
        "permissions": {"added": list(d.permissions_added), "removed": list(d.permissions_removed)},
        "channels": {c.channel: {"old": c.old, "new": c.new, "direction": c.direction} for c in d.channels},
        "findings": {"new": [f for f in app_dict(d.new)["findings"] if f["rule_id"] in new_ids],
                     "gone": [f for f in app_dict(d.old)["findings"] if f["rule_id"] in gone_ids]},
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


def _sections(d: AppDiff, lang: str, esc: Escape) -> list[tuple[str, list[str]]]:
    """(heading, lines with values escaped by `esc`) pairs shared by the table and markdown renderings."""
    return [(text("diff.permissions_added", lang), [esc(p) for p in d.permissions_added]),
            (text("diff.permissions_removed", lang), [esc(p) for p in d.permissions_removed]),
            (text("diff.channels", lang), [_channel_line(c, lang) for c in d.channels if c.direction]),
            (text("diff.new_findings", lang), [_finding_line(f, lang, esc) for f in d.new_findings]),
            (text("diff.gone_findings", lang), [_finding_line(f, lang, esc) for f in d.gone_findings])]


def _facts_lines(d: AppDiff, lang: str, esc: Escape) -> list[str]:
    old_band, new_band = (r.score.band if r.score else "none" for r in (d.old, d.new))
    lines = [text("diff.score", lang, old=d.score_old, new=d.score_new, delta=d.score_new - d.score_old),
             text("diff.band", lang, old=text(f"band.{old_band}", lang), new=text(f"band.{new_band}", lang))]
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


def render(d: AppDiff, fmt: str, lang: str) -> str:
    """The diff in `fmt` (one of FORMATS)."""
    if fmt == "json":
        return dumps(to_dict(d), indent=2) + "\n"
    return render_markdown(d, lang) if fmt == "markdown" else render_table(d, lang)
