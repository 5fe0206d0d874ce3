"""Pictures printed in the case file: decoded once, passed through when already fit, and
never carrying metadata, upside-down pictures or hidden trailing bytes onto paper."""

from __future__ import annotations

import io

import pikepdf
import pytest
from PIL import ExifTags, Image

from app.evidence.derivatives import PRINT_WIDTH, bare_jpeg_size, printable_copy
from app.services.casebook import Services


def jpeg(width: int = 300, height: int = 500, **options: object) -> bytes:
    image = Image.new("RGB", (width, height), "white")
    image.paste((200, 30, 30), (0, 0, width, height // 4))  # a red band at the top
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, **options)
    return out.getvalue()


def with_exif_bytes(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneCo"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (51.0, 30.0, 0.0)})
    return exif.tobytes()


def with_exif(width: int, height: int, orientation: int = 1) -> bytes:
    return jpeg(width, height, exif=with_exif_bytes(orientation))


def pictures_in(pdf: bytes) -> list[tuple[int, int, object, bytes]]:
    """(width, height, filter, raw stream) of every image in the PDF."""
    found = []
    with pikepdf.open(io.BytesIO(pdf)) as book:
        for obj in book.objects:
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
                found.append(
                    (int(obj.Width), int(obj.Height), obj.get("/Filter"), obj.read_raw_bytes())
                )
    return found


def test_a_jpeg_with_nothing_but_its_picture_is_passed_through_byte_for_byte() -> None:
    plain = jpeg()
    assert bare_jpeg_size(plain) == (300, 500)
    assert printable_copy(plain) is plain
    progressive = jpeg(progressive=True)
    assert printable_copy(progressive) is progressive


@pytest.mark.parametrize(
    "extra",
    [
        {"exif": Image.Exif().tobytes() or b"Exif\x00\x00"},
        {"exif": with_exif_bytes()},
        {"icc_profile": b"\x00" * 200},
        {"comment": b"taken at 14 Elm Road"},
    ],
    ids=["empty-exif", "exif", "icc", "comment"],
)
def test_a_jpeg_carrying_metadata_is_re_encoded_without_it(extra: dict[str, bytes]) -> None:
    carrying = jpeg(**extra)
    assert bare_jpeg_size(carrying) is None
    copy = printable_copy(carrying)
    assert bare_jpeg_size(copy) == (300, 500)
    with Image.open(io.BytesIO(copy)) as image:
        assert not {"exif", "icc_profile", "comment", "xmp"} & set(image.info)


def test_bytes_hidden_after_the_end_of_a_jpeg_do_not_travel() -> None:
    hidden = jpeg() + b"secret video of the playground" + jpeg(20, 20)
    assert bare_jpeg_size(hidden) is None
    copy = printable_copy(hidden)
    assert b"secret" not in copy
    assert copy.count(b"\xff\xd8") == 1 and bare_jpeg_size(copy) == (300, 500)


def test_a_damaged_or_odd_jpeg_is_not_called_bare() -> None:
    plain = jpeg()
    assert bare_jpeg_size(plain[:-2]) is None  # no end marker
    assert bare_jpeg_size(plain[: len(plain) // 2]) is None
    assert bare_jpeg_size(b"\xff\xd8\xff\xe0\x00") is None
    assert bare_jpeg_size(b"not a jpeg") is None


def test_a_sideways_phone_photo_is_printed_upright_without_its_gps() -> None:
    # Stored 500 wide and 300 high with "turn 90° clockwise to view": upright it is 300×500.
    sideways = with_exif(500, 300, orientation=6)
    copy = printable_copy(sideways)
    with Image.open(io.BytesIO(copy)) as image:
        assert image.size == (300, 500)
        assert "exif" not in image.info


def test_a_wide_photo_is_printed_from_a_copy_at_print_width() -> None:
    copy = printable_copy(with_exif(4000, 3000))
    with Image.open(io.BytesIO(copy)) as image:
        assert image.size == (PRINT_WIDTH, 1050)


def test_a_transparent_png_is_printed_on_white() -> None:
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 20, 40))
    out = io.BytesIO()
    image.save(out, "PNG")
    with Image.open(io.BytesIO(printable_copy(out.getvalue()))) as copy:
        assert copy.mode == "RGB"
        r, g, b = copy.convert("RGB").getpixel((35, 20))  # type: ignore[misc]
        assert min(r, g, b) > 240  # white, not black
        r, g, b = copy.convert("RGB").getpixel((5, 20))  # type: ignore[misc]
        assert b > 200 and r < 60


def test_the_case_file_embeds_a_plain_jpeg_as_it_is_and_a_tall_png_at_full_width(
    services: Services, case_id: int
) -> None:
    plain = jpeg(1080, 1900)
    tall = Image.new("RGB", (1080, 7000), "white")
    for y in range(0, 7000, 140):
        tall.paste((30, 30, 30), (40, y, 1000, y + 40))
    out = io.BytesIO()
    tall.save(out, "PNG")
    services.evidence.add_bytes(
        case_id,
        [
            ("chat.jpg", plain),
            ("thread.png", out.getvalue()),
            ("photo.jpg", with_exif(900, 600, orientation=3)),
        ],
    )
    pdf = services.reports.case_file(case_id)
    pictures = pictures_in(pdf)
    # The plain JPEG's own bytes, not a re-encoding of them; no metadata in any picture.
    assert [p for p in pictures if p[3] == plain]
    assert (1080, 7000) in [(w, h) for w, h, _, _ in pictures]  # readable, not shrunk
    assert all("/DCTDecode" in str(f) for _, _, f, _ in pictures)
    for _, _, _, raw in pictures:
        assert b"PhoneCo" not in raw and b"Exif" not in raw
    # Each picture is in the file once, however many pages it is drawn on.
    assert len(pictures) == 3
    assert len(pdf) < 2 * sum(len(raw) for *_, raw in pictures) + 400_000
