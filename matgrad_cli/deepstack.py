"""Run a function with the stack that deep expressions need.

The passes over the expression (parser, shape inference, differentiation, simplifier,
printers, evaluator) recurse once per level of nesting, and a left-to-right chain such as a
1,000-term sum or a 256-layer network is that many levels deep in the syntax tree. Rather
than rewrite every pass as a loop, the command runs in one worker thread whose C stack is
large enough for a raised recursion limit: the limit, not the stack, is what a pathological
input hits, so it ends in a RecursionError (a clear message), never a crash. This is the
one place that changes the limit; the main thread keeps Python's default.
"""
from __future__ import annotations

import sys
import threading

# About 10 KiB of C stack per Python frame covers the deepest frames (frames that pass
# through C: dataclass __init__, tuple comparison, hashing) with room to spare.
RECURSION_LIMIT = 60_000
STACK_BYTES = 1 << 30  # virtual: only the pages a deep input touches are ever used


def run_deep(function, *args, **kwargs):
    """``function(*args, **kwargs)`` in a thread with a deep stack; its result or its
    exception (re-raised here, in the caller's thread)."""
    outcome: dict = {}

    def body():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # handed to the caller, who decides what it means
            outcome["error"] = exc

    old_size = threading.stack_size(STACK_BYTES)
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(RECURSION_LIMIT)  # per interpreter; restored below
    try:
        worker = threading.Thread(target=body, name="matgrad", daemon=True)
        worker.start()
    finally:
        threading.stack_size(old_size)
    try:
        worker.join()
    finally:
        sys.setrecursionlimit(old_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
