"""AP-mode HTTP client against a small local aiohttp device (GET /device, POST /ap)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
import hashlib
import json
import logging
import socket
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.ewelink.pairing import (
    DEFAULT_DEVICE_HOST,
    DEFAULT_DEVICE_PORT,
    REQUEST_HEADERS,
    DeviceApClient,
    DeviceApError,
    DeviceInfo,
    DeviceRejectedError,
    DeviceResponseError,
    DeviceUnreachableError,
    ErrorReason,
    InvalidPairingInputError,
    PairingError,
    ap_provision,
    bind_digest,
    device_dispatch_host,
)

from .udp_helpers import LOOPBACK
from .vectors import load_vector

APIKEY = "4b21ebbe-8870-4d4a-93f2-0123456789ab"
DEVICE_JSON = {"deviceid": "100000788a", "apikey": APIKEY, "chipid": "sjljb", "accept": " post"}
PASSWORD = "wifi-s3cret-pw"

# (status, body) where body is JSON-serialisable or raw bytes; an optional delay in seconds.
type Reply = tuple[int, Any] | tuple[int, Any, float]


@dataclass
class Request:
    """A request the fake device received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeDevice:
    """An eWeLink device in pairing mode: scripted replies per path, last one repeats."""

    replies: dict[str, list[Reply]] = field(
        default_factory=lambda: {"/device": [(200, DEVICE_JSON)], "/ap": [(200, {"error": 0})]}
    )
    requests: list[Request] = field(default_factory=list)
    runner: web.AppRunner | None = None
    port: int = 0

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(Request(request.method, request.path, dict(request.headers), body))
        script = self.replies[request.path]
        count = sum(1 for r in self.requests if r.path == request.path)
        reply = script[min(count, len(script)) - 1]
        if len(reply) == 3:
            await asyncio.sleep(reply[2])
        status, payload = reply[0], reply[1]
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return web.Response(status=status, body=raw, content_type="application/json")

    async def start(self, port: int = 0) -> int:
        app = web.Application()
        app.router.add_get("/device", self._handle)
        app.router.add_post("/ap", self._handle)
        self.runner = web.AppRunner(app, handler_cancellation=True)
        await self.runner.setup()
        await web.TCPSite(self.runner, LOOPBACK, port).start()
        self.port = self.runner.addresses[0][1]
        return self.port

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def device(socket_enabled: None) -> AsyncIterator[FakeDevice]:
    fake = FakeDevice()
    await fake.start()
    yield fake
    await fake.close()


def _client(session: aiohttp.ClientSession, port: int, **kwargs: Any) -> DeviceApClient:
    options: dict[str, Any] = {"attempts": 3, "retry_interval": 0.05, "request_timeout": 1.0}
    options.update(kwargs)
    return DeviceApClient(session, LOOPBACK, port, **options)


def _free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
    return port


def _assert_no_secrets(*texts: str) -> None:
    for text in texts:
        assert APIKEY not in text
        assert PASSWORD not in text


# --- helpers -----------------------------------------------------------------------------


def test_bind_digest_check_value() -> None:
    check = load_vector("ewelink_pairing_http.json")["cloud_bind"]["digest_check"]
    assert check["input"] == "123"
    assert bind_digest("1", "23") == check["sha256"]
    assert bind_digest("12", "3") == hashlib.sha256(b"123").hexdigest()
    assert (
        bind_digest("100000788a", APIKEY)
        == hashlib.sha256(f"100000788a{APIKEY}".encode()).hexdigest()
    )
    assert DeviceInfo("100000788a", APIKEY).digest == bind_digest("100000788a", APIKEY)


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("eu", "eu-dispd.coolkit.cc"),
        ("us", "us-dispd.coolkit.cc"),
        ("as", "as-dispd.coolkit.cc"),
        ("cn", "cn-dispd.coolkit.cn"),
        (" EU ", "eu-dispd.coolkit.cc"),
    ],
)
def test_device_dispatch_host(region: str, host: str) -> None:
    assert device_dispatch_host(region) == (host, 443)


def test_dispatch_hosts_match_vector_notes() -> None:
    notes = " ".join(load_vector("ewelink_pairing_http.json")["post_ap"]["request"]["notes"])
    for region in ("cn", "us", "eu", "as"):
        assert device_dispatch_host(region)[0] in notes


@pytest.mark.parametrize("region", ["", "au", "test", "eu-dispd"])
def test_device_dispatch_host_unknown_region(region: str) -> None:
    with pytest.raises(InvalidPairingInputError) as err:
        device_dispatch_host(region)
    assert err.value.reason == ErrorReason.REGION_UNKNOWN


