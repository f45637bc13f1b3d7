"""Smoke tests: Home Assistant loads this repository's integration and its metadata is sound."""

from __future__ import annotations

import json
from pathlib import Path
import re
import struct
from typing import Any

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
import yaml

from custom_components.ewelink.const import DOMAIN
from custom_components.ewelink.pairing import ErrorReason

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "custom_components" / DOMAIN

# The 54 rules of the Integration Quality Scale (ha-2026.md §2).
QUALITY_RULES = {
    "action-setup", "appropriate-polling", "brands", "common-modules", "config-flow-test-coverage",
    "config-flow", "dependency-transparency", "docs-actions", "docs-conditions",
    "docs-high-level-description", "docs-installation-instructions", "docs-removal-instructions",
    "docs-triggers", "entity-event-setup", "entity-unique-id", "has-entity-name", "runtime-data",
    "test-before-configure", "test-before-setup", "unique-config-entry",
    "action-exceptions", "config-entry-unloading", "docs-configuration-parameters",
    "docs-installation-parameters", "entity-unavailable", "integration-owner", "log-when-unavailable",
    "parallel-updates", "reauthentication-flow", "test-coverage",
    "devices", "diagnostics", "discovery-update-info", "discovery", "docs-data-update", "docs-examples",
    "docs-known-limitations", "docs-supported-devices", "docs-supported-functions",
    "docs-troubleshooting", "docs-use-cases", "dynamic-devices", "entity-category",
    "entity-device-class", "entity-disabled-by-default", "entity-translations",
    "exception-translations", "icon-translations", "reconfiguration-flow", "repair-issues",
    "stale-devices",
    "async-dependency", "inject-websession", "strict-typing",
}  # fmt: skip


def _manifest() -> dict[str, Any]:
    return json.loads((PACKAGE / "manifest.json").read_text())


def _translations() -> dict[str, Any]:
    return json.loads((PACKAGE / "translations" / "en.json").read_text())


async def test_integration_loads_from_this_repository(hass: HomeAssistant) -> None:
    """HA finds the integration in this checkout, not in the test plugin's config dir."""
    integration = await async_get_integration(hass, DOMAIN)
    assert integration.file_path == PACKAGE
    assert integration.version is not None
    assert str(integration.version) == _manifest()["version"]
    assert integration.config_flow is True


