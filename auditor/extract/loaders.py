"""Packers that no catalog names: signs that the visible dex cannot be the app.

rules/catalog/packers.yaml names the packers someone has catalogued; a new or private packer
leaves the same traces, which are checked here:
- the Application class, or most components, the manifest declares are in no readable dex (the
  real classes are in a payload decrypted at run time);
- the Application class starts in native code (a native attachBaseContext or onCreate);
- a class loader is reached through reflection on a string (often built from pieces, so that
  'DexClassLoader' never appears whole);
- an asset that is a base64-encoded dex, or encrypted (high entropy, no known file type), is named
  in the code when the code loads classes.
Each sign is `packer` evidence, so the app is not assessable and says why in words.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from auditor.containers import ApkPiece
from auditor.dex.reader import CONST_STRING, CONST_STRING_JUMBO, INVOKE_OPS
from auditor.errors import CorruptArchive
from auditor.extract.code import ENCRYPTED_ENTROPY, KNOWN_MAGIC, CodeScan, entropy
from auditor.extract.program import DexUnit
from auditor.model import CodeFacts, Evidence, ManifestFacts

LOADER_CLASSES = ("dalvik.system.DexClassLoader", "dalvik.system.InMemoryDexClassLoader", "dalvik.system.PathClassLoader",
                  "dalvik.system.BaseDexClassLoader", "dalvik.system.DelegateLastClassLoader", "dalvik.system.DexFile")
"""Classes that load dex code (https://developer.android.com/reference/dalvik/system/package-summary)."""
FRAGMENT_NEEDLES = ("dalvik", "Loader")
"""Searches of the dex strings for loader-name pieces (announced to the code scan: SEARCHED)."""
FRAGMENT_WORDS = ("Dex", "DexClass", "Class", "DexClassLoader", "PathClassLoader", "InMemoryDexClassLoader", "DexFile")
"""Pieces without those needles, looked up whole (a binary search each)."""
SEARCHED = tuple((needle, True) for needle in FRAGMENT_NEEDLES)
"""What this module looks for in the dex strings, as CodeScan takes it to search with its own."""
MIN_FRAGMENT = 3
PLATFORM_PACKAGES = ("android.", "java.", "javax.", "dalvik.", "com.android.internal.")
"""Component classes the platform itself provides (android.app.NativeActivity...): never in an app's dex."""
NATIVE_START = ("attachBaseContext", "onCreate")
BASE64_DEX = b"ZGV4Cj"
"""base64 of 'dex\\n', the start of every dex file."""
MIN_ASSET = 1024
SHOWN = 3


def unlisted_packer(manifest: ManifestFacts, scan: CodeScan, pieces: list[ApkPiece], code: CodeFacts) -> tuple[Evidence, ...]:
    """Packer evidence from the signs above (empty for an app whose visible code is the app)."""
    if not scan.units or code.unreadable_dex:
        return ()  # nothing visible, or a dex we could not read: already not assessable for that reason
    found = [*_missing_classes(manifest, scan), *_native_start(manifest, scan)]
    loaders = list(_reflective_loaders(scan))
    found += loaders
    loading = bool(loaders) or any(e.kind in ("dynamic_loading", "packer") for e in code.hiding) or any(
        "native" in e.value for e in found)
    if loading:
        known = " ".join(e.value for e in code.hiding)
        found += [e for e in _payload_assets(pieces, scan.units) if e.value.split("'")[1] not in known]
    return tuple(dict.fromkeys(found))


def _defined(scan: CodeScan, java_name: str) -> bool:
    return "L" + java_name.replace(".", "/") + ";" in scan.program.classes


def _missing_classes(manifest: ManifestFacts, scan: CodeScan) -> Iterator[Evidence]:
    app = manifest.application_class
    if app and not app.startswith(PLATFORM_PACKAGES) and not _defined(scan, app):
        yield Evidence("packer", f"unlisted packer: the Application class {app} is in no readable dex")
    own = [c for c in manifest.component_classes if not c.startswith(PLATFORM_PACKAGES)]
    missing = [c for c in own if not _defined(scan, c)]
    if len(missing) >= 2 and 2 * len(missing) > len(own):
        yield Evidence("packer", f"unlisted packer: {len(missing)} of {len(own)} manifest components are in no readable dex "
                                 f"({', '.join(missing[:SHOWN])})")


def _native_start(manifest: ManifestFacts, scan: CodeScan) -> Iterator[Evidence]:
    """The Application class declares attachBaseContext or onCreate without code: native."""
    app = manifest.application_class
    info = scan.program.classes.get("L" + app.replace(".", "/") + ";") if app else None
    if info is None:
        return
    dex = scan.units[info.unit].dex
    with_code = {c.method_idx for c in dex.class_methods().get(info.type_idx, [])}
    for name in NATIVE_START:
        name_idx = dex.find_string(name)
        ids = dex.method_ids_named(info.type_idx, name_idx) if name_idx is not None else []
        if any(m not in with_code for m in ids):
            yield Evidence("packer", f"unlisted packer: the Application class {app} starts in native code (native {name})",
                           dex.method_signature(ids[0]))
            return


def _fragments(dex_strings: dict[int, str]) -> dict[int, str]:
    """Strings that are a loader class name or a piece of one ('dalvik.system.', 'DexClass', 'Loader')."""
    return {idx: s for idx, s in dex_strings.items()
            if len(s) >= MIN_FRAGMENT and any(s in name for name in LOADER_CLASSES)}


def _reflective_loaders(scan: CodeScan) -> Iterator[Evidence]:
    for index, unit in enumerate(scan.units):
        yield from _unit_loaders(index, unit, scan)


def _unit_loaders(index: int, unit: DexUnit, scan: CodeScan) -> Iterator[Evidence]:
    dex = unit.dex
    class_type, for_name = dex.find_type("Ljava/lang/Class;"), dex.find_string("forName")
    if class_type is None or for_name is None:
        return
    candidates = {idx: dex.string(idx) for needle in FRAGMENT_NEEDLES for idx in scan.strings[index].ids_containing(needle)}
    candidates.update((idx, word) for word in FRAGMENT_WORDS if (idx := dex.find_string(word)) is not None)
    pieces = _fragments(candidates)
    if not pieces:
        return
    reflective = set(dex.method_ids_named(class_type, for_name))
    strings, calls = dex.find_sites_many([(bytes([CONST_STRING, CONST_STRING_JUMBO]), set(pieces)), (INVOKE_OPS, reflective)])
    callers = {code.start for code, _insn in calls}
    by_method: dict[int, list[str]] = {}
    for code, insn in strings:
        if code.start in callers:
            by_method.setdefault(code.start, []).append(pieces[insn.index])
    for start, parts in by_method.items():
        if scan.origin((index, start)).kind == "library":
            continue  # androidx and support code reflect on the platform's own loaders
        method = dex.method_at(start)
        where = dex.method_signature(method.method_idx) if method is not None else None
        whole = [p for p in parts if p in LOADER_CLASSES]
        how = (f"the name {whole[0]}" if whole and len(parts) == 1
               else "a name built from pieces (" + " + ".join(repr(p) for p in parts) + ")")
        yield Evidence("packer", f"unlisted packer: a class loader is reached through reflection on {how}", where, unit.split)


def _payload_assets(pieces: list[ApkPiece], units: list[DexUnit]) -> Iterator[Evidence]:
    """Assets that are a base64 dex, or encrypted and named in the code."""
    for piece in pieces:
        for entry in piece.archive.entries():
            name = entry.name
            if not name.startswith(("assets/", "res/raw/")) or entry.uncompressed_size < MIN_ASSET:
                continue
            try:
                head = piece.archive.head(name, 4096)
            except CorruptArchive:
                continue
            if _is_base64_dex(head):
                yield Evidence("packer", f"unlisted packer: asset '{name}' is a base64-encoded dex")
            elif not head.startswith(KNOWN_MAGIC) and (bits := entropy(head)) > ENCRYPTED_ENTROPY and _named_in_code(name, units):
                yield Evidence("packer", f"unlisted packer: encrypted asset '{name}' ({bits:.2f} bits per byte) "
                                         "is named in code that loads classes")


def _is_base64_dex(head: bytes) -> bool:
    text = b"".join(head[:64].split())
    if not text.startswith(BASE64_DEX):
        return False
    try:
        return base64.b64decode(text[:12]).startswith(b"dex\n")
    except (binascii.Error, ValueError):
        return False


def _named_in_code(name: str, units: list[DexUnit]) -> bool:
    relative = name.split("/", 1)[1]
    basename = name.rsplit("/", 1)[-1]
    return any(u.dex.find_string(text) is not None for u in units for text in {relative, basename})
