"""C calls without importing ctypes: the few pieces of it the run path needs, built on
`_ctypes`, the extension module ctypes itself wraps (every CPython with ctypes has it).

A one-shot `sandbox run` pays for every module it imports (issue 20): the ctypes package
costs about a millisecond on top of `_ctypes` (its Python layer defines dozens of types and
byte-order variants we never use). What is here is what ctypes/__init__.py does for the same
calls.
"""

from __future__ import annotations

from _ctypes import (
    FUNCFLAG_CDECL,
    FUNCFLAG_USE_ERRNO,
    POINTER,
    CFuncPtr,
    Structure,
    _SimpleCData,
    dlopen,
    get_errno,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    _IntData = _SimpleCData[int]  # (generic in the stubs only)
else:
    _IntData = _SimpleCData

__all__ = ["POINTER", "Structure", "c_long", "c_uint", "function", "get_errno", "library"]

RTLD_NOW = 0x2


class c_long(_IntData):
    _type_ = "l"


class c_uint(_IntData):
    _type_ = "I"


class _Library:
    """What CFuncPtr needs of a library: its dlopen handle."""

    def __init__(self, handle: int) -> None:
        self._handle = handle


def library(name: str | None) -> _Library:
    """dlopen(name) (None: the program itself, with the C library already loaded).
    Raises OSError as ctypes.CDLL does when the library is missing."""
    return _Library(dlopen(name, RTLD_NOW))  # type: ignore[arg-type]  # (None is allowed)


def function(lib: _Library, name: str, restype: Any) -> Callable[..., Any]:
    """A C function of `lib` with C's default argument conversions (int, bytes, None) that
    saves errno for get_errno(), as ctypes.CDLL(..., use_errno=True)'s functions do."""

    class _Function(CFuncPtr):
        _flags_ = FUNCFLAG_CDECL | FUNCFLAG_USE_ERRNO
        _restype_ = restype

    return _Function((name, lib))  # type: ignore[arg-type]  # (ctypes passes a CDLL: the same)