def test_device_info_repr_hides_apikey() -> None:
    info = DeviceInfo("100000788a", APIKEY, "sjljb", "post")
    assert APIKEY not in repr(info)
    assert APIKEY not in str(info)
    assert "100000788a" in repr(info)


def test_client_defaults_and_repr() -> None:
    assert (DEFAULT_DEVICE_HOST, DEFAULT_DEVICE_PORT) == ("10.10.7.1", 80)
    client = DeviceApClient(session=None)  # type: ignore[arg-type]
    assert repr(client) == "<DeviceApClient http://10.10.7.1:80>"
    assert (client.host, client.port) == ("10.10.7.1", 80)
    with pytest.raises(ValueError, match="attempts"):
        DeviceApClient(None, attempts=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidPairingInputError):
        DeviceApClient(None, LOOPBACK, 0)  # type: ignore[arg-type]


def test_headers_match_reference() -> None:
    assert REQUEST_HEADERS == {
        "Accept": "application/json",
        "Content-Type": "application/json; charset=utf-8",
        "Package-Name": "com.coolkit",
        "Cache-Control": "no-store",
    }
    documented = load_vector("ewelink_pairing_http.json")["get_device"]["request"]["headers"]
    assert documented.keys() == REQUEST_HEADERS.keys()
    for name, value in documented.items():
        assert value.replace(" ", "").lower() == REQUEST_HEADERS[name].replace(" ", "").lower()


# --- happy paths ---------------------------------------------------------------------------


async def test_ap_provision_happy_path(
    device: FakeDevice, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    info = await ap_provision(
        session,
        "MyWiFi",
        PASSWORD,
        server_name="eu-dispd.coolkit.cc",
        server_port=443,
        host=LOOPBACK,
        port=device.port,
    )
    assert info == DeviceInfo("100000788a", APIKEY, "sjljb", "post")
    assert [(r.method, r.path) for r in device.requests] == [("GET", "/device"), ("POST", "/ap")]
    for request in device.requests:
        for name, value in REQUEST_HEADERS.items():
            assert request.headers[name] == value
    body = json.loads(device.requests[1].body)
    assert body == {
        "port": 443,
        "serverName": "eu-dispd.coolkit.cc",
        "password": PASSWORD,
        "ssid": "MyWiFi",
    }
    assert type(body["port"]) is int
    assert b'"port":443' in device.requests[1].body
    official = load_vector("ewelink_pairing_http.json")["post_ap"]["request"]["json_official"]
    assert body.keys() == official.keys()
    _assert_no_secrets(caplog.text)


async def test_custom_server_and_version(
    device: FakeDevice, session: aiohttp.ClientSession
) -> None:
    await _client(session, device.port).send_wifi("MyAP", PASSWORD, "10.0.0.216", 8443, version=4)
    body = json.loads(device.requests[0].body)
    assert body == {
        "port": 8443,
        "serverName": "10.0.0.216",
        "password": PASSWORD,
        "ssid": "MyAP",
        "version": 4,
    }


async def test_unicode_credentials_are_utf8_json(
    device: FakeDevice, session: aiohttp.ClientSession
) -> None:
    await _client(session, device.port).send_wifi("Café ☕", "pässwörd", "eu-dispd.coolkit.cc", 443)
    assert json.loads(device.requests[0].body.decode("utf-8"))["ssid"] == "Café ☕"


async def test_older_firmware_without_chipid(
    device: FakeDevice, session: aiohttp.ClientSession
) -> None:
    example = load_vector("ewelink_pairing_http.json")["get_device"]["response_examples"][1]
    device.replies["/device"] = [(200, example["json"])]
    info = await _client(session, device.port).get_device()
    assert info.chipid is None
    assert info.accept == "post"
    assert info.deviceid == example["json"]["deviceid"]


async def test_documented_example_parses(
    device: FakeDevice, session: aiohttp.ClientSession
) -> None:
    example = load_vector("ewelink_pairing_http.json")["get_device"]["response_examples"][0]
    device.replies["/device"] = [(200, {**example["json"], "extra": [1, 2]})]
    info = await _client(session, device.port).get_device()
    assert (info.deviceid, info.chipid, info.accept) == ("100000788a", "sjljb", "post")


async def test_error_zero_as_string_is_accepted(
    device: FakeDevice, session: aiohttp.ClientSession
) -> None:
    device.replies["/ap"] = [(200, {"error": "0", "reason": "ok"})]
    await _client(session, device.port).send_wifi("MyWiFi", PASSWORD, "eu-dispd.coolkit.cc", 443)


# --- retries and unreachable ---------------------------------------------------------------


@pytest.mark.usefixtures("socket_enabled")
async def test_retries_until_device_answers(session: aiohttp.ClientSession) -> None:
    port = _free_tcp_port()
    fake = FakeDevice()

    async def start_late() -> None:
        await asyncio.sleep(0.25)
        await fake.start(port)

    starter = asyncio.create_task(start_late())
    try:
        client = _client(session, port, attempts=10, retry_interval=0.1, request_timeout=0.5)
        info = await client.get_device()
    finally:
        await starter
        await fake.close()
    assert info.deviceid == "100000788a"
    assert len(fake.requests) == 1


async def test_retries_on_server_errors(device: FakeDevice, session: aiohttp.ClientSession) -> None:
    device.replies["/device"] = [(503, b"busy"), (500, b"oops"), (200, DEVICE_JSON)]
    info = await _client(session, device.port).get_device()
    assert info.apikey == APIKEY
    assert len(device.requests) == 3


async def test_retries_on_timeout(device: FakeDevice, session: aiohttp.ClientSession) -> None:
    device.replies["/ap"] = [(200, {"error": 0}, 0.5), (200, {"error": 0})]
    client = _client(session, device.port, request_timeout=0.1)
    await client.send_wifi("MyWiFi", PASSWORD, "eu-dispd.coolkit.cc", 443)
    assert len(device.requests) == 2


@pytest.mark.usefixtures("socket_enabled")
async def test_unreachable_after_configured_attempts(session: aiohttp.ClientSession) -> None:
    port = _free_tcp_port()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DeviceUnreachableError) as err:
        await _client(session, port, attempts=4, retry_interval=0.05).get_device()
    assert loop.time() - started >= 0.15  # three waits of 0.05 s between four attempts
    assert err.value.attempts == 4
    assert err.value.reason == ErrorReason.DEVICE_UNREACHABLE
    assert isinstance(err.value, DeviceApError)
    assert isinstance(err.value, PairingError)
    assert f"{LOOPBACK}:{port}" in str(err.value)
    assert "4 attempts" in str(err.value)


