"""The protocol packages (coolkit, lan, pairing) stay free of Home Assistant and export a
consistent API: the architecture's rule, checked on their source."""

from __future__ import annotations

import ast
from pathlib import Path
import sys
from types import ModuleType

import pytest

from custom_components.ewelink import coolkit, lan, pairing

# package, the modules it must have, the third-party imports it may use, its errors' base
PACKAGES: dict[str, tuple[ModuleType, set[str], set[str], type[Exception]]] = {
    "coolkit": (
        coolkit,
        {"__init__.py", "client.py", "const.py", "errors.py", "models.py", "ratelimit.py",
         "signing.py", "ws.py"},
        {"aiohttp", "yarl"},
        coolkit.CoolkitError,
    ),
    "lan": (
        lan,
        {"__init__.py", "announcement.py", "client.py", "commands.py", "const.py", "crypto.py",
         "discovery.py", "errors.py", "freshness.py", "registry.py"},
        {"aiohttp", "yarl", "cryptography", "zeroconf"},
        lan.LanError,
    ),
    "pairing": (
        pairing,
        {"__init__.py", "ap.py", "errors.py", "esptouch.py", "esptouch_net.py", "validation.py"},
        {"aiohttp", "yarl", "cryptography"},
        pairing.PairingError,
    ),
}  # fmt: skip


def _imported_top_levels(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("name", PACKAGES)
def test_no_home_assistant_imports(name: str) -> None:
    package, expected, allowed, _base = PACKAGES[name]
    modules = sorted(Path(package.__file__ or "").parent.glob("*.py"))
    assert {path.name for path in modules} >= expected
    for path in modules:
        imported = _imported_top_levels(path)
        assert "homeassistant" not in imported, path.name
        assert "custom_components" not in imported, path.name  # relative imports only
        assert "simulator" not in imported, path.name
        third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
        assert third_party <= allowed, (path.name, third_party)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_unique_and_resolvable(name: str) -> None:
    package = PACKAGES[name][0]
    names = package.__all__
    assert len(names) == len(set(names))
    for exported in names:
        assert hasattr(package, exported), exported


@pytest.mark.parametrize("name", PACKAGES)
def test_errors_share_one_base(name: str) -> None:
    package, _expected, _allowed, base = PACKAGES[name]
    for exported in package.__all__:
        obj = getattr(package, exported)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, base), exported
