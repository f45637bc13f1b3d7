"""Config flow: both sign-in paths with every error and recovery, reauth, reconfigure, options."""

from __future__ import annotations

from collections.abc import AsyncIterator
import socket
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

from custom_components.ewelink.calling_codes import (
    CALLING_CODES,
    calling_code,
    normalize_calling_code,
)
from custom_components.ewelink.config_flow import ENV_CUSTOM_SERVER
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


@pytest.fixture(autouse=True)
def developer_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """As under scripts/develop: the custom server option is offered."""
    monkeypatch.setenv(ENV_CUSTOM_SERVER, "http://127.0.0.1:8480")


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
    assert result["step_id"] == "server"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERVER: cloud.sim.base_url + "/"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user_custom_server"
    assert result["description_placeholders"] == {"server": cloud.sim.base_url}
    assert result["menu_options"] == ["oauth", "password", "server"]  # a way back
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
    assert result["description_placeholders"] == {"server": cloud.sim.base_url}


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


async def test_custom_server_is_checked_and_named(hass: HomeAssistant, cloud: Cloud) -> None:
    """A server that is down or does not speak CoolKit is refused at once, by its URL."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "server"}
    )
    assert suggested_values(result) == {CONF_SERVER: "http://127.0.0.1:8480"}  # from the env
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for url in (down, f"{cloud.sim.base_url}/_sim"):  # nothing listens; not a CoolKit server
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_SERVER: url}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "server_unreachable"}
        assert result["description_placeholders"] == {"server": url}
        assert suggested_values(result) == {CONF_SERVER: url}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERVER: cloud.sim.base_url}
    )
    assert result["step_id"] == "user_custom_server"
    reloaded = await hass.config_entries.flow.async_configure(result["flow_id"])  # as the UI does
    assert (reloaded["step_id"], reloaded["menu_options"]) == (
        "user_custom_server", ["oauth", "password", "server"]
    )  # fmt: skip
    # Back to eWeLink's own cloud: an empty URL.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "server"}
    )
    assert suggested_values(result) == {CONF_SERVER: cloud.sim.base_url}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert (result["step_id"], result["menu_options"]) == ("user", ["oauth", "password", "server"])


async def test_no_custom_server_for_regular_users(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without EWELINK_CUSTOM_SERVER (outside scripts/develop) only the two sign-ins show."""
    monkeypatch.delenv(ENV_CUSTOM_SERVER)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["menu_options"] == ["oauth", "password"]


def suggested_values(result: FlowResult) -> dict[str, Any]:
    """The suggested values of a form's fields."""
    return {
        key.schema: key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


async def test_country_calling_code_prefilled_and_lenient(
    hass: HomeAssistant, cloud: Cloud
) -> None:
    """The code comes from Home Assistant's country; "0049" and "49" are read as "+49"."""
    await hass.config.async_update(country="DE")
    result = await start_on_simulator(hass, cloud)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "password"}
    )
    assert suggested_values(result) == {CONF_COUNTRY_CODE: "+49"}
    assert result["description_placeholders"]["server"] == cloud.sim.base_url
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PASSWORD_INPUT, CONF_COUNTRY_CODE: "+49x"}
    )
    assert result["errors"] == {CONF_COUNTRY_CODE: "invalid_country_code"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PASSWORD_INPUT, CONF_COUNTRY_CODE: "0049"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_COUNTRY_CODE] == "+49"


async def test_unknown_country_prefills_nothing(hass: HomeAssistant, cloud: Cloud) -> None:
    """No country configured: the field is empty."""
    await hass.config.async_update(country=None)
    result = await start_on_simulator(hass, cloud)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "password"}
    )
    assert suggested_values(result) == {}


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
    assert (data[CONF_APP_ID], data[CONF_REGION], data[CONF_COUNTRY_CODE]) == (APP_ID, "eu", "+1")
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
    assert result["description_placeholders"]["server"] == cloud.sim.base_url  # named in errors
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


@pytest.mark.parametrize(
    ("text", "code"),
    [("+49", "+49"), ("49", "+49"), ("0049", "+49"), (" + 1 ", "+1"), ("+1 2", None),
     ("1", "+1"), ("", None), ("+", None), ("+0", None), ("+12345", None), ("DE", None)],
)  # fmt: skip
def test_calling_codes_are_read_leniently(text: str, code: str | None) -> None:
    """What users type for a calling code, and what it means."""
    assert normalize_calling_code(text) == code


def test_calling_code_by_country() -> None:
    """Home Assistant's country (ISO 3166 alpha-2) gives the calling code."""
    assert (calling_code("DE"), calling_code("us"), calling_code("GB")) == ("+49", "+1", "+44")
    assert calling_code(None) is None
    assert calling_code("ZZ") is None
    assert len(CALLING_CODES) > 240
