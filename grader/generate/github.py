"""``grader generate github``: what a GitHub (Classroom) template repository needs.

Under the output folder:

- ``.github/workflows/grader.yml``: on every push, installs the grader and runs
  ``grader ci HANDIN --sheet grading/SHEET --junit ...``; the task table goes to the run's
  summary page (``$GITHUB_STEP_SUMMARY``), the JUnit file and the HTML report are kept as an
  artifact, and the job passes when the public checks give at least ``--fail-under`` points;
- ``grading/SHEET``: the public copy of the sheet (``grader.generate.public_sheet``): no hidden
  checks, no solution, no reference module;
- ``grading/requirements.txt`` and ``grading/grader-VERSION-py3-none-any.whl``: this grader and
  the versions it was made with (there is no grader on PyPI to install);
- ``HANDIN`` (``SHEET-ID.py`` unless told otherwise): a starter hand-in with every name to
  define, written only where no such file is yet.

Only public checks run in a student's repository: the student can read and change everything
a workflow there uses. Hidden checks and reference solutions stay with the instructor, who
grades the collected repositories with ``grader grade`` and the full sheet.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.errors import UsageError
from grader.generate.public_sheet import PublicSheet, points_text, public_sheet
from grader.generate.wheel import build_grader_wheel, pinned_requirements
from grader.handin.formats import HANDIN_SUFFIXES
from grader.output import atomic_write_text
from grader.sheet.loader import LoadedSheet, load_sheet

WORKFLOW = ".github/workflows/grader.yml"
GRADING = "grading"
REPORT = "grader-report"

_WORKFLOW_TEXT = """\
# Made by `grader generate github` for @SHEET_ID@ (grader @VERSION@); regenerate, don't edit.
# On every push: grades @HANDIN@ with the public checks of @SHEET@,
# shows the task table on the run's summary page, keeps the JUnit file and the HTML report
# (artifact @REPORT@). Passes from @FAIL_UNDER@ of the @AUTO_POINTS@ points the public checks
# give; hidden checks are graded by the instructor, not here.
name: grader
"on":
  push:
  workflow_dispatch:
permissions:
  contents: read
jobs:
  grade:
    name: grader ci
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "@PYTHON@"
          cache: pip
          cache-dependency-path: @REQUIREMENTS@
      - name: Install grader
        run: |
          python -m pip install -r @REQUIREMENTS_SH@ @WHEEL_SH@
      - name: @STEP_NAME@
        run: |
          grader ci @HANDIN_SH@ --sheet @SHEET_SH@ \
            --junit @REPORT@/junit.xml --out @REPORT@@FAIL_UNDER_ARG@
      - name: Keep the report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: @REPORT@
          path: @REPORT@/
          if-no-files-found: ignore
