"""Signing, password login, regions, tokens and the single-session rule."""

from __future__ import annotations

import asyncio

import pytest

from simulator import signing
from simulator.rest import region_of_country

from .conftest import World
from .helpers import compact, sign, user_online, ws_open

OFFICIAL_KEY = "OdPuCZ4PkPPi0rVKRVcGmll2NM6vVk0c"


@pytest.mark.parametrize(
    ("key", "message", "expected"),
    [
        (
            OFFICIAL_KEY,
            b'{"email":"1234@gmail.com","password":"12345678","countryCode":"+1"}',
            "ttZ/gluzqrafvGonjMD20p4//arW6KoZKbo1SOMEzCA=",
        ),
        (
            OFFICIAL_KEY,
            b'{"email": "1234@gmail.com", "password": "12345678", "countryCode": "+1"}',
            "cE/Wl57Ithy21Elieq5wFsYwJWl2IrkBxlmuCnwI73c=",
        ),
        ("abc", b"ABC_123", "v1+mfNY2ukxswM8sZOTg99srZsVnUVv9DGXeav1096M="),
        (
            OFFICIAL_KEY,
            b"appid=McFJj4Noke1mGDZCR1QarGW7P9Ycp0Vr&deviceid=1000012345&nonce=2323dfgh&ts=1558004249",
            "2CqlYZcS8x6LI27DgfX3QdqnVCFqbEz8sZXtOGEFuGc=",
        ),
    ],
)
def test_official_signature_vectors(key: str, message: bytes, expected: str) -> None:
    """The simulator's verifier agrees with the documented vectors (coolkit-cloud.md §3.3)."""
    assert signing.hmac_b64(key, message) == expected
    assert signing.signature_matches(key, message, expected)
    assert not signing.signature_matches(key, message + b" ", expected)
    assert sign(key, message) == expected  # the tests' own helper too


def test_query_signing_and_digest() -> None:
    """GET messages are sorted, decoded `k=v`; the add digest is lowercase hex SHA-256."""
    assert signing.query_messages("nonce=2323dfgh&appid=X&countryCode=%2B86")[0] == (
        b"appid=X&countryCode=+86&nonce=2323dfgh"
    )
    assert signing.device_digest("12", "3") == (
        "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3"
    )
    assert (
        signing.oauth_authorization("abc", "ABC", "123")
        == "v1+mfNY2ukxswM8sZOTg99srZsVnUVv9DGXeav1096M="
    )


async def test_login_success_and_envelope(world: World) -> None:
    """Password login answers the envelope with user, at, rt and region."""
    env = await world.api.call(
        "POST",
        "eu",
        "/v2/user/login",
        body={"email": "OWNER@example.com", "password": "owner-pw", "countryCode": "+49"},
    )
    assert env["error"] == 0
    assert env["msg"] == ""
    data = env["data"]
    assert data["region"] == "eu"
    assert data["user"]["apikey"] == world.owner.apikey
    assert data["user"]["email"] == "owner@example.com"
    assert {"countryCode", "nickname", "accountLevel"} <= set(data["user"])
    assert data["at"] != data["rt"]


async def test_login_redirect_wrong_password_unknown_user(world: World) -> None:
    """10004 with data.region on the wrong region, 10001, 10003; phone logins need a +."""
    api = world.api
    body = {"email": "owner@example.com", "password": "owner-pw", "countryCode": "+49"}
    env = await api.call("POST", "us", "/v2/user/login", body=body)
    assert env == {"error": 10004, "msg": "redirection", "data": {"region": "eu"}}
    env = await api.call("POST", "eu", "/v2/user/login", body={**body, "password": "nope"})
    assert env["error"] == 10001
    env = await api.call("POST", "eu", "/v2/user/login", body={**body, "email": "who@example.com"})
    assert env["error"] == 10003
    world.sim.add_account(phone="+8613800000000", password="pw", region="cn", country_code="+86")
    env = await api.call(
        "POST",
        "eu",
        "/v2/user/login",
        body={"phoneNumber": "+8613800000000", "password": "pw", "countryCode": "+86"},
    )
    assert env["error"] == 10004
    assert env["data"]["region"] == "cn"
    env = await api.call(
        "POST", "cn", "/v2/user/login", body={"phoneNumber": "+8613800000000", "password": "pw"}
    )
    assert env["error"] == 0
    env = await api.call(
        "POST", "cn", "/v2/user/login", body={"phoneNumber": "8613800000000", "password": "pw"}
    )
    assert env["error"] == 400


