"""Is a notebook run as a student runs it, and are its errors put in the right cell?"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading import GradeOptions
from grader.handin import grade_handin
from grader.handin.notebook import NotebookError, notebook_module, read_notebook, strip_magics
from grader.sandbox.runner import Limits
from tests.handin.conftest import NOTEBOOKS, write_notebook


def module_of(path: Path):  # noqa: ANN201
    return notebook_module(read_notebook(path.read_bytes()), notebook_name=path.name)


def test_magics_and_shell_escapes_are_removed_and_named() -> None:
    code, notes = strip_magics("%matplotlib inline\nimport numpy as np\n!pip install torch", 3)
    assert code == "pass\nimport numpy as np\npass"
    assert [n.message for n in notes] == [
        "cell 3, line 1: the magic `%matplotlib inline` was removed",
        "cell 3, line 3: the shell command `!pip install torch` was removed",
    ]


def test_a_percent_sign_in_valid_python_is_no_magic() -> None:
    source = 'x = 5 % 3\ns = """\n%notamagic\n"""'
    assert strip_magics(source, 1) == (source, [])


def test_a_magic_inside_a_block_keeps_the_block_valid() -> None:
    code, _ = strip_magics("if True:\n    %time f()\n", 1)
    compile(code or "", "<cell>", "exec")


def test_a_cell_in_another_language_is_not_run() -> None:
    code, notes = strip_magics("%%bash\nls -l", 4)
    assert code is None
    assert notes[0].message == "cell 4: a `%%bash` cell is not Python; it was not run"


def test_a_timing_cell_magic_runs_its_body() -> None:
    code, notes = strip_magics("%%time\nx = 1", 2)
    assert code == "\nx = 1"
    assert "was removed (its code ran once)" in notes[0].message


def test_lines_of_the_generated_module_map_back_to_cells(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "nb.ipynb", ("markdown", "# hi"), "a = 1\nb = 2", "c = 3")
    module = module_of(path)
    lines = module.source.split("\n")
    for span in module.spans:
        for k in range(span.lines):
            assert module.locate(span.first_line + k) == (span.cell, k + 1)
    first = module.spans[0]
    assert lines[first.first_line - 1] == "# a = 1"
    assert module.spans[1].cell == 3  # cells count as they appear, markdown included


def test_a_file_that_is_not_json_gets_a_clear_message() -> None:
    with pytest.raises(NotebookError, match="not a Jupyter notebook: it is not valid JSON"):
        read_notebook(b"print('hello')\n")


def test_a_notebook_of_another_language_is_refused(tmp_path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_notebook

    nb = new_notebook(metadata={"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}})
    path = tmp_path / "r.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(NotebookError, match="runs R, not Python"):
        read_notebook(path.read_bytes())


CELL = {
    "cell_type": "code",
    "metadata": {},
    "outputs": [],
    "execution_count": None,
    "source": "def sigmoid(x):\n    return x\n",
}


def _raw_notebook(**fields: object) -> bytes:
    import json

    nb: dict[str, object] = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [CELL]}
    nb.update(fields)
    return json.dumps(nb).encode()


@pytest.mark.parametrize(
    "kernelspec",
    ["python3", "Python 3", None, {"language": None}, {"name": "python3"}, {"language": ""}],
)
def test_a_python_kernelspec_in_an_odd_form_is_still_python(kernelspec: object) -> None:
    cells = read_notebook(_raw_notebook(metadata={"kernelspec": kernelspec}))
    assert "sigmoid" in notebook_module(cells, notebook_name="nb.ipynb").source


@pytest.mark.parametrize(
    "data, message",
    [
        (_raw_notebook(metadata={"kernelspec": "ir"}), "kernel runs ir, not Python"),
        (_raw_notebook(metadata={"kernelspec": [1]}), "kernelspec is a list, not an object"),
        (_raw_notebook(metadata={"kernelspec": 5}), "kernelspec is a number"),
        (_raw_notebook(metadata={"kernelspec": {"language": 5}}), "kernel language is a number"),
        (_raw_notebook(metadata=[1]), "not a Jupyter notebook"),
        (_raw_notebook(metadata="python3"), "not a Jupyter notebook"),
        (_raw_notebook(metadata=None), "not a Jupyter notebook"),
        (_raw_notebook(cells=[5]), "not a Jupyter notebook"),
        (_raw_notebook(cells=None), "not a Jupyter notebook"),
        (_raw_notebook(cells=[dict(CELL, source=123)]), "cell 1 of the notebook is not text"),
        (_raw_notebook(cells=[dict(CELL, source=["a = 1", None])]), "not a Jupyter notebook"),
        (b"[1, 2]", "its JSON is a list, not an object"),
        (b"null", "its JSON is null"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
def test_malformed_notebook_metadata_is_a_clear_error_never_a_traceback(
    data: bytes, message: str
) -> None:
    with pytest.raises(NotebookError, match=message):
        read_notebook(data)


def test_a_damaged_kernelspec_is_the_hand_ins_error(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "damaged.ipynb"
    path.write_bytes(_raw_notebook(metadata={"kernelspec": ["python3"]}))
    result = grade_handin(sheet06, path)
    assert "kernelspec is a list" in (result.import_error or "")
    assert {t.status for t in result.tasks} == {"error"}


@pytest.mark.slow
def test_the_reference_notebook_scores_full_marks(sheet06) -> None:  # noqa: ANN001
    result = grade_handin(sheet06, NOTEBOOKS / "reference.ipynb")
    assert result.import_error is None
    assert result.auto_score == result.auto_max_score == 20
    assert [t.task_id for t in result.tasks if t.status == "manual"] == ["6.1b"]
    assert "Cell 2, line 1: the magic `%matplotlib inline` was removed." in result.notes


@pytest.mark.slow
def test_a_failing_cell_keeps_what_came_before_and_after(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    path = write_notebook(
        tmp_path / "mine.ipynb",
        "import sympy\n%matplotlib inline\nN_PARAMETERS = 14",
        "PREDICTED_CLASS = 0\nraise ValueError('oops')\nTAYLOR_COEFFICIENTS = []",
        "def gradients(a, b):\n    return b + 1, 1 / 0",
        "TAYLOR_COEFFICIENTS = [sympy.Rational(1, 2), sympy.Rational(1, 4), 0, "
        "sympy.Rational(-1, 48)]",
    )
    result = grade_handin(sheet06, path)
    assert result.task("6.2d").status == "passed"  # defined after the failing cell
    network = result.task("6.3a")
    assert network.score == 1.0  # class and parameter count, from before and in the failing cell
    failure = "Cell 2 raised ValueError: oops (cell 2, line 2)"
    assert any(failure in f for f in network.feedback)
    assert any(
        "raised ZeroDivisionError: division by zero (cell 3, line 2)" in f
        for f in result.task("6.3b").feedback
    )
    assert any("the magic `%matplotlib inline` was removed" in f for f in network.feedback)


@pytest.mark.slow
def test_outputs_stored_in_the_notebook_are_ignored(sheet06, notebook_with_output: Path) -> None:  # noqa: ANN001
    result = grade_handin(sheet06, notebook_with_output)
    assert any("`PREDICTED_CLASS` is not defined" in f for f in result.task("6.3a").feedback)


@pytest.mark.slow
def test_a_cell_that_loops_forever_is_stopped_and_located(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    path = write_notebook(
        tmp_path / "loop.ipynb",
        "N_PARAMETERS = 14",
        "try:\n    while True:\n        pass\nexcept Exception:\n    pass",
    )
    options = GradeOptions(limits=Limits(import_timeout=1.0))
    result = grade_handin(sheet06, path, options=options)
    assert result.import_error is not None
    assert "cell 2, line" in result.import_error


@pytest.mark.slow
def test_a_notebook_that_is_not_json_is_an_error_and_the_others_go_on(
    sheet06, tmp_path: Path
) -> None:  # noqa: ANN001
    from grader.batch import grade_batch

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "broken.ipynb").write_text("not json")
    (NOTEBOOKS / "reference.ipynb").read_bytes()
    (tmp_path / "in" / "good.ipynb").write_bytes((NOTEBOOKS / "reference.ipynb").read_bytes())
    batch = grade_batch(sheet=sheet06, paths=[tmp_path / "in"], out_dir=tmp_path / "out", jobs=1)
    results = {i.result.submission: i.result for i in batch.items}
    assert "not a Jupyter notebook: it is not valid JSON" in (
        results["broken.ipynb"].import_error or ""
    )
    assert results["good.ipynb"].auto_score == 20


def test_a_notebook_that_is_no_file_is_refused_not_waited_for(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    """A FIFO named like a notebook: reading it would wait for a writer for ever."""
    import os

    from grader.intake import HandInRefused

    path = tmp_path / "pipe.ipynb"
    os.mkfifo(path)
    with pytest.raises(HandInRefused, match="not a regular file"):
        grade_handin(sheet06, path)
