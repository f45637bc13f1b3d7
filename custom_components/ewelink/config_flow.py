"""Config flow for eWeLink."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import DOMAIN


class EwelinkConfigFlow(ConfigFlow, domain=DOMAIN):
    """Sign in to an eWeLink account."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Start: choose how to sign in."""
        return self.async_show_menu(step_id="user", menu_options=["oauth", "password"])
