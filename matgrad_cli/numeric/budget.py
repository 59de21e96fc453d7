"""The memory budget (SPEC §5): work whose arrays would exceed it is refused before any of
them is allocated, with the size in the message.

The budget is scoped, not global: ``limited(n)`` sets it for the work done inside the
``with`` (a context variable, so concurrent callers do not see each other's), and the
evaluator asks ``require`` before it runs a plan.
"""
from __future__ import annotations

import contextlib
import contextvars
import re

from ..errors import BudgetError, UsageError

DEFAULT_BYTES = 4 * 1024 ** 3  # 4 GiB (SPEC §5)

_BUDGET = contextvars.ContextVar("matgrad_memory_budget", default=DEFAULT_BYTES)

_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?)(?:I?B)?\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'8G', '512M', '1.5GiB', '2GB', '1000000' (bytes) → bytes. K, M, G, T are powers of
    1024 with or without 'B'/'iB', as in ``docker -m`` and ``ulimit``."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise UsageError(f"max-memory {text!r}: expected a size such as 8G, 512M or 2.5GiB")
    value = float(match.group(1)) * _UNITS[match.group(2).upper()]
    if value < 1:
        raise UsageError(f"max-memory {text!r}: the budget must be at least one byte")
    return int(value)


def format_bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} bytes"


def _format_budget(n: int) -> str:
    for unit, size in (("TiB", 1024 ** 4), ("GiB", 1024 ** 3), ("MiB", 1024 ** 2),
                       ("KiB", 1024)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


@contextlib.contextmanager
def limited(nbytes: int | None):
    """Work inside the ``with`` may use ``nbytes`` (None: the default budget)."""
    token = _BUDGET.set(DEFAULT_BYTES if nbytes is None else int(nbytes))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def allows(nbytes: float) -> bool:
    return nbytes <= _BUDGET.get()


def require(nbytes: float, what: str) -> None:
    """Refuse (BudgetError) work that needs more than the budget; ``what`` says which."""
    budget = _BUDGET.get()
    if nbytes > budget:
        raise BudgetError(f"this needs about {format_bytes(nbytes)} of memory ({what}), "
                          f"over the memory budget of {_format_budget(budget)}")
