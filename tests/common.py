"""Constants and helpers shared by the tests."""

from __future__ import annotations

from dataclasses import dataclass

from simulator import Simulator
from simulator.state import Account, App, Home

APP_ID = "ewelinktestapp000000000000000001"
APP_SECRET = "test-app-secret-0123456789abcdef"
OAUTH_APP_ID = "ewelinkoauthapp00000000000000002"
OAUTH_APP_SECRET = "oauth-app-secret-0123456789abcde"
EMAIL = "owner@example.com"
PASSWORD = "correct-password"
HA_REDIRECT = "https://example.com/auth/external/callback"


@dataclass
class Cloud:
    """The standard test world: apps, an owner account with a home, another account."""

    sim: Simulator
    app: App
    oauth_app: App
    owner: Account
    home: Home
    friend: Account
