"""The C forms of the dex reader's hot loops (auditor/dex/_native.c) give exactly what the pure-Python
forms give: the same methods, the same anomalies, the same error, the same instruction sites in the
same order, on every fixture dex and on thousands of hostile mutations of them.

Issue 16 allows a compiled extension only on that condition. The module is optional (an install
without a C compiler has none), so the comparisons skip where it is missing; one test checks that
turning it off really runs the Python forms.
"""

from __future__ import annotations

import bisect
import random
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.dex import reader
from auditor.dex.reader import CONST_STRING, CONST_STRING_JUMBO, FIELD_OPS, INVOKE_OPS, NEW_INSTANCE, DexFile, DexFormatError
from tests.fuzz.mutators import _dex_class_data, _dex_code_item, _dex_shared, _dex_strings, _dex_table_entry, string_table_dex

FIXTURES = Path(__file__).parent / "fixtures" / "apk"
native = pytest.mark.skipif(reader._native is None, reason="the C module was not built in this install")


def _fixture_dexes() -> Iterator[tuple[str, bytes]]:
    for apk in sorted(FIXTURES.glob("*.apk")):
        with zipfile.ZipFile(apk) as archive:
            for name in archive.namelist():
                if name.endswith(".dex"):
                    yield f"{apk.name}!{name}", archive.read(name)


DEXES = list(_fixture_dexes())


