"""Constants for the eWeLink integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "ewelink"
LOGGER: Final = logging.getLogger(__package__)

# entry.data keys
CONF_AUTH_TYPE: Final = "auth_type"
CONF_APP_ID: Final = "app_id"
CONF_APP_SECRET: Final = "app_secret"
CONF_ACCOUNT: Final = "account"
CONF_COUNTRY_CODE: Final = "country_code"
CONF_SERVER: Final = "server"
CONF_REGION: Final = "region"
CONF_USER_APIKEY: Final = "user_apikey"
CONF_TOKEN: Final = "token"
CONF_AUTH_IMPLEMENTATION: Final = "auth_implementation"

AUTH_OAUTH: Final = "oauth"
AUTH_PASSWORD: Final = "password"

# entry.options keys
CONF_HOMES: Final = "homes"

# The thing list is re-read this often to find new and removed devices (2-4 calls per home).
THING_LIST_INTERVAL: Final = timedelta(minutes=15)

DEVELOPER_CONSOLE_URL: Final = "https://dev.ewelink.cc"

# LAN control (entry.options)
CONF_LAN_MODE: Final = "lan_mode"
LAN_MODE_AUTO: Final = "auto"
"""LAN first with a short timeout, then the cloud (the default)."""
LAN_MODE_CLOUD: Final = "cloud"
"""Cloud only: no discovery, no LAN commands."""
LAN_MODE_LOCAL: Final = "local"
"""LAN only: the cloud is read for the device list and keys; no long connection, no cloud
commands."""
LAN_MODES: Final = (LAN_MODE_AUTO, LAN_MODE_CLOUD, LAN_MODE_LOCAL)

# DIY-mode devices (one config entry per device, found over mDNS; entry.data keys)
CONF_ENTRY_TYPE: Final = "entry_type"
ENTRY_TYPE_DIY: Final = "diy"
CONF_DEVICE_ID: Final = "device_id"
CONF_LOCAL_TYPE: Final = "local_type"
CONF_UIID: Final = "uiid"
