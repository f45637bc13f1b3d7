"""The lan package stays free of Home Assistant and exports a consistent API."""

from __future__ import annotations

import ast
from pathlib import Path
import sys

from custom_components.ewelink import lan

PACKAGE_DIR = Path(lan.__file__).parent
ALLOWED_THIRD_PARTY = {"aiohttp", "yarl", "cryptography", "zeroconf"}


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
        "__init__.py", "announcement.py", "client.py", "commands.py", "const.py", "crypto.py",
        "discovery.py", "errors.py", "freshness.py", "registry.py",
    }  # fmt: skip
    for path in modules:
        imported = _imported_top_levels(path)
        assert "homeassistant" not in imported, path.name
        assert "custom_components" not in imported, path.name  # relative imports only
        assert "simulator" not in imported, path.name
        third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
        assert third_party <= ALLOWED_THIRD_PARTY, (path.name, third_party)


def test_all_is_unique_and_resolvable() -> None:
    names = lan.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(lan, name), name


def test_errors_share_one_base() -> None:
    for name in lan.__all__:
        obj = getattr(lan, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, lan.LanError), name
