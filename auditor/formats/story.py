"""The plain-language reading of one app's result, shared by the markdown and HTML reports.

Both formats tell a non-specialist the same story (verdict, what the app can read, what that means
for the people in the contact list, what to do), so the sentences are chosen once, here. Every
text comes from auditor.i18n; the functions return raw strings and each format escapes them.
"""

from __future__ import annotations

from auditor.i18n import localize, name, text
from auditor.model import BANDS, CHANNELS, AppFacts, AppResult, ChannelState, Evidence, Finding, level_rank

URGENT_BAND = "high"
"""From this band up, the advice is not to install the app at all."""


def app_name(r: AppResult) -> str:
    """What to call an app: its label, else its package, else the input path."""
    if r.facts is None:
        return r.input
    return r.facts.manifest.label or r.facts.manifest.package or r.input


def top_level(facts: AppFacts) -> str:
    """The highest evidence level any channel reaches."""
    return max((facts.channels[c].level for c in CHANNELS), key=level_rank)


def join_list(items: list[str], lang: str) -> str:
    """'a, b and c' in the report's language."""
    if len(items) < 2:
        return "".join(items)
    return text("list.pair", lang, first=text("list.sep", lang).join(items[:-1]), last=items[-1])


def _fill(template: str, channels: tuple[str, ...], lang: str) -> str:
    return template.format(channels=join_list([text(f"noun.{c}", lang) for c in channels], lang))


def verdict_title(r: AppResult, lang: str) -> str:
    """The headline verdict of rules/headlines.yaml ('Spyloan pattern: ...'), channels named in `lang`."""
    if r.headline is None:
        return headline(r, lang)
    return _fill(r.headline.title_zh if lang == "zh-CN" else r.headline.title, r.headline.channels, lang)


def verdict_reason(r: AppResult, lang: str) -> str:
    """The headline's one-sentence reason."""
    if r.headline is None:
        return ""
    return _fill(r.headline.reason_zh if lang == "zh-CN" else r.headline.reason, r.headline.channels, lang)


def verdict_short(r: AppResult, lang: str) -> str:
    """The headline in a few words, for table cells."""
    return text(f"verdict.{r.headline.id}", lang) if r.headline is not None else ""


def kind_line(r: AppResult, lang: str) -> str:
    """'lending app (confidence high)': what the classifier made of the app."""
    if r.app_kind is None:
        return ""
    return text(f"app_kind.{r.app_kind.kind}", lang, confidence=text(f"confidence.{r.app_kind.confidence}", lang))


def policy_banner(r: AppResult, lang: str) -> str:
    """The policy verdicts in one line: the broken packs by name, the rest counted; '' when none were judged."""
    if not r.policies:
        return ""
    broken = [v for v in r.policies if v.verdict == "violates"]
    parts = [text("banner.violates", lang, policy=v.policy, requirements=", ".join(x.requirement for x in v.violations))
             for v in broken]
    for verdict in ("cannot-tell", "complies", "not-applicable"):
        count = sum(1 for v in r.policies if v.verdict == verdict)
        if count:
            parts.append(text("banner.count", lang, verdict=policy_word(verdict, lang), count=count))
    return text("banner.policies", lang, verdicts="; ".join(parts))


MAX_WHY = 6
"""Evidence items shown for the headline and for the app kind; the JSON has them all."""


def why_lines(r: AppResult, lang: str) -> list[str]:
    """What triggered the headline, then what made the classifier call it a lending app (or not)."""
    out = []
    if r.headline is not None:
        out += [text("why.headline", lang, kind=name("kind", e.kind, lang), value=evidence_value(e, lang))
                for e in r.headline.evidence if e.kind != "lending"][:MAX_WHY]
    if r.app_kind is not None:
        out += [text("why.kind", lang, value=e.value, entry=e.detail or "") for e in r.app_kind.evidence][:MAX_WHY]
        out.append(localize(r.app_kind.reason, lang))
    return out


def scope_line(lang: str) -> str:
    """What the tool judges and what it does not, in one line: every human-facing report says it."""
    return text("report.scope", lang)


def unscored_lines(r: AppResult, lang: str) -> list[str]:
    """What was seen but is not scored as contact exposure, and the caps that held the score down."""
    if r.facts is None:
        return []
    lines = [text(f"unscored.{flag}", lang) for flag in ("sms_send",) if r.facts.flags.get(flag)]
    if r.score is not None:
        lines += [text(f"cap.{cap}", lang) for cap in r.score.capped_by]
    return lines


