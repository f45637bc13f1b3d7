"""A fresh network namespace whose loopback carries multicast, for tests with real mDNS."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import os
import shutil
import subprocess
import uuid

import pytest


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("ip") or "/usr/sbin/ip"
    return subprocess.run([tool, *args], capture_output=True, text=True, check=False)  # noqa: S603 - fixed arguments


@contextlib.contextmanager
def network_namespace(prefix: str) -> Iterator[str]:
    """Move this thread into a fresh network namespace whose loopback carries multicast.

    Everything opened afterwards in this thread (simulator, zeroconf stacks, HTTP clients)
    lives there, so real mDNS packets flow without touching the host's network. Skips the
    test where namespaces are not available.
    """
    if not hasattr(os, "setns") or not os.path.exists("/proc/thread-self/ns/net"):
        pytest.skip("this platform has no network namespaces")
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if shutil.which("ip") is None:
        pytest.skip("the ip tool (iproute2) is not installed")
    name = f"ewelink-{prefix}-{uuid.uuid4().hex[:8]}"
    created = _ip("netns", "add", name)
    if created.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {created.stderr.strip()}")
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        for args in (
            ["link", "set", "lo", "up"],
            ["link", "set", "lo", "multicast", "on"],
            ["route", "add", "224.0.0.0/4", "dev", "lo"],
        ):
            done = _ip("-n", name, *args)
            if done.returncode != 0:
                pytest.skip(
                    f"cannot set up the namespace ({' '.join(args)}): {done.stderr.strip()}"
                )
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            os.setns(target, os.CLONE_NEWNET)
        except OSError as err:
            pytest.skip(f"cannot enter the namespace: {err}")
        finally:
            os.close(target)
        try:
            yield name
        finally:
            os.setns(original, os.CLONE_NEWNET)
    finally:
        os.close(original)
        _ip("netns", "del", name)
