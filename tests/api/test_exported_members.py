"""``import pfof`` is the public face: ``__all__``, the names reachable from the package and the
names ``docs/python.md`` documents stay in step, and every exported name says how to use it."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import types
from pathlib import Path

import pfof
from support.public_api import REQUIRED

DOCS = Path(__file__).resolve().parents[2] / "docs" / "python.md"


def _public_members() -> set[str]:
    """Public attributes of the package after every export was resolved (submodules excluded:
    importing ``pfof.formats.sec606`` sets ``pfof.formats`` as an attribute)."""
    for name in pfof.__all__:
        getattr(pfof, name)
    return {
        name
        for name in dir(pfof)
        if not name.startswith("_")
        and not isinstance(getattr(pfof, name), types.ModuleType)
        and name not in {"annotations", "TYPE_CHECKING", "Any", "import_module"}
    }


def test_every_public_member_is_listed_in_all() -> None:
    assert _public_members() <= set(pfof.__all__)


def test_all_lists_the_required_api_and_every_name_resolves() -> None:
    assert REQUIRED <= set(pfof.__all__)
    assert len(pfof.__all__) == len(set(pfof.__all__))
    for name in pfof.__all__:
        assert getattr(pfof, name) is not None, name


def test_every_exported_function_and_class_has_a_docstring_with_an_example() -> None:
    missing = []
    for name in pfof.__all__:
        obj = getattr(pfof, name)
        if name == "__version__":
            continue
        doc = inspect.getdoc(obj) or ""
        if not doc.strip():
            missing.append(f"{name}: no docstring")
        elif inspect.isfunction(obj) and ">>>" not in doc:
            missing.append(f"{name}: the docstring shows no >>> example")
    assert not missing, missing


def test_every_error_is_a_pfof_error_with_a_family_exit_code() -> None:
    families = [pfof.InputError, pfof.ValidationError, pfof.StoreError, pfof.ParameterError]
    for family in families:
        assert issubclass(family, pfof.PfofError)
    assert [f.exit_code for f in families] == [2, 2, 1, 2]


def test_docs_python_md_documents_exactly_the_exported_names() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Reference", 1)[1]
    documented = set(re.findall(r"^\| `(?:pfof\.)?([A-Za-z_0-9]+)", section, re.MULTILINE))
    assert documented == set(pfof.__all__) - {"__version__"}


def test_import_pfof_loads_no_heavy_library() -> None:
    heavy = ["pyarrow", "polars", "duckdb", "lxml", "numpy", "pandas", "plotly"]
    code = f"import sys, pfof; pfof.PfofError; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
