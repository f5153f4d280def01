"""Answering a check's probes with trusted Python functions, as the sandbox would (the test's
own code stands in for a hand-in: no sandbox needed to test judgement)."""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from grader.checks.base import Check
from grader.results import CheckResult
from grader.sandbox.protocol import Outcome, ProbeError, decode_value, encode_value
from grader.sheet.loader import LoadedSheet, load_sheet


def answer(namespace: Mapping[str, Any], probe: Any) -> Outcome:
    if probe.name not in namespace:
        return Outcome(probe.id, error=ProbeError("missing", f"`{probe.name}` is not defined"))
    value = namespace[probe.name]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if probe.op == "call":
                value = value(*[a.copy() if isinstance(a, np.ndarray) else a for a in probe.args])
        return Outcome(
            probe.id,
            decode_value(encode_value(value)),
            warnings=tuple(f"{w.category.__name__}: {w.message}" for w in caught),
        )
    except Exception as exc:  # noqa: BLE001 - the stand-in hand-in raised
        return Outcome(probe.id, error=ProbeError("exception", f"{type(exc).__name__}: {exc}"))


def judge(check: Check, namespace: Mapping[str, Any], seed: int = 0) -> CheckResult:
    trial = check.trial(np.random.default_rng(seed))
    return trial.judge({p.id: answer(namespace, p) for p in trial.probes})


def sheet(tmp_path: Path, yaml_text: str, reference: str = "") -> LoadedSheet:
    path = tmp_path / "sheet.yaml"
    path.write_text(textwrap.dedent(yaml_text), encoding="utf-8")
    if reference:
        (tmp_path / "ref.py").write_text(textwrap.dedent(reference), encoding="utf-8")
    return load_sheet(path)


def check_of(loaded: LoadedSheet, name: str) -> Check:
    return next(c for t in loaded.tasks for c in t.checks if c.spec.name == name)


def text(result: CheckResult) -> str:
    return " ".join(result.feedback)
