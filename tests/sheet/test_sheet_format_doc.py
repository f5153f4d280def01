"""Does docs/sheet-format.md describe every kind, generator and field there is, and do its
examples load and solve?"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.checks import REGISTRY
from grader.checks.cases import PartSpec
from grader.checks.relations import PropertySpec
from grader.generators import GENERATORS
from grader.handin.written.spec import WrittenAnswer, WrittenValue
from grader.sheet.common import CheckSpec, Definition, Family, Mistake
from grader.sheet.loader import load_sheet
from grader.sheet.model import Sheet, Signature, Task, Variants

DOC = Path(__file__).resolve().parents[2] / "docs" / "sheet-format.md"
TEXT = DOC.read_text(encoding="utf-8")
MODELS = {
    "Sheet": Sheet,
    "Task": Task,
    "Signature": Signature,
    "Definition": Definition,
    "Family": Family,
    "Mistake": Mistake,
    "PartSpec": PartSpec,
    "PropertySpec": PropertySpec,
    "CheckSpec": CheckSpec,
    "Variants": Variants,
    "WrittenAnswer": WrittenAnswer,
    "WrittenValue": WrittenValue,
}


def section(marker: str) -> str:
    start = TEXT.index(f"<!-- {marker} -->")
    rest = TEXT[start + 1 :]
    ends = [m.start() for m in re.finditer(r"<!-- |\n## ", rest)]
    return rest[: min(ends)] if ends else rest


def undocumented(fields: set[str], text: str) -> set[str]:
    return {f for f in fields if f"`{f}`" not in text and f"`{f}:" not in text}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_field_of_every_model_is_described(name: str) -> None:
    fields = set(MODELS[name].model_fields)
    assert not undocumented(fields, section(f"model: {name}")), name


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_kind_has_a_section_with_its_own_fields(kind: str) -> None:
    own = set(REGISTRY[kind].Spec.model_fields) - set(CheckSpec.model_fields)
    assert not undocumented(own, section(f"kind: {kind}")), kind


@pytest.mark.parametrize("key", sorted(GENERATORS))
def test_every_generator_is_described_with_its_settings(key: str) -> None:
    fields = set(GENERATORS[key].model_fields)
    assert not undocumented(fields, section(f"generator: {key}")), key


def examples() -> list[tuple[str, str]]:
    blocks = re.findall(r"```(yaml|python)\n(.*?)```", TEXT, flags=re.S)
    out = []
    for i, (lang, body) in enumerate(blocks):
        if lang == "yaml" and body.startswith("id:"):
            later = [b for lang2, b in blocks[i + 1 :] if lang2 == "python"]
            ref = next((b for b in later if b.startswith("# ref.py")), "")
            out.append((body, ref))
    return out


@pytest.mark.parametrize(("sheet", "ref"), examples(), ids=lambda v: v.split("\n")[0][:30])
def test_every_full_example_loads_and_solves(tmp_path: Path, sheet: str, ref: str) -> None:
    (tmp_path / "s.yaml").write_text(sheet, encoding="utf-8")
    if ref:
        (tmp_path / "ref.py").write_text(ref, encoding="utf-8")
    loaded = load_sheet(tmp_path / "s.yaml")
    assert loaded.tasks
