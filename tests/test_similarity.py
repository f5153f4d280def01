"""Does the grader notice hand-ins that are near-identical, and show what they share?"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from grader.batch import grade_batch
from grader.similarity import (
    code_tokens,
    find_similar,
    fingerprint,
    groups,
    winnow,
)
from tests.conftest import SUBMISSIONS

ORIGINAL = '''\
import numpy as np

AUTHORS = [("Ann", "1")]


def sigmoid(x):
    """The logistic function, stable for large |x|."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1 + ex)
    return out


def mle_gaussian(X):
    X = np.asarray(X, dtype=float)
    mu = X.mean()
    return float(mu), float(np.mean((X - mu) ** 2))
'''

# the same code with other names, comments, spacing and an author of its own
DISGUISED = '''\
import numpy as np
AUTHORS = [("Ben", "2")]

# my own work!!
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    result = np.empty_like(z)
    positive = z >= 0
    result[positive] = 1 / (1 + np.exp(-z[positive]))
    e = np.exp(z[~positive])
    result[~positive] = e / (1 + e)
    return result

def mle_gaussian(data):
    data = np.asarray(data, dtype=float)
    m = data.mean()
    return float(m), float(np.mean((data - m) ** 2))
'''

UNRELATED = '''\
import math

AUTHORS = [("Cleo", "3")]


def sigmoid(x):
    if x < 0:
        return math.exp(x) / (1.0 + math.exp(x))
    return 1.0 / (1.0 + math.exp(-x))


def mle_gaussian(samples):
    n = len(samples)
    mean = sum(samples) / n
    var = sum((s - mean) * (s - mean) for s in samples) / n
    return mean, var
