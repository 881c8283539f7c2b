"""Fixtures shared by the UI tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nexa_desktop.ui.ops import OpRunner


@pytest.fixture
def runner() -> Iterator[OpRunner]:
    """The app's op runner (DB writer and worker pool), shut down after the test."""
    ops = OpRunner()
    try:
        yield ops
    finally:
        ops.shutdown()
