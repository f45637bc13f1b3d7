"""Config flow: sign in with eWeLink (OAuth2) or with an account and password.

A custom server (the project's simulator) is offered only when the environment variable
`EWELINK_CUSTOM_SERVER` is set (scripts/develop sets it to the simulator's URL). Home Assistant
2026.10 no longer has an advanced mode to hide it behind: `show_advanced_options` is deprecated
and always True, so it would show the option to everyone (and log a deprecation warning).
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
import os
from typing import Any

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import callback
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import probatio as vol

from .api import create_client
from .application_credentials import EwelinkOAuth2Implementation
from .calling_codes import calling_code, normalize_calling_code
from .const import (
    AUTH_OAUTH,
    AUTH_PASSWORD,
    CONF_ACCOUNT,
    CONF_APP_ID,
    CONF_APP_SECRET,
    CONF_AUTH_IMPLEMENTATION,
    CONF_AUTH_TYPE,
    CONF_COUNTRY_CODE,
    CONF_DEVICE_ID,
    CONF_ENTRY_TYPE,
    CONF_HOMES,
    CONF_LAN_MODE,
    CONF_LOCAL_TYPE,
    CONF_REGION,
    CONF_SERVER,
    CONF_TOKEN,
    CONF_UIID,
    CONF_USER_APIKEY,
    DOMAIN,
    ENTRY_TYPE_DIY,
    LAN_MODE_AUTO,
    LAN_MODES,
    LOGGER,
)
from .coolkit import (
    AppNotPermittedError,
    CoolkitClient,
    CoolkitConnectionError,
    CoolkitError,
    InvalidAppCredentialsError,
    InvalidCredentialsError,
    OAuthCodeError,
    RateLimitedError,
    RegionError,
    Servers,
    Tokens,
    UserInfo,
)
from .coordinator import EwelinkConfigEntry
from .device_flow import AddDeviceFlow
from .lan import diy_uiid, parse_announcement

CONF_PASSWORD = "password"
ENV_CUSTOM_SERVER = "EWELINK_CUSTOM_SERVER"

_TEXT = TextSelector()
_SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_ACCOUNT = TextSelector(TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="username"))
_PASSWORD = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
)
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))

APP_SCHEMA = {vol.Required(CONF_APP_ID): _TEXT, vol.Required(CONF_APP_SECRET): _SECRET}
PASSWORD_SCHEMA = vol.Schema(
    {
        **APP_SCHEMA,
        vol.Required(CONF_ACCOUNT): _ACCOUNT,
        vol.Required(CONF_PASSWORD): _PASSWORD,
        vol.Required(CONF_COUNTRY_CODE): _TEXT,
    }
)


def _error_key(err: Exception) -> str:
    """Map a client error to a translated form error or abort reason."""
    if isinstance(err, InvalidCredentialsError):
        return "invalid_auth"
    if isinstance(err, InvalidAppCredentialsError):
        return "invalid_app_credentials"
    if isinstance(err, AppNotPermittedError):
        return "app_not_permitted"
    if isinstance(err, RateLimitedError):
        return "rate_limited"
    if isinstance(err, OAuthCodeError):
        return "oauth_code_invalid"
    if isinstance(err, CoolkitConnectionError | RegionError):
        return "cannot_connect"
    LOGGER.exception("Unexpected error while signing in to eWeLink", exc_info=err)
    return "unknown"


class EwelinkConfigFlow(config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN):
    """Sign in to an eWeLink account."""

    DOMAIN = DOMAIN
    VERSION = 1

    def __init__(self) -> None:
        """Start with CoolKit's own servers."""
        super().__init__()
        self._server: str | None = None
        self._diy: dict[str, Any] = {}

    @property
    def logger(self) -> logging.Logger:
        """Return the logger of the OAuth2 helper."""
        return LOGGER

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> EwelinkOptionsFlow:
        """Return the options flow."""
        return EwelinkOptionsFlow()

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Offer options on account entries (a DIY device's entry has none)."""
        return config_entry.data.get(CONF_ENTRY_TYPE) != ENTRY_TYPE_DIY

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Offer "Add device" on the account's entry."""
        if config_entry.data.get(CONF_ENTRY_TYPE) == ENTRY_TYPE_DIY:
            return {}
        return {"device": AddDeviceFlow}

    # -- user ----------------------------------------------------------------------------

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer OAuth2, password sign-in and, for developers, a custom server."""
        options = ["oauth", "password"]
        if self._server or os.environ.get(ENV_CUSTOM_SERVER):
            options.append("server")
        return self.async_show_menu(
            step_id="user_custom_server" if self._server else "user",
            menu_options=options,
            description_placeholders={"server": self._server or ""},
        )

    async def async_step_user_custom_server(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The same menu, worded for a custom server (Home Assistant needs the step)."""
        return await self.async_step_user()

    async def async_step_server(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Point the integration at a custom server (the project's simulator), checked first."""
        errors: dict[str, str] = {}
        url = ""
        if user_input is not None:
            url = (user_input.get(CONF_SERVER) or "").strip()
            if not url:  # back to eWeLink's own cloud
                self._server = None
                return await self.async_step_user()
            try:
                server = Servers(url).custom_base
            except ValueError:
                errors[CONF_SERVER] = "invalid_server"
            else:
                try:
                    await create_client(self.hass, "", "", server=server, region="eu").dispatch()
                except CoolkitError as err:
                    LOGGER.debug("The server at %s does not answer like eWeLink: %s", url, err)
                    errors["base"] = "server_unreachable"
                else:
                    self._server = server
                    return await self.async_step_user()
        suggested = url or self._server or os.environ.get(ENV_CUSTOM_SERVER, "")
        return self.async_show_form(
            step_id="server",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Optional(CONF_SERVER): _URL}), {CONF_SERVER: suggested}
            ),
            description_placeholders={"server": url},
            errors=errors,
        )

    async def async_step_oauth(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Sign in on eWeLink's page with the user's own app (application credentials)."""
        return await self.async_step_pick_implementation()

    async def async_step_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in with app credentials, e-mail or phone number and password."""
        code = calling_code(self.hass.config.country)
        return await self._async_password_form(
            "password",
            PASSWORD_SCHEMA,
            user_input,
            suggested={CONF_COUNTRY_CODE: code} if code else None,
        )

    async def _async_password_form(
        self,
        step_id: str,
        schema: vol.Schema,
        user_input: dict[str, Any] | None,
        *,
        entry: ConfigEntry | None = None,
        suggested: dict[str, Any] | None = None,
    ) -> ConfigFlowResult:
        """Show a sign-in form; on submit sign in (with the entry's other data) and finish."""
        errors: dict[str, str] = {}
        if user_input is not None:
            values = {**(dict(entry.data) if entry else {}), **user_input}
            code = normalize_calling_code(str(values.get(CONF_COUNTRY_CODE, "")))
            if code is None:
                errors[CONF_COUNTRY_CODE] = "invalid_country_code"
            else:
                result = await self._async_password_login({**values, CONF_COUNTRY_CODE: code})
                if isinstance(result, str):
                    errors["base"] = result
                else:
                    return await self._async_finish(*result)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input or suggested),
            description_placeholders={
                "account": entry.data[CONF_ACCOUNT] if entry else "",
                "server": self._server_label,
            },
            errors=errors,
        )

    @property
    def _server_label(self) -> str:
        """How the server is named in messages: eWeLink, or the custom server's URL."""
        return self._server or "eWeLink"

    async def _async_password_login(
        self, user_input: Mapping[str, Any]
    ) -> tuple[UserInfo, dict[str, Any]] | str:
        """Sign in; return the user and the entry data, or an error key."""
        client = create_client(
            self.hass, user_input[CONF_APP_ID].strip(), user_input[CONF_APP_SECRET].strip(),
            server=self._server,
        )  # fmt: skip
        try:
            login = await client.login(
                user_input[CONF_ACCOUNT], user_input[CONF_PASSWORD], user_input[CONF_COUNTRY_CODE]
            )
        except Exception as err:  # noqa: BLE001  mapped to a form error, unknown ones logged
            return _error_key(err)
        return login.user, {
            CONF_AUTH_TYPE: AUTH_PASSWORD,
            CONF_APP_ID: client.app_id,
            CONF_APP_SECRET: user_input[CONF_APP_SECRET].strip(),
            CONF_ACCOUNT: user_input[CONF_ACCOUNT].strip(),
            CONF_COUNTRY_CODE: user_input[CONF_COUNTRY_CODE].strip(),
            **self._session_data(client, login.user),
        }

    def _session_data(self, client: CoolkitClient, user: UserInfo) -> dict[str, Any]:
        if client.tokens is None:  # pragma: no cover - a successful sign-in always sets them
            raise CoolkitConnectionError("no tokens after sign-in")
        return {
            CONF_SERVER: self._server,
            CONF_REGION: client.region,
            CONF_USER_APIKEY: user.apikey,
            CONF_TOKEN: client.tokens.as_dict(),
        }

    async def _async_finish(self, user: UserInfo, data: dict[str, Any]) -> ConfigFlowResult:
        """Create the entry, or update it in a reauth/reconfigure flow (same account only)."""
        await self.async_set_unique_id(user.apikey)
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            self._abort_if_unique_id_mismatch()
            entry = (
                self._get_reauth_entry()
                if self.source == SOURCE_REAUTH
                else self._get_reconfigure_entry()
            )
            return self.async_update_reload_and_abort(entry, data=data)
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=user.account, data=data)

    # -- OAuth2 --------------------------------------------------------------------------

    async def async_generate_authorize_url(self) -> str:
        """Build the authorization URL on the chosen server."""
        if isinstance(self.flow_impl, EwelinkOAuth2Implementation):
            self.flow_impl.servers = Servers(self._server)
        return await super().async_generate_authorize_url()

    async def async_step_creation(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Exchange the code with CoolKit's errors mapped to translated aborts."""
        try:
            token = await self.flow_impl.async_resolve_external_data(self.external_data)
        except Exception as err:  # noqa: BLE001  mapped to an abort, unknown ones logged
            return self._abort_with(_error_key(err))
        self.logger.debug("Signed in to eWeLink on region %s", token.get("region"))
        return await self.async_oauth_create_entry(
            {CONF_AUTH_IMPLEMENTATION: self.flow_impl.domain, CONF_TOKEN: token}
        )

    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Learn the account behind the tokens, then create or update the entry."""
        implementation = self.flow_impl
        if not isinstance(implementation, EwelinkOAuth2Implementation):  # pragma: no cover
            return self.async_abort(reason="oauth_error")
        token = data[CONF_TOKEN]
        client = create_client(
            self.hass,
            implementation.client_id,
            implementation.client_secret,
            server=self._server,
            region=token["region"],
            tokens=Tokens.from_dict(token),
        )
        try:
            user = await client.get_account()
        except Exception as err:  # noqa: BLE001  mapped to an abort, unknown ones logged
            return self._abort_with(_error_key(err))
        return await self._async_finish(
            user,
            {
                CONF_AUTH_TYPE: AUTH_OAUTH,
                CONF_AUTH_IMPLEMENTATION: data[CONF_AUTH_IMPLEMENTATION],
                CONF_ACCOUNT: user.account,
                **self._session_data(client, user),
            },
        )

    def _abort_with(self, reason: str) -> ConfigFlowResult:
        """Abort with a translated reason that may name the server."""
        return self.async_abort(
            reason=reason, description_placeholders={"server": self._server_label}
        )

    # -- reauth --------------------------------------------------------------------------

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The session cannot be renewed: sign in again the way the entry was created."""
        self._server = entry_data.get(CONF_SERVER)
        if entry_data[CONF_AUTH_TYPE] == AUTH_OAUTH:
            return await self.async_step_reauth_oauth()
        return await self.async_step_reauth_password()

    async def async_step_reauth_oauth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm, then sign in on eWeLink's page again."""
        if user_input is None:
            return self.async_show_form(
                step_id="reauth_oauth",
                description_placeholders={"account": self._get_reauth_entry().title},
            )
        return await self.async_step_pick_implementation()

    async def async_step_reauth_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the password again."""
        schema = vol.Schema({vol.Required(CONF_PASSWORD): _PASSWORD})
        return await self._async_password_form(
            "reauth_password", schema, user_input, entry=self._get_reauth_entry()
        )

    # -- reconfigure ---------------------------------------------------------------------

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the app credentials of the account."""
        entry = self._get_reconfigure_entry()
        if entry.data.get(CONF_ENTRY_TYPE) == ENTRY_TYPE_DIY:
            return self.async_abort(reason="diy_not_reconfigurable")
        self._server = entry.data.get(CONF_SERVER)
        if entry.data[CONF_AUTH_TYPE] == AUTH_OAUTH:
            return await self.async_step_reconfigure_oauth()
        return await self.async_step_reconfigure_password()

    async def async_step_reconfigure_oauth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick (or add) other application credentials, then sign in again."""
        if user_input is None:
            return self.async_show_form(step_id="reconfigure_oauth")
        return await self.async_step_pick_implementation()

    async def async_step_reconfigure_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enter a new app ID and secret; the password proves the account."""
        entry = self._get_reconfigure_entry()
        schema = vol.Schema({**APP_SCHEMA, vol.Required(CONF_PASSWORD): _PASSWORD})
        return await self._async_password_form(
            "reconfigure_password",
            schema,
            user_input,
            entry=entry,
            suggested={CONF_APP_ID: entry.data[CONF_APP_ID]},
        )

    # -- DIY-mode devices found on the LAN (zeroconf) --------------------------------------

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        """A device in DIY mode announced itself: offer to add it (no account needed)."""
        announcement = parse_announcement(
            discovery_info.name,
            [str(address) for address in discovery_info.ip_addresses],
            discovery_info.port,
            discovery_info.properties,
        )
        if (
            announcement is None
            or announcement.encrypted
            or announcement.subdevid is not None
            or announcement.host is None
        ):
            return self.async_abort(reason="not_diy_device")
        deviceid = announcement.deviceid
        await self.async_set_unique_id(deviceid)
        self._abort_if_unique_id_configured(
            updates={CONF_HOST: announcement.host, CONF_PORT: announcement.port},
            reload_on_update=False,
        )
        for entry in self._async_current_entries(include_ignore=False):
            runtime = getattr(entry, "runtime_data", None)
            if runtime is not None and deviceid in runtime.coordinator.data:
                return self.async_abort(reason="already_in_account")
        params = announcement.params()  # plaintext, checked when parsed
        local_type = announcement.local_type or "diy"
        name = f"{DIY_NAMES.get(local_type, 'SONOFF DIY')} {deviceid}"
        self._diy = {
            CONF_ENTRY_TYPE: ENTRY_TYPE_DIY,
            CONF_DEVICE_ID: deviceid,
            CONF_HOST: announcement.host,
            CONF_PORT: announcement.port,
            CONF_LOCAL_TYPE: local_type,
            CONF_UIID: diy_uiid(local_type, params),
            "name": name,
        }
        self.context["title_placeholders"] = {"name": name}
        return await self.async_step_zeroconf_confirm()

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm the DIY device, then create its entry."""
        data = dict(self._diy)
        name = data.pop("name")
        if user_input is None:
            return self.async_show_form(
                step_id="zeroconf_confirm",
                description_placeholders={
                    "name": name,
                    "host": data[CONF_HOST],
                    "type": data[CONF_LOCAL_TYPE],
                },
            )
        return self.async_create_entry(title=name, data=data)


DIY_NAMES = {
    "diy_plug": "SONOFF DIY switch",
    "diylight": "SONOFF D1 DIY",
    "diy_light": "SONOFF DIY bulb",
    "diy_meter": "SONOFF SPM DIY",
}
"""Entry titles per DIY local type (lan-protocol.md §5.2); others get "SONOFF DIY"."""


class EwelinkOptionsFlow(OptionsFlowWithReload):
    """Choose which homes of the account to include, and how devices are reached."""

    config_entry: EwelinkConfigEntry

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick the homes (none picked means all of them) and the connection mode."""
        if user_input is not None:
            chosen: dict[str, Any] = {CONF_HOMES: user_input.get(CONF_HOMES, [])}
            if (mode := user_input.get(CONF_LAN_MODE, LAN_MODE_AUTO)) != LAN_MODE_AUTO:
                chosen[CONF_LAN_MODE] = mode  # absent means the default
            return self.async_create_entry(data=chosen)
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        families = self.config_entry.runtime_data.coordinator.families
        options = [
            SelectOptionDict(value=family.id, label=family.name or family.id)
            for family in sorted(families.values(), key=lambda f: f.index)
        ]
        schema = vol.Schema(
            {
                vol.Optional(CONF_HOMES): SelectSelector(
                    SelectSelectorConfig(options=options, multiple=True)
                ),
                vol.Optional(CONF_LAN_MODE, default=LAN_MODE_AUTO): SelectSelector(
                    SelectSelectorConfig(options=list(LAN_MODES), translation_key=CONF_LAN_MODE)
                ),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, self.config_entry.options),
        )