'''


def test_renamed_variables_and_comments_do_not_hide_a_copy() -> None:
    pairs = find_similar({"ann.py": ORIGINAL, "ben.py": DISGUISED, "cleo.py": UNRELATED}, {})
    assert [(p.a, p.b, p.what) for p in pairs] == [("ann.py", "ben.py", "code")]
    pair = pairs[0]
    assert pair.similarity > 0.9
    # the shared passages name the lines in both files and show them
    first = pair.passages[0]
    assert first.a_lines[0] <= 8 and first.a_lines[1] >= 12
    assert "out[pos] = 1 / (1 + np.exp(-x[pos]))" in first.a_text
    assert "result[positive] = 1 / (1 + np.exp(-z[positive]))" in first.b_text


def test_code_from_the_template_does_not_count() -> None:
    template = ORIGINAL
    pairs = find_similar({"ann.py": ORIGINAL, "ben.py": DISGUISED}, {}, base=template)
    assert pairs == []


def test_identical_free_text_answers_are_grouped() -> None:
    essay = (
        "The empirical distribution puts probability 1/m on each observed sample, while "
        "the data-generating distribution is the unknown one the samples come from."
    )
    answers = {
        "6.1b": {
            "a.py": essay,
            "b.py": essay.upper(),  # case and punctuation do not hide a copy
            "c.py": essay.replace(",", ";"),
            "d.py": "My own answer, written independently, talks about sampling and limits.",
            "e.py": "Yes.",
            "f.py": "Yes.",  # short answers alike are no evidence
        }
    }
    pairs = find_similar({}, answers)
    assert {(p.a, p.b) for p in pairs} == {("a.py", "b.py"), ("a.py", "c.py"), ("b.py", "c.py")}
    [group] = groups(pairs)
    assert group.what == "6.1b" and group.members == ("a.py", "b.py", "c.py")
    assert "probability 1/m on each observed sample" in group.strongest.passages[0].a_text


def test_tokens_and_winnowing() -> None:
    tokens = [t.text for t in code_tokens("x = foo(1, 'a')  # comment\nif x:\n    pass\n")]
    assert tokens == ["V", "=", "V", "(", "N", ",", "S", ")", "if", "V", ":", "pass"]
    fstring = [t.text for t in code_tokens("y = f'{x}!'\n")]
    # one string before Python 3.12; from 3.12 its expressions are tokens too
    assert fstring in (["V", "=", "S"], ["V", "=", "S", "{", "V", "}"])
    # the smallest hash of each window, each position once
    assert dict(winnow([5, 3, 4, 9, 1, 7, 7], 3)) == {3: [1], 1: [4]}
    assert fingerprint("", is_code=True).at == {}


def test_a_class_with_copied_answers_is_flagged_in_the_summary_and_instructor_page(
    tmp_path: Path, sheet06  # noqa: ANN001
) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ["reference.py", "lost_signs.py", "seed_group.py"]:
        shutil.copy(SUBMISSIONS / name, subs / name)
    batch = grade_batch(sheet=sheet06, paths=[subs], out_dir=tmp_path / "out", jobs=1)
    summary = batch.summary.read_text(encoding="utf-8")
    assert "Near-identical hand-ins" in summary
    # reference.py and lost_signs.py share their answer to 6.1b, word for word; seed_group's
    # is its own
    assert re.search(r"2 hand-ins with near-identical answers to 6\.1b", summary)
    assert "observed samples alone: it puts probability 1/m on each sample" in summary
    assert batch.instructor is not None
    page = batch.instructor.read_text(encoding="utf-8")
    assert "Near-identical to the answer of" in page
    assert 'href="handins/lost_signs/report.html"' in page


def test_the_same_class_shows_the_same_shared_passages_on_every_run() -> None:
    """Prints may not depend on the process (Python's str hash is salted per process)."""
    import os
    import subprocess
    import sys

    code = (
        "from grader.similarity import fingerprint; import sys; "
        "print(sorted(fingerprint(sys.stdin.read(), is_code=True).at.items()))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            input=ORIGINAL,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1


def _copies(n: int) -> dict[str, str]:
    """``n`` copies of ORIGINAL, each with its own comment and variable names."""
    return {
        f"s{i:02d}.py": ORIGINAL.replace("mu", f"m{i}").replace("out", f"o{i}") + f"# {i}\n"
        for i in range(n)
    }


def test_many_copies_of_one_hand_in_are_one_group_linked_by_their_strongest_pairs() -> None:
    """Eight copies are 28 alike pairs; the instructor reads 7 of them, with passages."""
    from grader.reports.similar import similar_view

    pairs = find_similar(_copies(8) | {"cleo.py": UNRELATED}, {})
    assert len(pairs) == 28 and all(p.similarity == 1.0 for p in pairs)
    shown = [p for p in pairs if p.shown]
    assert len(shown) == 7 and all(p.passages for p in shown)
    assert all(p.passages == () for p in pairs if not p.shown)
    [group] = groups(pairs)
    assert len(group.members) == 8 and "cleo.py" not in group.members
    [view] = similar_view(pairs, {}, full=True)
    assert len(view["pairs"]) == 7 and view["more_pairs"] == 21


def test_pairs_are_counted_the_same_way_for_a_small_class_and_a_huge_one(monkeypatch) -> None:  # noqa: ANN001
    """A class too large for the dense count is counted print by print: same pairs."""
    import grader.similarity as similarity

    docs = _copies(6) | {"ann.py": ORIGINAL, "ben.py": DISGUISED, "cleo.py": UNRELATED}
    dense = [(p.a, p.b, p.similarity) for p in find_similar(docs, {})]
    monkeypatch.setattr(similarity, "_BLOCK_CELLS", 1)  # one row of the product at a time
    assert [(p.a, p.b, p.similarity) for p in find_similar(docs, {})] == dense
    monkeypatch.setattr(similarity, "_DENSE_CELLS", 1)
    sparse = [(p.a, p.b, p.similarity) for p in find_similar(docs, {})]
    assert dense == sparse and len(dense) == 28
