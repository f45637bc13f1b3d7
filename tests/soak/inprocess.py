"""The soak's Home Assistant side on the test harness's `hass` (same process and loop)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
import logging
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER, ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from custom_components.ewelink.const import DOMAIN

from .engine import APP_ID, APP_SECRET, PASSWORD, CommandError, LogReport


class _Collector(logging.Handler):
    """Keep the records at WARNING or above."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class InProcessHomeAssistant:
    """`HomeAssistantSide` on a `hass` of the test harness."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Collect the log from now on."""
        self.hass = hass
        self._collector = _Collector()
        logging.getLogger().addHandler(self._collector)

    def close(self) -> None:
        """Stop collecting the log."""
        logging.getLogger().removeHandler(self._collector)

    async def add_entry(self, base_url: str, email: str) -> str:
        """Run the config flow: custom server, then password sign-in."""
        flows = self.hass.config_entries.flow
        result: Any = await flows.async_init(
            DOMAIN, context={"source": SOURCE_USER, "show_advanced_options": True}
        )
        flow_id = result["flow_id"]
        await flows.async_configure(flow_id, {"next_step_id": "server"})
        await flows.async_configure(flow_id, {"server": base_url})
        await flows.async_configure(flow_id, {"next_step_id": "password"})
        result = await flows.async_configure(
            flow_id,
            {
                "app_id": APP_ID,
                "app_secret": APP_SECRET,
                "account": email,
                "password": PASSWORD,
                "country_code": "+49",
            },
        )
        if result.get("type") != "create_entry":
            raise CommandError(f"sign-in failed: {result}")
        entry_id: str = result["result"].entry_id
        await self.hass.async_block_till_done()
        return entry_id

    async def entities(self, entry_ids: Iterable[str]) -> dict[str, str]:
        """Return the entries' enabled entities."""
        registry = er.async_get(self.hass)
        return {
            e.entity_id: e.unique_id
            for entry_id in entry_ids
            for e in er.async_entries_for_config_entry(registry, entry_id)
            if e.disabled_by is None
        }

    def subscribe(self, callback_: Callable[[str, str | None], None]) -> None:
        """Report every state now and on every change."""
        for state in self.hass.states.async_all():
            callback_(state.entity_id, state.state)

        @callback
        def changed(event: Event[Any]) -> None:
            new = event.data["new_state"]
            callback_(event.data["entity_id"], None if new is None else new.state)

        self.hass.bus.async_listen(EVENT_STATE_CHANGED, changed)

    async def call_service(self, domain: str, service: str, entity_id: str) -> None:
        """Call a service and wait for it."""
        try:
            await self.hass.services.async_call(
                domain, service, {"entity_id": entity_id}, blocking=True
            )
        except HomeAssistantError as err:
            raise CommandError(err.translation_key or type(err).__name__) from err

    async def reauth_flow(self, entry_id: str) -> str | None:
        """Return the entry's reauth flow."""
        for flow in self.hass.config_entries.flow.async_progress_by_handler(DOMAIN):
            context = flow["context"]
            if context.get("source") == SOURCE_REAUTH and context.get("entry_id") == entry_id:
                return flow["flow_id"]
        return None

    async def finish_reauth(self, flow_id: str, password: str) -> None:
        """Sign in again."""
        result: Any = await self.hass.config_entries.flow.async_configure(
            flow_id, {"password": password}
        )
        if result.get("reason") != "reauth_successful":
            raise CommandError(f"reauth failed: {result}")

    async def reload(self, entry_id: str) -> None:
        """Reload the entry."""
        await self.hass.config_entries.async_reload(entry_id)

    async def entry_loaded(self, entry_id: str) -> bool:
        """Return True when the entry is loaded."""
        entry = self.hass.config_entries.async_get_entry(entry_id)
        return entry is not None and entry.state is ConfigEntryState.LOADED

    def log_report(self) -> LogReport:
        """Return the records at WARNING or above, tracebacks apart."""
        report = LogReport()
        for record in self._collector.records:
            if record.name.startswith(("soak", "simulator")):
                continue
            report.by_logger[record.name] += 1
            if record.exc_info:
                report.tracebacks.append(f"{record.name}: {record.getMessage()[:200]}")
        return report
