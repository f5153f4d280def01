"""Where does each hand-in's folder go, and can a name lead it anywhere else?"""

from __future__ import annotations

from pathlib import PurePosixPath

from grader.output import handin_folders, report_href


def test_folders_follow_the_contract() -> None:
    folders = handin_folders(["alice.py", "a/hw.py", "b/hw.py", "bob.py", "bob.ipynb"])
    assert folders == {
        "alice.py": "handins/alice",
        "a/hw.py": "handins/a/hw",
        "b/hw.py": "handins/b/hw",
        "bob.py": "handins/bob.py",  # two hand-ins that differ only in extension keep it
        "bob.ipynb": "handins/bob.ipynb",
    }


def test_no_name_leaves_its_folder_or_lands_on_another_hand_ins_files() -> None:
    names = ["...py", "..py", "x/..py", "report.html.py", "x/result.json.py", "x.py",
             "output.txt/y.py", "z.py", "z/.py"]
    folders = handin_folders(names)
    assert folders["...py"] == "handins/...py"
    assert folders["..py"] == "handins/..py" and folders["x/..py"] == "handins/x/..py"
    assert folders["x.py"] == "handins/x"
    assert folders["x/result.json.py"] == "handins/x/result.json.py"
    assert folders["report.html.py"] == "handins/report.html.py"
    assert folders["output.txt/y.py"] == "handins/output.txt_/y"
    for folder in folders.values():
        parts = PurePosixPath(folder).parts
        assert parts[0] == "handins" and len(parts) >= 2
        assert not {".", "..", ""} & set(parts[1:]), folder
    assert len(set(folders.values())) == len(names)


def test_report_links_are_quoted() -> None:
    assert report_href("handins/a b/#1") == "handins/a%20b/%231/report.html"
