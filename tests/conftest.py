"""Shared fixtures.

The repository's `custom_components` package is imported before the test plugin's
`testing_config/custom_components` can shadow it (see ha-2026.md §13.2).
"""

from __future__ import annotations

import pytest

import custom_components.ewelink  # noqa: F401


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components/."""
