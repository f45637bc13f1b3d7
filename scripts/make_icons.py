"""Draw the integration's brand icons (an original design, not a vendor logo).

A rounded tile with a plug-shaped "e": a ring broken on the right, a bar through
its middle and a small spark. Run with the project's venv:
    .venv/bin/python scripts/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BRAND = Path(__file__).resolve().parent.parent / "custom_components" / "ewelink" / "brand"
TILE = (18, 110, 190, 255)
MARK = (255, 255, 255, 255)
SPARK = (255, 196, 46, 255)


def draw(size: int) -> Image.Image:
    """Render the icon at `size` x `size`, drawn at 4x and downsampled."""
    s = size * 4
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, s - 1, s - 1), radius=s // 5, fill=TILE)
    ring = (s * 0.2, s * 0.2, s * 0.8, s * 0.8)
    width = int(s * 0.1)
    d.arc(ring, start=25, end=360, fill=MARK, width=width)
    d.rectangle((s * 0.22, s * 0.46, s * 0.78, s * 0.54), fill=MARK)
    d.polygon(
        [
            (s * 0.70, s * 0.60),
            (s * 0.84, s * 0.60),
            (s * 0.76, s * 0.70),
            (s * 0.86, s * 0.70),
            (s * 0.68, s * 0.88),
            (s * 0.73, s * 0.74),
            (s * 0.64, s * 0.74),
        ],
        fill=SPARK,
    )
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    """Write icon.png (256 px) and icon@2x.png (512 px)."""
    BRAND.mkdir(parents=True, exist_ok=True)
    draw(256).save(BRAND / "icon.png", optimize=True)
    draw(512).save(BRAND / "icon@2x.png", optimize=True)


if __name__ == "__main__":
    main()
