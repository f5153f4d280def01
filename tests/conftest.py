from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# The reference-solver cache of a test run starts empty, whatever the machine cached before.
os.environ["GRADER_CACHE_DIR"] = tempfile.mkdtemp(prefix="grader-test-cache-")

ROOT = Path(__file__).resolve().parents[1]
SHEET06 = ROOT / "exercises" / "sheet06.yaml"
SUBMISSIONS = ROOT / "submissions" / "sheet06"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def sheet06():
    from grader.sheet.loader import load_sheet

    return load_sheet(SHEET06)
