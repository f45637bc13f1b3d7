"""Config flow: both sign-in paths with every error and recovery, reauth, reconfigure, options."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from homeassistant import config_entries
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ewelink.const import (
    AUTH_OAUTH,
    AUTH_PASSWORD,
    CONF_ACCOUNT,
    CONF_APP_ID,
    CONF_APP_SECRET,
    CONF_AUTH_IMPLEMENTATION,
    CONF_AUTH_TYPE,
    CONF_COUNTRY_CODE,
    CONF_HOMES,
    CONF_REGION,
    CONF_SERVER,
    CONF_TOKEN,
    CONF_USER_APIKEY,
    DOMAIN,
)
from tests.common import (
    APP_ID,
    APP_SECRET,
    EMAIL,
    OAUTH_APP_ID,
    OAUTH_APP_SECRET,
    PASSWORD,
    Cloud,
    oauth_code,
)
from tests.conftest import setup_entry

PASSWORD_INPUT = {
    CONF_APP_ID: APP_ID,
    CONF_APP_SECRET: APP_SECRET,
    CONF_ACCOUNT: EMAIL,
    "password": PASSWORD,
    CONF_COUNTRY_CODE: "+49",
}


@pytest.fixture
async def browser(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """The user's browser, for eWeLink's sign-in page."""
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def credentials(hass: HomeAssistant) -> None:
    """The user's own eWeLink app as application credentials."""
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(OAUTH_APP_ID, OAUTH_APP_SECRET), "my_app"
    )


async def start_on_simulator(hass: HomeAssistant, cloud: Cloud) -> FlowResult:
    """Open the flow and point it at the simulator through the custom-server step."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["oauth", "password", "server"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "server"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERVER: cloud.sim.base_url + "/"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["oauth", "password"]
    return result


async def finish_oauth(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    browser: aiohttp.ClientSession,
    result: FlowResult,
    *,
    account: str = EMAIL,
    password: str = PASSWORD,
) -> FlowResult:
    """Sign in on the simulator's page, follow its redirect to Home Assistant, continue."""
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    redirect = await oauth_code(browser, result["url"], account, password)
    client = await hass_client_no_auth()
    answer = await client.get(
        "/auth/external/callback", params={"code": redirect["code"], "state": redirect["state"]}
    )
    assert answer.status == 200
    return await hass.config_entries.flow.async_configure(result["flow_id"])


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_oauth_creates_the_entry(
    hass: HomeAssistant,
    cloud: Cloud,
    browser: aiohttp.ClientSession,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Sign in with eWeLink: signed page, code exchange on the account's region, profile."""
    result = await start_on_simulator(hass, cloud)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "oauth"}
    )
    assert result["url"].startswith(cloud.sim.oauth_url)
    result = await finish_oauth(hass, hass_client_no_auth, browser, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == EMAIL
    assert result["result"].unique_id == cloud.owner.apikey
    data = result["data"]
    assert data[CONF_AUTH_TYPE] == AUTH_OAUTH
    assert data[CONF_AUTH_IMPLEMENTATION] == "my_app"
    assert (data[CONF_SERVER], data[CONF_REGION]) == (cloud.sim.base_url, "eu")
    assert data[CONF_USER_APIKEY] == cloud.owner.apikey
    assert set(data[CONF_TOKEN]) >= {"access_token", "refresh_token", "access_expires_at"}
    assert "password" not in str(data)
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_oauth_errors_abort(
    hass: HomeAssistant,
    cloud: Cloud,
    browser: aiohttp.ClientSession,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """An expired code and an unreachable profile abort with their own reasons."""
    cloud.sim.config.oauth_code_ttl = 0.0
    result = await start_on_simulator(hass, cloud)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "oauth"}
    )
    result = await finish_oauth(hass, hass_client_no_auth, browser, result)
    assert result == {**result, "type": FlowResultType.ABORT, "reason": "oauth_code_invalid"}

    cloud.sim.config.oauth_code_ttl = 30.0
    cloud.sim.faults.fail_next("/v2/user/profile", 500)
    result = await start_on_simulator(hass, cloud)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "oauth"}
    )
    result = await finish_oauth(hass, hass_client_no_auth, browser, result)
    assert result == {**result, "type": FlowResultType.ABORT, "reason": "cannot_connect"}


async def test_oauth_without_credentials(hass: HomeAssistant, cloud: Cloud) -> None:
    """Without application credentials the OAuth path explains what to add."""
    assert await async_setup_component(hass, "application_credentials", {})
    result = await start_on_simulator(hass, cloud)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "oauth"}
    )
    assert result == {**result, "type": FlowResultType.ABORT, "reason": "missing_credentials"}


