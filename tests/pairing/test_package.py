"""The pairing package stays free of Home Assistant and exports a consistent API."""

from __future__ import annotations

import ast
from pathlib import Path
import sys

from custom_components.ewelink import pairing

PACKAGE_DIR = Path(pairing.__file__).parent
ALLOWED_THIRD_PARTY = {"aiohttp", "yarl", "cryptography"}


def _imported_top_levels(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_home_assistant_imports() -> None:
    modules = sorted(PACKAGE_DIR.glob("*.py"))
    assert {path.name for path in modules} >= {
        "__init__.py",
        "ap.py",
        "errors.py",
        "esptouch.py",
        "esptouch_net.py",
        "validation.py",
    }
    for path in modules:
        imported = _imported_top_levels(path)
        assert "homeassistant" not in imported, path.name
        assert "custom_components" not in imported, path.name  # relative imports only
        third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
        assert third_party <= ALLOWED_THIRD_PARTY, (path.name, third_party)


def test_all_is_unique_and_resolvable() -> None:
    names = pairing.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(pairing, name), name


def test_errors_share_one_base() -> None:
    for name in pairing.__all__:
        obj = getattr(pairing, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, pairing.PairingError), name