async def test_timeouts_exhaust_attempts(
    device: FakeDevice, session: aiohttp.ClientSession
) -> None:
    device.replies["/device"] = [(200, DEVICE_JSON, 0.3)]
    with pytest.raises(DeviceUnreachableError, match="TimeoutError"):
        await _client(session, device.port, attempts=2, request_timeout=0.05).get_device()
    assert len(device.requests) == 2


async def test_persistent_server_error_is_unreachable(
    device: FakeDevice, session: aiohttp.ClientSession
) -> None:
    device.replies["/ap"] = [(502, b"bad gateway")]
    with pytest.raises(DeviceUnreachableError, match="HTTP 502") as err:
        await _client(session, device.port).send_wifi(
            "MyWiFi", PASSWORD, "eu-dispd.coolkit.cc", 443
        )
    _assert_no_secrets(str(err.value), repr(err.value))


# --- malformed answers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "detail"),
    [
        ((200, b"<html>" + APIKEY.encode() + b"</html>"), "not_json"),
        ((200, b"\xff\xfe"), "not_json"),
        ((200, b""), "not_json"),
        ((200, [DEVICE_JSON]), "not_object"),
        ((200, {"apikey": APIKEY, "chipid": "x"}), "missing_field"),
        ((200, {"deviceid": "100000788a", "chipid": "x"}), "missing_field"),
        ((200, {"deviceid": "100000788a", "apikey": ""}), "bad_field"),
        ((200, {"deviceid": 12, "apikey": APIKEY}), "bad_field"),
        ((404, b"not found"), "http_status"),
    ],
)
async def test_malformed_device_answers(
    device: FakeDevice, session: aiohttp.ClientSession, reply: Reply, detail: str
) -> None:
    device.replies["/device"] = [reply]
    with pytest.raises(DeviceResponseError) as err:
        await _client(session, device.port).get_device()
    assert err.value.detail == detail
    assert err.value.reason == ErrorReason.INVALID_RESPONSE
    assert len(device.requests) == 1  # malformed answers are not retried
    _assert_no_secrets(str(err.value), repr(err.value))
    assert err.value.__context__ is None  # no JSONDecodeError holding the body
    assert err.value.__cause__ is None


