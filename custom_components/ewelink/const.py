"""Constants for the eWeLink integration."""

from typing import Final

DOMAIN: Final = "ewelink"
