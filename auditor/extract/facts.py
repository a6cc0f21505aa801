"""Assemble one app's facts: merged manifest, channel levels, flags and assessability.

This is the last step of fact extraction; rule evaluation reads only what is built here.
"""

from __future__ import annotations

from auditor.extract.manifest import PieceManifest
from auditor.i18n import text
from auditor.model import AppFacts, ChannelState, CodeFacts, Evidence, ManifestFacts, PermissionUse, RuntimeFacts
from auditor.ruleset.ruleset import RuleSet


def merge_manifests(pieces: list[PieceManifest], cert_sha256: tuple[str, ...], rules: RuleSet) -> ManifestFacts:
    """One manifest for the app: the base's identity, every piece's permissions and components.

    Implied permissions (the platform's grants for old target SDKs) are added for the base only:
    a split's manifest has no <uses-sdk>, which would otherwise imply permissions it never gets.
    """
    base = next((p for p in pieces if p.split is None), pieces[0])
    permissions = [perm for piece in pieces for perm in piece.permissions]
    permissions += _implied(base, {p.name for p in permissions}, rules)
    return ManifestFacts(
        package=base.package, label=base.label, version_name=base.version_name, version_code=base.version_code,
        min_sdk=base.min_sdk, target_sdk=base.target_sdk,
        permissions=tuple(dict.fromkeys(permissions)),
        components=tuple(c for piece in pieces for c in piece.components),
        cert_sha256=cert_sha256,
        splits=tuple(p.split for p in pieces if p.split),
        application_class=base.application_class,
        component_classes=tuple(dict.fromkeys(c for piece in pieces for c in piece.component_classes)),
    )


def _implied(base: PieceManifest, requested: set[str], rules: RuleSet) -> list[PermissionUse]:
    target = base.target_sdk or base.min_sdk or 1
    out = []
    for entry in rules.permissions.values():
        cond = entry.implied_by
        if not cond or entry.name in requested:
            continue
        if "permission" in cond and cond["permission"] not in requested:
            continue
        if "target_sdk_below" in cond and target >= cond["target_sdk_below"]:
            continue
        out.append(PermissionUse(entry.name, None, True, None, "implied"))
    return out


NO_RUNTIME = RuntimeFacts()
"""Facts of an app whose code is all in the dex."""
RUNTIME_READS = frozenset({"api", "sink_nearby", "flow"})
"""Kinds of runtime-code evidence (JavaScript, Hermes, Dart, .NET) that show the channel is read."""


def _channel(channel: str, manifest: ManifestFacts, code: CodeFacts, rules: RuleSet,
             runtime: RuntimeFacts = NO_RUNTIME) -> ChannelState:
    """The channel's level; reads inside a plugin that the app's JavaScript never calls are set aside."""
    catalog = rules.api_by_id
    requested = {p.name for p in manifest.permissions}
    read_perms = [p for p in manifest.permissions
                  if (e := rules.permissions.get(p.name)) is not None and e.channel == channel and e.access == "read"]
    picker_methods = {e.location for e in code.pickers}
    unused = tuple(prefix for ch, prefix in runtime.unused if ch == channel)
    reads = [r for r in code.refs if catalog[r.catalog_id].role == "source"
             and catalog[r.catalog_id].channel == channel and r.method not in picker_methods
             and not (unused and r.method.startswith(unused))]
    flows = [e for name, e in code.flows if name == channel and not (unused and (e.location or "").startswith(unused))]
    extra = [c.evidence for c in runtime.evidence if c.channel == channel]
    evidence = [Evidence("permission", p.name, None, p.split) for p in read_perms]
    evidence += [Evidence(r.kind, r.value, r.method, r.split, r.origin, dex=r.dex) for r in reads]
    evidence += flows + extra
    runtime_reads = [e for e in extra if e.kind in RUNTIME_READS]
    if any(e.kind == "flow" for e in (*flows, *extra)):
        level = "upload"
    elif reads or runtime_reads:
        level = "code"
    else:
        level = "declared" if read_perms or any(e.kind == "plugin_unused" for e in extra) else "none"
    undeclared = any(not requested.intersection(catalog[r.catalog_id].permission) for r in reads)
    readers = tuple(dict.fromkeys([r.origin for r in reads] + [e.origin for e in runtime_reads if e.origin]))
    return ChannelState(level, undeclared, tuple(evidence), readers)


