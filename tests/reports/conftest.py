from __future__ import annotations

import sys
from pathlib import Path

import pytest

# the test modules share hand-built results from report_fixtures.py beside this file; make
# it importable whatever pytest's import mode
sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_fixtures import (  # noqa: E402
    hostile_result,
    import_error_result,
    perfect_result,
    realistic_result,
)

from grader.results import SubmissionResult


@pytest.fixture
def realistic() -> SubmissionResult:
    return realistic_result()


@pytest.fixture
def hostile() -> SubmissionResult:
    return hostile_result()


@pytest.fixture
def broken() -> SubmissionResult:
    return import_error_result()


@pytest.fixture
def perfect() -> SubmissionResult:
    return perfect_result()
