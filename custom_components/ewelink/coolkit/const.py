"""Hosts, regions and protocol constants of the CoolKit cloud (coolkit-cloud.md §1, §2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

REGIONS: Final = ("cn", "as", "us", "eu")

OAUTH_PAGE: Final = "https://c2ccdn.coolkit.cc/oauth/index.html"
REGION_LOOKUP: Final = "https://apia.coolkit.cn/v2/utils/get-region"

# Lifetimes the cloud documents; password login and refresh do not return expiry times.
ACCESS_TOKEN_LIFETIME: Final = 30 * 86400.0
REFRESH_TOKEN_LIFETIME: Final = 60 * 86400.0

# A first guess of the region from the phone country code; error 10004 corrects it.
_COUNTRY_REGION: Final = {
    "86": "cn",
    "1": "us", "52": "us", "54": "us", "55": "us", "56": "us", "57": "us", "58": "us", "61": "us",
    "64": "us", "51": "us",
    "7": "eu", "30": "eu", "31": "eu", "32": "eu", "33": "eu", "34": "eu", "36": "eu", "39": "eu",
    "40": "eu", "41": "eu", "43": "eu", "44": "eu", "45": "eu", "46": "eu", "47": "eu", "48": "eu",
    "49": "eu", "351": "eu", "353": "eu", "358": "eu", "380": "eu", "420": "eu", "421": "eu",
    "20": "eu", "27": "eu", "90": "eu", "972": "eu", "971": "eu", "966": "eu",
    "60": "as", "62": "as", "63": "as", "65": "as", "66": "as", "81": "as", "82": "as", "84": "as",
    "852": "as", "853": "as", "886": "as", "91": "as", "92": "as", "880": "as", "94": "as",
}  # fmt: skip
DEFAULT_REGION: Final = "eu"


def region_for_country_code(country_code: str) -> str | None:
    """Guess the region of an account from its phone country code (`+49`, `49`)."""
    digits = country_code.strip().lstrip("+")
    for length in (3, 2, 1):
        if (region := _COUNTRY_REGION.get(digits[:length])) is not None:
            return region
    return None


def _tld(region: str) -> str:
    return "cn" if region in ("cn", "test") else "cc"


@dataclass(frozen=True, slots=True)
class Servers:
    """Where the cloud lives: CoolKit's hosts, or one custom base URL standing in for all regions.

    A custom server (the project's simulator) serves region `r` under `{base}/{r}`, the OAuth page
    at `{base}/oauth/index.html` and accepts device dispatch at `{base}/dispatch/device`.
    """

    custom_base: str | None = None

    def __post_init__(self) -> None:
        if self.custom_base is not None:
            parts = urlsplit(self.custom_base)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("custom server must be an http:// or https:// URL")
            object.__setattr__(self, "custom_base", self.custom_base.rstrip("/"))

    @property
    def is_custom(self) -> bool:
        """Return True when a custom server stands in for the cloud."""
        return self.custom_base is not None

    def api(self, region: str) -> str:
        """Return the REST base URL of a region (no trailing slash)."""
        if self.custom_base is not None:
            return f"{self.custom_base}/{region}"
        return f"https://{region}-apia.coolkit.{_tld(region)}"

    def dispatch(self, region: str) -> str:
        """Return the app dispatch URL of a region."""
        if self.custom_base is not None:
            return f"{self.custom_base}/{region}/dispatch/app"
        return f"https://{region}-dispa.coolkit.{_tld(region)}/dispatch/app"

    @property
    def region_lookup(self) -> str:
        """Return the global region lookup URL (the same for every region)."""
        if self.custom_base is not None:
            return f"{self.custom_base}/v2/utils/get-region"
        return REGION_LOOKUP

    @property
    def websocket_scheme(self) -> str:
        """Return `wss`, or `ws` for a plain-http custom server."""
        if self.custom_base is not None and self.custom_base.startswith("http://"):
            return "ws"
        return "wss"

    @property
    def oauth_page(self) -> str:
        """Return the OAuth2 authorization page."""
        if self.custom_base is not None:
            return f"{self.custom_base}/oauth/index.html"
        return OAUTH_PAGE

    def device_dispatch(self, region: str) -> tuple[str, int]:
        """Return (host, port) a device is given during pairing (`POST /ap`)."""
        if self.custom_base is not None:
            parts = urlsplit(self.custom_base)
            return str(parts.hostname), parts.port or (443 if parts.scheme == "https" else 80)
        return f"{region}-dispd.coolkit.{_tld(region)}", 443


CLOUD: Final = Servers()