def headline(r: AppResult, lang: str) -> str:
    """One sentence on the worst thing the app can do, naming the channels that reach that level."""
    if r.facts is None:
        return text("report.error", lang)
    level = top_level(r.facts)
    if level == "none":
        return text("headline.none", lang)
    nouns = [text(f"noun.{c}", lang) for c in CHANNELS if r.facts.channels[c].level == level]
    return text(f"headline.{level}", lang, channels=join_list(nouns, lang))


def level_word(state: ChannelState, lang: str) -> str:
    """The short level word for tables; '!' marks access without the permission (as in `table`)."""
    return text(f"level.{state.level}", lang) + ("!" if state.undeclared_access else "")


def plain_level(state: ChannelState, lang: str) -> str:
    """The level as a phrase a non-specialist understands."""
    phrase = text(f"plain.{state.level}", lang)
    if state.undeclared_access:
        phrase += f" ({text('plain.undeclared', lang)})"
    return phrase


def people_lines(r: AppResult, lang: str) -> list[str]:
    """Why each reached channel matters to people who never installed the app."""
    if r.facts is None:
        return []
    lines = [text(f"people.{c}", lang) for c in CHANNELS if r.facts.channels[c].level != "none"]
    return lines or [text("people.none", lang)]


def todo_lines(r: AppResult, lang: str) -> list[str]:
    """Advice scaled to the band, naming only the channels the app reaches.

    From URGENT_BAND up the advice is to uninstall, so it does not go on about keeping the app;
    below it, the advice is to turn off the permissions of the reached channels. The picker is
    only suggested when the contact list is involved.
    """
    if r.facts is None or r.score is None or r.score.band == "none":
        return [text("todo.none", lang)]
    reached = [c for c in CHANNELS if r.facts.channels[c].level != "none"]
    urgent = BANDS.index(r.score.band) >= BANDS.index(URGENT_BAND)
    lines = [text("todo.dont_install", lang)] if urgent else []
    if reached and not urgent:
        groups = join_list([text(f"permission_group.{c}", lang) for c in reached], lang)
        lines.append(text("todo.revoke", lang, permissions=groups))
    if "contacts" in reached:
        lines.append(text("todo.picker", lang))
    if urgent:
        lines.append(text("todo.report", lang))
    return lines or [text("todo.none", lang)]


def score_line(r: AppResult, lang: str) -> str:
    """'high risk · score 60/100'; a zero score says no exposure was found instead of 'none risk'."""
    assert r.score is not None
    if r.score.band == "none":
        return text("report.score_none", lang, score=r.score.value)
    return text("report.score", lang, band=text(f"band.{r.score.band}", lang), score=r.score.value)


def error_text(r: AppResult, lang: str) -> str:
    """Why an input could not be analysed: the one-line reason, led by its kind in `lang`.

    The reason itself is technical detail from the reader that failed (offsets, entry names), kept
    as it is so it can be searched for; in English it is the whole message.
    """
    if lang == "en" or not r.error_kind:
        return r.error or ""
    return text("error.localized", lang, kind=name("error_kind", r.error_kind, lang), detail=r.error or "")


def assessability_reasons(facts: AppFacts, lang: str) -> list[str]:
    """Why the app is not fully assessable, each reason in `lang`."""
    return [localize(reason, lang) for reason in facts.assessability]


TOOL_SENTENCES = frozenset({"not_assessable", "flow_lost", "string_encryption", "obfuscation"})
"""Evidence kinds whose value is a sentence of the tool's own (an i18n template), not app data."""


def evidence_value(e: Evidence, lang: str) -> str:
    """An evidence item's value; the tool's own sentences (not-assessable reasons, where a flow was
    lost) in `lang`."""
    return localize(e.value, lang) if e.kind in TOOL_SENTENCES else e.value


def severity_confidence(f: Finding, lang: str) -> str:
    """'[severity high, confidence medium]': the two axes named, so neither is read as the other."""
    return text("finding.rating", lang, severity=text(f"severity.{f.severity}", lang),
                confidence=text(f"confidence.{f.confidence}", lang))


def finding_line(f: Finding, lang: str, title: str) -> str:
    """'[severity high, confidence high] CEA-CONTACTS-UPLOAD +25: title', with `title` already escaped."""
    return text("finding.line", lang, rating=severity_confidence(f, lang), rule_id=f.rule_id, points=f.points,
                title=title)


def policy_word(verdict: str, lang: str) -> str:
    return text(f"policy.{verdict}", lang)


def version_of(r: AppResult) -> str:
    """'2.0 (2)': version name and code, whichever the manifest has."""
    if r.facts is None:
        return ""
    m = r.facts.manifest
    name, code = m.version_name or "", "" if m.version_code is None else f"({m.version_code})"
    return f"{name} {code}".strip()