"""


@dataclass(frozen=True)
class GithubSetup:
    out: Path
    #: files written, relative to ``out``
    files: tuple[str, ...]
    public: PublicSheet
    handin: str
    #: whether a starter hand-in was written (never over an existing file)
    starter: bool
    #: the pass line written into the workflow, or None for full marks of the public checks
    fail_under: float | None

    def summary(self) -> str:
        """What was written and what the public copy leaves out, for the terminal."""
        line = self.fail_under if self.fail_under is not None else self.public.auto_points
        lines = [
            f"Wrote the GitHub setup of {self.public.sheet_id} to {self.out}:",
            *[f"  {name}" for name in self.files],
            f"The workflow runs `grader ci {self.handin}` on every push and passes from "
            f"{points_text(line)} of the {points_text(self.public.auto_points)} the public "
            "checks give.",
        ]
        if self.public.left_out:
            lines.append("Left out of the public copy (graded only with your full sheet):")
            lines += [
                f"  {c.task_id} {c.name} ({points_text(c.points)}): {c.reason}"
                for c in self.public.left_out
            ]
        if self.public.trimmed:
            lines.append("Kept in the public copy without some of their named mistakes:")
            lines += [f"  {c.task_id} {c.name}: {c.reason}" for c in self.public.trimmed]
        if not self.starter:
            lines.append(f"No starter written: {self.handin} exists already or is written work.")
        return "\n".join(lines)


def build_github_setup(
    sheet_path: Path, out: Path, *, handin: str | None = None, fail_under: float | None = None
) -> GithubSetup:
    """Write the workflow, the public sheet, the grader wheel and a starter under ``out``."""
    sheet = load_sheet(sheet_path)
    handin = _checked_handin(handin or f"{sheet.id}.py")
    public = public_sheet(sheet)
    if fail_under is not None and not 0 <= fail_under <= public.auto_points:
        raise UsageError(
            f"--fail-under {fail_under:g}: the public checks give 0 to "
            f"{public.auto_points:g} points"
        )
    grading = out / GRADING
    for stale in grading.glob("grader-*.whl"):
        stale.unlink()
    wheel = build_grader_wheel(grading)
    sheet_rel = f"{GRADING}/{sheet.path.name}"
    atomic_write_text(out / sheet_rel, public.text)
    atomic_write_text(out / GRADING / "requirements.txt", pinned_requirements())
    wheel_rel = f"{GRADING}/{wheel.path.name}"
    workflow = workflow_text(
        sheet, sheet_rel, wheel_rel, handin, fail_under, public.auto_points, wheel.version
    )
    atomic_write_text(out / WORKFLOW, workflow)
    files = [WORKFLOW, sheet_rel, f"{GRADING}/requirements.txt", wheel_rel]
    starter = _write_starter(sheet, out / handin)
    if starter:
        files.append(handin)
    return GithubSetup(out, tuple(files), public, handin, starter, fail_under)


def workflow_text(
    sheet: LoadedSheet,
    sheet_rel: str,
    wheel_rel: str,
    handin: str,
    fail_under: float | None,
    auto_points: float,
    version: str,
) -> str:
    requirements = f"{GRADING}/requirements.txt"
    values = {
        "VERSION": version,
        "SHEET_ID": sheet.id,
        "SHEET": sheet_rel,
        "HANDIN": handin,
        "FAIL_UNDER": f"{fail_under if fail_under is not None else auto_points:g}",
        "AUTO_POINTS": f"{auto_points:g}",
        "PYTHON": f"{sys.version_info.major}.{sys.version_info.minor}",
        "REQUIREMENTS": json.dumps(requirements),
        "REQUIREMENTS_SH": shlex.quote(requirements),
        "WHEEL_SH": shlex.quote(wheel_rel),
        "STEP_NAME": json.dumps(f"Grade {handin}"),
        "HANDIN_SH": shlex.quote(handin),
        "SHEET_SH": shlex.quote(sheet_rel),
        "REPORT": REPORT,
        "FAIL_UNDER_ARG": "" if fail_under is None else f" --fail-under {fail_under:g}",
    }
    text = _WORKFLOW_TEXT
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def _checked_handin(name: str) -> str:
    """A hand-in path inside the repository, of a kind grader reads."""
    path = PurePosixPath(name)
    # "${{" would be read as a GitHub expression inside the workflow
    if path.is_absolute() or ".." in path.parts or not path.parts or "\n" in name or "${{" in name:
        raise UsageError(f"--handin {name!r}: give a path inside the repository, such as hw.py")
    if path.suffix.lower() not in HANDIN_SUFFIXES:
        kinds = ", ".join(HANDIN_SUFFIXES)
        raise UsageError(f"--handin {name!r}: a hand-in is one of {kinds}")
    return path.as_posix()


def _write_starter(sheet: LoadedSheet, target: Path) -> bool:
    """A starter hand-in (code skeleton or notebook) where none exists; written answers get
    none (there is nothing to fill in)."""
    from grader.template import notebook_template, submission_template

    kind = HANDIN_SUFFIXES[target.suffix.lower()]
    if target.exists() or kind == "written":
        return False
    text = submission_template(sheet) if kind == "python" else notebook_template(sheet)
    atomic_write_text(target, text)
    return True
