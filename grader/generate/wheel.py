"""A wheel of the grader that is running, and the exact versions of what it needs.

Gradescope's machine and a student's Actions runner have no copy of this grader (the name
``grader`` on PyPI belongs to another project), so the packages carry a wheel of it. The
wheel is built from the installed grader itself (the package directory that is imported,
with the installed distribution's metadata), not from a source tree: that works the same
for an editable checkout and for a plain ``pip install``, needs no build backend and no
network, and holds exactly the code that generated the package. Its version gets a local
label from a hash of that code (``0.1.0+g1a2b3c4d5e``), so a package says which build grades.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import grader
from grader.errors import GraderError

DIST_NAME = "grader"
#: a fixed timestamp for every member: the same code gives the same wheel, byte for byte
_EPOCH = (1980, 1, 1, 0, 0, 0)
_SKIPPED_SUFFIXES = (".pyc", ".pyo", "~", ".orig", ".rej", ".swp")


@dataclass(frozen=True)
class BuiltWheel:
    path: Path
    version: str


def build_grader_wheel(folder: Path) -> BuiltWheel:
    """Write ``grader-VERSION-py3-none-any.whl`` of the running grader into ``folder``."""
    dist = _installed_distribution()
    files = _package_files()
    digest = hashlib.sha256()
    for arcname, data in files:
        digest.update(arcname.encode() + b"\0" + data + b"\0")
    version = _with_local_label(dist.version, "g" + digest.hexdigest()[:10])
    info = f"{DIST_NAME}-{version}.dist-info"
    members = [*files, *_dist_info(dist, version, info)]
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in members)
    members.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{DIST_NAME}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            member = zipfile.ZipInfo(name, date_time=_EPOCH)
            member.external_attr = 0o644 << 16
            member.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(member, data)
    return BuiltWheel(path, version)


def _installed_distribution() -> importlib.metadata.Distribution:
    # the installed .dist-info, not a grader.egg-info that a checkout on sys.path may hold
    dist = next(
        (d for d in importlib.metadata.distributions(name=DIST_NAME) if d.read_text("METADATA")),
        None,
    )
    if dist is None:
        raise GraderError(
            "grader is not installed as a package here, so no wheel of it can be built for the "
            "autograder: install it first (pip install -e . in its checkout)"
        )
    if dist.version.split("+")[0] != grader.__version__:
        raise GraderError(
            f"the installed grader's metadata says version {dist.version}, its code "
            f"{grader.__version__}: reinstall it (pip install -e . in its checkout) so that "
            "the autograder's wheel describes the code it holds"
        )
    return dist


def _package_files() -> list[tuple[str, bytes]]:
    """Every file of the imported ``grader`` package, as (name in the wheel, content)."""
    root = Path(grader.__file__).resolve().parent
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or "__pycache__" in rel.parts:
            continue
        if any(part.startswith(".") for part in rel.parts) or path.name.endswith(_SKIPPED_SUFFIXES):
            continue
        out.append((f"{DIST_NAME}/{rel.as_posix()}", path.read_bytes()))
    return out


def _dist_info(
    dist: importlib.metadata.Distribution, version: str, info: str
) -> list[tuple[str, bytes]]:
    metadata = dist.read_text("METADATA") or ""
    metadata = re.sub(r"(?m)^Version: .*$", f"Version: {version}", metadata, count=1)
    wheel = (
        "Wheel-Version: 1.0\nGenerator: grader generate\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    out = [(f"{info}/METADATA", metadata.encode()), (f"{info}/WHEEL", wheel.encode())]
    entry_points = dist.read_text("entry_points.txt")
    if entry_points:
        out.append((f"{info}/entry_points.txt", entry_points.encode()))
    out.append((f"{info}/top_level.txt", f"{DIST_NAME}\n".encode()))
    return out


def _with_local_label(version: str, label: str) -> str:
    return f"{version}.{label}" if "+" in version else f"{version}+{label}"


def _record_hash(data: bytes) -> str:
    raw = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + raw.decode()


def minimum_python() -> tuple[int, int]:
    """The oldest Python the installed grader says it runs on (its ``Requires-Python``)."""
    wanted = _installed_distribution().metadata["Requires-Python"] or ""
    match = re.search(r">=\s*(\d+)\.(\d+)", wanted)
    return (int(match.group(1)), int(match.group(2))) if match else (3, 10)


# ------------------------------------------------------------------------- requirements
_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def pinned_requirements() -> str:
    """A requirements file pinning every package the grader needs, at the versions installed
    here, for this Python's minor version only.

    On another Python version the pins do not apply and pip resolves the wheel's own ranges
    (``sympy>=1.12`` ...): a newer numpy may not support an older Python, so pinning there
    would make the install fail rather than differ.
    """
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    lines = [
        f"# The versions grader {grader.__version__} was packaged with, on Python {here}.",
        "# pip applies them on that Python version only; elsewhere the wheel's ranges apply.",
    ]
    for name, version, marker in dependency_closure():
        condition = f'python_version == "{here}"'
        if marker:
            condition += f" and ({marker})"
        lines.append(f"{name}=={version} ; {condition}")
    return "\n".join(lines) + "\n"


def dependency_closure() -> list[tuple[str, str, str]]:
    """(name, installed version, marker without extras) of every installed distribution the
    grader needs, directly or not, extras excepted; sorted by name."""
    found: dict[str, tuple[str, str, str]] = {}
    visited: set[tuple[str, frozenset[str]]] = set()
    todo = [(req, frozenset[str]()) for req in _installed_distribution().requires or []]
    while todo:
        requirement, extras = todo.pop()
        parsed = _parse(requirement, extras)
        if parsed is None:
            continue
        name, wanted_extras, marker = parsed
        key = _normal(name)
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a requirement whose marker excludes this machine (not installed here)
        found.setdefault(key, (dist.metadata["Name"], dist.version, marker))
        if (key, wanted_extras) not in visited:
            visited.add((key, wanted_extras))
            todo += [(r, wanted_extras) for r in _requires(name)]
    return [found[k] for k in sorted(found)]


def _requires(name: str) -> list[str]:
    return list(importlib.metadata.requires(name) or [])


def _parse(requirement: str, extras: frozenset[str]) -> tuple[str, frozenset[str], str] | None:
    """The name, the extras it asks of its dependency, and its marker less any ``extra``
    clause; None when the requirement belongs to an extra nobody asked for."""
    spec, _, marker = requirement.partition(";")
    match = _NAME.match(spec)
    if match is None:
        return None
    needed = _EXTRA.findall(marker)
    if needed and not set(needed) & extras:
        return None
    wanted = frozenset(e.strip() for e in (match.group(2) or "").split(",") if e.strip())
    rest = marker.strip()
    if needed:
        rest = ""  # an extra's other clauses held where it was installed; keep no half-marker
    return match.group(1), wanted, rest


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
