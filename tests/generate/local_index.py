"""A local package index for the Gradescope package test.

The Gradescope test installs the package's pinned requirements without a network: each pinned
distribution is packed into a wheel from this test environment's installed copy (its files as
its RECORD lists them, its own WHEEL tags), into a folder that pip reads with
``--no-index --find-links``. So ``setup.sh`` runs as it would on Gradescope, with the same
versions, only from a folder instead of PyPI; the grader itself comes from the zip's wheel.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import re
import zipfile
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")
_SKIP_INFO = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json"}


def local_index(requirements: str, folder: Path) -> Path:
    """A wheel of every distribution pinned in ``requirements``, from the installed copies."""
    folder.mkdir(parents=True, exist_ok=True)
    for line in requirements.splitlines():
        match = _PIN.match(line)
        if match:
            dist = importlib.metadata.distribution(match.group(1))
            assert dist.version == match.group(2), (line, dist.version)
            _wheel_of(dist, folder)
    return folder


def _wheel_of(dist: importlib.metadata.Distribution, folder: Path) -> Path:
    wheel_text = dist.read_text("WHEEL") or ""
    tag = re.search(r"(?m)^Tag: (\S+)$", wheel_text)
    assert tag and dist.files, f"{dist.metadata['Name']}: installed without WHEEL or RECORD"
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    path = folder / f"{name}-{dist.version}-{tag.group(1)}.whl"
    members = []
    for file in dist.files:
        if file.parts[0] == ".." or file.suffix == ".pyc":
            continue  # scripts and data outside site-packages: pip makes scripts anew
        if file.parts[0].endswith(".dist-info") and file.name in _SKIP_INFO:
            continue
        members.append((file.as_posix(), Path(dist.locate_file(file)).read_bytes()))
    info = next(f.parts[0] for f in dist.files if f.parts[0].endswith(".dist-info"))
    record = "".join(f"{n},sha256={_b64(d)},{len(d)}\n" for n, d in members)
    members.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for member, data in members:
            zf.writestr(member, data)
    return path


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