async def test_custom_server_must_be_a_url(hass: HomeAssistant) -> None:
    """The server step refuses anything but http(s) URLs."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "server"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERVER: "ftp://nowhere"}
    )
    assert result["errors"] == {CONF_SERVER: "invalid_server"}


async def test_password_creates_the_entry(hass: HomeAssistant, cloud: Cloud) -> None:
    """Password sign-in: the region is found, the password is not stored."""
    result = await start_on_simulator(hass, cloud)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "password"}
    )
    assert result["step_id"] == "password"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PASSWORD_INPUT, CONF_COUNTRY_CODE: "1"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert data[CONF_AUTH_TYPE] == AUTH_PASSWORD
    assert (data[CONF_APP_ID], data[CONF_REGION], data[CONF_COUNTRY_CODE]) == (APP_ID, "eu", "1")
    assert PASSWORD not in str(data)
    assert result["result"].unique_id == cloud.owner.apikey


@pytest.mark.parametrize(
    ("change", "fault", "error"),
    [
        ({"password": "wrong"}, None, "invalid_auth"),
        ({CONF_ACCOUNT: "nobody@example.com"}, None, "invalid_auth"),
        ({CONF_APP_SECRET: "wrong-secret"}, None, "invalid_app_credentials"),
        ({CONF_APP_ID: OAUTH_APP_ID, CONF_APP_SECRET: OAUTH_APP_SECRET}, None, "app_not_permitted"),
        ({}, {"quota_exhausted": "412"}, "rate_limited"),
        ({}, {"http_error": {"/v2/user/login": 502}}, "cannot_connect"),
        ({}, {"api_error": {"/v2/user/login": 10099}}, "unknown"),
    ],
)
async def test_password_errors_and_recovery(
    hass: HomeAssistant,
    cloud: Cloud,
    change: dict[str, str],
    fault: dict[str, Any] | None,
    error: str,
) -> None:
    """Each failure shows its translated error; fixing the input then succeeds."""
    result = await start_on_simulator(hass, cloud)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "password"}
    )
    if fault:
        cloud.sim.faults.update(fault)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PASSWORD_INPUT, **change}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    cloud.sim.faults.reset()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PASSWORD_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_account_twice_aborts(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """The account is the unique id."""
    result = await start_on_simulator(hass, cloud)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "password"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PASSWORD_INPUT)
    assert result == {**result, "type": FlowResultType.ABORT, "reason": "already_configured"}


async def test_password_reauth(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Reauth asks for the password only; a wrong one shows an error first."""
    old_token = config_entry.data[CONF_TOKEN]
    result = await config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_password"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"password": "x"})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"password": PASSWORD}
    )
    assert result == {**result, "type": FlowResultType.ABORT, "reason": "reauth_successful"}
    assert config_entry.data[CONF_TOKEN] != old_token
    assert PASSWORD not in str(config_entry.data)
    await hass.async_block_till_done()


async def test_reauth_with_another_account_aborts(
    hass: HomeAssistant, cloud: Cloud, entry_data: dict[str, Any]
) -> None:
    """Signing in to a different account than the entry's is refused."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=cloud.friend.apikey,
        data={**entry_data, CONF_ACCOUNT: EMAIL},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"password": PASSWORD}
    )
    assert result == {**result, "type": FlowResultType.ABORT, "reason": "unique_id_mismatch"}


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_oauth_reauth_and_reconfigure(
    hass: HomeAssistant,
    cloud: Cloud,
    entry_data: dict[str, Any],
    browser: aiohttp.ClientSession,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """OAuth entries sign in on eWeLink's page again, for reauth and for reconfigure."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=EMAIL,
        unique_id=cloud.owner.apikey,
        data={
            **{k: v for k, v in entry_data.items() if k not in (CONF_APP_ID, CONF_APP_SECRET)},
            CONF_AUTH_TYPE: AUTH_OAUTH,
            CONF_AUTH_IMPLEMENTATION: "my_app",
        },
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_oauth"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_oauth(hass, hass_client_no_auth, browser, result)
    assert result == {**result, "type": FlowResultType.ABORT, "reason": "reauth_successful"}
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_oauth"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_oauth(hass, hass_client_no_auth, browser, result)
    assert result == {**result, "type": FlowResultType.ABORT, "reason": "reconfigure_successful"}
    await hass.async_block_till_done()


async def test_password_reconfigure_changes_the_app(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Reconfigure takes a new app ID and secret, proven by a sign-in."""
    other = cloud.sim.add_app("anotherapp000000000000000000003", "another-secret")
    result = await config_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_password"
    new = {CONF_APP_ID: other.appid, CONF_APP_SECRET: "bad", "password": PASSWORD}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new)
    assert result["errors"] == {"base": "invalid_app_credentials"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**new, CONF_APP_SECRET: other.secret}
    )
    assert result == {**result, "type": FlowResultType.ABORT, "reason": "reconfigure_successful"}
    assert config_entry.data[CONF_APP_ID] == other.appid
    await hass.async_block_till_done()


async def test_options_choose_homes(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """The options list the account's homes; choosing one reloads with only its devices."""
    cottage = cloud.sim.add_home(cloud.owner, "Cottage")
    await cloud.sim.add_device(cloud.owner, "1000000011", uiid=1, name="Home lamp")
    await cloud.sim.add_device(cloud.owner, "1000000012", uiid=1, name="Cottage lamp", home=cottage)

    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert result == {**result, "type": FlowResultType.ABORT, "reason": "not_loaded"}

    await setup_entry(hass, config_entry)
    assert hass.states.get("switch.cottage_lamp") is not None
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    options = result["data_schema"].schema[CONF_HOMES].config["options"]
    assert [o["label"] for o in options] == ["Home", "Cottage"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_HOMES: [cloud.home.id]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.options == {CONF_HOMES: [cloud.home.id]}
    assert hass.states.get("switch.home_lamp") is not None
    assert hass.states.get("switch.cottage_lamp") is None
