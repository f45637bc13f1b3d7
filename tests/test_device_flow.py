"""Pairing new devices from Home Assistant against the simulator's unpaired devices (loopback)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers import area_registry as ar, device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ewelink import device_flow
from custom_components.ewelink.const import DOMAIN
from custom_components.ewelink.device_flow import PairingTimings
from simulator import UnpairedDevice
from tests.common import Cloud, wait_for
from tests.conftest import setup_entry

WIFI = {"ssid": "HomeWiFi", "password": "correct-horse"}


def free_port(kind: int) -> int:
    """Return a port that is free on 127.0.0.1 right now (TCP or UDP)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def short_timings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seconds instead of the real minute-long waits, so failures show quickly."""
    monkeypatch.setattr(
        device_flow,
        "TIMINGS",
        PairingTimings(
            esptouch_send=8.0,
            esptouch_listen=9.0,
            device_attempts=2,
            device_retry_interval=0.2,
            bind_retry_for=0.0,
            online_timeout=4.0,
        ),
    )


@pytest.fixture
async def loaded(hass: HomeAssistant, config_entry: MockConfigEntry) -> MockConfigEntry:
    """The account's entry, set up and connected."""
    await setup_entry(hass, config_entry)
    return config_entry


@pytest.fixture
async def unpaired(cloud: Cloud) -> UnpairedDevice:
    """A plug in pairing mode, with fixed loopback ports the flow is told about."""
    return await cloud.sim.add_unpaired_device(
        "10000aa001",
        uiid=1,
        chipid="00C0FFEE",
        http_port=free_port(socket.SOCK_STREAM),
        udp_port=free_port(socket.SOCK_DGRAM),
        ack_port=free_port(socket.SOCK_DGRAM),
    )


async def start(hass: HomeAssistant, entry: MockConfigEntry, mode: str) -> FlowResult:
    """Open "Add device" and pick a mode."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "device"), context={"source": "user"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["touch", "ap", "gsm", "other"]
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": mode}
    )


async def configure(
    hass: HomeAssistant, result: FlowResult, data: dict[str, Any] | None = None
) -> FlowResult:
    """Submit a step, then follow progress steps until the flow needs the user again."""
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], data)
    while result["type"] in (FlowResultType.SHOW_PROGRESS, FlowResultType.SHOW_PROGRESS_DONE):
        if result["type"] is FlowResultType.SHOW_PROGRESS:
            await hass.async_block_till_done()
        result = await hass.config_entries.subentries.async_configure(result["flow_id"])
    return result


def touch_settings(device: UnpairedDevice, **changes: Any) -> dict[str, Any]:
    """The advanced quick-pairing settings pointing at the simulated device on loopback."""
    return {
        "host_ip": "127.0.0.1",
        "target": "127.0.0.1",
        "port": device.udp_port,
        "ack_port": device.ack_port,
        "device_port": device.http_port,
        **changes,
    }


async def assert_added(
    hass: HomeAssistant,
    result: FlowResult,
    cloud: Cloud,
    deviceid: str,
    entity_id: str,
    finish: dict[str, Any] | None = None,
) -> FlowResult:
    """The device is online: name it (or keep the suggestion), then it is in Home Assistant."""
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "finish"
    assert result["description_placeholders"]["deviceid"] == deviceid
    if finish is None:
        finish = {"name": suggested(result)["name"]}
    result = await configure(hass, result, finish)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "device_added"
    assert cloud.sim.store.devices[deviceid].owner is cloud.owner
    await wait_for(lambda: hass.states.get(entity_id) is not None)
    assert hass.states.get(entity_id).state != "unavailable"
    return result


def suggested(result: FlowResult) -> dict[str, Any]:
    """The suggested values of a form's fields."""
    return {
        key.schema: key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


async def test_ap_pairing(
    hass: HomeAssistant, cloud: Cloud, loaded: MockConfigEntry, unpaired: UnpairedDevice
) -> None:
    """Compatible mode: hotspot transfer, then bind, then online; the entity appears."""
    result = await start(hass, loaded, "ap")
    assert result["step_id"] == "ap"
    result = await configure(hass, result, {})
    assert result["step_id"] == "wifi"
    assert "advanced" not in result["data_schema"].schema
    assert "name" not in result["data_schema"].schema
    result = await configure(hass, result, WIFI)
    assert result["step_id"] == "ap_connect"
    result = await configure(
        hass, result, {"device_host": "127.0.0.1", "device_port": unpaired.http_port}
    )
    kitchen = ar.async_get(hass).async_create("Kitchen")
    done = await assert_added(
        hass, result, cloud, "10000aa001", "switch.garden_plug",
        {"name": "Garden plug", "area": kitchen.id},
    )  # fmt: skip
    assert done["description_placeholders"] == {"name": "Garden plug"}
    assert cloud.sim.store.devices["10000aa001"].name == "Garden plug"  # renamed in eWeLink too
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, "10000aa001"), loaded.entry_id
    )
    assert device is not None
    assert (device.name, device.area_id) == ("Garden plug", kitchen.id)
    request = unpaired.ap_requests[0]
    assert request["port"] == cloud.sim.port
    assert (request["serverName"], request["ssid"]) == ("127.0.0.1", "HomeWiFi")


