"""Sheets for the CI package tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.conftest import SHEET06, SUBMISSIONS


def sheet06_with_hidden_check(folder: Path) -> Path:
    """Sheet 6 and its reference module in ``folder``, 6.2c's check hidden, and a solution."""
    data = yaml.safe_load(SHEET06.read_text(encoding="utf-8"))
    task = next(t for t in data["tasks"] if t["id"] == "6.2c")
    task["checks"][0]["hidden"] = True
    data["solution"] = "solution.py"
    folder.mkdir(parents=True, exist_ok=True)
    sheet = folder / "sheet06.yaml"
    sheet.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    shutil.copyfile(SHEET06.parent / "sheet06_ref.py", folder / "sheet06_ref.py")
    shutil.copyfile(SUBMISSIONS / "reference.py", folder / "solution.py")
    return sheet
