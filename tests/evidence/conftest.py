"""Fixtures for the evidence tests: a real casebook in tmp_path and a hostile-file set."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from app.domain.categories import Category
from app.domain.records import CaseDraft
from app.services.casebook import Services, open_casebook

FIXED_NOW = datetime(2026, 11, 24, 14, 5, tzinfo=UTC)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    opened = open_casebook(tmp_path / "data", actor="Mrs Head", clock=lambda: FIXED_NOW)
    yield opened
    opened.close()


@pytest.fixture
def case_id(services: Services) -> int:
    case = services.cases.open_case(
        CaseDraft(title="Comments about Year 4", categories=frozenset({Category.ABUSIVE}))
    )
    return case.id


def png_bytes(width: int = 64, height: int = 48, colour: str = "skyblue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps(width: int = 80, height: int = 60) -> bytes:
    image = Image.new("RGB", (width, height), "red")
    exif = Image.Exif()
    exif[0x010F] = "PhoneCo"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    )
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares the given size (a decompression bomb when large)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _chunk(b"IEND", b"")
    )


def pdf_bytes(pages: int = 2) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Author": "Someone Private"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def hostile_files() -> dict[str, tuple[str, bytes]]:
    """Every kind of file that must be refused: id -> (file name offered, bytes)."""
    good_png = png_bytes(200, 200)
    good_jpeg = jpeg_with_gps(200, 200)
    good_pdf = pdf_bytes(1)
    gif = io.BytesIO()
    Image.new("P", (50, 50)).save(gif, "GIF")
    webp = io.BytesIO()
    Image.new("RGB", (50, 50), "green").save(webp, "WEBP")
    zip_buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(zip_buffer, "w") as archive:
        archive.writestr("a.txt", "hello")
    return {
        "empty": ("empty.png", b""),
        "exe_renamed": ("holiday.png", b"MZ\x90\x00\x03" + b"\x00" * 200),
        "elf": ("photo.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 200),
        "script": ("note.txt", b"#!/bin/sh\nrm -rf /\n"),
        "html": ("post.png", b"<!DOCTYPE html><html><body>hi</body></html>"),
        "html_later": ("page.txt", b"\n\n  <html><script>alert(1)</script></html>"),
        "svg": ("drawing.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
        "svg_bare": ("drawing.txt", b'<svg onload="alert(1)"></svg>'),
        "zip": ("screenshot.png", zip_buffer.getvalue()),
        "gzip": ("screenshot.jpg", b"\x1f\x8b\x08\x00" + b"\x00" * 50),
        "rar": ("evidence.pdf", b"Rar!\x1a\x07\x00" + b"\x00" * 50),
        "seven_zip": ("evidence.txt", b"7z\xbc\xaf\x27\x1c" + b"\x00" * 50),
        "unknown_bytes": ("mystery.png", bytes(range(256)) * 4),
        "truncated_png": ("cut.png", good_png[: len(good_png) // 2]),
        "corrupt_png": ("bad.png", good_png[:40] + b"\x00" * 60 + good_png[100:]),
        "truncated_jpeg": ("cut.jpg", good_jpeg[: len(good_jpeg) // 2]),
        "truncated_gif": ("cut.gif", gif.getvalue()[:20]),
        "truncated_webp": ("cut.webp", webp.getvalue()[:30]),
        "zero_size_png": ("zero.png", png_declaring(0, 0)),
        "bomb_png": ("small.png", png_declaring(60000, 60000)),
        "wide_bomb_png": ("strip.png", png_declaring(1_000_000, 1)),
        "truncated_pdf": ("cut.pdf", good_pdf[: len(good_pdf) // 2]),
        "corrupt_pdf": ("bad.pdf", b"%PDF-1.7\n" + b"garbage " * 50 + b"\n%%EOF\n"),
        "header_only_pdf": ("header.pdf", b"%PDF-1.4\n%%EOF"),
        "binary_text": ("chat.txt", b"hello\x00\x01\x02world"),
        "blank_text": ("blank.txt", b"   \n\t\n"),
    }