async def test_forced_region_redirect_once(world: World) -> None:
    """The force_region_redirect knob answers 10004 once, then logins work again."""
    world.sim.faults.force_region_redirect = "as"
    body = {"email": "owner@example.com", "password": "owner-pw"}
    env = await world.api.call("POST", "eu", "/v2/user/login", body=body)
    assert env["error"] == 10004
    assert env["data"] == {"region": "as"}
    env = await world.api.call("POST", "as", "/v2/user/login", body=body)
    assert env["error"] == 10004
    assert env["data"] == {"region": "eu"}
    env = await world.api.call("POST", "eu", "/v2/user/login", body=body)
    assert env["error"] == 0


async def test_signature_rejects(world: World) -> None:
    """Bad signature, re-serialised body, missing or unknown appid: 400; nonce is optional."""
    api = world.api
    body = {"email": "owner@example.com", "password": "owner-pw"}
    raw = compact(body)
    bad = {"error": 400, "msg": "sign verification failed", "data": {}}
    # Signed over other bytes (pretty-printed) than the ones sent.
    status, env = await api.request(
        "POST",
        "eu",
        "/v2/user/login",
        body=raw,
        signature=sign(world.app.secret, b'{"email": "owner@example.com"}'),
    )
    assert status == 200
    assert env == bad
    # Signed with another app's secret.
    status, env = await api.request(
        "POST", "eu", "/v2/user/login", body=raw, signature=sign("wrong", raw)
    )
    assert env == bad
    status, env = await api.request("POST", "eu", "/v2/user/login", body=raw, appid="NoSuchApp")
    assert env == bad
    status, env = await api.request("POST", "eu", "/v2/user/login", body=raw, appid=None)
    assert env["error"] == 400
    # No Authorization at all.
    status, env = await api.request(
        "POST", "eu", "/v2/user/login", body=raw, headers={"Authorization": ""}
    )
    assert env["error"] == 400
    # Missing and short nonce, both content types: accepted.
    for headers in ({"X-CK-Nonce": ""}, {"X-CK-Nonce": "ab"}):
        status, env = await api.request("POST", "eu", "/v2/user/login", body=raw, headers=headers)
        assert env["error"] == 0
    status, env = await api.request(
        "POST", "eu", "/v2/user/login", body=raw, content_type="application/json; charset=utf-8"
    )
    assert env["error"] == 0
    status, env = await api.request(
        "POST", "eu", "/v2/user/login", body=raw, content_type="text/plain"
    )
    assert env["error"] == 400
    world.sim.faults.reject_signature = True
    status, env = await api.request("POST", "eu", "/v2/user/login", body=raw)
    assert env == bad


async def test_get_region_global_and_regional(world: World) -> None:
    """get-region accepts +49 and 49 (signed decoded) on the global and regional hosts."""
    api = world.api
    for code, region in (("+49", "eu"), ("49", "eu"), ("+86", "cn"), ("1", "us"), ("+91", "as")):
        env = await api.call("GET", None, "/v2/utils/get-region", params={"countryCode": code})
        assert env == {"error": 0, "msg": "", "data": {"region": region}}, code
    env = await api.call("GET", "cn", "/v2/utils/get-region", params={"countryCode": "+44"})
    assert env["data"] == {"region": "eu"}
    env = await api.call(
        "GET",
        None,
        "/v2/utils/get-region",
        params={"countryCode": "+49"},
        signature=sign(world.app.secret, b"countryCode=%2B49"),
    )
    assert env["error"] == 400  # the encoded form is not what is signed
    env = await api.call("GET", None, "/v2/user/profile", params={})
    assert env["error"] == 403
    assert env["msg"] == "api not found"
    assert region_of_country("+7") == "eu"


