"""Tests for the eWeLink integration, its protocol packages and the simulator."""
