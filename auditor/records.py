"""`@record`: the package's dataclasses, each created with one compiled function instead of six.

Python 3.11's `@dataclass(frozen=True)` writes the source of __init__, __repr__, __eq__, __hash__,
__setattr__ and __delattr__ for every class and compiles each with its own `exec`: the 77 classes
a scan imports cost ~35 ms of every process that way, a tenth of the scan of a large APK. `@record`
asks dataclasses for the fields only, so a record is still a dataclass (`dataclasses.fields`,
`replace`, `asdict`, `__match_args__`, `slots=True`, pickling, and mypy's checks through
`dataclass_transform`), and compiles __init__ alone. The other methods are closures over the
class's field names (made without source or compile), with the semantics of the generated ones:
- `==` compares the `compare` fields of two instances of the same class, else NotImplemented;
- the hash is that of the tuple of the hashed fields (the same values as before, so sets and
  dicts of records iterate in the same order);
- the repr is `QualName(field=value!r, ...)` over the `repr` fields, `...` when it recurses;
- a frozen record refuses every assignment and deletion (FrozenInstanceError); a mutable one
  (`frozen=False`) is unhashable, as a dataclass with eq is.

`__dataclass_params__` says what a record does (init, repr, eq, frozen), as dataclasses' own
checks read it: a frozen dataclass may subclass a frozen record, a mutable one may not.
__post_init__, `init=False` and keyword-only fields are not supported (nothing here needs them):
a record that asks for them is refused when its class is created.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from reprlib import recursive_repr
from typing import Any, TypeVar, dataclass_transform, overload

_T = TypeVar("_T")

_FACTORY: Any = object()
"""The default of a parameter whose field has a default_factory: "call the factory"."""


@overload
def record(cls: type[_T], /) -> type[_T]: ...


@overload
def record(*, frozen: bool = True, slots: bool = False) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: type[_T] | None = None, /, *, frozen: bool = True, slots: bool = False) -> Any:
    """Make `cls` a dataclass, frozen unless `frozen=False`, with __slots__ when `slots=True`."""

    def make(cls: type[_T]) -> type[_T]:
        if "__post_init__" in vars(cls):
            raise TypeError(f"record {cls.__qualname__}: __post_init__ is not supported")
        if not cls.__doc__:  # dataclasses would write one with inspect.signature: 0.1 ms a class
            cls.__doc__ = f"{cls.__name__}({', '.join(vars(cls).get('__annotations__', ()))})"
        cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False, slots=slots)
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        if any(not f.init or f.kw_only for f in fields):
            raise TypeError(f"record {cls.__qualname__}: init=False and keyword-only fields are not supported")
        hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
        methods: dict[str, Any] = {
            "__init__": _init(cls, fields, frozen),
            "__repr__": _repr(tuple(f.name for f in fields if f.repr)),
            "__eq__": _eq(_getter(tuple(f.name for f in fields if f.compare))),
            "__hash__": _hash(_getter(hashed)) if frozen else None,
        }
        for name, method in methods.items():
            if method is not None:
                method.__qualname__ = f"{cls.__qualname__}.{name}"
        if frozen:
            methods |= {"__setattr__": _frozen_setattr, "__delattr__": _frozen_delattr}
        if frozen and slots:  # pickle's default sets slots with setattr, which a frozen record refuses
            methods |= {"__getstate__": _getstate, "__setstate__": _setstate}
        for name, method in methods.items():
            setattr(cls, name, method)
        params = vars(cls)["__dataclass_params__"]  # what the class does, for dataclasses' checks of subclasses
        params.init = params.repr = params.eq = True
        params.frozen = frozen
        return cls

    return make if cls is None else make(cls)


def _init(cls: type, fields: tuple[dataclasses.Field[Any], ...], frozen: bool) -> Callable[..., None]:
    """The one generated function: __init__ with each field a parameter, in order, as dataclasses writes it."""
    namespace: dict[str, Any] = {"__name__": cls.__module__, "_set": object.__setattr__, "_FACTORY": _FACTORY}
    params, lines = ["self"], []
    for f in fields:
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_FACTORY")
            lines.append(f"if {f.name} is _FACTORY: {f.name} = _factory_{f.name}()")
        else:
            params.append(f.name)
        lines.append(f"_set(self, {f.name!r}, {f.name})" if frozen else f"self.{f.name} = {f.name}")
    exec(f"def __init__({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in lines or ["pass"]), namespace)
    init: Callable[..., None] = namespace["__init__"]
    return init


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """obj -> (obj.a, obj.b, ...): the tuple the generated __eq__ and __hash__ build, one C call for two fields or more."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        get = attrgetter(names[0])
        return lambda obj: (get(obj),)
    return lambda obj: ()


def _eq(compared: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    return __eq__


def _hash(hashed: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    return __hash__


def _repr(shown: tuple[str, ...]) -> Callable[[Any], str]:
    prefixes, values = tuple(f"{name}=" for name in shown), _getter(shown)

    @recursive_repr()
    def __repr__(self: Any) -> str:
        text: str = self.__class__.__qualname__ + "(" + ", ".join([p + repr(v) for p, v in zip(prefixes, values(self), strict=True)]) + ")"
        return text

    return __repr__


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _setstate(self: Any, state: list[Any]) -> None:
    for f, value in zip(dataclasses.fields(self), state, strict=False):
        object.__setattr__(self, f.name, value)