async def test_unknown_endpoint(world: World) -> None:
    """An unknown path answers 403 "api not found" in the envelope; unknown regions 404."""
    env = await world.api.call("GET", "eu", "/v2/nothing/here", params={})
    assert env == {"error": 403, "msg": "api not found", "data": {}}
    status, _ = await world.api.request("GET", "xx", "/v2/family", params={})
    assert status == 404


async def test_profile_logout_and_bearer_rules(world: World) -> None:
    """Profile, region-bound tokens (401 elsewhere), Sign on Bearer endpoints, logout."""
    api = world.api
    data = await api.login("owner@example.com", "owner-pw")
    at = data["at"]
    env = await api.bearer("GET", "/v2/user/profile", at)
    assert env["data"]["user"]["apikey"] == world.owner.apikey
    assert env["data"]["region"] == "eu"
    env = await api.bearer("GET", "/v2/user/profile", at, region="us")
    assert env["error"] == 401
    env = await api.call("GET", "eu", "/v2/user/profile", params={})
    assert env["error"] == 401
    env = await api.bearer("GET", "/v2/user/profile", at, appid=world.oauth_app.appid)
    assert env["error"] == 401
    env = await api.bearer("GET", "/v2/user/profile", "f" * 40)
    assert env == {"error": 401, "msg": "cannot found access token info", "data": {}}
    env = await api.bearer("DELETE", "/v2/user/logout", at)
    assert env["error"] == 0
    env = await api.bearer("GET", "/v2/user/profile", at)
    assert env["error"] == 401


async def test_single_session_rule_rest(world: World) -> None:
    """A second login with the same app ID revokes the first tokens; another app ID does not."""
    api = world.api
    first = await api.login("owner@example.com", "owner-pw")
    second = await api.login("owner@example.com", "owner-pw")
    assert first["at"] != second["at"]
    env = await api.bearer("GET", "/v2/family", first["at"])
    assert env["error"] == 401
    env = await api.call("POST", "eu", "/v2/user/refresh", body={"rt": first["rt"]})
    assert env["error"] == 405
    env = await api.bearer("GET", "/v2/family", second["at"])
    assert env["error"] == 0
    other = world.sim.add_app("AnotherApp0000000000000000000003", "AnotherSecret000000000000000003")
    await api.login("owner@example.com", "owner-pw", app=other)
    env = await api.bearer("GET", "/v2/family", second["at"])
    assert env["error"] == 0


async def test_expiry_and_refresh_rotation(world: World) -> None:
    """402 once the at expires; refresh rotates both tokens and the old ones die."""
    api, sim = world.api, world.sim
    data = await api.login("owner@example.com", "owner-pw")
    sim.expire_tokens(world.owner, world.app.appid, access=True)
    env = await api.bearer("GET", "/v2/family", data["at"])
    assert env == {"error": 402, "msg": "access token expired", "data": {}}
    env = await api.call("POST", "eu", "/v2/user/refresh", body={"rt": data["rt"]})
    assert env["error"] == 0
    fresh = env["data"]
    assert set(fresh) == {"at", "rt"}
    assert fresh["at"] != data["at"]
    assert fresh["rt"] != data["rt"]
    assert (await api.bearer("GET", "/v2/family", fresh["at"]))["error"] == 0
    assert (await api.bearer("GET", "/v2/family", data["at"]))["error"] == 401
    env = await api.call("POST", "eu", "/v2/user/refresh", body={"rt": data["rt"]})
    assert env["error"] == 405
    # Refresh authenticated with the (expired) Bearer at instead of Sign also works.
    sim.expire_tokens(world.owner, world.app.appid, access=True)
    env = await api.bearer("POST", "/v2/user/refresh", fresh["at"], body={"rt": fresh["rt"]})
    assert env["error"] == 0
    newest = env["data"]
    # An expired rt: refresh fails with 405.
    sim.expire_tokens(world.owner, world.app.appid, access=False, refresh=True)
    env = await api.call("POST", "eu", "/v2/user/refresh", body={"rt": newest["rt"]})
    assert env["error"] == 405
    env = await api.call("POST", "eu", "/v2/user/refresh", body={"rt": "nonsense"})
    assert env["error"] == 405


