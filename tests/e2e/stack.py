"""The system under test: scripts/develop's Home Assistant and simulated cloud, and REST helpers.

`Stack.start()` runs `scripts/develop --fresh` in a new configuration directory on free ports,
so the browser tests never touch a developer's running instance; `Stack.attach(DIR)` uses an
instance that already runs on DIR (EWELINK_E2E_ATTACH=DIR, for iterating on the tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import tempfile
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "dev", "dev-password"


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(
    method: str, url: str, body: Any = None, *, token: str | None = None, form: bool = False
) -> Any:
    """One HTTP call; returns the decoded JSON answer (None when empty)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310  local test servers
        raw = answer.read()
    return json.loads(raw) if raw else None


def wait_until(predicate: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll `predicate()` until it returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(0.25)


@dataclass
class Stack:
    """A running scripts/develop: Home Assistant, the simulated cloud and what it printed."""

    config: Path
    ha_url: str
    sim: dict[str, Any]
    process: subprocess.Popen[bytes] | None = None
    _token: str | None = field(default=None, repr=False)

    @classmethod
    def start(cls) -> Stack:
        """Start scripts/develop --fresh on free ports in a temporary configuration."""
        config = Path(tempfile.mkdtemp(prefix="ewelink-e2e-config-"))
        ha_port, sim_port = free_port(), free_port()
        env = {**os.environ, "EWELINK_HA_PORT": str(ha_port), "EWELINK_SIM_PORT": str(sim_port)}
        log = (config / "develop.out").open("wb")
        process = subprocess.Popen(  # noqa: S603
            [str(ROOT / "scripts" / "develop"), "--fresh", "--config", str(config)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            wait_until(
                lambda: (
                    process.poll() is not None
                    or "Stop with Ctrl+C" in (config / "develop.out").read_text(errors="replace")
                ),
                timeout=600,
                what="scripts/develop ready",
            )
        except BaseException:
            os.killpg(process.pid, signal.SIGTERM)
            raise
        if process.poll() is not None:
            raise RuntimeError(
                "scripts/develop exited:\n" + (config / "develop.out").read_text()[-3000:]
            )
        return cls(config, f"http://127.0.0.1:{ha_port}", cls._read_sim(config), process)

    @classmethod
    def attach(cls, config: str) -> Stack:
        """Use a scripts/develop that already runs on `config`."""
        path = Path(config).resolve()
        http_store = json.loads((path / ".storage" / "http").read_text())
        port = http_store["data"]["stable"]["server_port"]
        return cls(path, f"http://127.0.0.1:{port}", cls._read_sim(path))

    @staticmethod
    def _read_sim(config: Path) -> dict[str, Any]:
        return dict(json.loads((config / "simulator.json").read_text().splitlines()[0]))

    def stop(self) -> None:
        """Stop scripts/develop (and with it Home Assistant and the simulator)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    # -- the simulated cloud -----------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call the simulator's admin API (`/_sim...`)."""
        return http(method, f"{self.sim['admin_url']}{path}", body)

    def app(self, *, password_login: bool) -> dict[str, Any]:
        """The simulator's password app or its OAuth-only app."""
        return next(a for a in self.sim["apps"] if a["password_login"] is password_login)

    def account(self, email: str) -> dict[str, Any]:
        """One of the simulator's accounts by e-mail."""
        return next(a for a in self.sim["accounts"] if a["email"] == email)

    # -- Home Assistant over REST ------------------------------------------------------

    @property
    def token(self) -> str:
        """An access token of the development user (login flow over REST)."""
        if self._token is None:
            client = f"{self.ha_url}/"
            flow = http("POST", f"{self.ha_url}/auth/login_flow", {
                "client_id": client, "handler": ["homeassistant", None], "redirect_uri": client,
            })  # fmt: skip
            done = http("POST", f"{self.ha_url}/auth/login_flow/{flow['flow_id']}", {
                "client_id": client, "username": USER, "password": PASSWORD,
            })  # fmt: skip
            tokens = http(
                "POST", f"{self.ha_url}/auth/token",
                {"grant_type": "authorization_code", "code": done["result"], "client_id": client},
                form=True,
            )  # fmt: skip
            self._token = str(tokens["access_token"])
        return self._token

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call Home Assistant's REST API as the development user."""
        return http(method, f"{self.ha_url}{path}", body, token=self.token)

    def entries(self) -> list[dict[str, Any]]:
        """The eWeLink config entries."""
        return list(self.api("GET", "/api/config/config_entries/entry?domain=ewelink"))

    def state(self, entity_id: str) -> str | None:
        """An entity's state, or None when it does not exist."""
        try:
            return str(self.api("GET", f"/api/states/{entity_id}")["state"])
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise

    def entity_of_device(self, name: str, domain: str) -> str | None:
        """The first entity of `domain` whose friendly name starts with the device name."""
        for state in self.api("GET", "/api/states"):
            entity_id = str(state["entity_id"])
            friendly = str(state["attributes"].get("friendly_name", ""))
            if entity_id.startswith(f"{domain}.") and friendly.startswith(name):
                return entity_id
        return None

    def template(self, template: str) -> str:
        """Render a template in Home Assistant (areas have no REST API of their own)."""
        url = f"{self.ha_url}/api/template"
        request = urllib.request.Request(  # noqa: S310
            url,
            data=json.dumps({"template": template}).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310  local test server
            return str(answer.read().decode())