async def test_touch_pairing(
    hass: HomeAssistant, cloud: Cloud, loaded: MockConfigEntry, unpaired: UnpairedDevice
) -> None:
    """Quick mode: real ESP-Touch datagrams decoded by the device, ACK, bind, /ap, online."""
    result = await start(hass, loaded, "touch")
    result = await configure(hass, result, {})
    assert result["step_id"] == "wifi"
    result = await configure(hass, result, {**WIFI, "advanced": touch_settings(unpaired)})
    assert suggested(result) == {"name": "MINIR2"}  # the cloud's product model, not our placeholder
    await assert_added(hass, result, cloud, "10000aa001", "switch.minir2")
    assert cloud.sim.store.devices["10000aa001"].name == "MINIR2"
    assert unpaired.touch_result is not None
    assert unpaired.touch_result.ssid == b"HomeWiFi"
    assert unpaired.acks_sent > 0


async def test_gsm_device_by_qr_code(
    hass: HomeAssistant, cloud: Cloud, loaded: MockConfigEntry
) -> None:
    """No Wi-Fi: the id from the QR code address binds the device."""
    device = cloud.sim.add_gsm_device("gsm-7001", uiid=81)
    result = await start(hass, loaded, "gsm")
    result = await configure(hass, result, {"gsm_id": "not a valid id!"})
    assert result["errors"] == {"gsm_id": "gsm_id_invalid"}
    result = await configure(hass, result, {"gsm_id": "https://qr.example/addGsm?id=gsm-unknown"})
    assert result["errors"] == {"base": "gsm_unknown"}
    result = await configure(hass, result, {"gsm_id": "https://qr.example/addGsm?id=gsm-7001"})
    await assert_added(hass, result, cloud, device.deviceid, "switch.gate", {"name": "Gate"})


async def test_wrong_wifi_password_then_retry(
    hass: HomeAssistant, cloud: Cloud, loaded: MockConfigEntry, unpaired: UnpairedDevice
) -> None:
    """A wrong password is only noticed because the device never comes online; retry works."""
    result = await start(hass, loaded, "ap")
    result = await configure(hass, result, {})
    result = await configure(hass, result, {"ssid": "HomeWiFi", "password": "wrong-password"})
    result = await configure(
        hass, result, {"device_host": "127.0.0.1", "device_port": unpaired.http_port}
    )
    assert result["step_id"] == "wifi"
    assert result["errors"] == {"base": "never_online"}
    assert suggested(result)["ssid"] == "HomeWiFi"
    result = await configure(hass, result, WIFI)
    assert result["step_id"] == "ap_connect"
    result = await configure(
        hass, result, {"device_host": "127.0.0.1", "device_port": unpaired.http_port}
    )
    await assert_added(hass, result, cloud, "10000aa001", "switch.minir2")


