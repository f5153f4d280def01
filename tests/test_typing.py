"""The grader package type-checks cleanly with mypy (config: ``[tool.mypy]`` in pyproject.toml)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None,
    reason="mypy is not installed (pip install 'grader[test]')",
)
@pytest.mark.slow
def test_mypy_clean(tmp_path: Path) -> None:
    # run from the repository root so that pyproject.toml's [tool.mypy] applies; the cache
    # goes to a temporary folder, never into the checkout (a cold run takes a few seconds)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache"), "grader"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"mypy reported problems:\n{proc.stdout}{proc.stderr}"
