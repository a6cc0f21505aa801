"""The reader's table lookups that search bytes instead of walking records give what the walk gives.

Each lookup here is checked against the plain form it replaced (a walk of the id tables through
method_ref/proto), on every fixture dex and on seeded hostile mutations of their tables, so a
search that skipped a straddling hit or an out-of-range index would show.
"""

from __future__ import annotations

import random
import struct
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from auditor.dex import reader
from auditor.dex.reader import DexFile, DexFormatError, _MethodTable
from tests.fuzz.mutators import _dex_header, _dex_strings, _dex_table_entry

FIXTURES = Path(__file__).parent / "fixtures" / "apk"


def _fixture_dexes() -> Iterator[bytes]:
    for apk in sorted(FIXTURES.glob("*.apk")):
        with zipfile.ZipFile(apk) as archive:
            yield from (archive.read(n) for n in archive.namelist() if n.endswith(".dex"))


DEXES = list(_fixture_dexes())


def _protos_by_walk(dex: DexFile, returns: str, params: set[tuple[str, ...]]) -> set[int]:
    """The walk proto_ids_matching replaced: every proto's return type index compared, its parameters named."""
    string_idx = dex.find_string(returns)
    if string_idx is None:
        return set()
    wanted = {i for i, s in enumerate(dex.type_string) if s == string_idx}
    raw = dex.data[dex._proto_ids_off:dex._proto_ids_off + 12 * dex._proto_ids_size]
    return {idx for idx, (_shorty, return_idx, params_off) in enumerate(struct.iter_unpack("<III", raw))
            if return_idx in wanted and tuple(map(dex.type_name, dex._type_list(params_off))) in params}


def _methods_by_walk(dex: DexFile, protos: set[int]) -> list[int]:
    raw = dex.data[dex._method_ids_off:dex._method_ids_off + 8 * dex._method_ids_size]
    return [i for i, (_c, proto, _n) in enumerate(struct.iter_unpack("<HHI", raw)) if proto in protos]


READS = (DexFormatError, IndexError, struct.error, ValueError, UnicodeDecodeError)


def _outcome(compute: Callable[[], object]) -> object:
    """The value, or the kind of error: a lookup must fail where the walk fails, and only there."""
    try:
        return compute()
    except READS as exc:
        return type(exc).__name__


def _check(dex: DexFile) -> None:
    raw = dex.data[dex._proto_ids_off:dex._proto_ids_off + 12 * dex._proto_ids_size]
    rows = list(struct.iter_unpack("<III", raw))
    params = {tuple(map(dex.type_name, dex._type_list(off))) for _s, _r, off in rows[:200]}
    params |= {(), ("I",), ("Ljava/lang/String;",), ("I", "I")}
    for returns in {*(dex.type_name(r) for _s, r, _o in rows[:30]), "Ljava/lang/String;", "V", "Lnot/There;"}:
        found = _outcome(lambda: dex.proto_ids_matching(returns, params))  # noqa: B023
        assert found == _outcome(lambda: _protos_by_walk(dex, returns, params))  # noqa: B023
        if isinstance(found, set):
            assert dex.method_ids_with_proto(found) == _methods_by_walk(dex, found)
    odd = {0, 1, 7, 255, 256, 65535, 65536, 1 << 20}
    assert dex.method_ids_with_proto(odd) == _methods_by_walk(dex, odd)
    for m in range(-1, min(dex._method_ids_size, 3000) + 2):
        assert _outcome(lambda: dex.method_class(m)) == _outcome(lambda: dex.method_ref(m)[0])  # noqa: B023


@pytest.mark.parametrize("native", [True, False], ids=["c", "python"])
@pytest.mark.parametrize("data", DEXES, ids=range(len(DEXES)))
def test_lookups_match_the_walk_on_fixtures(data: bytes, native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also code_of, which reads the C module's method table in place, against a map of every method."""
    if not native:
        monkeypatch.setattr(reader, "_native", None)
    dex = DexFile(data)
    _check(dex)
    defined = {c.method_idx: c for codes in dex.class_methods().values() for c in codes}
    for m in range(-1, dex._method_ids_size + 2):  # a well-formed dex: each class's data lists its own methods
        assert dex.code_of(m) == defined.get(m)


@pytest.mark.parametrize("mutate", [_dex_table_entry, _dex_strings, _dex_header])
def test_lookups_match_the_walk_on_hostile_tables(mutate) -> None:
    rng = random.Random(f"lookups-{mutate.__name__}")
    sources = [data for data in DEXES if len(data) < 200_000]
    checked = 0
    for _ in range(40):
        data = rng.choice(sources)
        for _step in range(rng.randint(1, 3)):
            data, _what = mutate(rng, data)
        try:
            dex = DexFile(data)
        except DexFormatError:
            continue
        _check(dex)
        checked += 1
    assert checked >= 10


def test_method_table_rows_found_by_index_only() -> None:
    """last_row_of finds a method index in the index field of a row, never in a start or end field,
    nor across two fields; the last listed wins, within the rows asked about."""
    rows = [(5, 7, 9), (7, 5, 5), (5, 1, 2), (1 << 40, 3, 1 << 8)]
    table = _MethodTable(struct.pack(f"={3 * len(rows)}Q", *(v for row in rows for v in row)))
    assert table.last_row_of(5, 0, 4) == 2
    assert table.last_row_of(5, 0, 2) == 0
    assert table.last_row_of(7, 0, 4) == 1
    assert table.last_row_of(9, 0, 4) == -1 and table.last_row_of(3, 0, 4) == -1
    assert table.last_row_of(1 << 40, 0, 4) == 3 and table.last_row_of(1 << 40, 0, 3) == -1
    assert table.last_row_of(1 << 32, 0, 4) == -1 and table.last_row_of(-1, 0, 4) == -1
    assert table[2] == (5, 1, 2) and table[1:3] == [(7, 5, 5), (5, 1, 2)]


@pytest.mark.parametrize("mutate", [None, _dex_table_entry])
def test_annotations_offset_is_the_first_definitions(mutate) -> None:
    """annotations_offset reads two columns of the class table in C: what a walk keeping each type's
    first definition gives, also where hostile entries define a type twice or name odd types."""
    rng = random.Random("annotations")
    sources = [data for data in DEXES if len(data) < 200_000]
    for data in sources if mutate is None else (rng.choice(sources) for _ in range(60)):
        for _step in range(0 if mutate is None else rng.randint(1, 3)):
            data, _what = mutate(rng, data)
        try:
            dex = DexFile(data)
        except DexFormatError:
            continue
        raw = data[dex._class_defs_off:dex._class_defs_off + 32 * dex._class_defs_size]
        first: dict[int, int] = {}
        for row in struct.iter_unpack("<8I", raw):
            first.setdefault(row[0], row[5])
        for type_idx in {*first, 0, 1, 1 << 20}:
            assert dex.annotations_offset(type_idx) == first.get(type_idx, 0)


def test_annotations_offset_of_a_type_defined_twice_is_the_first() -> None:
    data = bytearray(next(d for d in DEXES if DexFile(d).class_count >= 2))
    base = struct.unpack_from("<I", data, 0x64)[0]
    cls = struct.unpack_from("<I", data, base)[0]
    struct.pack_into("<I", data, base + 32, cls)  # the second class_def defines the first one's type again
    struct.pack_into("<I", data, base + 20, 0x1234)
    struct.pack_into("<I", data, base + 32 + 20, 0x5678)
    assert DexFile(bytes(data)).annotations_offset(cls) == 0x1234
