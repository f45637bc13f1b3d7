"""Lights over the simulator: state from params, commands -> device truth -> pushed state."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry

from .helpers import add, attr, call


async def test_strips_and_dimmers_turn_on_before_their_attributes(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """An L1 strip that is off ignores brightness and colour: "on" goes first, then they do.

    The D1 takes brightness only with switch on and mode 0 in one message; the single-colour
    bulb wants a string; the KING-M4 and UIID 33 dim from 10.
    """
    strip = await add(cloud, "1000001001", 59, "Strip")
    d1 = await add(cloud, "1000001002", 44, "Dimmer")
    bulb = await add(cloud, "1000001003", 57, "Lamp")
    king = await add(cloud, "1000001004", 36, "King")
    l1_33 = await add(cloud, "1000001005", 33, "Old strip")
    await setup_entry(hass, config_entry)
    assert state_of(hass, "light.strip") == "off"
    assert attr(hass, "light.strip", "supported_color_modes") == ["rgb"]

    await call(hass, "light", "turn_on", "light.strip", brightness=128, rgb_color=(255, 0, 0))
    assert strip.params["switch"] == "on"
    assert (strip.params["bright"], strip.params["mode"]) == (50, 1)
    assert (strip.params["colorR"], strip.params["colorG"], strip.params["colorB"]) == (255, 0, 0)
    assert attr(hass, "light.strip", "brightness") == 127
    assert attr(hass, "light.strip", "rgb_color") == (255, 0, 0)
    await call(hass, "light", "turn_on", "light.strip", effect="rgb_breath")
    assert strip.params["mode"] == 10
    assert attr(hass, "light.strip", "effect") == "rgb_breath"
    await strip.report({"mode": 1, "colorG": 255})
    await wait_for(lambda: attr(hass, "light.strip", "effect") is None)
    assert attr(hass, "light.strip", "rgb_color") == (255, 255, 0)

    await call(hass, "light", "turn_on", "light.dimmer", brightness=255)
    assert (d1.params["switch"], d1.params["brightness"], d1.params["mode"]) == ("on", 100, 0)
    await d1.report({"brightness": 0})
    await wait_for(lambda: attr(hass, "light.dimmer", "brightness") == 1)

    await call(hass, "light", "turn_on", "light.lamp", brightness=1)
    assert (bulb.params["state"], bulb.params["channel0"]) == ("on", "25")
    await call(hass, "light", "turn_off", "light.lamp")
    assert bulb.params["state"] == "off"

    await call(hass, "light", "turn_on", "light.king", brightness=1)
    assert (king.params["switch"], king.params["bright"]) == ("on", 10)
    await call(hass, "light", "turn_on", "light.old_strip", brightness=1)
    assert l1_33.params["bright"] == 10

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "light", "turn_on", "light.strip", effect="disco")
    assert err.value.translation_key == "invalid_effect"


async def test_bulbs_colour_temperature_colour_and_scenes(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """B05-BL (ct 0..100), B05-B (ct 0..255), B02, B1, zigbee CCT and RGBCW: per-model ranges."""
    b05bl = await add(cloud, "1000001011", 136, "Bl bulb")
    b05 = await add(cloud, "1000001012", 104, "Rgb bulb")
    b02 = await add(cloud, "1000001013", 103, "Cct bulb", product_model="B02-F-ST64")
    b1 = await add(cloud, "1000001014", 22, "Old bulb")
    bridge = await add(cloud, "1000001015", 66, "Bridge")
    cct = await add(cloud, "a480001016", 1258, "Zig cct", parent=bridge)
    rgbcw = await add(cloud, "a480001017", 3258, "Zig color", parent=bridge)
    await setup_entry(hass, config_entry)

    await call(hass, "light", "turn_on", "light.bl_bulb", color_temp_kelvin=6500)
    assert b05bl.params["switch"] == "on"
    assert b05bl.params["ltype"] == "white"
    assert b05bl.params["white"]["ct"] == 100
    await call(hass, "light", "turn_on", "light.rgb_bulb", color_temp_kelvin=6500)
    assert b05.params["white"]["ct"] == 255
    assert attr(hass, "light.rgb_bulb", "color_temp_kelvin") == 6500
    await call(hass, "light", "turn_on", "light.rgb_bulb", rgb_color=(0, 0, 255), brightness=255)
    assert b05.params["ltype"] == "color"
    assert b05.params["color"] == {"br": 100, "r": 0, "g": 0, "b": 255}
    assert attr(hass, "light.rgb_bulb", "color_mode") == "rgb"
    await call(hass, "light", "turn_on", "light.rgb_bulb", effect="party")
    assert b05.params["ltype"] == "party"
    assert b05.params["party"]["br"] == 45
    await call(hass, "light", "turn_on", "light.rgb_bulb", brightness=255)
    assert (b05.params["ltype"], b05.params["party"]["br"]) == ("party", 100)
    assert attr(hass, "light.rgb_bulb", "effect") == "party"

    # B02-F-ST64 spans 1800..5000 K; br and ct always go together.
    assert attr(hass, "light.cct_bulb", "min_color_temp_kelvin") == 1800
    await call(hass, "light", "turn_on", "light.cct_bulb", color_temp_kelvin=1800)
    assert b02.params["white"] == {"br": 50, "ct": 0}
    await call(hass, "light", "turn_on", "light.cct_bulb", effect="reading")
    assert b02.params["ltype"] == "read"
    assert attr(hass, "light.cct_bulb", "effect") == "reading"

    # B1: white with the cold channel only above 5000 K; the bulb ignores it while off.
    await call(hass, "light", "turn_on", "light.old_bulb", color_temp_kelvin=6500, brightness=255)
    assert b1.params["state"] == "on"
    assert (b1.params["channel0"], b1.params["channel1"], b1.params["zyx_mode"]) == ("255", "0", 1)
    assert attr(hass, "light.old_bulb", "color_temp_kelvin") == 6500
    await call(hass, "light", "turn_on", "light.old_bulb", effect="good_night")
    assert (b1.params["zyx_mode"], b1.params["channel2"]) == (3, "189")

    await call(hass, "light", "turn_on", "light.zig_cct", color_temp_kelvin=3000)
    assert cct.params == {**cct.params, "switch": "on", "colorTemp": 44}
    await wait_for(lambda: attr(hass, "light.zig_cct", "color_temp_kelvin") == 2992)
    await call(hass, "light", "turn_on", "light.zig_color", hs_color=(120, 50))
    assert (rgbcw.params["colorMode"], rgbcw.params["hue"], rgbcw.params["saturation"]) == (
        "rgb",
        120,
        50,
    )
    assert attr(hass, "light.zig_color", "hs_color") == (120.0, 50.0)
    await call(hass, "light", "turn_on", "light.zig_color", brightness=255)
    assert rgbcw.params["rgbBrightness"] == 100


async def test_special_lights(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """L3 effects and music, MINI-DIM transition, iFan light, diffuser light, T5 ambient."""
    l3 = await add(cloud, "1000001021", 173, "L3")
    dim = await add(cloud, "1000001022", 277, "Mini dim")
    ifan = await add(cloud, "1000001023", 34, "Ceiling")
    diffuser = await add(cloud, "1000001024", 25, "Aroma")
    t5 = await add(cloud, "1000001025", 210, "Wall")
    await setup_entry(hass, config_entry)

    await call(hass, "light", "turn_on", "light.l3", effect="rgb_wave")
    assert (l3.params["mode"], l3.params["speed37"], l3.params["bright37"]) == (37, 50, 100)
    await call(hass, "light", "turn_on", "light.l3", effect="disco_music")
    assert (l3.params["mode"], l3.params["rhythmMode"]) == (4, 3)
    assert attr(hass, "light.l3", "effect") == "disco_music"
    await call(hass, "light", "turn_on", "light.l3", brightness=128)
    assert (l3.params["mode"], l3.params["bright"], l3.params["colorR"]) == (1, 50, 255)

    await call(hass, "light", "turn_on", "light.mini_dim", brightness=255, transition=2)
    assert (dim.params["switch"], dim.params["brightness"]) == ("on", 100)
    assert dim.params["transitionTime"] == 2000

    await call(hass, "light", "turn_on", "light.ceiling_light")
    assert {"outlet": 0, "switch": "on"} in ifan.params["switches"]
    assert state_of(hass, "light.ceiling_light") == "on"
    assert state_of(hass, "fan.ceiling") == "off"

    await call(hass, "light", "turn_on", "light.aroma_light", rgb_color=(0, 255, 0))
    assert (diffuser.params["lightswitch"], diffuser.params["lightmode"]) == (1, 2)
    assert diffuser.params["lightGcolor"] == 255
    await call(hass, "light", "turn_on", "light.aroma_light", effect="night_light")
    assert diffuser.params["lightmode"] == 3

    await call(hass, "light", "turn_on", "light.wall_ambient_light", effect="starburst")
    assert (t5.params["lightMode"], t5.params["lightSwitch"]) == (7, "on")
    assert attr(hass, "light.wall_ambient_light", "effect") == "starburst"
    await call(hass, "light", "turn_off", "light.wall_ambient_light")
    assert t5.params["lightSwitch"] == "off"
