"""Shared fixtures. ``shared`` is the read-only reference material beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("PFOF_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


def shared_path(*parts: str) -> Path:
    """Path under ../shared, skipping the calling test when the material is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must provide ../shared beside the repository")
        pytest.skip(f"reference material {path} is absent (it lives in ../shared, not in the repo)")
    return path


@pytest.fixture
def shared() -> Path:
    """The ../shared folder (skips when absent, fails in CI where it must be present)."""
    return shared_path()