async def test_config_flow_handler_registered(hass: HomeAssistant) -> None:
    """Starting a flow for the domain reaches our handler."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["handler"] == DOMAIN
    assert result["step_id"] == "user"
    handler = config_entries.HANDLERS[DOMAIN]
    assert handler.__module__ == "custom_components.ewelink.config_flow"


def test_manifest_is_valid_for_hassfest_and_hacs() -> None:
    """Required keys are present and sorted: domain, name, then alphabetical."""
    manifest = _manifest()
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    for key in ("codeowners", "documentation", "issue_tracker", "version", "iot_class"):
        assert manifest[key], key
    assert manifest["domain"] == DOMAIN == PACKAGE.name
    assert manifest["iot_class"] == "cloud_push"
    assert manifest["integration_type"] == "hub"
    assert manifest["config_flow"] is True
    assert manifest["requirements"] == []
    assert manifest["documentation"].startswith("https://")
    hacs = json.loads((REPO / "hacs.json").read_text())
    assert hacs["name"] == manifest["name"]
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", hacs["homeassistant"])


def test_translations_follow_hassfest_rules() -> None:
    """No URLs, HTML, stray whitespace or bad keys; every form field is described."""
    strings = _translations()

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                assert re.fullmatch(r"[a-z0-9_-]+", key), f"{path}.{key}"
                walk(value, f"{path}.{key}")
        else:
            assert isinstance(node, str), path
            assert node == node.strip(), path
            assert node, path
            assert "://" not in node, f"{path} contains a URL"
            assert not re.search(r"<[a-z/][^>]*>", node), f"{path} contains HTML"

    walk(strings, "")
    for section in ("config", "options", "config_subentries"):
        groups = [strings.get(section, {})]
        if section == "config_subentries":
            groups = list(strings.get(section, {}).values())
        for group in groups:
            for step_id, step in group.get("step", {}).items():
                data = step.get("data", {})
                described = step.get("data_description", {})
                assert set(described) <= set(data), step_id
                assert set(data) == set(described), (
                    f"{step_id}: every field needs a data_description"
                )


def test_quality_scale_lists_every_rule() -> None:
    """quality_scale.yaml names all 54 rules; exempt ones say why."""
    rules = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text())["rules"]
    assert set(rules) == QUALITY_RULES
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "todo", "exempt"}, rule
        if status == "exempt":
            assert value["comment"], rule


def test_brand_icons_have_the_required_sizes() -> None:
    """brand/icon.png is 256x256 and icon@2x.png 512x512 (PNG header)."""
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        data = (PACKAGE / "brand" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert (width, height) == (size, size), name


def test_icons_json_parses() -> None:
    """icons.json is valid JSON with an entity section."""
    icons = json.loads((PACKAGE / "icons.json").read_text())
    assert isinstance(icons.get("entity"), dict)


def _source() -> str:
    return "\n".join(path.read_text() for path in PACKAGE.glob("*.py"))


def test_every_translation_key_in_the_code_has_a_string() -> None:
    """Entity, exception and issue keys used in the code exist in translations/en.json."""
    strings = _translations()
    source = _source()
    entity_keys = {key for platform in strings["entity"].values() for key in platform}
    used = set(re.findall(r'translation_key="([a-z0-9_]+)"', source))
    assert used
    known = entity_keys | set(strings["exceptions"]) | set(strings["issues"])
    assert used <= known, used - known
    # Keys returned for command errors and flow errors
    for key in re.findall(r'return "([a-z_]+)"', source):
        assert key in strings["exceptions"] or key in strings["config"]["abort"], key


def test_every_flow_step_error_and_abort_has_a_string() -> None:
    """Step ids, error keys and abort reasons of the config and options flows are translated."""
    strings = _translations()
    flow = (PACKAGE / "config_flow.py").read_text()
    steps = set(re.findall(r'step_id="([a-z_]+)"', flow))
    assert steps <= set(strings["config"]["step"]) | set(strings["options"]["step"])
    menu = re.findall(r"menu_options = \[([^\]]*)\]", flow) + re.findall(
        r'\["oauth", "password"[^\]]*\]', flow
    )
    options = set(re.findall(r'"([a-z_]+)"', " ".join(menu)))
    assert options <= set(strings["config"]["step"]["user"]["menu_options"])
    errors = set(re.findall(r'return "([a-z_]+)"', flow)) | set(
        re.findall(r'= "([a-z_]+)"\n', flow)
    )
    errors -= {"password"}
    # Every error can show in a form, except the OAuth code one, which only aborts.
    assert errors - {"oauth_code_invalid"} <= set(strings["config"]["error"])
    # ... and every other one can also end a flow (reauth, reconfigure), except the form-only
    # checks of the custom server and the calling code.
    form_only = {"invalid_server", "server_unreachable", "invalid_country_code"}
    assert errors - form_only <= set(strings["config"]["abort"])
    reasons = set(re.findall(r'reason="([a-z_]+)"', flow))
    assert reasons <= set(strings["config"]["abort"]) | set(strings["options"]["abort"])


def test_icons_belong_to_translated_entities() -> None:
    """Every icon in icons.json names an entity translation key."""
    icons = json.loads((PACKAGE / "icons.json").read_text())["entity"]
    entities = _translations()["entity"]
    for platform, keys in icons.items():
        assert set(keys) <= set(entities[platform]), platform


def test_add_device_flow_strings() -> None:
    """Every step, progress action, error and abort of the "Add device" flow is translated."""
    strings = _translations()["config_subentries"]["device"]
    flow = (PACKAGE / "device_flow.py").read_text()
    assert strings["entry_type"]
    assert strings["initiate_flow"]["user"]
    steps = set(re.findall(r'(?<!next_)step_id="([a-z_]+)"', flow))
    assert steps <= set(strings["step"])
    progress = set(re.findall(r'self\._progress\("([a-z_]+)"', flow))
    assert progress
    assert progress <= set(strings["progress"])
    errors = set(re.findall(r'_PairingFailedError\("[a-z_]+", "([a-z_]+)"\)', flow))
    errors |= set(re.findall(r'errors\[[A-Z_]+\] = "([a-z_]+)"', flow))
    assert errors
    # The validation reasons the Wi-Fi form can show come from the pairing library.
    errors |= {
        ErrorReason.SSID_EMPTY, ErrorReason.SSID_TOO_LONG, ErrorReason.PASSWORD_LENGTH,
        ErrorReason.CONTROL_CHARACTERS, ErrorReason.ENCODING, ErrorReason.BSSID_INVALID,
    }  # fmt: skip
    missing = {str(e) for e in errors} - set(strings["error"])
    assert not missing, missing
    reasons = set(re.findall(r'reason="([a-z_]+)"', flow))
    reasons |= set(re.findall(r'_PairingAbortedError\("([a-z_]+)"', flow))
    assert reasons <= set(strings["abort"])
    menu = strings["step"]["user"]["menu_options"]
    assert set(menu) == {"touch", "ap", "gsm", "other"}
