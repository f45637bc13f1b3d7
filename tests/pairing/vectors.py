"""Locate and load the shared test vectors (``<workspace>/shared/vectors``)."""

from __future__ import annotations

from functools import cache
import json
import os
from pathlib import Path
from typing import Any

import pytest

ENV_VAR = "EWELINK_SHARED_VECTORS"


@cache
def vectors_dir() -> Path | None:
    """Find the shared vectors directory.

    Order: ``$EWELINK_SHARED_VECTORS``; then ``shared/vectors`` inside the repository or next to
    it (the repository lives at ``<workspace>/main``, the vectors at ``<workspace>/shared``),
    walking up from this file so that a worktree elsewhere under the workspace also works.
    """
    if env := os.environ.get(ENV_VAR):
        path = Path(env)
        return path if path.is_dir() else None
    for ancestor in Path(__file__).resolve().parents:
        candidate = ancestor / "shared" / "vectors"
        if (candidate / "esptouch_v1_basic.json").is_file():
            return candidate
    return None


def load_vector(name: str) -> Any:
    """Load one vector file, skipping the test when the shared directory is truly absent."""
    directory = vectors_dir()
    if directory is None:
        pytest.skip(
            f"shared test vectors not found: expected a 'shared/vectors' directory next to the "
            f"repository root (or set {ENV_VAR})"
        )
    return json.loads((directory / name).read_text(encoding="utf-8"))


def vector_params(name: str, key: str, id_key: str | None = None) -> list[Any]:
    """``pytest.param`` list over ``file[key]`` for parametrize (a skipped one if absent)."""
    directory = vectors_dir()
    if directory is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="shared test vectors not found"))]
    items = json.loads((directory / name).read_text(encoding="utf-8"))
    for part in key.split("."):
        items = items[part]
    return [
        pytest.param(item, id=str(item[id_key]) if id_key else f"{key}[{index}]")
        for index, item in enumerate(items)
    ]