def _outcome(data: bytes, use_native: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    """Everything the two forms compute, for one dex: methods, anomalies, sites of four kinds, opcodes."""
    monkeypatch.setattr(reader, "_native", _NATIVE if use_native else None)
    try:
        dex = DexFile(data)
        methods = dex.class_methods()
        everything = set(range(1 << 16)) | {70000, 1 << 20}
        sites = dex.find_sites_many([(INVOKE_OPS, everything), (FIELD_OPS, set(range(0, 1 << 16, 3))),
                                     (bytes([CONST_STRING, CONST_STRING_JUMBO]), everything),
                                     (bytes([NEW_INSTANCE]), {1, 2, 3, 5, 8, 13}), (INVOKE_OPS, set())])
        opcodes = {code.start: dex.opcodes(code) for codes in methods.values() for code in codes}
        return (dict(methods), list(dex.anomalies), sites, tuple(map(list, dex._code_ranges())), dex._code_end, dex.type_names(),
                opcodes)
    except DexFormatError as error:
        return ("DexFormatError", str(error))


_NATIVE = reader._native


@native
@pytest.mark.parametrize(("name", "data"), DEXES, ids=[name for name, _ in DEXES])
def test_fixture_dex_same_in_c_and_python(name: str, data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    in_c = _outcome(data, True, monkeypatch)
    in_python = _outcome(data, False, monkeypatch)
    assert in_c == in_python
    assert isinstance(in_c, tuple) and len(in_c) == 7
    methods, _anomalies, sites, _ranges, _end, _types, opcodes = in_c
    assert any(opcodes.values())
    assert any(methods.values()), f"{name}: no method with code found"
    assert sites[0], f"{name}: no invoke found"


@native
def test_native_records_are_used_on_well_formed_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path is really taken (not silently the Python search) on an ordinary dex."""
    monkeypatch.setattr(reader, "_native", _NATIVE)
    dex = DexFile(DEXES[0][1])
    assert dex._ref_records() is not None


@native
@pytest.mark.parametrize("mutate", [_dex_class_data, _dex_code_item, _dex_shared, _dex_strings, _dex_table_entry])
def test_hostile_mutations_same_in_c_and_python(mutate, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeded mutations of class data, code items, shared structures, strings and id tables: the C forms
    neither crash nor disagree (a crash would end this test process)."""
    rng = random.Random(f"native-{mutate.__name__}")
    sources = [data for _name, data in DEXES if len(data) < 200_000]
    for _ in range(60):
        data = rng.choice(sources)
        for _step in range(rng.randint(1, 3)):
            data, _what = mutate(rng, data)
        assert _outcome(data, True, monkeypatch) == _outcome(data, False, monkeypatch)


def test_pure_python_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the C module the reader still finds everything (the fallback is the definition)."""
    monkeypatch.setattr(reader, "_native", None)
    dex = DexFile(DEXES[0][1])
    assert dex._ref_records() is None
    assert any(dex.class_methods().values())
    assert dex.find_sites(INVOKE_OPS, set(range(1 << 16)))


def _keys_by_bisect(table: bytes) -> list[int]:
    return [(c << 32) | n for c, _p, n in struct.iter_unpack("<HHI", table)]


@pytest.mark.parametrize("shuffle", [False, True])
def test_id_lookup_in_place_is_bisect(shuffle: bool) -> None:
    """method_ids_named/iter_field_ids_of search the table in place; on a sorted table and on a
    tampered, shuffled one they return what bisect over a list of keys returns."""
    rng = random.Random(7)
    for _name, data in DEXES[:12]:
        dex = DexFile(data)
        for base, size, lookup in ((dex._method_ids_off, dex._method_ids_size, dex.method_ids_named),
                                   (dex._field_ids_off, dex._field_ids_size, dex.iter_field_ids_of)):
            table = bytearray(data[base:base + 8 * size])
            if shuffle:
                rows = [table[i:i + 8] for i in range(0, len(table), 8)]
                rng.shuffle(rows)
                table = bytearray(b"".join(rows))
                dex = DexFile(data[:base] + bytes(table) + data[base + 8 * size:])
                lookup = getattr(dex, lookup.__name__)
            keys = _keys_by_bisect(bytes(table))
            for key in {*keys[:40], 0, 1 << 40}:
                i = bisect.bisect_left(keys, key)
                expected = []
                while i < len(keys) and keys[i] == key:
                    expected.append(i)
                    i += 1
                assert lookup(key >> 32, key & 0xFFFFFFFF) == expected


@native
def test_built_module_matches_the_reader() -> None:
    """The reader uses the C module only when it was built from the sources it expects."""
    assert _NATIVE is not None and _NATIVE.VERSION == reader.NATIVE_VERSION


def _lower_bounds(dex: DexFile) -> object:
    """_first_string_from for needles around every string of the dex (and odd ones)."""
    texts = [dex.string(i) for i in range(min(len(dex.string_offsets), 400))]
    needles = {"", "\x7f", "zzzz", "a\0b", "é", *texts, *(t[:len(t) // 2] for t in texts), *(t + "!" for t in texts[:50]),
               *(t[:-1] + "~" for t in texts if t)}
    return {needle: (dex._first_string_from(needle), dex.find_string(needle), dex.has_string_prefix(needle))
            for needle in sorted(needles)}


def _string_searches(dex: DexFile) -> object:
    """find_string_ids for short needles, and the strings in data order."""
    order, offsets = dex._strings_by_offset()
    return list(order), list(offsets), {needle: dex.find_string_ids(needle) for needle in (b"a", b"L", b";", b"in", b"\0", b"://")}


@native
@pytest.mark.parametrize("ask", [_lower_bounds, _string_searches])
@pytest.mark.parametrize("mutate", [None, _dex_strings, _dex_table_entry])
def test_string_table_searches_same_in_c_and_python(ask, mutate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The binary search of the string table (bytes compared in C, decoded text in Python) and the test
    of the usual string layout: the same answers on the fixtures and on string tables pointed at odd
    places or out of order."""
    def answer(data: bytes, use_native: bool) -> object:
        monkeypatch.setattr(reader, "_native", _NATIVE if use_native else None)
        try:
            return ask(DexFile(data))
        except DexFormatError as error:
            return str(error)

    rng = random.Random(f"native-{ask.__name__}")
    sources = [data for _name, data in DEXES if len(data) < 200_000]
    for data in sources if mutate is None else (rng.choice(sources) for _ in range(30)):
        for _step in range(0 if mutate is None else rng.randint(1, 3)):
            data, _what = mutate(rng, data)
        assert answer(data, True) == answer(data, False)


@native
def test_string_lower_bound_reads_mutf8_as_the_reader_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strings with a two-byte length, an encoded NUL (0xC0 0x80), bytes that are not UTF-8, and a last
    string without its NUL: a table of them is searched alike in C and in Python."""
    strings = [b"\x01A", b"\x02AB", b"\x03A\xc0\x80", b"\x02A\xff", b"\x81\x01" + b"B" * 129, b"\x01C",
               b"\x02C\xc0", b"\x03D\xed\xa0", b"\x01E"]
    data = string_table_dex(strings)
    needles = ["", "A", "AB", "A\0", "A~", "B", "B" * 129, "B" * 130, "C", "C~", "D", "E", "F", "\x7f"]
    found = {}
    for use_native in (True, False):
        monkeypatch.setattr(reader, "_native", _NATIVE if use_native else None)
        dex = DexFile(data)
        found[use_native] = [dex._first_string_from(n) for n in needles]
    assert found[True] == found[False]
    assert found[True][needles.index("B" * 129)] == 4
    assert found[True][needles.index("F")] == len(strings)
