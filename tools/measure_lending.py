#!/usr/bin/env python3
"""Precision and recall of the lending classifier on the labelled set (tests/fixtures/lending_labels.tsv).

    python tools/measure_lending.py            # fixtures, and ../shared/corpus where present
    python tools/measure_lending.py --markdown # the tables of docs/verdict.md

`unknown` counts as "not judged lending": precision and recall are those of the `lending` answer,
the one that switches lending policies on by default.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from auditor.limits import Limits  # noqa: E402
from auditor.pipeline import audit_path  # noqa: E402
from auditor.ruleset.ruleset import load_ruleset  # noqa: E402

LABELS = REPO / "tests" / "fixtures" / "lending_labels.tsv"
CORPUS = REPO.parent / "shared" / "corpus"


def labelled(corpus: Path = CORPUS) -> list[tuple[str, Path, str, str]]:
    """(name, path, truth, origin) of every row whose file is present."""
    rows = []
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or line.startswith("path\t") or not line.strip():
            continue
        name, truth, origin = line.split("\t")
        path = corpus / name.removeprefix("corpus/") if name.startswith("corpus/") else REPO / "tests" / "fixtures" / name
        if path.is_file():
            rows.append((name, path, truth, origin))
    return rows


def predictions(corpus: Path = CORPUS) -> list[tuple[str, str, str, int, str]]:
    """(name, truth, predicted kind, signal weight, origin) for the labelled set."""
    rules = load_ruleset()
    out = []
    for name, path, truth, origin in labelled(corpus):
        result = audit_path(str(path), rules, Limits())
        kind = result.app_kind.kind if result.app_kind else "error"
        out.append((name, truth, kind, result.app_kind.score if result.app_kind else 0, origin))
    return out


def measure(rows: list[tuple[str, str, str, int, str]]) -> dict[str, float]:
    tp = sum(1 for _, t, k, _, _ in rows if t == "lending" and k == "lending")
    fp = sum(1 for _, t, k, _, _ in rows if t != "lending" and k == "lending")
    fn = sum(1 for _, t, k, _, _ in rows if t == "lending" and k != "lending")
    return {"n": len(rows), "tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "unknown": sum(1 for _, _, k, _, _ in rows if k == "unknown")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the shared corpus (default ../shared/corpus)")
    args = parser.parse_args()
    rows = predictions(args.corpus)
    for part, subset in (("fixtures", [r for r in rows if not r[0].startswith("corpus/")]),
                         ("corpus", [r for r in rows if r[0].startswith("corpus/")]), ("all", rows)):
        m = measure(subset)
        print(f"{part}: n={m['n']} tp={m['tp']} fp={m['fp']} fn={m['fn']} unknown={m['unknown']} "
              f"precision={m['precision']:.2f} recall={m['recall']:.2f}")
    if args.markdown:
        print("\n| file | truth | kind | signal weight | origin |\n|---|---|---|--:|---|")
        for name, truth, kind, weight, origin in rows:
            print(f"| `{name}` | {truth} | {kind} | {weight} | {origin} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
