"""The Noto fonts a Word copy uses, embedded in it as Word embeds fonts.

Word keeps an embedded font in ``word/fonts/*.odttf``: the font file with its first 32
bytes scrambled by a key (ECMA-376 Part 1, §17.8.1, "obfuscated font"), named from
``fontTable.xml`` (``w:embedRegular r:id=… w:fontKey=…``). Word and LibreOffice then show
the letter in Noto on a PC that does not have Noto installed.

Each font is cut down with fontTools to the characters the letter prints, plus, for Noto
Sans, all of Latin-1 and the usual typographic punctuation, so the copy stays editable in
English; the script fonts keep every glyph their shaping rules reach from those characters.
"""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from docx.document import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn

from app.pdf.fonts import FACES, REGULAR, WORD_FAMILIES, fonts_dir

OBFUSCATED_FONT = "application/vnd.openxmlformats-officedocument.obfuscatedFont"
# What Noto Sans always carries, so English can be typed into the copy: printable ASCII,
# Latin-1 and the punctuation letters use.
EDITABLE = (
    "".join(chr(c) for c in range(0x20, 0x7F))
    + "".join(chr(c) for c in range(0xA0, 0x100))
    + "‘’“”–—…•·€£"
)
# Spaces and digits every face keeps (the page numbers Word fills in are in the main face).
_ALWAYS = " 0123456789"
_STYLES = (
    ((False, False), "embedRegular"),
    ((True, False), "embedBold"),
    ((False, True), "embedItalic"),
    ((True, True), "embedBoldItalic"),
)


@dataclass
class FontsUsed:
    """The characters a Word copy prints, per face and style, as its runs are written."""

    chars: dict[tuple[str, bool, bool], set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, face: str, bold: bool, italic: bool, text: str) -> None:
        """Note that ``text`` prints in ``face`` in this weight and slant."""
        self.chars[(face, bold, italic)].update(text)


def _file(face: str, bold: bool, italic: bool) -> str:
    """The file Word is given for the face in this style (the regular one where the face
    has no bold or italic: Word then makes it bold or slanted itself, as the PDF does)."""
    f = FACES[face]
    if bold and italic and f.bold_italic:
        return f.bold_italic
    if bold and f.bold and not italic:
        return f.bold
    if italic and f.italic and not bold:
        return f.italic
    if bold and italic:
        return f.bold or f.regular
    return f.regular


@lru_cache(maxsize=32)
def subset_font(path: Path, text: str, shaped: bool) -> bytes:
    """The font at ``path`` cut down to what prints ``text``.

    A script the PDF shapes (Arabic, the Indian scripts) keeps every shaping rule its
    characters reach; Latin, Greek and Cyrillic, which the PDF sets without kerning or
    ligatures, lose the layout tables, as reading them is most of the time taken.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    if shaped:
        options.layout_features = ["*"]  # joining, vowel signs: as the PDF shapes them
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    font = TTFont(str(path), recalcTimestamp=False)
    if not shaped:
        for tag in ("GSUB", "GPOS", "GDEF", "BASE", "JSTF"):
            if tag in font:
                del font[tag]  # dropped unread
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def font_key(data: bytes) -> str:
    """A GUID for a font's key, made from its bytes so the same letter gives the same copy."""
    digest = hashlib.sha256(data).hexdigest().upper()
    return f"{{{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}}}"


def obfuscate(font: bytes, key: str) -> bytes:
    """Scramble the first 32 bytes with the key, read from its last pair of digits back."""
    mask = bytes.fromhex(key.strip("{}").replace("-", ""))[::-1]
    head = bytes(byte ^ mask[i % 16] for i, byte in enumerate(font[:32]))
    return head + font[32:]


def deobfuscate(odttf: bytes, key: str) -> bytes:
    """The font file inside an ``.odttf`` part (the scrambling undoes itself)."""
    return obfuscate(odttf, key)


def embed_fonts(word: Document, used: FontsUsed) -> int:
    """Embed a subset of each font ``used`` names; returns the bytes of font data added."""
    folder = fonts_dir()
    font_table = word.part.part_related_by(RT.FONT_TABLE)
    fonts_xml = parse_xml(font_table.blob)
    package = word.part.package
    by_family: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    added = 0
    number = 0
    for (face, style_bold, style_italic), chars in sorted(used.chars.items()):
        if not "".join(chars).strip():
            continue
        # The same characters give the same text: most letters reuse one cut of Noto Sans.
        wanted = chars | set(_ALWAYS) | (set(EDITABLE) if face == REGULAR else set())
        text = "".join(sorted(wanted))
        data = subset_font(folder / _file(face, style_bold, style_italic), text, FACES[face].shaped)
        key = font_key(data)
        number += 1
        part = Part(
            PackURI(f"/word/fonts/font{number}.odttf"),
            OBFUSCATED_FONT,
            obfuscate(data, key),
            package,
        )
        r_id = font_table.relate_to(part, RT.FONT)
        element = dict(_STYLES)[(style_bold, style_italic)]
        by_family[WORD_FAMILIES[face]][element] = (r_id, key)
        added += len(data)
    for family, embeds in by_family.items():
        for old in fonts_xml.findall(qn("w:font")):
            if old.get(qn("w:name")) == family:
                fonts_xml.remove(old)
        entry = OxmlElement("w:font")
        entry.set(qn("w:name"), family)
        for tag, value in (("w:charset", "00"), ("w:family", "swiss"), ("w:pitch", "variable")):
            child = OxmlElement(tag)
            child.set(qn("w:val"), value)
            entry.append(child)
        for _, element in _STYLES:
            if element in embeds:
                r_id, font_guid = embeds[element]
                embed = OxmlElement(f"w:{element}")
                embed.set(qn("r:id"), r_id)
                embed.set(qn("w:fontKey"), font_guid)
                embed.set(qn("w:subsetted"), "1")
                entry.append(embed)
        fonts_xml.append(entry)
    from lxml import etree

    font_table._blob = etree.tostring(fonts_xml, xml_declaration=True, encoding="UTF-8")
    # Word keeps the fonts embedded when the copy is saved again.
    settings = word.settings.element
    anchor = settings.find(qn("w:zoom"))
    for tag in ("w:saveSubsetFonts", "w:embedTrueTypeFonts"):
        if settings.find(qn(tag)) is None:
            flag = OxmlElement(tag)
            if anchor is not None:
                anchor.addnext(flag)
            else:
                settings.insert(0, flag)
    return added
