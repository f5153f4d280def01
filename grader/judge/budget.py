"""CPU-time budgets for work on data a student returned (parsing, evaluation, proofs).

Wall time depends on the neighbours: with both cores busy the same judgement takes twice as
long, and a wall-clock budget then changes verdicts. A budget here counts CPU seconds.

``with cpu_budget(2.0): ...`` raises :class:`BudgetExceeded` inside the block once it has used
two CPU seconds. Budgets nest; an inner one never outlives its outer one, and the exception
names the outermost budget that ran out, so an inner handler does not swallow an outer
deadline::

    with cpu_budget(2.0) as budget:
        try:
            ...
        except BudgetExceeded as exc:
            if exc.budget is not budget:
                raise

How the block is interrupted:

* main thread on POSIX: a ``SIGPROF`` timer (``ITIMER_PROF``, process CPU time) raises in
  whatever Python code runs, sympy included;
* any other thread (the dask executor judges in worker threads), or when someone else's
  ``ITIMER_PROF`` timer is running: a trace function (``sys.settrace``, this thread only)
  compares ``time.thread_time()`` with the deadline at every Python call. That makes pure
  Python code about twice as slow but just as interruptible. When another trace function is
  installed (a debugger, coverage), it is left alone and only the judge's own loops check
  (:func:`check`), so uninterruptible steps must then be skipped by the caller
  (:func:`interruptible` says whether they can be).

Neither mechanism can stop a single long call into C (a huge integer power, a precision of
millions of digits): callers cap sizes before such calls.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

__all__ = ["Budget", "BudgetExceeded", "check", "cpu_budget", "current", "interruptible",
           "remaining"]


class BudgetExceeded(TimeoutError):
    """A CPU budget ran out; ``budget`` is the outermost one that did."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        super().__init__(f"CPU budget of {budget.seconds:g} s exhausted")


@dataclass(eq=False)
class Budget:
    """One active budget: ``seconds`` of the clock ``clock`` from ``start``."""

    seconds: float
    clock: Callable[[], float]
    start: float
    end: float
    parent: Budget | None = None
    mode: str = "cooperative"  # "signal", "trace" or "cooperative"

    def used(self) -> float:
        return self.clock() - self.start

    def left(self) -> float:
        return self.end - self.clock()

    def outermost_expired(self) -> Budget | None:
        found = None
        b: Budget | None = self
        now = self.clock()
        while b is not None:
            if now >= b.end:
                found = b
            b = b.parent
        return found


_local = threading.local()


def _stack() -> list[Budget]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def current() -> Budget | None:
    """The innermost active budget of this thread, if any."""
    stack = _stack()
    return stack[-1] if stack else None


def remaining() -> float:
    """CPU seconds left in the innermost budget (infinite without one)."""
    b = current()
    return float("inf") if b is None else b.left()


def check() -> None:
    """Raise :class:`BudgetExceeded` if a budget of this thread has run out."""
    b = current()
    if b is not None:
        expired = b.outermost_expired()
        if expired is not None:
            raise BudgetExceeded(expired)


def interruptible() -> bool:
    """Whether arbitrary Python code (sympy) is interrupted when the budget runs out."""
    b = current()
    return b is not None and b.mode in ("signal", "trace")


# ---------------------------------------------------------------------------- signal mode

_signal_owner: list[bool] = [False]  # our SIGPROF handler is installed


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _signal_usable() -> bool:
    if not (hasattr(signal, "setitimer") and _main_thread()):
        return False
    if _signal_owner[0]:
        return True
    return signal.getitimer(signal.ITIMER_PROF)[0] == 0  # never clobber someone's timer


def _on_sigprof(signum: int, frame: FrameType | None) -> None:
    b = current()
    if b is None:
        return
    expired = b.outermost_expired()
    if expired is not None:
        # again and again until the block is left: code that catches Exception (sympy has
        # such places) or a gc callback can swallow one of these, never all of them
        signal.setitimer(signal.ITIMER_PROF, 0.02)
        raise BudgetExceeded(expired)
    signal.setitimer(signal.ITIMER_PROF, max(b.left(), 1e-4))  # timer granularity: re-arm


# ---------------------------------------------------------------------------- trace mode

def _tracer(frame: FrameType, event: str, arg: Any) -> None:
    b = current()
    if b is not None and time.thread_time() >= b.end:
        expired = b.outermost_expired()
        if expired is not None:
            raise BudgetExceeded(expired)


def _trace_usable() -> bool:
    existing = sys.gettrace()
    return existing is None or existing is _tracer


# ---------------------------------------------------------------------------- the manager

@contextmanager
def cpu_budget(seconds: float) -> Iterator[Budget]:
    """Run the block with at most ``seconds`` of CPU time (never more than an outer budget)."""
    stack = _stack()
    parent = stack[-1] if stack else None
    if parent is not None:
        mode = parent.mode
    elif _signal_usable():
        mode = "signal"
    elif _trace_usable():
        mode = "trace"
    else:
        mode = "cooperative"
    clock = time.process_time if mode == "signal" else time.thread_time
    now = clock()
    end = now + max(seconds, 0.0)
    if parent is not None:
        end = min(end, parent.end)
    budget = Budget(seconds, clock, now, end, parent, mode)
    stack.append(budget)
    restore = _arm(budget, parent)
    try:
        yield budget
        if parent is not None:
            expired = parent.outermost_expired()
            if expired is not None:
                raise BudgetExceeded(expired)
    finally:
        stack.pop()
        restore()


def _arm(budget: Budget, parent: Budget | None) -> Callable[[], None]:
    """Start interrupting for ``budget``; returns how to undo that on exit."""
    if budget.mode == "signal":
        if parent is None:
            old = signal.signal(signal.SIGPROF, _on_sigprof)
            _signal_owner[0] = True
        signal.setitimer(signal.ITIMER_PROF, max(budget.left(), 1e-4))

        def disarm() -> None:
            if parent is None:
                signal.setitimer(signal.ITIMER_PROF, 0)
                signal.signal(signal.SIGPROF, old)
                _signal_owner[0] = False
            else:
                signal.setitimer(signal.ITIMER_PROF, max(parent.left(), 1e-4))

        return disarm
    if budget.mode == "trace" and parent is None:
        sys.settrace(_tracer)
        return lambda: sys.settrace(None)
    if budget.mode == "trace":
        # a raised BudgetExceeded removes the trace function: put it back for the parent
        return lambda: sys.settrace(_tracer) if sys.gettrace() is None else None
    return lambda: None
