"""``grader generate gradescope``: a Gradescope autograder package for one sheet.

The zip holds, at its root (Gradescope unpacks it into ``/autograder/source``):

- ``setup.sh``: run once, as root, when Gradescope builds the image: a virtual environment
  with the grader wheel below and the versions in ``requirements.txt`` (from PyPI);
- ``run_autograder``: run for each submission: grades the upload in ``/autograder/submission``
  and writes ``/autograder/results/results.json`` (``grader.generate.gradescope_run``);
- ``requirements.txt``: the versions this grader was packaged with (for the same Python);
- ``wheels/grader-VERSION-py3-none-any.whl``: this very grader;
- ``sheet/``: the sheet, byte for byte (hidden checks included), and the files it names (its
  reference module), in their layout relative to each other. Not the ``solution:`` hand-in.

Because the sheet is copied unchanged, Gradescope draws the same random cases for a hand-in
as ``grader grade`` does on the instructor's machine, and gives the same scores.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError, UsageError
from grader.generate.wheel import build_grader_wheel, minimum_python, pinned_requirements
from grader.sheet.loader import LoadedSheet, load_sheet

_EPOCH = (1980, 1, 1, 0, 0, 0)

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image. It installs the
# grader packaged beside it (wheels/) into a virtual environment, with the versions listed in
# requirements.txt, from PyPI. Where the image has no usable Python it takes Ubuntu's python3
# and python3-venv (apt-get). GRADER_VENV, GRADER_PYTHON and GRADER_PIP_ARGS say where, with
# which Python and from where (the package's own test installs from a local folder, offline).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${GRADER_VENV:-/usr/local/grader-venv}"

new_enough() {
  command -v "$1" >/dev/null 2>&1 &&
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, @MINOR@))' 2>/dev/null
}
install_python() {  # Ubuntu's Python and its venv module (a bare base image lacks them)
  local name; name="$(basename "$1")"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    python3 python3-venv "$name" "$name-venv"
}

python="${GRADER_PYTHON:-}"
if [ -z "$python" ]; then
  # the Python the package was made with first: requirements.txt pins its versions there
  for candidate in @PYTHON@ python3; do
    if new_enough "$candidate"; then python="$candidate"; break; fi
  done
fi
if [ -z "$python" ]; then
  install_python python3
  python=python3
fi
if ! new_enough "$python"; then
  echo "setup.sh: $python is not Python 3.@MINOR@ or newer" >&2
  exit 1
fi
if ! "$python" -m venv "$venv"; then
  install_python "$python"  # Debian and Ubuntu keep venv's pip in a package of its own
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
echo "setup.sh: installing grader into $venv with $("$venv/bin/python" --version)"
# shellcheck disable=SC2086  # GRADER_PIP_ARGS holds several words
"$venv/bin/python" -m pip install --disable-pip-version-check ${GRADER_PIP_ARGS:-} \
  -r "$here/requirements.txt" "$here/wheels/@WHEEL@"
says='import importlib.metadata as m; print("setup.sh: installed grader", m.version("grader"))'
"$venv/bin/python" -c "$says"
# hand-ins may run as 'nobody' where the sandbox has no private file system of its own:
# the sheet and its reference module are for root's eyes only
chmod 700 "$here"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission, as root, in /autograder: it grades the upload in
# /autograder/submission with the full sheet (hidden checks included) and writes
# /autograder/results/results.json. GRADER_AUTOGRADER_DIR (or GRADER_SOURCE_DIR,
# GRADER_SUBMISSION_DIR, GRADER_RESULTS_DIR) and GRADER_VENV move those places, for trying
# the package outside Gradescope.
set -uo pipefail
root="${GRADER_AUTOGRADER_DIR:-/autograder}"
src="${GRADER_SOURCE_DIR:-$root/source}"
submission="${GRADER_SUBMISSION_DIR:-$root/submission}"
results="${GRADER_RESULTS_DIR:-$root/results}"
venv="${GRADER_VENV:-/usr/local/grader-venv}"
mkdir -p "$results"
# out of reach of hand-ins that run as 'nobody' (see setup.sh)
chmod 700 "$src" "$results"
# -I: nothing from the working directory or PYTHON* variables gets imported
exec "$venv/bin/python" -I -m grader.generate.gradescope_run \
  --sheet "$src/@SHEET@" --submission "$submission" --results "$results"
"""


