"""Generator C: an independent generator of labelled PG&E job packages (see ``generator.py``)."""

from __future__ import annotations

from pathlib import Path


def generate(out_dir: Path, *, seed: int, count: int = 40) -> list[Path]:
    """Write ``count`` labelled packages under ``out_dir/packages`` (lazy import: fast collection)."""
    from .generator import generate as _generate

    return _generate(out_dir, seed=seed, count=count)


__all__ = ["generate"]
