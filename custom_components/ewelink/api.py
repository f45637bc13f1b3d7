"""Builds CoolKit clients for Home Assistant: injected web session, shared rate limiter."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.hass_dict import HassKey

from .const import (
    AUTH_OAUTH,
    CONF_APP_ID,
    CONF_APP_SECRET,
    CONF_AUTH_TYPE,
    CONF_REGION,
    CONF_SERVER,
    CONF_TOKEN,
    CONF_USER_APIKEY,
    DOMAIN,
)
from .coolkit import CLOUD, CoolkitClient, RateLimiter, Servers, Tokens

_RATE_LIMITER: HassKey[RateLimiter] = HassKey(f"{DOMAIN}_rate_limiter")


@callback
def rate_limiter(hass: HomeAssistant) -> RateLimiter:
    """Return the limiter every eWeLink client of this Home Assistant shares (one IP)."""
    if (limiter := hass.data.get(_RATE_LIMITER)) is None:
        limiter = hass.data[_RATE_LIMITER] = RateLimiter()
    return limiter


def servers_for(server: str | None) -> Servers:
    """Return CoolKit's hosts, or the custom server an advanced user chose."""
    return Servers(server) if server else CLOUD


@callback
def create_client(
    hass: HomeAssistant,
    app_id: str,
    app_secret: str,
    *,
    server: str | None = None,
    region: str | None = None,
    tokens: Tokens | None = None,
    user_apikey: str | None = None,
) -> CoolkitClient:
    """Return a client on Home Assistant's web session and shared limiter."""
    return CoolkitClient(
        async_get_clientsession(hass),
        app_id,
        app_secret,
        servers=servers_for(server),
        region=region,
        tokens=tokens,
        user_apikey=user_apikey,
        rate_limiter=rate_limiter(hass),
    )


async def async_app_credentials(hass: HomeAssistant, entry: ConfigEntry) -> tuple[str, str]:
    """Return the entry's app ID and secret (from application credentials for OAuth entries)."""
    if entry.data[CONF_AUTH_TYPE] == AUTH_OAUTH:
        implementation = await config_entry_oauth2_flow.async_get_config_entry_implementation(
            hass, entry
        )
        if not isinstance(implementation, config_entry_oauth2_flow.LocalOAuth2Implementation):
            raise TypeError("unexpected OAuth2 implementation")
        return implementation.client_id, implementation.client_secret
    return entry.data[CONF_APP_ID], entry.data[CONF_APP_SECRET]


async def async_client_for_entry(hass: HomeAssistant, entry: ConfigEntry) -> CoolkitClient:
    """Return a client resuming the entry's session; new tokens are written back to the entry."""
    app_id, app_secret = await async_app_credentials(hass, entry)
    client = create_client(
        hass,
        app_id,
        app_secret,
        server=entry.data.get(CONF_SERVER),
        region=entry.data[CONF_REGION],
        tokens=Tokens.from_dict(entry.data[CONF_TOKEN]),
        user_apikey=entry.data[CONF_USER_APIKEY],
    )

    @callback
    def persist(tokens: Tokens) -> None:
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_TOKEN: tokens.as_dict()}
        )

    client.on_tokens = persist
    return client
