"""Make resources/fonts from Debian's Noto packages: how the shipped font files were built.

Run it again only to update the fonts (it needs fontTools, pinned in the dev extras, which
the app itself does not):

    mkdir -p /tmp/noto && cd /tmp/noto
    apt-get download fonts-noto-core fonts-noto-cjk && for f in *.deb; do dpkg -x "$f" x; done
    .venv/bin/python scripts/build_fonts.py /tmp/noto/x

The TrueType fonts are copied as they are. Noto Sans CJK comes only with PostScript (CFF)
outlines, which reportlab cannot embed, and holds 65,535 glyphs (16 MB per weight): it is cut
down to the characters of the national standard sets a name is written with, and its outlines
converted to TrueType. Chinese: GB 2312 (simplified) and Big5 level 1 (traditional). Japanese:
JIS X 0208 kanji levels 1 and 2 (6,355; 1,431 of them not in the Chinese sets) and kana.
Korean: the 2,350 Hangul syllables of KS X 1001 and its compatibility jamo. The glyphs come
from the simplified-Chinese face, so a character shared by Chinese and Japanese prints in its
Chinese form (Hangul and Japanese-only kanji have one form). 5.7 MB before Japanese and Korean
were added (9,244 characters), 7.0 MB with them (13,182); 2.8 MB and 3.4 MB compressed with
xz, as the installer's LZMA does. A name with a rarer character is refused with a sentence
naming it, never printed as an empty box.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "fonts"

COPY = [
    "NotoSans-Regular.ttf",
    "NotoSans-Bold.ttf",
    "NotoSans-Italic.ttf",
    "NotoSans-BoldItalic.ttf",
    "NotoNaskhArabic-Regular.ttf",
    "NotoNaskhArabic-Bold.ttf",
    "NotoSansHebrew-Regular.ttf",
    "NotoSansHebrew-Bold.ttf",
    "NotoSansBengali-Regular.ttf",
    "NotoSansBengali-Bold.ttf",
    "NotoSansDevanagari-Regular.ttf",
    "NotoSansDevanagari-Bold.ttf",
    "NotoSansGujarati-Regular.ttf",
    "NotoSansGujarati-Bold.ttf",
    "NotoSansGurmukhi-Regular.ttf",
    "NotoSansGurmukhi-Bold.ttf",
    "NotoSansTamil-Regular.ttf",
    "NotoSansTamil-Bold.ttf",
    "NotoSansSymbols-Regular.ttf",
    "NotoSansSymbols2-Regular.ttf",
]


def _double_byte(codec: str, lead: range, trail: range) -> set[str]:
    found: set[str] = set()
    for a in lead:
        for b in trail:
            try:
                found.add(bytes((a, b)).decode(codec))
            except UnicodeDecodeError:
                pass
    return found


def cjk_characters() -> set[str]:
    """The characters of GB 2312, Big5 level 1, JIS X 0208 (kanji levels 1 and 2) and the
    Hangul of KS X 1001; kana, Hangul jamo, CJK punctuation and full-width forms."""
    chars = _double_byte("gb2312", range(0xA1, 0xF8), range(0xA1, 0xFF))
    chars |= {
        c
        for c in _double_byte("big5", range(0xA1, 0xC7), range(0x40, 0xFF))
        if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f"
    }
    # JIS X 0208: rows 16-47 are kanji level 1, rows 48-84 level 2 (EUC-JP 0xB0-0xF4).
    chars |= _double_byte("euc_jp", range(0xA1, 0xF5), range(0xA1, 0xFF))
    # KS X 1001: its 2,350 Hangul syllables (EUC-KR 0xB0-0xC8) and the jamo of row 4.
    chars |= _double_byte("euc_kr", range(0xB0, 0xC9), range(0xA1, 0xFF))
    chars |= {chr(c) for c in range(0x3131, 0x318F)}  # Hangul compatibility jamo
    chars |= {chr(c) for c in range(0x3000, 0x3100)}  # punctuation, kana
    chars |= {chr(c) for c in range(0xFF01, 0xFF5F)}  # full-width forms
    chars |= {chr(c) for c in range(0xFF61, 0xFFA0)}  # half-width katakana
    # Latin, Greek and Cyrillic come from Noto Sans; keep only what the CJK font is for.
    return {c for c in chars if ord(c) >= 0x2E80}


def build_cjk(source: Path) -> None:
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTCollection, newTable

    font = TTCollection(str(source)).fonts[2]  # Noto Sans CJK SC
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in cjk_characters()])
    subsetter.subset(font)

    # PostScript cubic outlines to TrueType quadratic ones.
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=2.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font["maxp"].tableVersion = 0x00010000
    for attr in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(font["maxp"], attr, 0)
    font["maxp"].maxZones = 1
    font["head"].indexToLocFormat = 0
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 2.0
    font["post"].extraNames = []
    font["post"].mapping = {}
    font.sfntVersion = "\x00\x01\x00\x00"
    font.save(str(OUT / "NotoSansCJK-Subset.ttf"))


def licence(debian: Path) -> None:
    text = (debian / "usr/share/doc/fonts-noto-core/copyright").read_text(encoding="utf-8")
    start = text.index("License: OFL-1.1\n PREAMBLE")
    body = text[start:].split("\nLicense: ", 2)[0]
    lines = [line[1:] if line.startswith(" ") else line for line in body.splitlines()[1:]]
    ofl = "\n".join("" if line == "." else line for line in lines)
    (OUT / "LICENSE-Noto-OFL.txt").write_text(
        "Noto fonts: Copyright 2010-2020 Google Inc. and Google LLC, and for Noto Sans CJK\n"
        "Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name\n"
        "'Source'. Taken from Debian's fonts-noto-core 20201225-1 and fonts-noto-cjk\n"
        "1:20220127+repack1-1. NotoSansCJK-Subset.ttf is a modified version of\n"
        "NotoSansCJK-Regular.ttc (fewer characters, TrueType outlines) made by\n"
        "scripts/build_fonts.py.\n\n"
        "This Font Software is licensed under the SIL Open Font License, Version 1.1.\n\n"
        + ofl.strip()
        + "\n",
        encoding="utf-8",
    )


def main(debian: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    truetype = debian / "usr/share/fonts/truetype/noto"
    for name in COPY:
        shutil.copyfile(truetype / name, OUT / name)
    build_cjk(debian / "usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    licence(debian)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
