"""Kind ``manual``: free text for a person to grade.

The answer is shown to the instructor in the report; the task waits as
``manual`` until the instructor writes a score into the manual-scores file,
which ``grader grade`` merges on its next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from grader.checks.answers import describe_type
from grader.checks.base import Check, Trial
from grader.results import CheckResult
from grader.sandbox.protocol import Outcome
from grader.sheet.common import CheckSpec


class ManualSpec(CheckSpec):
    kind: Literal["manual"]
    #: what the instructor should look for (shown in the instructor's view only)
    rubric: str = ""
    min_words: Annotated[int, Field(ge=0)] = 0


class ManualCheck(Check[ManualSpec]):
    kind = "manual"
    Spec = ManualSpec

    def skeleton(self) -> str:
        return f'{self.spec.name} = """Your answer, in words."""'

    def trial(self, rng: np.random.Generator) -> Trial:
        probe = self.probe("value", op="value")

        def judge(outcomes: Mapping[str, Outcome]) -> CheckResult:
            out = outcomes[probe.id]
            if not out.ok:
                return self.error_result(out)
            if not isinstance(out.value, str) or not out.value.strip():
                return self.result(
                    fraction=0.0,
                    feedback=[
                        f"`{self.spec.name}` should be your answer as text; "
                        f"it is {describe_type(out.value)}."
                    ],
                    method="manual",
                )
            words = len(out.value.split())
            note = ["Your answer waits for a person to grade it."]
            if words < self.spec.min_words:
                note.append(
                    f"It has {words} words; the sheet asks for at least {self.spec.min_words}."
                )
            return self.result(fraction=0.0, feedback=note, method="manual", given=out.value[:5000])

        return Trial((probe,), judge)
