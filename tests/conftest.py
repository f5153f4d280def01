from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHEET06 = ROOT / "exercises" / "sheet06.yaml"
SUBMISSIONS = ROOT / "submissions"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def sheet06():
    from grader.sheet.loader import load_sheet

    return load_sheet(SHEET06)
