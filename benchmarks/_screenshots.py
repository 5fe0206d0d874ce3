"""Realistic phone screenshots for the evidence benchmarks, made the same way every time.

A social-media feed as a phone captures it: a status bar, a coloured app bar, posts with
a round avatar, a bold name, several lines of anti-aliased text in Noto Sans at phone
size, now and then a photo (smooth colour with grain, the part that makes a PNG big) and
a row of reactions. Phones save screenshots as PNG; the same picture forwarded through a
messenger arrives as JPEG, so a set mixes both, and some are long scrolling captures.
"""

from __future__ import annotations

import io
import random
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "resources" / "fonts"
_WORD_LIST = (
    "school gate parents teacher disgraceful behaviour fete class trip uniform homework "
    "assembly playground lunch coach football head office letter governors nursery "
    "sports day again honestly nobody listens shocking absolutely terrible week pick up "
    "car park staff children year six reception report meeting complaint share this"
)
WORDS = _WORD_LIST.split()
APP_COLOURS = [(59, 89, 152), (24, 119, 242), (225, 48, 108), (0, 0, 0), (37, 211, 102)]


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "NotoSans-Bold.ttf" if bold else "NotoSans-Regular.ttf"
    return ImageFont.truetype(str(FONTS / name), size)


def _photo(rng: random.Random, width: int, height: int) -> Image.Image:
    """A photo-like block: a smooth two-colour gradient with sensor grain."""
    a = [rng.randrange(40, 220) for _ in range(3)]
    b = [rng.randrange(40, 220) for _ in range(3)]
    gradient = Image.linear_gradient("L").resize((width, height))
    photo = Image.composite(
        Image.new("RGB", (width, height), tuple(a)),
        Image.new("RGB", (width, height), tuple(b)),
        gradient,
    )
    grain = Image.effect_noise((width, height), 18).convert("RGB")
    return Image.blend(photo, grain, 0.12)


def screenshot(seed: int, width: int = 1080, height: int = 2340) -> Image.Image:
    """One feed screenshot (RGB)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    colour = APP_COLOURS[seed % len(APP_COLOURS)]
    draw.rectangle((0, 0, width, 70), fill=(20, 20, 20))
    draw.text((30, 14), f"{9 + seed % 10}:{seed % 60:02}", font=_font(34), fill="white")
    draw.text((width - 180, 14), "4G  87%", font=_font(34), fill="white")
    draw.rectangle((0, 70, width, 220), fill=colour)
    draw.text((40, 110), "Parents of Oakfield", font=_font(52, bold=True), fill="white")
    y = 250
    post = 0
    while y < height - 200:
        post += 1
        draw.ellipse((40, y, 150, y + 110), fill=tuple(rng.randrange(60, 230) for _ in range(3)))
        name = f"{rng.choice(['Sam', 'Alex', 'Jo', 'Chris', 'Pat'])} {rng.choice(WORDS).title()}"
        draw.text((175, y + 8), name, font=_font(40, bold=True), fill=(20, 20, 20))
        draw.text((175, y + 60), f"{rng.randint(1, 23)} h", font=_font(32), fill=(120, 120, 120))
        y += 140
        for _ in range(rng.randint(2, 6)):
            line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 7)))
            draw.text((40, y), line.capitalize(), font=_font(40), fill=(28, 28, 28))
            y += 56
        if rng.random() < 0.4 and y < height - 700:
            photo_h = rng.randint(400, 600)
            image.paste(_photo(rng, width, photo_h), (0, y + 10))
            y += photo_h + 20
        y += 20
        draw.text(
            (40, y),
            f"Like {rng.randint(1, 300)}   Comment   Share",
            font=_font(36),
            fill=(90, 90, 90),
        )
        y += 70
        draw.line((0, y, width, y), fill=(220, 220, 220), width=3)
        y += 30
    return image


def screenshot_bytes(seed: int, kind: str, height: int = 2340) -> bytes:
    """The screenshot as a phone would store it: "png" (saved by the phone) or "jpeg"
    (forwarded through a messenger, no metadata) or "jpeg-exif" (with camera metadata)."""
    image = screenshot(seed, height=height)
    out = io.BytesIO()
    if kind == "png":
        image.save(out, "PNG", compress_level=6)
    elif kind == "jpeg":
        image.save(out, "JPEG", quality=85)
    else:
        exif = Image.Exif()
        exif[0x010F] = "Phone maker"  # Make
        exif[0x0110] = "Phone model"  # Model
        exif[0x0131] = "Screenshot app"  # Software
        image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def phone_set(count: int) -> list[tuple[str, bytes]]:
    """``count`` screenshots as (file name, bytes): mostly PNG, some JPEG (with and without
    metadata), every tenth a long scrolling capture of three screens."""
    shots = []
    for n in range(count):
        kind = ("png", "png", "jpeg", "png", "jpeg-exif")[n % 5]
        height = 2340 * 3 if n % 10 == 7 else 2340
        suffix = "png" if kind == "png" else "jpg"
        shots.append((f"Screenshot_{n:03}.{suffix}", screenshot_bytes(n, kind, height)))
    return shots
