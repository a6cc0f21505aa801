"""What a batch means for CI: the exit code it earns.

Exit codes (documented in the README). CI reads 1 as "an app failed the gate", so nothing else
may use it: usage errors, unusable inputs, unwritable -o and internal errors are all 2.
  0    every input analysed, none reached --fail-on
  1    at least one app reached --fail-on (or, for diff, exposure went up)
  2    usage or input error, or at least one input could not be analysed (takes precedence over 1)
  130  interrupted (Ctrl-C), as shells report SIGINT
  141  the reader of stdout went away (a broken pipe), as shells report SIGPIPE; nothing is printed
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.baseline import has_new_exposure, line_has_new_exposure
from auditor.model import BANDS, AppResult

EXIT_OK, EXIT_FAIL_ON, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 130, 141

Counted = tuple[bool, str | None]
"""(analysed, the band --fail-on weighs or None): one per app of a batch."""


def counted(results: Iterable[AppResult], resumed: Iterable[dict[str, object]], baseline: bool) -> list[Counted]:
    """What --fail-on weighs for fresh results and for lines resumed from a JSONL report.

    With a baseline, an app counts only when it has a new finding that adds points."""
    rows: list[Counted] = [(r.ok, r.score.band if r.score and (not baseline or has_new_exposure(r)) else None) for r in results]
    for line in resumed:
        band = line.get("band")
        rows.append((line.get("status") == "ok",
                     band if isinstance(band, str) and (not baseline or line_has_new_exposure(line)) else None))
    return rows


def exit_code(outcomes: list[Counted], fail_on: str | None) -> int:
    """0 clean, 1 an app reached --fail-on, 2 an input could not be analysed (2 wins over 1)."""
    if any(not ok for ok, _band in outcomes):
        return EXIT_ERROR
    if reaching(outcomes, fail_on):
        return EXIT_FAIL_ON
    return EXIT_OK


def summary(results: Iterable[AppResult], resumed: Iterable[dict[str, object]], fail_on: str | None, failing: int) -> str:
    """The one line a scan ends with on stderr: files, ok, errors, the worst band, and what --fail-on caught.

    CI logs show it even when the report goes to a file, so a red or green build says why."""
    statuses: list[tuple[bool, object]] = [(r.ok, r.score.band if r.score else None) for r in results]
    statuses += [(line.get("status") == "ok", line.get("band")) for line in resumed]
    ok = sum(1 for good, _band in statuses if good)
    errors = len(statuses) - ok
    bands = [str(band) for _good, band in statuses if band in BANDS]
    out = f"{len(statuses)} file{'' if len(statuses) == 1 else 's'}: {ok} ok, {errors} error{'' if errors == 1 else 's'}"
    if bands:
        out += f"; worst band: {max(bands, key=BANDS.index)}"
    if fail_on and failing:
        out += f"; {failing} reached --fail-on {fail_on}"
    return out


def reaching(outcomes: list[Counted], fail_on: str | None) -> int:
    """How many apps reach --fail-on (after the baseline, if any)."""
    if not fail_on:
        return 0
    return sum(1 for _ok, band in outcomes if band and BANDS.index(band) >= BANDS.index(fail_on))