async def test_unreachable_device(
    hass: HomeAssistant, cloud: Cloud, loaded: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connection refused at the device address: said at once (no 14 s retries), with the address."""
    monkeypatch.setattr(
        device_flow, "TIMINGS", PairingTimings(device_attempts=5, device_retry_interval=60.0)
    )
    result = await start(hass, loaded, "ap")
    result = await configure(hass, result, {})
    result = await configure(hass, result, WIFI)
    closed = free_port(socket.SOCK_STREAM)
    async with asyncio.timeout(20):  # five tries 60 s apart would take four minutes
        result = await configure(hass, result, {"device_host": "127.0.0.1", "device_port": closed})
    assert result["step_id"] == "ap_connect"
    assert result["errors"] == {"base": "device_refused"}
    assert result["description_placeholders"]["address"] == f"127.0.0.1:{closed}"


async def test_brand_not_allowed(
    hass: HomeAssistant, cloud: Cloud, loaded: MockConfigEntry
) -> None:
    """30017: the app ID may not add this brand; the flow ends and explains."""
    cloud.app.allowed_brands = {"SONOFF"}
    device = await cloud.sim.add_unpaired_device(
        "10000aa002", uiid=1, brandName="OTHERBRAND", http_port=free_port(socket.SOCK_STREAM)
    )
    result = await start(hass, loaded, "ap")
    result = await configure(hass, result, {})
    result = await configure(hass, result, WIFI)
    result = await configure(
        hass, result, {"device_host": "127.0.0.1", "device_port": device.http_port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "brand_not_allowed"
    assert (
        "10000aa002" not in cloud.sim.store.devices
        or cloud.sim.store.devices["10000aa002"].owner is None
    )


async def test_invalid_inputs_are_rejected_before_sending(
    hass: HomeAssistant, loaded: MockConfigEntry, unpaired: UnpairedDevice
) -> None:
    """Bad SSID, password, BSSID or addresses never leave Home Assistant."""
    result = await start(hass, loaded, "touch")
    result = await configure(hass, result, {})
    cases = [
        ({"ssid": "x" * 33, "password": "correct-horse"}, {}, {"ssid": "ssid_too_long"}),
        ({"ssid": "Home", "password": "short"}, {}, {"password": "password_length"}),
        ({"ssid": "Ho\x07me", "password": "correct-horse"}, {}, {"ssid": "control_characters"}),
        (WIFI, {"bssid": "zz:zz"}, {"bssid": "bssid_invalid"}),
        (WIFI, {"host_ip": "not-an-ip"}, {"advanced": "host_ip_invalid"}),
        (WIFI, {"target": "10.0.0.300"}, {"advanced": "target_invalid"}),
    ]
    for wifi, advanced, errors in cases:
        result = await configure(
            hass, result, {**wifi, "advanced": touch_settings(unpaired, **advanced)}
        )
        assert result["step_id"] == "wifi"
        assert result["errors"] == errors
    assert unpaired.touch_result is None
    assert unpaired.ap_requests == []
    assert unpaired.datagrams == 0


async def test_closing_the_dialog_stops_the_broadcast(
    hass: HomeAssistant, loaded: MockConfigEntry, unpaired: UnpairedDevice
) -> None:
    """Closing the dialog mid-broadcast cancels the sender and the listener."""
    result = await start(hass, loaded, "touch")
    result = await configure(hass, result, {})
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"ssid": "HomeWiFi", "password": "not-the-password", "advanced": touch_settings(unpaired)},
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "touch_broadcast"
    assert result["description_placeholders"]["ssid"] == "HomeWiFi"
    await wait_for(lambda: unpaired.datagrams > 20)
    hass.config_entries.subentries.async_abort(result["flow_id"])
    await asyncio.sleep(0.2)
    received = unpaired.datagrams
    await asyncio.sleep(0.3)
    assert unpaired.datagrams == received
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", unpaired.ack_port))  # the ACK listener let go of its port


async def test_sub_devices_and_unloaded_entry(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Hub sub-devices get instructions only; an unloaded account cannot add devices."""
    result = await hass.config_entries.subentries.async_init(
        (config_entry.entry_id, "device"), context={"source": "user"}
    )
    assert result["reason"] == "not_loaded"
    await setup_entry(hass, config_entry)
    result = await start(hass, config_entry, "other")
    assert result["reason"] == "sub_device_instructions"
    assert DOMAIN in hass.config.components


async def test_no_answer_to_quick_pairing(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    unpaired: UnpairedDevice,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong password in quick mode means no ACK: back to the Wi-Fi form, settings kept."""
    monkeypatch.setattr(
        device_flow, "TIMINGS", PairingTimings(esptouch_send=1.0, esptouch_listen=1.5)
    )
    result = await start(hass, loaded, "touch")
    result = await configure(hass, result, {})
    settings = touch_settings(unpaired)
    result = await configure(
        hass, result, {"ssid": "HomeWiFi", "password": "not-the-password", "advanced": settings}
    )
    assert result["step_id"] == "wifi"
    assert result["errors"] == {"base": "no_ack"}
    schema = result["data_schema"].schema
    advanced = schema[next(key for key in schema if key.schema == "advanced")]
    kept = {
        key.schema: key.description["suggested_value"]
        for key in advanced.schema.schema
        if key.description
    }
    assert kept["ack_port"] == settings["ack_port"]
    assert kept["host_ip"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"api_error": {"/v2/device/add": 30015}}, "bind_refused"),
        ({"quota_exhausted": "412"}, "rate_limited"),
    ],
)
async def test_binding_failures_end_the_flow(
    hass: HomeAssistant,
    cloud: Cloud,
    loaded: MockConfigEntry,
    unpaired: UnpairedDevice,
    fault: dict[str, Any],
    reason: str,
) -> None:
    """What a retry cannot fix ends the flow with the reason."""
    result = await start(hass, loaded, "ap")
    result = await configure(hass, result, {})
    result = await configure(hass, result, WIFI)
    cloud.sim.faults.update(fault)
    result = await configure(
        hass, result, {"device_host": "127.0.0.1", "device_port": unpaired.http_port}
    )
    cloud.sim.faults.reset()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


async def test_gsm_device_of_another_account(
    hass: HomeAssistant, cloud: Cloud, loaded: MockConfigEntry
) -> None:
    """30007: the GSM device belongs to someone else."""
    cloud.sim.add_gsm_device("gsm-7002", uiid=81)
    cloud.sim.faults.api_error["/v2/device/add-gsm"] = 30007
    result = await start(hass, loaded, "gsm")
    result = await configure(hass, result, {"gsm_id": "gsm-7002"})
    assert result["errors"] == {"base": "already_bound"}


async def test_progress_says_which_attempt_runs(
    hass: HomeAssistant, loaded: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A device that drops the connection is tried again; each try is shown with its number."""
    monkeypatch.setattr(
        device_flow, "TIMINGS", PairingTimings(device_attempts=3, device_retry_interval=0.4)
    )

    async def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.3)  # long enough to be seen, then the connection drops
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    notified: list[str] = []
    hass.bus.async_listen(
        "data_entry_flow_progressed", lambda event: notified.append(event.data["flow_id"])
    )
    try:
        result = await start(hass, loaded, "ap")
        result = await configure(hass, result, {})
        result = await configure(hass, result, WIFI)
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"device_host": "127.0.0.1", "device_port": port}
        )
        seen: set[tuple[str, str, str]] = set()
        while result["type"] is FlowResultType.SHOW_PROGRESS:
            placeholders = result["description_placeholders"]
            assert placeholders["address"] == f"127.0.0.1:{port}"
            seen.add((result["progress_action"], placeholders["attempt"], placeholders["attempts"]))
            await asyncio.sleep(0.05)
            result = await hass.config_entries.subentries.async_configure(result["flow_id"])
        if result["type"] is FlowResultType.SHOW_PROGRESS_DONE:
            result = await configure(hass, result)
    finally:
        server.close()
    assert seen == {("find_device", "1", "3"), ("find_device", "2", "3"), ("find_device", "3", "3")}
    assert notified.count(result["flow_id"]) >= 3  # the open dialog reloads at every try
    assert result["step_id"] == "ap_connect"
    assert result["errors"] == {"base": "device_unreachable"}


