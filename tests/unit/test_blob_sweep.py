"""The start-up sweep keeps the school's logo and signature without asking the letters
service: any setting kept as a JSON object names the blobs it refers to in its fields
``sha256`` or ``*_sha256``, as any table does in its columns so named."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import text

from app.services.casebook import Services


def _png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(out, "PNG")
    return out.getvalue()


def test_the_sweep_keeps_the_profile_images_and_removes_what_nothing_names(
    services: Services,
) -> None:
    profile = services.letters.profile.set_image("logo", _png("navy"))
    profile = services.letters.profile.set_image("signature", _png("black"))
    orphan = services.blobs.put_bytes(b"nothing refers to this").sha256
    services.sweep_blobs()
    assert not services.blobs.exists(orphan)
    for sha in (profile.logo_sha256, profile.signature_sha256):
        assert sha and services.blobs.exists(sha)
        assert services.letters.profile.image(sha) is not None
    # A logo taken away is swept like any other file no one refers to.
    old_logo = profile.logo_sha256
    services.letters.profile.set_image("logo", None)
    services.sweep_blobs()
    assert not services.blobs.exists(old_logo)
    assert services.blobs.exists(profile.signature_sha256)


def test_a_setting_that_is_not_a_json_object_does_not_stop_the_sweep(
    services: Services,
) -> None:
    kept = services.blobs.put_bytes(b"named by an odd setting").sha256
    with services.engine.begin() as connection:
        for key, value in (
            ("not json", "sha256 {"),
            ("a list", f'["{kept}", "x_sha256"]'),
            ("a number", '{"n_sha256": 5, "empty_sha256": ""}'),
            ("kept", f'{{"sha256": "{kept}"}}'),
        ):
            connection.execute(
                text("INSERT INTO settings (key, value) VALUES (:key, :value)"),
                {"key": key, "value": value},
            )
    services.sweep_blobs()
    assert services.blobs.exists(kept)
