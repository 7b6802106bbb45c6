"""Plain records for the classes every `pingback` start imports: equality, repr and ``replace``.

A dataclass writes and compiles its ``__init__``, ``__repr__``, ``__eq__`` (and, frozen,
``__setattr__``, ``__delattr__``, ``__hash__``) with ``exec`` when its module is imported:
0.4-0.9 ms of CPU per class on this machine kind (Python 3.11), paid again by every command
that imports it, ~1,000 times in a test suite run. A ``Record`` lists its fields in ``_fields``
(in ``__init__``'s order; they are its ``__slots__`` too) and writes its ``__init__`` out, so
that code is in the module's bytecode. What a dataclass adds comes from here, as a dataclass
does it: ``==`` between two of the same class with equal fields, ``repr`` as
``Name(field=value, ...)``, ``replace(**changes)`` as ``dataclasses.replace`` (a new object
through ``__init__``).
"""

from __future__ import annotations

from typing import Any, TypeVar

R = TypeVar("R", bound="Record")


class Record:
    """A mutable record, unhashable (as a dataclass with ``eq=True``)."""

    __slots__: tuple[str, ...] = ()
    _fields: tuple[str, ...] = ()
    """The field names in ``__init__``'s order (a subclass writes ``__slots__ = _fields = (...)``)."""

    def values(self) -> tuple[Any, ...]:
        """The fields' values, in ``_fields`` order."""
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.values() == other.values()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A field annotated in the class body but missing from ``_fields`` (as a dataclass
        field would be added) is a TypeError when the class is made, not a silent gap."""
        super().__init_subclass__(**kwargs)
        annotated = vars(cls).get("__annotations__", {})  # not inspect's: a start-up cost of its own
        missing = ", ".join(name for name in annotated if name not in cls._fields)
        if missing:
            raise TypeError(f"{cls.__qualname__}: {missing} annotated but not in _fields and __init__")

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({shown})"

    def replace(self: R, **changes: Any) -> R:
        """A copy with ``changes`` (field name -> value) made; TypeError for an unknown name."""
        fields = {name: getattr(self, name) for name in self._fields}
        fields.update(changes)
        return type(self)(**fields)


class FrozenRecord(Record):
    """An immutable, hashable record (as a frozen dataclass): ``__init__`` sets its fields
    through ``_set``; assigning or deleting one afterwards raises AttributeError."""

    __slots__ = ()

    def _set(self, *values: Any) -> None:
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a {type(self).__name__} is frozen")

    def __hash__(self) -> int:
        return hash(self.values())

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Copied and pickled through ``__init__`` (the default would assign its fields)."""
        return type(self), self.values()
