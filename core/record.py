"""Plain records: `__eq__` and `__repr__` over a class's fields: its `__slots__` and its bases'
(base first), in constructor order, listed in `_fields`.

The row, cursor and rate types are imported by the Claude Code hooks on every tool call;
`dataclasses` costs ~10 ms there (it imports inspect, hence ast, dis, tokenize, linecache), so
these types are written out by hand with what @dataclass gave them: positional and keyword
construction in field order, defaults, equality by value, a readable repr.
"""

from __future__ import annotations


class Record:
    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__slots__", ())
        cls._fields = cls._fields + ((own,) if isinstance(own, str) else tuple(own))

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value, as @dataclass(eq=True) left it

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({fields})"