async def test_closing_at_the_last_step_still_adds_the_device(
    hass: HomeAssistant, cloud: Cloud, loaded: MockConfigEntry
) -> None:
    """The device is bound; closing the name/area step loads it under the cloud's name."""
    cloud.sim.add_gsm_device("gsm-7003", uiid=81)
    result = await start(hass, loaded, "gsm")
    result = await configure(hass, result, {"gsm_id": "gsm-7003"})
    assert result["step_id"] == "finish"
    assert suggested(result)["name"]
    hass.config_entries.subentries.async_abort(result["flow_id"])
    await wait_for(lambda: hass.states.get("switch.gsm_gsm_7003") is not None)


async def test_rename_refused_by_the_cloud_names_it_in_home_assistant(
    hass: HomeAssistant, cloud: Cloud, loaded: MockConfigEntry
) -> None:
    """If eWeLink refuses the new name, Home Assistant still shows the chosen one."""
    device = cloud.sim.add_gsm_device("gsm-7004", uiid=81)
    result = await start(hass, loaded, "gsm")
    result = await configure(hass, result, {"gsm_id": "gsm-7004"})
    cloud.sim.faults.api_error["/v2/device/update-info"] = 500
    await assert_added(
        hass, result, cloud, device.deviceid, "switch.gsm_gsm_7004", {"name": "Gate"}
    )
    cloud.sim.faults.reset()
    entry = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, device.deviceid), loaded.entry_id
    )
    assert entry is not None
    assert (entry.name, entry.name_by_user) == ("GSM gsm-7004", "Gate")


