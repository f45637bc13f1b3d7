"""Tests of the CoolKit cloud client."""
