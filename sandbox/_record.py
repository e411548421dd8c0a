"""Value classes without importing dataclasses on the run path.

`dataclasses` imports inspect, ast, dis, tokenize and re: more than a one-shot run of the CLI
costs by itself. A `Record` subclass writes its own typed `__init__` and lists its fields;
`Record` gives it dataclass equality, repr, and (frozen) immutability and hashing. For code
that treats the public classes as dataclasses (`dataclasses.fields`, `asdict`, `replace`,
`is_dataclass`), `__dataclass_fields__` is built on first use from an equivalent dataclass,
made with the dataclasses module's public API only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar


class _DataclassFields:
    """The class's dataclass field table, made when something first asks for it."""

    def __get__(self, instance: object, owner: type[Record]) -> dict[str, Any]:
        import dataclasses

        specs = []
        for name in owner._fields:
            default = owner._defaults.get(name, dataclasses.MISSING)
            if callable(default) and name in owner._factories:
                specs.append((name, object, dataclasses.field(default_factory=default)))
            elif default is dataclasses.MISSING:
                specs.append((name, object, dataclasses.field()))
            else:
                specs.append((name, object, dataclasses.field(default=default)))
        twin = dataclasses.make_dataclass(owner.__name__, specs, frozen=owner._frozen)
        table: dict[str, Any] = twin.__dataclass_fields__  # type: ignore[attr-defined]
        type.__setattr__(owner, "__dataclass_fields__", table)
        return table


class Record:
    """Base of the value classes: subclasses set `_fields` (in __init__ order), `_defaults`,
    `_factories` (names whose default is a factory) and `_frozen`."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    _factories: ClassVar[frozenset[str]] = frozenset()
    _frozen: ClassVar[bool] = False
    __dataclass_fields__: ClassVar[dict[str, Any]] = _DataclassFields()  # type: ignore[assignment]

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined, no-any-return]

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self.__class__.__qualname__}({inner})"

    __hash__ = None  # type: ignore[assignment]  # (a mutable record, as a dataclass with eq)


class FrozenRecord(Record):
    """An immutable, hashable Record (a frozen dataclass): assignment raises
    dataclasses.FrozenInstanceError, as it would there."""

    __slots__ = ()
    _frozen: ClassVar[bool] = True

    def _init(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())