async def test_a_finished_step_is_announced_until_the_dialog_picks_it_up(
    hass: HomeAssistant,
    cloud: Cloud,
    loaded: MockConfigEntry,
    unpaired: UnpairedDevice,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The frontend drops a "flow changed" event that arrives while it renders the previous
    answer, and HA goes on only when the dialog reloads: the event is repeated until it does
    (found in the browser tests: the dialog stayed on "Looking for the device" for good)."""
    monkeypatch.setattr(
        device_flow,
        "TIMINGS",
        PairingTimings(online_timeout=30.0, renotify_interval=0.05, renotify_count=4),
    )
    notified: list[str] = []
    hass.bus.async_listen(
        "data_entry_flow_progressed", lambda event: notified.append(event.data["flow_id"])
    )
    result = await start(hass, loaded, "ap")
    result = await configure(hass, result, {})
    result = await configure(hass, result, WIFI)
    flow_id = result["flow_id"]
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"device_host": "127.0.0.1", "device_port": unpaired.http_port}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    # Nobody reloads the flow (the dialog missed the event): the transfer ends, and HA waits.
    await wait_for(
        lambda: hass.config_entries.subentries.async_get(flow_id)["step_id"] == "ap_bind"
    )
    done_at = notified.count(flow_id)
    await wait_for(lambda: notified.count(flow_id) >= done_at + 3)
    await asyncio.sleep(0.5)
    assert notified.count(flow_id) <= done_at + 4  # a bounded number of repeats
    assert hass.config_entries.subentries.async_get(flow_id)["step_id"] == "ap_bind"
    # The dialog finally reloads: the flow goes on to the end.
    result = await configure(hass, result)
    await assert_added(hass, result, cloud, "10000aa001", "switch.minir2")
