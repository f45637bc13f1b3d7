"""Helpers shared by the platform tests."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from simulator import VirtualDevice
from tests.common import Cloud


async def add(
    cloud: Cloud,
    deviceid: str,
    uiid: int,
    name: str,
    *,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    parent: VirtualDevice | None = None,
    product_model: str | None = None,
) -> VirtualDevice:
    """Add a device of the owner to the simulator (online, its first state reported)."""
    return await cloud.sim.add_device(
        cloud.owner,
        deviceid,
        uiid=uiid,
        name=name,
        params=params,
        tags=tags,
        parent=parent,
        productModel=product_model,
    )


async def call(hass: HomeAssistant, domain: str, service: str, entity_id: str, **data: Any) -> None:
    """Call a service on one entity and wait for it."""
    await hass.services.async_call(domain, service, {"entity_id": entity_id, **data}, blocking=True)


def attr(hass: HomeAssistant, entity_id: str, name: str) -> Any:
    """Return an attribute of an entity's state (None when absent)."""
    state = hass.states.get(entity_id)
    return state.attributes.get(name) if state else None