def _ways_out(manifest: ManifestFacts, channels: dict[str, ChannelState], rules: RuleSet) -> tuple[Evidence, ...]:
    """What lets data leave the phone: a permission whose access is `send` (network, SMS), or one whose
    access is `store` (shared storage) when a channel's read is shown to reach a sink.

    Without any of them nothing the app reads can leave, however much it reads (the score is
    capped and the headline says so). Storage counts only with a proven upload because writing
    one's own files to shared storage is common and says nothing about the address book.
    """
    access = {p.name: e.access for p in manifest.permissions if (e := rules.permissions.get(p.name)) is not None}
    uploads = any(state.level == "upload" for state in channels.values())
    return tuple(Evidence("permission", p.name, None, p.split) for p in manifest.permissions
                 if access.get(p.name) == "send" or (uploads and access.get(p.name) == "store"))


def _flags(manifest: ManifestFacts, code: CodeFacts, rules: RuleSet, anomalies: tuple[Evidence, ...],
           assessability: tuple[str, ...], channels: dict[str, ChannelState]) -> dict[str, tuple[Evidence, ...]]:
    catalog = rules.api_by_id
    component_kinds = {"sms_receiver": "receiver", "notification_listener": "service"}
    flags: dict[str, tuple[Evidence, ...]] = {
        role: tuple(Evidence(kind, f"{c.name} ({c.detail})", None, c.split) for c in manifest.components if c.kind == role)
        for role, kind in component_kinds.items()
    }
    send = [Evidence("sink", r.value, r.method, r.split, r.origin, dex=r.dex) for r in code.refs
            if catalog[r.catalog_id].role == "sink" and catalog[r.catalog_id].sink == "sms"]
    if send:
        send += [Evidence("permission", p.name, None, p.split) for p in manifest.permissions
                 if p.name == "android.permission.SEND_SMS"]
    flags["sms_send"] = tuple(send)
    flags["can_send"] = _ways_out(manifest, channels, rules)
    for kind in ("packer", "dynamic_loading", "reflection", "hidden_dex", "obfuscation", "string_encryption"):
        flags[kind] = tuple(e for e in code.hiding if e.kind == kind)
    flags["anti_analysis"] = (*anomalies, *(e for e in code.hiding if e.kind == "anti_analysis"))
    flags["not_assessable"] = tuple(Evidence("not_assessable", reason) for reason in assessability)
    return {name: evidence for name, evidence in flags.items() if evidence}


def _assessability(manifest: ManifestFacts, code: CodeFacts, has_code: bool,
                   channels: dict[str, ChannelState], base_present: bool) -> tuple[str, ...]:
    """Why the visible code cannot be trusted to show everything the app does (empty if it can).

    In English (the JSON contract); the sentences are i18n templates so reports can translate them.
    """
    reasons = [] if base_present else [text("reason.split_without_base", splits=", ".join(manifest.splits))]
    reasons += [text("reason.packer", packer=e.value) for e in code.hiding if e.kind == "packer"]
    reasons += [text("reason.unreadable_dex", why=why) for why in code.unreadable_dex]
    if has_code and code.dex_count == 0 and not code.unreadable_dex:
        reasons.append(text("reason.no_dex"))
    hidden = {e.kind for e in code.hiding} & {"obfuscation", "string_encryption"}
    if hidden:
        key = "reason.encrypted" if "string_encryption" in hidden else "reason.obfuscated"
        reasons += [text(key, channel=name) for name, state in channels.items() if state.level == "declared"]
    return tuple(dict.fromkeys(reasons))


def assemble(manifest: ManifestFacts, code: CodeFacts, rules: RuleSet, anomalies: tuple[Evidence, ...],
             has_code: bool, base_present: bool = True, runtime: RuntimeFacts = NO_RUNTIME) -> AppFacts:
    channels = {c.id: _channel(c.id, manifest, code, rules, runtime) for c in rules.channels}
    assessability = _assessability(manifest, code, has_code, channels, base_present)
    flags = _flags(manifest, code, rules, anomalies, assessability, channels)
    return AppFacts(manifest, code, channels, flags, assessability, anomalies, runtime=runtime)