async def test_short_lifetimes_expire_naturally(world: World) -> None:
    """Configured lifetimes apply (402 without any knob)."""
    world.sim.config.at_lifetime = 0.2
    data = await world.api.login("owner@example.com", "owner-pw")
    assert (await world.api.bearer("GET", "/v2/family", data["at"]))["error"] == 0
    await asyncio.sleep(0.3)
    assert (await world.api.bearer("GET", "/v2/family", data["at"]))["error"] == 402


async def test_oauth_only_app_and_appid_faults(world: World) -> None:
    """407 for password login with an OAuth-only app; 408 with data null when the appid expired."""
    api = world.api
    env = await api.call(
        "POST",
        "eu",
        "/v2/user/login",
        body={"email": "owner@example.com", "password": "owner-pw"},
        app=world.oauth_app,
    )
    assert env["error"] == 407
    assert env["data"] == {}
    world.sim.faults.appid_no_password_login = True
    env = await api.call(
        "POST", "eu", "/v2/user/login", body={"email": "owner@example.com", "password": "owner-pw"}
    )
    assert env["error"] == 407
    world.sim.faults.appid_no_password_login = False
    world.sim.faults.appid_expired = True
    env = await api.call(
        "POST", "eu", "/v2/user/login", body={"email": "owner@example.com", "password": "owner-pw"}
    )
    assert env == {"error": 408, "msg": "appid has expired", "data": None}


async def test_ws_handshake_with_revoked_or_expired_at(world: World) -> None:
    """A handshake with an at revoked by a newer login, or expired, gets 406 then a close."""
    api, sim = world.api, world.sim
    first = await api.login("owner@example.com", "owner-pw")
    await api.login("owner@example.com", "owner-pw")
    ws, reply = await ws_open(
        api.http, sim, user_online(first["at"], world.owner.apikey, world.app.appid)
    )
    assert reply is not None
    assert reply["error"] == 406
    assert reply["reason"] == "Authentication Failed"
    msg = await ws.receive(timeout=3)
    assert msg.type.name in ("CLOSE", "CLOSED")
    assert ws.close_code == 1000
    third = await api.login("owner@example.com", "owner-pw")
    sim.expire_tokens(world.owner, world.app.appid)
    ws, reply = await ws_open(
        api.http, sim, user_online(third["at"], world.owner.apikey, world.app.appid)
    )
    assert reply is not None
    assert reply["error"] == 406
    await ws.close()


async def test_second_login_kicks_the_live_socket(world: World) -> None:
    """Single-session rule on the websocket: a second login sends 406 then closes with 1000."""
    api, sim = world.api, world.sim
    first = await api.login("owner@example.com", "owner-pw")
    ws, reply = await ws_open(
        api.http, sim, user_online(first["at"], world.owner.apikey, world.app.appid)
    )
    assert reply is not None
    assert reply["error"] == 0
    await api.login("owner@example.com", "owner-pw")
    frame = await ws.receive_json(timeout=3)
    assert frame["error"] == 406
    assert frame["reason"] == "Authentication Failed"
    msg = await ws.receive(timeout=3)
    assert msg.type.name in ("CLOSE", "CLOSED")
    assert ws.close_code == 1000
    await sim.wait_for(lambda: sim.app_sessions(world.owner) == 0)


async def test_takeover_keeping_the_refresh_token(world: World) -> None:
    """With the reference's literal reading, only the at dies; refreshing takes the session back."""
    api, sim = world.api, world.sim
    sim.faults.takeover_keeps_refresh = True
    first = await api.login("owner@example.com", "owner-pw")
    second = await api.login("owner@example.com", "owner-pw")
    assert (await api.bearer("GET", "/v2/family", first["at"]))["error"] == 401
    env = await api.call("POST", "eu", "/v2/user/refresh", body={"rt": first["rt"]})
    assert env["error"] == 0
    assert (await api.bearer("GET", "/v2/family", env["data"]["at"]))["error"] == 0
    # The second client is now the one taken over; its rt can take the session back again.
    assert (await api.bearer("GET", "/v2/family", second["at"]))["error"] == 401
    env = await api.call("POST", "eu", "/v2/user/refresh", body={"rt": second["rt"]})
    assert env["error"] == 0
