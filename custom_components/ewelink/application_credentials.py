"""OAuth2 with the user's own eWeLink app (application credentials).

CoolKit's OAuth2 is not RFC 6749 (coolkit-cloud.md §4.2): a signed authorization URL with its
own parameter names, and a signed JSON token exchange on the account's regional host. This
implementation builds that URL around Home Assistant's `state` and redirect URI, and lets the
CoolKit client exchange the code. Tokens are refreshed by the client at runtime, not by
`OAuth2Session`.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.application_credentials import (
    AuthImplementation,
    AuthorizationServer,
    ClientCredential,
)
from homeassistant.core import HomeAssistant
from yarl import URL

from .api import create_client
from .const import DEVELOPER_CONSOLE_URL
from .coolkit import CLOUD, OAUTH_PAGE, CoolkitClient, Servers

MY_REDIRECT_URL = "https://my.home-assistant.io/redirect/oauth"


class EwelinkOAuth2Implementation(AuthImplementation):
    """CoolKit's signed OAuth2 authorization-code flow."""

    def __init__(self, hass: HomeAssistant, auth_domain: str, credential: ClientCredential) -> None:
        """Create the implementation for one app ID/secret."""
        super().__init__(
            hass,
            auth_domain,
            credential,
            AuthorizationServer(authorize_url=OAUTH_PAGE, token_url=OAUTH_PAGE),
        )
        # The config flow points this at a custom server when the user chose one.
        self.servers: Servers = CLOUD

    def client(self) -> CoolkitClient:
        """Return a client for this app on the chosen server."""
        return create_client(
            self.hass, self.client_id, self.client_secret, server=self.servers.custom_base
        )

    async def async_generate_authorize_url(self, flow_id: str) -> str:
        """Return CoolKit's signed authorization page carrying Home Assistant's state."""
        standard = URL(await super().async_generate_authorize_url(flow_id))
        return self.client().authorization_url(
            standard.query["redirect_uri"], standard.query["state"]
        )

    async def async_resolve_external_data(self, external_data: Any) -> dict[str, Any]:
        """Exchange the code on the account's region (tried in turn: the callback drops it)."""
        client = self.client()
        tokens = await client.exchange_code(
            external_data["code"], external_data["state"]["redirect_uri"]
        )
        return {**tokens.as_dict(), "region": client.region}

    async def _async_refresh_token(self, token: dict[str, Any]) -> dict[str, Any]:
        """Not used: the CoolKit client refreshes tokens itself (on 402 and at half life)."""
        raise NotImplementedError


async def async_get_auth_implementation(
    hass: HomeAssistant, auth_domain: str, credential: ClientCredential
) -> EwelinkOAuth2Implementation:
    """Return the CoolKit OAuth2 implementation for an app ID/secret pair."""
    return EwelinkOAuth2Implementation(hass, auth_domain, credential)


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Fill the "add application credentials" dialog."""
    return {"developer_console_url": DEVELOPER_CONSOLE_URL, "redirect_url": MY_REDIRECT_URL}
