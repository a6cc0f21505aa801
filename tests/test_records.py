"""`@record` behaves as `@dataclass(frozen=True)` does: each test builds the same class both ways and compares."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import dataclass, field
from typing import Any

import pytest

from auditor.records import record


@dataclass(frozen=True)
class PlainPoint:
    x: float
    label: str = "p"
    tags: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list, compare=False, repr=False)


@record
class Point:
    x: float
    label: str = "p"
    tags: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class PlainOne:
    value: Any


@record(slots=True)
class One:
    value: Any


@record
class Empty:
    pass


@record(frozen=False)
class Counter:
    count: int = 0
    seen: list[str] = field(default_factory=list)


@record(frozen=False, slots=True)
class SlotCounter:
    count: int = 0


def test_init_defaults_and_factories_as_dataclasses() -> None:
    assert dataclasses.astuple(Point(1.0)) == dataclasses.astuple(PlainPoint(1.0))
    assert Point(2.0, label="q", tags=("a",)).tags == ("a",)
    assert Point(1.0).notes == [] and Point(1.0).notes is not Point(1.0).notes
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1.0, "p", (), [], 5)  # type: ignore[call-arg]
    assert [f.name for f in dataclasses.fields(Point)] == ["x", "label", "tags", "notes"]
    assert Point.__match_args__ == PlainPoint.__match_args__ == ("x", "label", "tags", "notes")
    assert Point.__init__.__qualname__ == "Point.__init__"


def test_equality_and_hash_as_dataclasses() -> None:
    nan = float("nan")
    pairs = [(Point(1.0, tags=("a",)), PlainPoint(1.0, tags=("a",))), (One(nan), PlainOne(nan)), (One(None), PlainOne(None))]
    for ours, theirs in pairs:
        assert hash(ours) == hash(theirs)
        assert (ours == ours) == (theirs == theirs)  # a NaN field: equal to itself through the tuple's identity check
    assert Point(1.0, notes=["a"]) == Point(1.0, notes=["b"])  # compare=False
    assert Point(1.0) != Point(1.0, label="q")
    assert Point(1.0).__eq__(PlainPoint(1.0)) is NotImplemented
    assert Point(1.0) != One(1.0)
    assert Empty() == Empty() and hash(Empty()) == hash(())
    assert [p.x for p in {Point(float(i)) for i in range(50)}] == [p.x for p in {PlainPoint(float(i)) for i in range(50)}]


def test_repr_as_dataclasses() -> None:
    assert repr(Point(1.0, tags=("a",))) == repr(PlainPoint(1.0, tags=("a",))).replace("PlainPoint", "Point")
    assert repr(One("x")) == "One(value='x')" and repr(Empty()) == "Empty()"
    cycle = Counter()
    cycle.seen.append(cycle)  # type: ignore[arg-type]
    assert repr(cycle) == "Counter(count=0, seen=[...])"


def test_frozen_refuses_assignment_and_deletion() -> None:
    for obj in (Point(1.0), One(1)):
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'x'"):
            obj.x = 2  # type: ignore[misc,union-attr]
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'value'"):
            del obj.value  # type: ignore[misc,union-attr]
    with pytest.raises(AttributeError):
        One(1).other = 2  # type: ignore[attr-defined]


def test_mutable_records_assign_and_are_unhashable() -> None:
    counter = Counter()
    counter.count += 1
    assert counter == Counter(1) and Counter.__hash__ is None
    slotted = SlotCounter()
    slotted.count = 3
    assert slotted == SlotCounter(3) and not hasattr(slotted, "__dict__")


def test_replace_asdict_copy_and_pickle() -> None:
    point = Point(1.0, tags=("a",), notes=["n"])
    assert dataclasses.replace(point, x=2.0) == Point(2.0, tags=("a",))
    assert dataclasses.asdict(point) == {"x": 1.0, "label": "p", "tags": ("a",), "notes": ["n"]}
    for obj in (point, One((1, 2)), Empty(), Counter(2, ["a"]), SlotCounter(4)):
        assert pickle.loads(pickle.dumps(obj)) == obj
        assert copy.copy(obj) == obj and copy.deepcopy(obj) == obj


def test_dataclasses_may_subclass_a_frozen_record() -> None:
    @dataclass(frozen=True)
    class Labelled(Point):
        extra: int = 0

    assert Labelled(1.0, extra=2) == Labelled(1.0, extra=2) != Labelled(1.0)
    with pytest.raises(TypeError, match="non-frozen dataclass from a frozen one"):
        dataclass(type("Mutable", (Point,), {}))


def test_unsupported_dataclass_features_are_refused() -> None:
    with pytest.raises(TypeError, match="__post_init__"):
        @record
        class Checked:
            x: int

            def __post_init__(self) -> None:
                pass

    with pytest.raises(TypeError, match="keyword-only"):
        @record
        class KeywordOnly:
            x: int = field(kw_only=True)