@pytest.mark.parametrize("error", [1, 400, -1, "1", None, True, 0.5])
async def test_ap_refused(
    device: FakeDevice, session: aiohttp.ClientSession, error: object
) -> None:
    device.replies["/ap"] = [(200, {"error": error})]
    with pytest.raises(DeviceRejectedError) as err:
        await _client(session, device.port).send_wifi(
            "MyWiFi", PASSWORD, "eu-dispd.coolkit.cc", 443
        )
    assert err.value.error_code == error
    assert err.value.reason == ErrorReason.DEVICE_REJECTED
    assert len(device.requests) == 1
    _assert_no_secrets(str(err.value), repr(err.value))


async def test_ap_answer_without_error_field(
    device: FakeDevice, session: aiohttp.ClientSession
) -> None:
    device.replies["/ap"] = [(200, {"reason": "ok"})]
    with pytest.raises(DeviceResponseError) as err:
        await _client(session, device.port).send_wifi(
            "MyWiFi", PASSWORD, "eu-dispd.coolkit.cc", 443
        )
    assert err.value.detail == "missing_field"


async def test_ap_provision_stops_when_device_answer_is_bad(
    device: FakeDevice, session: aiohttp.ClientSession
) -> None:
    device.replies["/device"] = [(200, {"deviceid": "100000788a"})]
    with pytest.raises(DeviceResponseError):
        await ap_provision(
            session,
            "MyWiFi",
            PASSWORD,
            server_name="eu-dispd.coolkit.cc",
            server_port=443,
            host=LOOPBACK,
            port=device.port,
            attempts=1,
        )
    assert [r.path for r in device.requests] == ["/device"]  # credentials never sent


# --- validation before any request ---------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        ("MyWiFi", PASSWORD, "eu-dispd.coolkit.cc", "443", ErrorReason.PORT_INVALID),
        ("MyWiFi", PASSWORD, "eu-dispd.coolkit.cc", True, ErrorReason.PORT_INVALID),
        ("MyWiFi", PASSWORD, "eu-dispd.coolkit.cc", 443.0, ErrorReason.PORT_INVALID),
        ("MyWiFi", PASSWORD, "eu-dispd.coolkit.cc", 0, ErrorReason.PORT_INVALID),
        ("MyWiFi", PASSWORD, "", 443, ErrorReason.SERVER_INVALID),
        ("MyWiFi", PASSWORD, "bad host", 443, ErrorReason.SERVER_INVALID),
        ("", PASSWORD, "eu-dispd.coolkit.cc", 443, ErrorReason.SSID_EMPTY),
        ("MyWiFi", "short", "eu-dispd.coolkit.cc", 443, ErrorReason.PASSWORD_LENGTH),
    ],
)
async def test_inputs_validated_before_any_request(
    device: FakeDevice, session: aiohttp.ClientSession, case: tuple[str, str, str, Any, ErrorReason]
) -> None:
    ssid, password, server_name, server_port, reason = case
    with pytest.raises(InvalidPairingInputError) as err:
        await ap_provision(
            session,
            ssid,
            password,
            server_name=server_name,
            server_port=server_port,
            host=LOOPBACK,
            port=device.port,
        )
    assert err.value.reason == reason
    with pytest.raises(InvalidPairingInputError):
        await _client(session, device.port).send_wifi(ssid, password, server_name, server_port)
    assert device.requests == []
    _assert_no_secrets(str(err.value))


@pytest.mark.usefixtures("socket_enabled")
async def test_refused_fails_at_once_without_retry_refused(session: aiohttp.ClientSession) -> None:
    """AP mode: "connection refused" is final (no 14 s waits); each try is reported first."""
    port = _free_tcp_port()
    tries: list[tuple[str, int, int]] = []
    client = DeviceApClient(
        session, LOOPBACK, port, attempts=5, retry_interval=30.0,
        on_attempt=lambda *args: tries.append(args), retry_refused=False,
    )  # fmt: skip
    with pytest.raises(DeviceUnreachableError) as err:
        await asyncio.wait_for(client.get_device(), 5)
    assert err.value.refused
    assert err.value.attempts == 1
    assert tries == [("GET /device", 1, 5)]
    assert f"{LOOPBACK}:{port}" in str(err.value)


async def test_attempts_are_reported(device: FakeDevice, session: aiohttp.ClientSession) -> None:
    """on_attempt hears about every try, numbered, before it is made."""
    device.replies["/device"] = [(503, b"busy"), (200, DEVICE_JSON)]
    tries: list[tuple[str, int, int]] = []
    client = _client(session, device.port, on_attempt=lambda *args: tries.append(args))
    await client.get_device()
    assert tries == [("GET /device", 1, client.attempts), ("GET /device", 2, client.attempts)]
