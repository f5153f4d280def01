"""Asking the hand-in: calls planned as probes, batched where that is allowed, and answers
read back per call.

A check that sends a scalar function forty numbers one probe at a time pays forty round
trips; with ``vectorised: true`` the calls with only numbers as arguments go as one call on
arrays (the sheet asks for a vectorised function anyway), and the answer is split per call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from grader.calc import StudentCall, call_key
from grader.checks.answers import WrongType, as_array, as_float, describe_type
from grader.sandbox.protocol import Expr, Outcome, Probe, ProbeError, Unsupported

if TYPE_CHECKING:
    from grader.checks.base import Check

__all__ = ["CallFailed", "Plan", "plan_calls", "read_answer"]


class CallFailed(Exception):
    """A call of the hand-in did not give an answer (it raised, timed out, …)."""

    def __init__(self, error: ProbeError, name: str = "") -> None:
        self.error = error
        self.name = name
        super().__init__(error.message)


@dataclass(frozen=True)
class _Slot:
    probe_id: str
    #: position in a batched call's answer (None: the probe is this call alone)
    index: int | None
    size: int = 0


@dataclass(frozen=True)
class Plan:
    probes: tuple[Probe, ...]
    slots: Mapping[str, _Slot]
    #: a batched answer read as an array once, not once per call cut out of it
    _read: dict[str, tuple[Outcome, np.ndarray | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def outcome(self, outcomes: Mapping[str, Outcome], key: str) -> Outcome:
        """The answer to one call (cut out of a batched answer where it was batched)."""
        slot = self.slots[key]
        out = outcomes.get(slot.probe_id)
        if out is None:
            return Outcome(slot.probe_id, error=ProbeError("sandbox", "no answer was received"))
        if slot.index is None or not out.ok:
            return out
        known = self._read.get(slot.probe_id)
        if known is None or known[0] is not out:
            known = self._read[slot.probe_id] = (out, _as_array_or_none(out.value))
        return _item(out, known[1], slot)


def _as_array_or_none(value: Any) -> np.ndarray | None:
    try:
        return as_array(value)
    except WrongType:
        return None


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def plan_calls(check: Check, calls: Sequence[StudentCall], *, vectorised: bool) -> Plan:
    """One probe per distinct call, or per function for number-only calls when vectorised."""
    unique: dict[str, StudentCall] = {}
    for c in calls:
        unique.setdefault(call_key(c.name, c.args), c)
    probes: list[Probe] = []
    slots: dict[str, _Slot] = {}
    batches: dict[tuple[str, int], list[tuple[str, StudentCall]]] = {}
    for key, c in unique.items():
        if vectorised and c.args and all(_scalar(a) for a in c.args):
            batches.setdefault((c.name, len(c.args)), []).append((key, c))
            continue
        probe = check.probe(f"{c.name}/{len(probes)}", args=c.args, name=c.name)
        probes.append(probe)
        slots[key] = _Slot(probe.id, None)
    for (name, n_args), members in batches.items():
        arrays = [np.array([float(c.args[j]) for _, c in members]) for j in range(n_args)]
        probe = check.probe(f"{name}/batch{len(probes)}", args=arrays, name=name)
        probes.append(probe)
        for i, (key, _) in enumerate(members):
            slots[key] = _Slot(probe.id, i, len(members))
    return Plan(tuple(probes), slots)


def _item(out: Outcome, arr: np.ndarray | None, slot: _Slot) -> Outcome:
    if arr is None or arr.shape != (slot.size,):
        shape = describe_type(out.value) if arr is None else f"shape {arr.shape}"
        error = ProbeError(
            "bad_value",
            f"called on an array of {slot.size} numbers it returned {shape}: it must work "
            "elementwise on numpy arrays",
        )
        return Outcome(out.probe_id, error=error, warnings=out.warnings)
    return Outcome(out.probe_id, float(arr[slot.index]), warnings=out.warnings)


def read_answer(value: Any, what: str) -> Any:
    """An answer as a formula's value: numbers, float arrays, tuples of those."""
    if isinstance(value, Unsupported) or value is None or isinstance(value, (str, dict)):
        raise WrongType(f"{what} should be numbers, but it is {describe_type(value)}")
    if isinstance(value, (list, tuple)):
        items = [read_answer(v, what) for v in value]
        try:
            return np.asarray(items, dtype=float) if isinstance(value, list) else tuple(items)
        except (TypeError, ValueError):
            return tuple(items)
    if isinstance(value, np.ndarray):
        return as_array(value, what)
    if isinstance(value, Expr):
        return as_float(value, what)
    if isinstance(value, bool):
        return value
    return as_float(value, what)
