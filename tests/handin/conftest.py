from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests.conftest import SUBMISSIONS

WRITTEN = SUBMISSIONS / "written"
NOTEBOOKS = SUBMISSIONS / "notebooks"


def write_notebook(path: Path, *cells: str | tuple[str, str]) -> Path:
    """A notebook of code cells (a tuple ("markdown", text) is a markdown cell)."""
    made = [new_markdown_cell(c[1]) if isinstance(c, tuple) else new_code_cell(c) for c in cells]
    nbformat.write(new_notebook(cells=made), path)
    return path


@pytest.fixture()
def notebook_with_output(tmp_path: Path) -> Path:
    path = tmp_path / "stored_output.ipynb"
    cell = new_code_cell("N_PARAMETERS = 14")
    cell["outputs"] = [new_output("stream", name="stdout", text="PREDICTED_CLASS = 0\n")]
    nbformat.write(new_notebook(cells=[cell]), path)
    return path
