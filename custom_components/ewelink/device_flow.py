"""Add a new device to the account from Home Assistant: an "Add device" subentry flow.

A wizard in the spirit of the vendor apps (pairing.md §4.4, §5.4): choose the kind of device,
see how to put it in pairing mode, enter the Wi-Fi credentials, transfer them (ESP-Touch, or HTTP
on the device's hotspot), bind the device to the account, wait until it comes online, then choose
its name (the cloud's as default) and area. Each progress step says what is running right now
(which address, which attempt). Nothing is stored in the subentry: the flow ends with an abort
that reports the result, and the device appears through the integration's dynamic devices.

The protocol work is in `pairing/` (device side) and `coolkit/` (cloud side); this module only
sequences it and maps errors to translated messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
import logging
from typing import Any

from homeassistant.components import network
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.core import callback
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    AreaSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from .const import DOMAIN
from .coolkit import (
    CoolkitApiError,
    CoolkitConnectionError,
    CoolkitError,
    RateLimitedError,
    ReauthRequiredError,
    Thing,
)
from .coordinator import EwelinkConfigEntry, EwelinkCoordinator
from .pairing import (
    BROADCAST,
    DEFAULT_ACK_PORT,
    DEFAULT_DEVICE_HOST,
    DEFAULT_DEVICE_PORT,
    DEFAULT_PORT,
    DeviceApClient,
    DeviceInfo,
    DeviceRejectedError,
    DeviceResponseError,
    DeviceUnreachableError,
    EspTouchError,
    EspTouchTimeoutError,
    InvalidPairingInputError,
    esptouch_provision,
    parse_gsm_id,
    validate_ipv4,
    validate_target,
    wifi_credentials_errors,
)

_LOGGER = logging.getLogger(__name__)

CONF_SSID = "ssid"
CONF_PASSWORD = "password"
CONF_NAME = "name"
CONF_AREA = "area"
CONF_ADVANCED = "advanced"
CONF_BSSID = "bssid"
CONF_HOST_IP = "host_ip"
CONF_TARGET = "target"
CONF_PORT = "port"
CONF_ACK_PORT = "ack_port"
CONF_DEVICE_HOST = "device_host"
CONF_DEVICE_PORT = "device_port"
CONF_GSM_ID = "gsm_id"

ERROR_30017 = 30017
ERROR_GSM_UNKNOWN = 30003
ERROR_GSM_TAKEN = 30007


@dataclass(frozen=True, slots=True)
class PairingTimings:
    """How long each stage may take (pairing.md §1.8, §3.3, §3.7)."""

    esptouch_send: float = 45.0
    esptouch_listen: float = 60.0
    device_attempts: int = 5
    device_retry_interval: float = 14.0  # 5 tries over about 70 s, as the eWeLink app does
    bind_retry_for: float = 60.0  # after AP mode the host may still be rejoining its network
    online_timeout: float = 90.0
    # The frontend drops a "flow changed" event that arrives while it still renders the answer
    # to the previous one; a progress step that is done then waits for a reload forever. So the
    # event is repeated: once after a new stage, and while a finished step is not picked up.
    renotify_interval: float = 1.0
    renotify_count: int = 30


TIMINGS = PairingTimings()

_PORT = NumberSelector(NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX))
_TEXT = TextSelector()
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


class _PairingFailedError(Exception):
    """A stage failed; `step_id` is where the user can correct and retry, `error` says why."""

    def __init__(self, step_id: str, error: str) -> None:
        super().__init__(error)
        self.step_id = step_id
        self.error = error


class _PairingAbortedError(Exception):
    """A failure no retry can fix (brand not allowed, session gone): end the flow."""

    def __init__(self, reason: str, placeholders: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.placeholders = placeholders or {}


class AddDeviceFlow(ConfigSubentryFlow):
    """Pair a new eWeLink device and bind it to the account."""

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._mode = "ap"
        self._wifi: dict[str, Any] = {}
        self._device_address: dict[str, Any] = {
            CONF_DEVICE_HOST: DEFAULT_DEVICE_HOST,
            CONF_DEVICE_PORT: DEFAULT_DEVICE_PORT,
        }
        self._errors: dict[str, str] = {}
        self._task: asyncio.Task[Any] | None = None
        self._renotify_handle: asyncio.TimerHandle | None = None
        self._renotify_left = 0
        self._info: DeviceInfo | None = None
        self._online: asyncio.Future[None] | None = None
        self._deviceid = ""
        self._thing: Thing | None = None
        self._abort = _PairingAbortedError("cannot_connect")
        self._stage = ""
        self._status: dict[str, str] = {
            "address": "", "attempt": "1", "attempts": "1", "ssid": "", "deviceid": "",
            "seconds": "",
        }  # fmt: skip
        self._added = False

    @callback
    def async_remove(self) -> None:
        """The dialog was closed: stop whatever still runs."""
        self._cancel_renotify()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._online is not None and not self._online.done():
            self._online.cancel()
        if self._thing is not None and not self._added and self._entry_loaded:
            # Bound but closed before the last step: load it now rather than at the next poll.
            self.hass.async_create_task(self._coordinator.async_refresh(), "ewelink_new_device")

    @property
    def _entry(self) -> EwelinkConfigEntry:
        entry: EwelinkConfigEntry = self._get_entry()
        return entry

    @property
    def _entry_loaded(self) -> bool:
        return self._entry.state is ConfigEntryState.LOADED

    @property
    def _coordinator(self) -> EwelinkCoordinator:
        return self._entry.runtime_data.coordinator

    # -- choosing the kind of device ----------------------------------------------------

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask what kind of device to add."""
        if not self._entry_loaded:
            return self.async_abort(reason="not_loaded")
        return self.async_show_menu(step_id="user", menu_options=["touch", "ap", "gsm", "other"])

    async def async_step_touch(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """How to start Touch (quick) pairing."""
        if user_input is None:
            return self.async_show_form(step_id="touch")
        self._mode = "touch"
        return await self.async_step_wifi()

    async def async_step_ap(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """How to start AP (compatible) pairing."""
        if user_input is None:
            return self.async_show_form(step_id="ap")
        self._mode = "ap"
        return await self.async_step_wifi()

    async def async_step_other(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Sub-devices are paired through their hub: instructions only."""
        return self.async_abort(reason="sub_device_instructions")

    # -- Wi-Fi credentials --------------------------------------------------------------

    async def async_step_wifi(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask for the Wi-Fi network the device should join (checked before anything is sent)."""
        errors, self._errors = self._errors, {}
        if user_input is not None:
            values = {**user_input, **user_input.get(CONF_ADVANCED, {})}
            values.pop(CONF_ADVANCED, None)
            errors = {
                key: str(reason)
                for key, reason in wifi_credentials_errors(
                    values.get(CONF_SSID, ""),
                    values.get(CONF_PASSWORD, ""),
                    values.get(CONF_BSSID),
                ).items()
            }
            if self._mode == "touch":
                errors.update(_touch_settings_errors(values))
            if not errors:
                self._wifi = values
                self._status["ssid"] = values[CONF_SSID]
                if self._mode == "touch":
                    return await self.async_step_touch_send()
                return await self.async_step_ap_connect()
        return self.async_show_form(
            step_id="wifi",
            data_schema=self.add_suggested_values_to_schema(
                await self._wifi_schema(), self._suggested_wifi(user_input)
            ),
            description_placeholders=self._placeholders(),
            errors=errors,
        )

    async def _wifi_schema(self) -> vol.Schema:
        fields: dict[Any, Any] = {
            vol.Required(CONF_SSID): _TEXT,
            vol.Optional(CONF_PASSWORD): _PASSWORD,
        }
        if self._mode == "touch":
            advanced = vol.Schema(
                {
                    vol.Optional(CONF_BSSID): _TEXT,
                    vol.Required(CONF_HOST_IP, default=await self._host_ip()): _TEXT,
                    vol.Required(CONF_TARGET, default=BROADCAST): _TEXT,
                    vol.Required(CONF_PORT, default=DEFAULT_PORT): _PORT,
                    vol.Required(CONF_ACK_PORT, default=DEFAULT_ACK_PORT): _PORT,
                    vol.Required(CONF_DEVICE_PORT, default=DEFAULT_DEVICE_PORT): _PORT,
                }
            )
            fields[vol.Required(CONF_ADVANCED)] = section(advanced, {"collapsed": True})
        return vol.Schema(fields)

    def _suggested_wifi(self, user_input: dict[str, Any] | None) -> dict[str, Any]:
        if user_input is not None:
            return user_input
        suggested = {k: v for k, v in self._wifi.items() if k in (CONF_SSID, CONF_PASSWORD)}
        advanced = {k: v for k, v in self._wifi.items() if k not in suggested}
        if advanced:
            suggested[CONF_ADVANCED] = advanced
        return suggested

    async def _host_ip(self) -> str:
        """This host's address on the LAN: the device sends its ESP-Touch ACK there."""
        try:
            return await network.async_get_source_ip(self.hass)
        except Exception:  # noqa: BLE001  a suggestion only; the user can type it
            return ""

    # -- Touch mode ---------------------------------------------------------------------

    async def async_step_touch_send(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Broadcast the credentials; when the device answers, bind it and transfer them."""
        return await self._progress("touch_send", self._touch_pairing, "wait_online")

    async def _touch_pairing(self) -> None:
        wifi = self._wifi
        self._set_stage("touch_broadcast", seconds=str(round(TIMINGS.esptouch_listen)))
        try:
            result = await esptouch_provision(
                wifi[CONF_SSID],
                wifi.get(CONF_PASSWORD, ""),
                wifi.get(CONF_BSSID),
                wifi[CONF_HOST_IP],
                target=wifi[CONF_TARGET],
                port=int(wifi[CONF_PORT]),
                ack_port=int(wifi[CONF_ACK_PORT]),
                send_seconds=TIMINGS.esptouch_send,
                listen_seconds=TIMINGS.esptouch_listen,
            )
        except EspTouchTimeoutError as err:
            raise _PairingFailedError("wifi", "no_ack") from err
        except EspTouchError as err:
            raise _PairingFailedError("wifi", "esptouch_failed") from err
        _LOGGER.debug("Device %s answered ESP-Touch from %s", result.mac, result.ip)
        # The device's server may start a moment after its ACK: retry refused connections.
        device = self._device_client(result.ip, int(wifi[CONF_DEVICE_PORT]), retry_refused=True)
        info = await self._read_device(device, "wifi")
        # Touch order (pairing.md §3.5): bind while the host still has Internet, then /ap.
        self._set_stage("bind")
        await self._bind(info)
        await self._send_wifi(device, "wifi")

    # -- AP mode ------------------------------------------------------------------------

    async def async_step_ap_connect(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Connect this host to the device's hotspot, then transfer the credentials."""
        errors, self._errors = self._errors, {}
        if user_input is not None:
            self._device_address = {
                CONF_DEVICE_HOST: user_input[CONF_DEVICE_HOST].strip(),
                CONF_DEVICE_PORT: int(user_input[CONF_DEVICE_PORT]),
            }
            return await self.async_step_ap_transfer()
        schema = vol.Schema(
            {vol.Required(CONF_DEVICE_HOST): _TEXT, vol.Required(CONF_DEVICE_PORT): _PORT}
        )
        return self.async_show_form(
            step_id="ap_connect",
            data_schema=self.add_suggested_values_to_schema(schema, self._device_address),
            description_placeholders=self._placeholders(),
            errors=errors,
        )

    async def async_step_ap_transfer(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Read the device and give it the Wi-Fi credentials over its hotspot."""
        return await self._progress("ap_transfer", self._ap_transfer, "ap_bind")

    async def _ap_transfer(self) -> None:
        address = self._device_address
        # The hotspot's server is up as soon as the hotspot: "refused" or "no route" is final.
        device = self._device_client(
            address[CONF_DEVICE_HOST], address[CONF_DEVICE_PORT], retry_refused=False
        )
        self._info = await self._read_device(device, "ap_connect")
        self._expect_online(self._info.deviceid)
        await self._send_wifi(device, "ap_connect")

    async def async_step_ap_bind(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Back on the home network: bind the device to the account (AP order, §3.5)."""
        return await self._progress("ap_bind", self._ap_bind, "wait_online")

    async def _ap_bind(self) -> None:
        if self._info is None:  # pragma: no cover - the transfer step sets it
            raise _PairingFailedError("ap_connect", "device_unreachable")
        self._set_stage("ap_bind")
        await self._bind(self._info)

    # -- no-Wi-Fi (GSM) devices -----------------------------------------------------------

    async def async_step_gsm(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a GSM device by the ID printed on it or the URL of its QR code."""
        errors, self._errors = self._errors, {}
        if user_input is not None:
            self._mode = "gsm"
            gsm_id = parse_gsm_id(user_input[CONF_GSM_ID])
            if not gsm_id:
                errors[CONF_GSM_ID] = "gsm_id_invalid"
            else:
                try:
                    thing = await self._cloud(
                        lambda: self._coordinator.client.add_gsm_device(gsm_id, f"GSM {gsm_id}"),
                        retry_for=0,
                    )
                except _PairingFailedError as err:
                    errors["base"] = err.error
                except _PairingAbortedError as err:
                    return self.async_abort(
                        reason=err.reason, description_placeholders=err.placeholders
                    )
                else:
                    self._thing = thing
                    self._expect_online(thing.deviceid, already=thing.online)
                    return await self.async_step_wait_online()
        schema = vol.Schema({vol.Required(CONF_GSM_ID): _TEXT})
        return self.async_show_form(
            step_id="gsm",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
        )

    # -- waiting and the result -----------------------------------------------------------

    async def async_step_wait_online(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Wait for the device's online message."""
        back = "gsm" if self._mode == "gsm" else "wifi"
        return await self._progress("wait_online", lambda: self._wait_online(back), "finish")

    async def _wait_online(self, back: str) -> None:
        if self._online is None:  # pragma: no cover - set before every wait
            raise _PairingFailedError(back, "never_online")
        self._set_stage(
            "wait_online_gsm" if self._mode == "gsm" else "wait_online",
            seconds=str(round(TIMINGS.online_timeout)),
        )
        try:
            async with asyncio.timeout(TIMINGS.online_timeout):
                await asyncio.shield(self._online)
        except TimeoutError as err:
            raise _PairingFailedError(back, "never_online") from err

    async def async_step_finish(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The device is online: choose its name and area, then add it to Home Assistant."""
        thing = self._thing
        if thing is None:  # pragma: no cover - every path binds before it waits
            return self.async_abort(reason="cannot_connect")
        if user_input is None:
            schema = vol.Schema(
                {vol.Required(CONF_NAME): _TEXT, vol.Optional(CONF_AREA): AreaSelector()}
            )
            return self.async_show_form(
                step_id="finish",
                data_schema=self.add_suggested_values_to_schema(
                    schema, {CONF_NAME: _suggested_name(thing)}
                ),
                description_placeholders=self._placeholders(),
            )
        name = user_input[CONF_NAME].strip() or _suggested_name(thing)
        if name != thing.name:
            try:
                await self._coordinator.client.rename_device(thing.deviceid, name)
            except CoolkitError as err:
                _LOGGER.debug("Could not rename %s on eWeLink: %s", thing.deviceid, err)
        await self._coordinator.async_refresh()
        self._added = True
        registry = dr.async_get(self.hass)
        device = registry.async_get_device_by_identifier(
            (DOMAIN, thing.deviceid), self._entry.entry_id
        )
        area = user_input.get(CONF_AREA)
        if device is not None:
            registry.async_update_device(
                device.id,
                area_id=area or device.area_id,
                name_by_user=None if device.name == name else name,
            )
        return self.async_abort(reason="device_added", description_placeholders={"name": name})

    # -- helpers ------------------------------------------------------------------------

    def _placeholders(self) -> dict[str, str]:
        address = self._device_address
        return {
            **self._status,
            "address": self._status["address"]
            or f"{address[CONF_DEVICE_HOST]}:{address[CONF_DEVICE_PORT]}",
        }

    @callback
    def _set_stage(self, stage: str, **status: str) -> None:
        """Say what runs now; the open dialog reloads the step and shows it."""
        self._stage = stage
        self._status.update(status)
        if self._task is not None and not self._task.done():
            self.async_notify_flow_changed()
            self._schedule_renotify(TIMINGS.renotify_count)

    @callback
    def async_show_form(self, **kwargs: Any) -> SubentryFlowResult:
        """Show a form (the dialog has it in its answer: no more repeats of the event)."""
        self._cancel_renotify()
        return super().async_show_form(**kwargs)

    def _schedule_renotify(self, left: int) -> None:
        self._cancel_renotify()
        self._renotify_left = left
        self._renotify_handle = self.hass.loop.call_later(TIMINGS.renotify_interval, self._renotify)

    def _cancel_renotify(self) -> None:
        if self._renotify_handle is not None:
            self._renotify_handle.cancel()
            self._renotify_handle = None

    @callback
    def _renotify(self) -> None:
        """Tell the dialog again that the flow changed (see PairingTimings.renotify_interval)."""
        self._renotify_handle = None
        step_type = self.cur_step["type"] if self.cur_step else None
        if step_type not in (FlowResultType.SHOW_PROGRESS, FlowResultType.SHOW_PROGRESS_DONE):
            return  # a form or the end: the dialog has what it needs
        self.async_notify_flow_changed()
        if step_type is FlowResultType.SHOW_PROGRESS_DONE and self._renotify_left > 1:
            self._schedule_renotify(self._renotify_left - 1)

    @callback
    def _on_attempt(self, request: str, attempt: int, attempts: int) -> None:
        stage = "send_wifi" if request == "POST /ap" else "find_device"
        self._set_stage(stage, attempt=str(attempt), attempts=str(attempts))

    async def _progress(
        self, step_id: str, work: Callable[[], Coroutine[Any, Any, None]], next_step: str
    ) -> SubentryFlowResult:
        """Run `work` as this step's progress task; route to `next_step` or back to a form."""
        if self._task is None:
            self._stage = step_id
            self._task = self.hass.async_create_task(work(), f"ewelink_{step_id}")
        if not self._task.done():
            return self.async_show_progress(
                step_id=step_id,
                progress_action=self._stage,
                progress_task=self._task,
                description_placeholders=self._placeholders(),
            )
        task, self._task = self._task, None
        self._schedule_renotify(TIMINGS.renotify_count)  # until the dialog picks the step up
        try:
            task.result()
        except _PairingFailedError as err:
            self._errors = {"base": err.error}
            return self.async_show_progress_done(next_step_id=err.step_id)
        except _PairingAbortedError as err:
            self._abort = err
            return self.async_show_progress_done(next_step_id="failed")
        return self.async_show_progress_done(next_step_id=next_step)

    async def async_step_failed(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """End the flow after a failure that a retry cannot fix."""
        return self.async_abort(
            reason=self._abort.reason, description_placeholders=self._abort.placeholders
        )

    def _device_client(self, host: str, port: int, *, retry_refused: bool) -> DeviceApClient:
        self._status["address"] = f"{host}:{port}"
        return DeviceApClient(
            async_get_clientsession(self.hass),
            host,
            port,
            attempts=TIMINGS.device_attempts,
            retry_interval=TIMINGS.device_retry_interval,
            on_attempt=self._on_attempt,
            retry_refused=retry_refused,
        )

    async def _read_device(self, device: DeviceApClient, back: str) -> DeviceInfo:
        try:
            info = await device.get_device()
        except DeviceUnreachableError as err:
            error = "device_refused" if err.refused else "device_unreachable"
            raise _PairingFailedError(back, error) from err
        except DeviceResponseError as err:
            raise _PairingFailedError(back, "invalid_response") from err
        self._deviceid = self._status["deviceid"] = info.deviceid
        return info

    async def _send_wifi(self, device: DeviceApClient, back: str) -> None:
        server, port = self._coordinator.client.servers.device_dispatch(
            self._coordinator.client.region or ""
        )
        try:
            await device.send_wifi(
                self._wifi[CONF_SSID], self._wifi.get(CONF_PASSWORD, ""), server, port
            )
        except DeviceRejectedError as err:
            raise _PairingFailedError(back, "device_rejected") from err
        except DeviceUnreachableError as err:
            error = "device_refused" if err.refused else "device_unreachable"
            raise _PairingFailedError(back, error) from err
        except DeviceResponseError as err:
            raise _PairingFailedError(back, "invalid_response") from err

    async def _bind(self, info: DeviceInfo) -> Thing:
        self._expect_online(info.deviceid)
        thing = await self._cloud(
            lambda: self._coordinator.client.add_wifi_device(
                info.deviceid, info.apikey, _placeholder_name(info.deviceid), chipid=info.chipid
            ),
            retry_for=TIMINGS.bind_retry_for if self._mode == "ap" else 0,
        )
        self._thing = thing
        if thing.online and self._online is not None and not self._online.done():
            self._online.set_result(None)
        return thing

    async def _cloud(self, call: Callable[[], Awaitable[Thing]], retry_for: float) -> Thing:
        """Run a cloud call; retry connection errors for `retry_for` seconds; map errors."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + retry_for
        while True:
            try:
                return await call()
            except CoolkitConnectionError as err:
                if loop.time() >= deadline:
                    raise _PairingAbortedError("cannot_connect") from err
                await asyncio.sleep(min(5.0, max(deadline - loop.time(), 0.1)))
            except RateLimitedError as err:
                raise _PairingAbortedError("rate_limited") from err
            except ReauthRequiredError as err:
                raise _PairingAbortedError("reauth_required") from err
            except CoolkitApiError as err:
                if err.code == ERROR_30017:
                    raise _PairingAbortedError("brand_not_allowed") from err
                if err.code == ERROR_GSM_TAKEN:
                    raise _PairingFailedError("gsm", "already_bound") from err
                if err.code == ERROR_GSM_UNKNOWN:
                    raise _PairingFailedError("gsm", "gsm_unknown") from err
                raise _PairingAbortedError("bind_refused", {"code": str(err.code)}) from err
            except CoolkitError as err:
                raise _PairingAbortedError("bind_refused", {"code": type(err).__name__}) from err

    def _expect_online(self, deviceid: str, *, already: bool = False) -> None:
        """Start listening for the device's online message before it can be sent."""
        self._deviceid = self._status["deviceid"] = deviceid
        if self._online is None or self._online.done():
            self._online = self._coordinator.async_expect_online(deviceid)
        if already and not self._online.done():
            self._online.set_result(None)


def _placeholder_name(deviceid: str) -> str:
    """The name a device is bound with; the user chooses the real one at the end."""
    return f"eWeLink {deviceid}"


def _suggested_name(thing: Thing) -> str:
    """The cloud's name, or its product model while the name is still our placeholder."""
    if thing.name == _placeholder_name(thing.deviceid) and thing.model:
        return thing.model
    return thing.name


def _touch_settings_errors(values: dict[str, Any]) -> dict[str, str]:
    """Check the ESP-Touch settings of the advanced section."""
    errors: dict[str, str] = {}
    try:
        validate_ipv4(str(values.get(CONF_HOST_IP, "")), field_name=CONF_HOST_IP)
    except InvalidPairingInputError:
        errors[CONF_ADVANCED] = "host_ip_invalid"
    try:
        validate_target(str(values.get(CONF_TARGET, "")))
    except InvalidPairingInputError:
        errors[CONF_ADVANCED] = "target_invalid"
    return errors
