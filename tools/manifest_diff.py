"""Differential test of our binary-XML reader against Debian's aapt (built on the platform's parser).

    python tools/manifest_diff.py                       # corpus + fixture manifests, 3000 mutants
    python tools/manifest_diff.py --mutants 20000 --start 100000
    python tools/manifest_diff.py --save-golden tests/fixtures/manifest_golden.json --mutants 400

For every base manifest (tests/fixtures, and ../shared/corpus when present, bundles included) and
for mutants of them (tests/fuzz/manifest_mutants.py), `aapt dump xmltree` and `aapt dump
permissions` are compared with our reading rendered in aapt's format (tests/fuzz/aapt.py); every
disagreement is printed with its seed and mutation. `--save-golden` records aapt's answers for a
fixed-seed sample of fixture-based mutants, which tests/test_axml.py checks without aapt.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzz.aapt import Dump, compare, have_aapt, permissions, run_aapt, xmltree  # noqa: E402
from tests.fuzz.manifest_mutants import mutate_manifest  # noqa: E402

CORPUS = ROOT.parent.parent / "shared" / "corpus"


def _manifests(path: Path, data: bytes, depth: int = 0) -> list[tuple[str, bytes]]:
    """AndroidManifest.xml of an APK, or of every APK inside a bundle."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        if "AndroidManifest.xml" in names:
            return [(str(path), archive.read("AndroidManifest.xml"))]
        if depth:
            return []
        return [item for name in names if name.endswith(".apk")
                for item in _manifests(Path(f"{path}!{name}"), archive.read(name), depth + 1)]
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, NotImplementedError, EOFError):
        return []


def fixture_bases() -> list[tuple[str, bytes]]:
    """The committed fixtures' manifests, in a fixed order (the golden sample is built on these)."""
    folder = ROOT / "tests" / "fixtures"
    files = sorted((folder / "apk").glob("*.apk")) + sorted((folder / "bundles").glob("*"))
    return [(str(Path(name).relative_to(ROOT)) if name.startswith(str(ROOT)) else name, raw)
            for path in files for name, raw in _manifests(path, path.read_bytes())]


def corpus_bases() -> list[tuple[str, bytes]]:
    files = sorted(p for p in CORPUS.glob("*/*") if p.suffix in (".apk", ".apks", ".xapk", ".apkm")) if CORPUS.is_dir() else []
    return [item for path in files for item in _manifests(path, path.read_bytes())]


def golden_record(base: str, raw: bytes, seed: int, what: str, xml: Dump, perms: Dump) -> dict[str, object]:
    """What the golden file keeps of aapt's answer: statuses, a digest of the xmltree and the
    permissions text in clear (small, and the part that matters). The base is named, with its
    digest, so that fixtures added later do not shift the sample."""
    return {"seed": seed, "base": base, "base_sha256": hashlib.sha256(raw).hexdigest(), "mutation": what,
            "xmltree": xml.status,
            "xmltree_sha256": hashlib.sha256(xml.out).hexdigest(), "permissions": perms.status,
            "permissions_out": perms.out.decode("utf-8", "surrogateescape")}


def golden_mutant(bases: list[tuple[str, bytes]], seed: int) -> tuple[str, bytes, str]:
    """Mutant `seed` of the base chosen by the seed (for sampling new mutants)."""
    name, base = bases[seed % len(bases)]
    data, what = mutate_manifest(base, seed)
    return name, data, what


def check(name: str, data: bytes, label: str) -> list[str]:
    """Disagreements between our rendering and aapt's for one manifest."""
    real_xml, real_perms = run_aapt(data)
    out = []
    for kind, ours, theirs in (("xmltree", xmltree(data), real_xml), ("permissions", permissions(data), real_perms)):
        if theirs.status == "timeout":
            out.append(f"{label} {name}: {kind}: aapt timed out")
            continue
        difference = compare(ours, theirs)
        if difference:
            out.append(f"{label} {name}: {kind}: {difference}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutants", type=int, default=3000)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--no-corpus", action="store_true", help="only the fixtures' manifests")
    parser.add_argument("--save-golden", type=Path, help="record aapt's answers for fixture-based mutants")
    args = parser.parse_args(argv)
    if not have_aapt():
        print("aapt is not installed (apt-get install aapt)", file=sys.stderr)
        return 2
    fixtures = fixture_bases()
    if args.save_golden:
        records = []
        named = dict(fixtures)
        for seed in range(args.start, args.start + args.mutants):
            name, data, what = golden_mutant(fixtures, seed)
            records.append(golden_record(name, named[name], seed, what, *run_aapt(data)))
        args.save_golden.write_text(json.dumps({"bases": "tests/fixtures (tools/manifest_diff.py fixture_bases)",
                                                "mutants": records}, indent=0) + "\n", encoding="utf-8")
        print(f"{len(records)} mutants recorded in {args.save_golden}")
        return 0
    bases = fixtures + ([] if args.no_corpus else corpus_bases())
    problems = [p for name, raw in bases for p in check(name, raw, "base")]
    print(f"{len(bases)} base manifests compared, {len(problems)} disagreements", flush=True)
    for seed in range(args.start, args.start + args.mutants):
        name, base = bases[seed % len(bases)]
        data, what = mutate_manifest(base, seed)
        found = check(name, data, f"seed {seed} [{what}]")
        problems += found
        for line in found:
            print(line, flush=True)
    print(f"{args.mutants} mutants compared; {len(problems)} disagreements in all")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
