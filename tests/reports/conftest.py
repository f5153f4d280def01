from __future__ import annotations

import pytest
from report_fixtures import (
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
