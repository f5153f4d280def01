"""What does the grader read from a hand-in's source without running it?"""

from __future__ import annotations

from grader.source_names import MAX_PARSE_BYTES, defined_names, did_you_mean, is_empty, parse


def tree(text: str):  # noqa: ANN201
    result = parse(text)
    assert result is not None
    return result


def test_an_empty_file_is_comments_docstrings_and_pass_only() -> None:
    assert is_empty(tree(""))
    assert is_empty(tree("# TODO\n\n'''My hand-in.'''\npass\n"))
    assert not is_empty(tree("x = 1\n"))
    assert not is_empty(tree("import numpy as np\n"))
    assert parse("def (:\n") is None  # a syntax error is the sandbox's to report
    assert parse("x = 1\n" * (MAX_PARSE_BYTES // 6 + 1)) is None


def test_names_bound_at_the_top_level() -> None:
    names = defined_names(
        tree(
            "import numpy as np\nfrom math import exp as e\nA, (B, *C) = 1, (2, 3)\n"
            "def Sigmoid(x): inner = 1\nclass Net: pass\nif True:\n    N_PARAMS: int = 3\n"
            "try:\n    import scipy\nexcept ImportError:\n    scipy = None\n"
        )
    )
    assert names == {"np", "e", "A", "B", "C", "Sigmoid", "Net", "N_PARAMS", "scipy"}


def test_did_you_mean() -> None:
    assert did_you_mean("sigmoid", {"Sigmoid", "forward"}) == "Sigmoid"
    assert did_you_mean("sigmoid", {"sigmiod", "forward"}) == "sigmiod"
    assert did_you_mean("N_PARAMETERS", {"n_parameters"}) == "n_parameters"
    assert did_you_mean("forward", {"backward_pass", "np"}) is None
    assert did_you_mean("sigmoid", {"sigmoid"}) is None  # never the missing name itself
