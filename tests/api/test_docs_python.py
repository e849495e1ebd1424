"""``docs/python.md`` is a tour whose code must work: its ``python`` blocks run here, in order,
in one namespace, in a fresh folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.public_api import REQUIRED

DOCS = Path(__file__).resolve().parents[2] / "docs" / "python.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_docs_python_md_has_code_blocks_for_every_required_function() -> None:
    code = "\n".join(BLOCK.findall(DOCS.read_text(encoding="utf-8")))
    for name in sorted(REQUIRED):
        assert f"pfof.{name}" in code, name


def test_docs_python_md_code_blocks_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = BLOCK.findall(DOCS.read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs_python"}
    for number, block in enumerate(blocks, 1):
        try:
            exec(compile(block, f"docs/python.md block {number}", "exec"), namespace)
        except Exception as exc:  # the failing block's number, not only the traceback
            raise AssertionError(f"docs/python.md block {number} failed: {exc!r}") from exc
    printed = capsys.readouterr().out
    assert "orders measured" in printed and "already stored" in printed
