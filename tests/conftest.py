"""Shared fixtures. ``shared`` is the read-only reference material beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

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


settings.register_profile(
    "pfof",
    deadline=None,  # CI machines are shared and slow; speed lives in benchmarks/
    # CI replays the same examples every run (a landing must not depend on luck); local runs
    # keep exploring new ones
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "pfof"))


@pytest.fixture
def shared_606() -> Path:
    """The real 606 reports brokers published (../shared/real-606)."""
    return shared_path("real-606")


@pytest.fixture
def schwab() -> Path:
    """Charles Schwab's twelve 606(a)(1) reports."""
    return shared_path("real-606", "schwab")


@pytest.fixture
def sec606_samples() -> Path:
    """The SEC's 606 schema and sample reports (../shared/sec-606)."""
    return shared_path("sec-606")
