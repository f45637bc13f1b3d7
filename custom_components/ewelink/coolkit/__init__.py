"""Client for the CoolKit (eWeLink) cloud: signing, REST API v2, OAuth2 and the long connection.

Pure asyncio + aiohttp; nothing here imports Home Assistant.
"""

from .client import CoolkitClient, Dispatch, LoginResult
from .const import CLOUD, OAUTH_PAGE, REGIONS, Servers, region_for_country_code
from .errors import (
    AckTimeoutError,
    AppNotPermittedError,
    AuthError,
    CommandRejectedError,
    CoolkitApiError,
    CoolkitConnectionError,
    CoolkitError,
    DeviceOfflineError,
    DeviceTimeoutError,
    InvalidAppCredentialsError,
    InvalidCredentialsError,
    NotConnectedError,
    OAuthCodeError,
    RateLimitedError,
    ReauthRequiredError,
    RegionError,
    SessionTakenOverError,
)
from .models import (
    DeviceEvent,
    DeviceOnline,
    DeviceUpdate,
    Family,
    Thing,
    Tokens,
    UserInfo,
    merge_params,
)
from .ratelimit import RateLimiter
from .signing import device_digest, sign
from .ws import ConnectionState, ConnectionStats, LongConnection

__all__ = [
    "CLOUD",
    "OAUTH_PAGE",
    "REGIONS",
    "AckTimeoutError",
    "AppNotPermittedError",
    "AuthError",
    "CommandRejectedError",
    "ConnectionState",
    "ConnectionStats",
    "CoolkitApiError",
    "CoolkitClient",
    "CoolkitConnectionError",
    "CoolkitError",
    "DeviceEvent",
    "DeviceOfflineError",
    "DeviceOnline",
    "DeviceTimeoutError",
    "DeviceUpdate",
    "Dispatch",
    "Family",
    "InvalidAppCredentialsError",
    "InvalidCredentialsError",
    "LoginResult",
    "LongConnection",
    "NotConnectedError",
    "OAuthCodeError",
    "RateLimitedError",
    "RateLimiter",
    "ReauthRequiredError",
    "RegionError",
    "Servers",
    "SessionTakenOverError",
    "Thing",
    "Tokens",
    "UserInfo",
    "device_digest",
    "merge_params",
    "region_for_country_code",
    "sign",
]