@dataclass(frozen=True)
class GradescopePackage:
    path: Path
    #: every file in the zip, by its name there
    members: tuple[str, ...]
    #: the sheet's path inside the zip
    sheet: str
    #: the grader version the zip installs
    version: str

    def summary(self) -> str:
        """What the zip holds and what to do with it, for the terminal."""
        return "\n".join(
            [
                f"Wrote {self.path} (grader {self.version}):",
                *[f"  {name}" for name in self.members],
                "Upload it on Gradescope (Configure Autograder, zip file upload) and try it",
                "with a hand-in under Test Autograder. Students upload one .py, .ipynb, .md or",
                ".tex file.",
            ]
        )


def build_gradescope_package(sheet_path: Path, out: Path) -> GradescopePackage:
    """Write the autograder zip for the sheet at ``sheet_path`` to ``out``."""
    if out.is_dir():
        raise UsageError(f"{out} is a folder; --out names the zip file to write")
    sheet = load_sheet(sheet_path)
    files = sheet_files(sheet)
    with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as tmp:
        _check_self_contained(files, Path(tmp))
        wheel = build_grader_wheel(Path(tmp) / "wheels")
        sheet_arc = next(arc for src, arc in files if src == sheet.path.resolve())
        members: dict[str, bytes] = {
            "setup.sh": _script(SETUP_SH, WHEEL=wheel.path.name),
            "run_autograder": _script(RUN_AUTOGRADER, SHEET=sheet_arc),
            "requirements.txt": pinned_requirements().encode(),
            f"wheels/{wheel.path.name}": wheel.path.read_bytes(),
        }
        members.update({arc: src.read_bytes() for src, arc in files})
        _write_zip(out, members)
    return GradescopePackage(out, tuple(members), sheet_arc, wheel.version)


def sheet_files(sheet: LoadedSheet) -> list[tuple[Path, str]]:
    """The sheet file and every file it names that grading needs (its reference module), each
    with its name in the package: under ``sheet/``, laid out as they lie beside each other.
    The ``solution:`` hand-in is not one of them."""
    paths = [sheet.path.resolve()]
    if sheet.context.reference is not None:
        paths.append(sheet.context.reference.path.resolve())
    common = Path(os.path.commonpath([p.parent for p in paths]))
    return [(p, "sheet/" + p.relative_to(common).as_posix()) for p in paths]


def _check_self_contained(files: list[tuple[Path, str]], folder: Path) -> None:
    """Load the sheet from a copy of the packaged files alone: it must not need anything else."""
    for src, arc in files:
        target = folder / arc
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    try:
        load_sheet(folder / files[0][1])
    except GraderError as exc:
        raise GraderError(
            f"the sheet does not load from the package's copy of its files: {exc}"
        ) from exc


def _script(template: str, **values: str) -> bytes:
    """A script template with its ``@NAME@`` places filled."""
    values.setdefault("MINOR", str(minimum_python()[1]))
    values.setdefault("PYTHON", f"python{sys.version_info.major}.{sys.version_info.minor}")
    text = template
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text.encode()


def _write_zip(out: Path, members: dict[str, bytes]) -> None:
    """The zip, written beside ``out`` and moved into place: never a half-written package."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in members.items():
                info = zipfile.ZipInfo(name, date_time=_EPOCH)
                executable = name in ("setup.sh", "run_autograder")
                info.external_attr = (0o755 if executable else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
