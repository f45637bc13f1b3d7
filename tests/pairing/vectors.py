"""Load the shared test vectors, kept in the repository under ``tests/fixtures/vectors``.

They are copied verbatim from the team's ``shared/vectors`` (see the README there) so that a
clean clone, and CI, always runs every vector test.
"""

from __future__ import annotations

from functools import cache
import json
from pathlib import Path
from typing import Any

import pytest

VECTORS = Path(__file__).resolve().parent.parent / "fixtures" / "vectors"


@cache
def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def load_vector(name: str) -> Any:
    """Load one vector file."""
    return _load(name)


def vector_params(name: str, key: str, id_key: str | None = None) -> list[Any]:
    """``pytest.param`` list over ``file[key]`` for parametrize."""
    items = _load(name)
    for part in key.split("."):
        items = items[part]
    return [
        pytest.param(item, id=str(item[id_key]) if id_key else f"{key}[{index}]")
        for index, item in enumerate(items)
    ]
