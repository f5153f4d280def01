"""Does the packaged grader hold exactly this grader, and pin what it needs?"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import sys
import zipfile
from pathlib import Path

import grader
from grader.generate.wheel import build_grader_wheel, dependency_closure, pinned_requirements

PACKAGE = Path(grader.__file__).resolve().parent


def test_the_wheel_holds_every_module_and_template_of_the_running_grader(tmp_path: Path) -> None:
    built = build_grader_wheel(tmp_path)
    names = set(zipfile.ZipFile(built.path).namelist())
    modules = {
        "grader/" + p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix in (".py", ".j2", ".typed") and "__pycache__" not in p.parts
    }
    assert modules and modules <= names
    assert "grader/reports/templates/report.html.j2" in names
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    with zipfile.ZipFile(built.path) as zf:
        for name in ("grader/cli.py", "grader/sandbox/zygote.py"):
            assert zf.read(name) == (PACKAGE.parent / name).read_bytes()


def test_the_wheel_says_its_build_and_the_installed_requirements(tmp_path: Path) -> None:
    built = build_grader_wheel(tmp_path)
    assert built.version.startswith(grader.__version__ + "+g")
    assert built.path.name == f"grader-{built.version}-py3-none-any.whl"
    info = f"grader-{built.version}.dist-info"
    with zipfile.ZipFile(built.path) as zf:
        metadata = zf.read(f"{info}/METADATA").decode()
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
        record = zf.read(f"{info}/RECORD").decode().splitlines()
        assert f"Version: {built.version}\n" in metadata
        for requirement in importlib.metadata.requires("grader") or []:
            assert f"Requires-Dist: {requirement}\n" in metadata
        assert "grader = grader.cli:run" in entry_points
        # RECORD lists every other member with its true hash and size
        listed = {line.split(",")[0]: line for line in record}
        for name in zf.namelist():
            if name == f"{info}/RECORD":
                continue
            data = zf.read(name)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert listed[name] == f"{name},sha256={digest.decode()},{len(data)}"


def test_the_same_code_gives_the_same_wheel_byte_for_byte(tmp_path: Path) -> None:
    first = build_grader_wheel(tmp_path / "a")
    second = build_grader_wheel(tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()


def test_every_runtime_dependency_is_pinned_at_its_installed_version_for_this_python() -> None:
    pins = {name.lower(): (version, marker) for name, version, marker in dependency_closure()}
    for direct in ("sympy", "numpy", "pyyaml", "jinja2", "pydantic", "rich", "mpmath", "nbformat"):
        assert pins[direct][0] == importlib.metadata.version(direct)
    assert "markupsafe" in pins and "pydantic_core" in pins  # needed by what grader needs
    for extra_only in ("pytest", "dask", "hypothesis", "mypy", "grader"):
        assert extra_only not in pins
    text = pinned_requirements()
    here = f'python_version == "{sys.version_info.major}.{sys.version_info.minor}"'
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(lines) == len(pins)
    assert all(f"=={v}" in text for v, _ in pins.values())
    assert all(here in line for line in lines)
