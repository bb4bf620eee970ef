"""Product pictures for the demo catalogue, drawn with Pillow: a flat colour tile (the product's colour for apparel
and shoes), a simple glyph of what it is (a T-shirt, trousers, a dress, a shoe, a cup, a pillow, a box, a bottle, a
fruit) and the product's first character when a CJK font is on the machine.

Deterministic: the same (kind, colour, character) always gives the same bytes, and each distinct picture is drawn
once per seed, so a 10,000-product chain draws a few hundred pictures, not ten thousand.
"""
import hashlib
import io
from functools import cache
from pathlib import Path

SIZE = 480

# the apparel colour names the catalogue step uses -> tile colours
COLOUR_TILES = {"黑色": (52, 58, 64), "白色": (233, 236, 239), "藏青": (35, 52, 95), "浅灰": (173, 181, 189),
                "卡其": (196, 164, 112), "酒红": (128, 32, 52), "雾蓝": (112, 145, 178), "燕麦": (222, 206, 178)}
# other products: a tile colour from their own name, from a calm palette per kind
PALETTES = {
    "kitchen": [(255, 214, 165), (202, 255, 191), (155, 246, 255), (255, 173, 173)],
    "bedding": [(189, 178, 255), (255, 198, 255), (160, 196, 255), (253, 255, 182)],
    "storage": [(206, 212, 218), (178, 235, 242), (255, 236, 179), (200, 230, 201)],
    "clean": [(178, 223, 219), (187, 222, 251), (225, 190, 231), (220, 237, 200)],
    "baby": [(255, 228, 225), (225, 240, 255), (255, 250, 205), (230, 230, 250)],
    "fresh": [(255, 224, 178), (200, 230, 201), (255, 205, 210), (255, 249, 196)],
}
FONT_PATHS = ["/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
              "/System/Library/Fonts/PingFang.ttc", "C:/Windows/Fonts/msyh.ttc"]


@cache
def _font(size: int):
    from PIL import ImageFont

    for path in FONT_PATHS:
        if Path(path).exists():
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                continue
    return None


def tile_colour(kind: str, colour_name: str | None, name: str) -> tuple[int, int, int]:
    if colour_name in COLOUR_TILES:
        return COLOUR_TILES[colour_name]
    palette = PALETTES.get(kind, PALETTES["storage"])
    return palette[int(hashlib.sha1(name.encode()).hexdigest(), 16) % len(palette)]


def _ink(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """White on dark tiles, a dark shade of the tile on light ones."""
    luminance = 0.299 * background[0] + 0.587 * background[1] + 0.114 * background[2]
    return (255, 255, 255) if luminance < 150 else tuple(max(0, int(c * 0.45)) for c in background)


def _glyph(draw, kind: str, ink, tile) -> None:
    """A simple outline of the product kind, centred in the upper two thirds of the tile."""
    if kind == "top":
        draw.polygon([(150, 120), (200, 100), (280, 100), (330, 120), (390, 180), (350, 220), (320, 195), (320, 330),
                      (160, 330), (160, 195), (130, 220), (90, 180)], fill=ink)
        draw.ellipse((210, 88, 270, 128), fill=tile)
    elif kind == "bottom":
        draw.polygon([(165, 100), (315, 100), (335, 340), (265, 340), (240, 170), (215, 340), (145, 340)], fill=ink)
    elif kind == "outer":
        draw.polygon([(200, 95), (280, 95), (300, 150), (370, 340), (110, 340), (180, 150)], fill=ink)
        draw.line([(240, 110), (240, 330)], fill=tile, width=6)
    elif kind in ("run", "casual"):
        draw.polygon([(95, 270), (110, 180), (170, 185), (215, 235), (330, 250), (385, 280), (385, 320), (95, 320)],
                     fill=ink)
        draw.rectangle((95, 306, 385, 320), fill=tile)
        if kind == "run":
            for x in (180, 215, 250):
                draw.line([(x, 225), (x + 25, 250)], fill=tile, width=6)
    elif kind == "kitchen":
        draw.rounded_rectangle((150, 120, 300, 330), radius=18, fill=ink)
        draw.arc((270, 170, 350, 270), start=-90, end=90, fill=ink, width=18)
    elif kind == "bedding":
        draw.rounded_rectangle((100, 150, 380, 310), radius=60, fill=ink)
        draw.line([(130, 230), (350, 230)], fill=tile, width=5)
    elif kind == "storage":
        draw.rectangle((120, 170, 360, 330), fill=ink)
        draw.polygon([(105, 140), (375, 140), (360, 170), (120, 170)], fill=ink)
        draw.rectangle((210, 200, 270, 220), fill=tile)
    elif kind == "clean":
        draw.rounded_rectangle((180, 160, 300, 340), radius=24, fill=ink)
        draw.rectangle((215, 110, 265, 160), fill=ink)
        draw.rectangle((225, 90, 300, 110), fill=ink)
    elif kind == "baby":  # a feeding bottle
        draw.rounded_rectangle((185, 170, 295, 340), radius=30, fill=ink)
        draw.rectangle((175, 145, 305, 170), fill=ink)
        draw.polygon([(215, 145), (225, 100), (255, 100), (265, 145)], fill=ink)
        for y in (220, 260, 300):
            draw.line([(195, y), (225, y)], fill=tile, width=5)
    else:  # fresh: a fruit with a leaf
        draw.ellipse((140, 130, 340, 330), fill=ink)
        draw.polygon([(240, 135), (275, 85), (300, 100), (255, 140)], fill=ink)


def draw_product_image(kind: str, colour_name: str | None, name: str, mark: str) -> bytes:
    """PNG bytes: the tile (its colour from `colour_name` or `name`), the glyph, and the last character of `mark`
    (the item, "纯棉圆领T恤" -> "恤") under it when a CJK font exists."""
    from PIL import Image, ImageDraw

    tile = tile_colour(kind, colour_name, name)
    ink = _ink(tile)
    image = Image.new("RGB", (SIZE, SIZE), tile)
    draw = ImageDraw.Draw(image)
    _glyph(draw, kind, ink, tile)
    font = _font(64)
    if font is not None and mark:
        draw.text((SIZE // 2, 405), mark[-1:], fill=ink, font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def product_image_name(enterprise_code: str, kind: str, colour_name: str | None, name: str, mark: str) -> str:
    """The storage name of a product's picture: products that would be drawn alike share the file."""
    key = (kind, tile_colour(kind, colour_name, name), mark[-1:])
    digest = hashlib.sha1(repr(key).encode()).hexdigest()[:12]
    return f"catalog/demo/{enterprise_code}/{kind}-{digest}.png"
