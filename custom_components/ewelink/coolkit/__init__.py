"""Client for the CoolKit (eWeLink) cloud: signing, REST API v2, OAuth2 and the long connection.

Pure asyncio + aiohttp; nothing here imports Home Assistant.
"""

from .client import CoolkitClient, Dispatch, LoginResult
from .const import CLOUD, OAUTH_PAGE, REGIONS, Servers, region_for_country_code
from .errors import (
    AppNotPermittedError,
    AuthError,
    CommandRejectedError,
    CoolkitApiError,
    CoolkitConnectionError,
    CoolkitError,
    CoolkitServerError,
    CoolkitTimeoutError,
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
    SanitizedParams,
    Thing,
    Tokens,
    UserInfo,
    merge_params,
    sanitize_params,
)
from .ratelimit import RateLimiter
from .signing import device_digest, sign
from .ws import ConnectionState, ConnectionStats, LongConnection, liveness_timing

__all__ = [
    "CLOUD",
    "OAUTH_PAGE",
    "REGIONS",
    "AppNotPermittedError",
    "AuthError",
    "CommandRejectedError",
    "ConnectionState",
    "ConnectionStats",
    "CoolkitApiError",
    "CoolkitClient",
    "CoolkitConnectionError",
    "CoolkitError",
    "CoolkitServerError",
    "CoolkitTimeoutError",
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
    "SanitizedParams",
    "Servers",
    "SessionTakenOverError",
    "Thing",
    "Tokens",
    "UserInfo",
    "device_digest",
    "liveness_timing",
    "merge_params",
    "region_for_country_code",
    "sanitize_params",
    "sign",
]
