"""Evidence files checked from their bytes (pure, no server): the type is sniffed from the
content whatever the name says, sizes are bounded while the upload streams (refused at the first
chunk past the bound, before the rest is read), location is stripped from photos."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from evidence import files
from evidence.files import FileProblem, Media, Refused
from returns.evidence import MAX_PHOTO_BYTES, MAX_VIDEO_BYTES
from tests.uploads.media import GPS_IFD, mov, mp4, photo, webm


@pytest.mark.parametrize("data, expected", [
    (photo("JPEG"), ("image/jpeg", Media.photo)),
    (photo("PNG"), ("image/png", Media.photo)),
    (photo("WEBP"), ("image/webp", Media.photo)),
    (mp4(), ("video/mp4", Media.video)),
    (mov(), ("video/quicktime", Media.video)),
    (webm(), ("video/webm", Media.video)),
])
def test_photos_and_videos_are_known_by_their_bytes(data, expected):
    assert files.sniff(data[:files.SNIFF_BYTES]) == expected


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\n" + b"x" * 400,  # a PDF named photo.jpg
    b"MZ\x90\x00" + b"\x00" * 400,  # a Windows program
    b"<html><script>alert(1)</script></html>" + b" " * 300,
    b"GIF89a" + b"\x00" * 300,  # an image, but not one we take
    "Bonjour, voici ma photo".encode() * 20,
])
def test_anything_else_is_refused_whatever_its_name(data):
    assert files.sniff(data[:files.SNIFF_BYTES]) is None


async def _stream(data: bytes, chunk: int = 64 * 1024, read: list | None = None):
    for start in range(0, len(data), chunk):
        if read is not None:
            read.append(start)
        yield data[start:start + chunk]


async def test_an_upload_streams_to_disk_with_its_sniffed_type(tmp_path):
    data = photo(noise=True, size=(300, 200))
    got = await files.receive(_stream(data, chunk=100), tmp_path)  # chunks shorter than a sniff
    assert (got.content_type, got.media, got.size) == ("image/jpeg", Media.photo, len(data))
    assert got.path.read_bytes() == data


async def test_a_small_file_is_sniffed_whole(tmp_path):
    data = mp4(200)
    got = await files.receive(_stream(data), tmp_path)
    assert got.content_type == "video/mp4" and got.path.read_bytes() == data


async def test_a_too_large_photo_is_refused_at_the_first_chunk_past_10_mb(tmp_path):
    big = photo() + b"\x00" * MAX_PHOTO_BYTES + b"\x00" * 5 * 1024 * 1024
    read: list[int] = []
    with pytest.raises(Refused) as refused:
        await files.receive(_stream(big, chunk=1024 * 1024, read=read), tmp_path)
    assert refused.value.problem == FileProblem.photo_too_large
    assert len(read) == 11  # 11 MB read of 15: refused early
    assert list(tmp_path.iterdir()) == []  # nothing left on disk


async def test_a_photo_of_exactly_10_mb_is_taken(tmp_path):
    data = photo()
    exact = data + b"\x00" * (MAX_PHOTO_BYTES - len(data))
    got = await files.receive(_stream(exact, chunk=1024 * 1024), tmp_path)
    assert got.size == MAX_PHOTO_BYTES


async def test_videos_are_bounded_at_100_mb(tmp_path):
    async def endless():
        yield mp4(1024)
        while True:
            yield b"\x00" * (4 * 1024 * 1024)
    with pytest.raises(Refused) as refused:
        await files.receive(endless(), tmp_path)
    assert refused.value.problem == FileProblem.video_too_large
    assert MAX_VIDEO_BYTES == 100 * 1024 * 1024


async def test_empty_and_foreign_files_are_refused(tmp_path):
    with pytest.raises(Refused) as refused:
        await files.receive(_stream(b""), tmp_path)
    assert refused.value.problem == FileProblem.empty
    with pytest.raises(Refused) as refused:
        await files.receive(_stream(b"%PDF-1.7\n" + b"x" * 5000), tmp_path)
    assert refused.value.problem == FileProblem.not_media
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt, content_type", [
    ("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_location_is_stripped_and_the_rest_of_exif_kept(fmt, content_type):
    sent = photo(fmt)
    assert files.has_location(sent)  # the upload had a GPS position
    kept = files.without_location(sent, content_type)
    assert not files.has_location(kept)
    with Image.open(io.BytesIO(kept)) as image:
        assert image.format == fmt and image.size == (64, 48)
        exif = image.getexif()
        assert not exif.get_ifd(GPS_IFD) and GPS_IFD not in exif
        assert exif[0x0110] == "TestCam 1"  # the camera model stays


def test_the_same_photo_gives_the_same_stored_bytes():
    """Stripping is deterministic: the same upload twice has one hash, so it is recorded once."""
    sent = photo()
    assert files.sha256_of(files.without_location(sent, "image/jpeg")) == files.sha256_of(
        files.without_location(sent, "image/jpeg"))


def test_a_photo_pillow_cannot_read_is_refused():
    broken = photo()[:200] + b"\x00" * 100  # a JPEG header, then nothing a decoder can use
    with pytest.raises(Refused) as refused:
        files.without_location(broken, "image/jpeg")
    assert refused.value.problem == FileProblem.unreadable_photo


XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
       b'syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
       b'exif:GPSLatitude="48,51.4N" exif:GPSLongitude="2,21.05E"/></rdf:RDF></x:xmpmeta>')


@pytest.mark.parametrize("fmt, content_type", [("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_a_location_in_xmp_is_stripped_too(fmt, content_type):
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 20, 30)).save(out, format=fmt, xmp=XMP)
    assert b"GPSLatitude" in out.getvalue()
    kept = files.without_location(out.getvalue(), content_type)
    assert b"GPSLatitude" not in kept and not files.has_location(kept)
