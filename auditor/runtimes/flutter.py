"""Flutter: the Dart plugins an app registers, and the strings of its Dart AOT snapshot.

The Dart code itself is compiled to machine code in libapp.so, which no maintained Python tool
decompiles. What can be read is:
- the Java side: each plugin's classes and MethodChannel name in the dex (GeneratedPluginRegistrant
  registers them), which is where a plugin reads contacts, SMS or the call log;
- the ELF sections of libapp.so (with pyelftools, the standard ELF reader for Python): the
  snapshot keeps Dart package URIs (package:contacts_service/...), channel names and URL
  constants as plain strings.
A plugin that reads a channel gives `code`; what the Dart code then does with the data is not
analysed, and the evidence says so.
"""

from __future__ import annotations

import re
from io import BytesIO

from auditor.model import ChannelEvidence, Evidence, Origin
from auditor.records import record
from auditor.ruleset.ruleset import RuntimeApiEntry

PRINTABLE = re.compile(rb"[\x20-\x7e]{4,}")
URL = re.compile(r"^(?:https?|wss?)://[A-Za-z0-9.-]+(?::\d+)?(?:/[^\s\"'<>]*)?$")
MAX_URLS = 10
NOT_ANALYSED = "the Dart code that receives the data and may send it is not analysed"


@record
class SnapshotStrings:
    """Strings of libapp.so that matter here."""

    packages: frozenset[str]
    strings: frozenset[str]
    urls: tuple[str, ...]


@record
class FlutterResult:
    evidence: tuple[ChannelEvidence, ...]
    summary: str
    urls: tuple[str, ...]


def snapshot_strings(data: bytes) -> SnapshotStrings | None:
    """Printable strings of the data sections of an ELF file (None if it is not ELF)."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(BytesIO(data))
        chunks = [section.data() for section in elf.iter_sections()
                  if section["sh_type"] == "SHT_PROGBITS" and not section["sh_flags"] & 0x4]  # not SHF_EXECINSTR
    except (ELFError, ValueError, OSError, KeyError):
        return None
    found = {m.decode("ascii") for chunk in chunks for m in PRINTABLE.findall(chunk)}
    packages = {s.split("/", 1)[0] + "/" for s in found if s.startswith("package:") and "/" in s}
    urls = tuple(sorted(s for s in found if URL.match(s)))
    return SnapshotStrings(frozenset(packages), frozenset(found), urls)


def analyse(snapshot: SnapshotStrings | None, dex_channels: set[str], present_java: set[str],
            apis: tuple[RuntimeApiEntry, ...], snapshot_name: str | None) -> FlutterResult:
    """One `api` evidence per catalogued plugin seen on the Java side or in the snapshot."""
    out = []
    for entry in apis:
        if entry.channel is None or entry.role != "source" or not (entry.flutter_channels or entry.dart):
            continue
        seen = []
        if any(prefix in present_java for prefix in entry.java):
            seen.append("its Java classes are in the dex")
        channels = [c for c in entry.flutter_channels if c in dex_channels]
        if channels:
            seen.append(f"MethodChannel '{channels[0]}' in the dex")
        dart = [p for p in entry.dart if snapshot is not None and p in snapshot.packages]
        if dart:
            seen.append(f"Dart {dart[0]} in {snapshot_name}")
        if not seen:
            continue
        out.append(ChannelEvidence(entry.channel, Evidence(
            "api", f"Flutter plugin {entry.plugin} reads {entry.channel.replace('_', ' ')} ({'; '.join(seen)})",
            None, origin=Origin("app"), dex=snapshot_name, detail=NOT_ANALYSED)))
    if snapshot is None:
        summary = f"Dart AOT snapshot {'not readable' if snapshot_name else 'absent'}; plugins read from the Java side; {NOT_ANALYSED}"
        return FlutterResult(tuple(out), summary, ())
    summary = (f"{snapshot_name}: {len(snapshot.packages)} Dart package(s), {len(snapshot.urls)} URL(s) in its strings; "
               f"plugins read from the Java side; {NOT_ANALYSED}")
    return FlutterResult(tuple(out), summary, snapshot.urls[:MAX_URLS])
