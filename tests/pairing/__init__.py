"""Tests for the pairing library."""
