"""A dex's strings searched once for every check's needles answer as each check's own search did.

DexStrings finds the needles announced for a dex in one pass; ids_containing must give exactly
DexFile.find_string_ids (a `find` loop over the string data), announced or not, on the fixtures and
on string tables pointed at odd places, and `containing` the decoded strings holding a term.
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

from auditor.dex.reader import DexFile, DexFormatError
from auditor.extract.dexstrings import DexStrings
from auditor.extract.program import DexUnit
from tests.fuzz.mutators import _dex_strings, string_table_dex

FIXTURES = Path(__file__).parent / "fixtures" / "apk"
DEXES = [zipfile.ZipFile(apk).read(name) for apk in sorted(FIXTURES.glob("*.apk"))
         for name in zipfile.ZipFile(apk).namelist() if name.endswith(".dex")]
ANNOUNCED = ["://", "Landroid/", "content://", "Loader", "dalvik", ";", "a"]
NOT_ANNOUNCED = ["java", "Ljava/lang/Object;", "zz-not-there", "é"]


def _same_as_find(data: bytes) -> int:
    """Compare every needle on one dex; the number of (needle, string) hits seen."""
    try:
        dex = DexFile(data)
    except DexFormatError:
        return 0
    strings = DexStrings(DexUnit(dex, None, "classes.dex"), [(n, True) for n in ANNOUNCED])
    hits = 0
    for needle in ANNOUNCED + NOT_ANNOUNCED:
        expected = dex.find_string_ids(needle.encode())
        assert strings.ids_containing(needle) == expected, needle
        hits += len(expected)
    return hits


@pytest.mark.parametrize("data", DEXES, ids=range(len(DEXES)))
def test_ids_containing_is_find_string_ids(data: bytes) -> None:
    assert _same_as_find(data) > 0


def test_ids_containing_is_find_string_ids_on_hostile_string_tables() -> None:
    rng = random.Random("dexstrings")
    sources = [data for data in DEXES if len(data) < 200_000]
    for _ in range(40):
        data = rng.choice(sources)
        for _step in range(rng.randint(1, 3)):
            data, _what = _dex_strings(rng, data)
        _same_as_find(data)


def test_many_hits_past_the_kept_positions_are_all_found() -> None:
    """A needle in more strings than Occurrences keeps positions for (256) is still found in every one."""
    names = sorted(f"Lcom/x/C{i:04d};".encode() for i in range(700))
    dex = DexFile(string_table_dex([bytes([len(n)]) + n for n in names]))
    strings = DexStrings(DexUnit(dex, None, "classes.dex"), [("/x/C", True), ("x", True)])
    assert strings.ids_containing("/x/C") == dex.find_string_ids(b"/x/C") == set(range(700))
    assert strings.ids_containing("C06") == set(range(600, 700))


def test_containing_decodes_the_strings_holding_a_term_in_any_case() -> None:
    dex = DexFile(DEXES[0])
    strings = DexStrings(DexUnit(dex, None, "classes.dex"), [("landroid/", False)])
    found = list(strings.containing("landroid/", exact=False, limit=1000))
    expected = [dex.string(i) for i in sorted(dex.find_string_ids(b"Landroid/"), key=lambda i: dex.string_offsets[i])]
    assert found == expected
    assert list(strings.containing("landroid/", exact=True)) == []  # as spelt: no string holds the lowered form
