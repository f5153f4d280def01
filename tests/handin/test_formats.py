"""Which files are hand-ins, and of which kind?"""

from __future__ import annotations

from pathlib import Path

from grader.handin.formats import handin_kind, siblings
from grader.intake import find_handins


def test_each_extension_has_its_kind() -> None:
    assert handin_kind(Path("a.py")) == "python"
    assert handin_kind(Path("a.ipynb")) == "notebook"
    assert handin_kind(Path("a.md")) == "written"
    assert handin_kind(Path("a.TEX")) == "written"


def test_a_folder_yields_every_kind_but_not_readmes_checkpoints_or_helpers(tmp_path: Path) -> None:
    for name in (
        "alice.py",
        "bob.ipynb",
        "carol.md",
        "dave.tex",
        "README.md",
        "_helper.py",
        "notes.txt",
        ".ipynb_checkpoints/bob-checkpoint.ipynb",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = sorted(h.name for h in find_handins([tmp_path]).handins)
    assert found == ["alice.py", "bob.ipynb", "carol.md", "dave.tex"]


def test_check_keeps_the_extension_only_where_two_kinds_share_a_name(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text("x")
    (tmp_path / "mine.ipynb").write_text("{}")
    (tmp_path / "other.md").write_text("x")
    assert [p.name for p in siblings(tmp_path / "mine.ipynb")] == ["mine.py"]
    assert [p.name for p in siblings(tmp_path / "mine.py")] == ["mine.ipynb"]
    assert siblings(tmp_path / "other.md") == []
