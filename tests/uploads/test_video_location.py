"""A video's location removed without re-encoding (evidence/video_location.py): small real MP4 and
MOV files built box by box here (ffmpeg is not installed on this machine, and nothing is
downloaded), carrying a location the ways phones write it: `©xyz` in moov/udta and in a track's
udta, 3GPP `loci`, Apple's `com.apple.quicktime.location.ISO6709` key in moov/meta's keys/ilst.
After stripping: no coordinates left, the same length, the same box tree (the location boxes now
`free`), and every other byte identical (the frames in mdat, the chunk offsets in stco)."""

from __future__ import annotations

import pytest

from evidence import files, video_location
from evidence.keep import keep
from evidence.store import LocalEvidenceStore
from tests.uploads.media import (
    LOCI_NAME, PARIS_ISO6709, box, boxes, mov, mp4, video_with_location, webm,
)

BLANKED = {b"\xa9xyz", b"loci", (1).to_bytes(4, "big")}  # the last: Apple's location ilst item


def apple_items(data: bytes) -> list[tuple[int, bytes, int, int]]:
    """The ilst items under moov/meta (depth 3, not a `boxes` container: read them here)."""
    ilst = next((at, size) for depth, kind, at, size in boxes(data)
                if kind == b"ilst" and depth == 2)
    return list(boxes(data, ilst[0] + 8, ilst[0] + ilst[1], 3))


@pytest.mark.parametrize("quicktime", [False, True], ids=["mp4", "mov"])
def test_the_location_is_gone_and_everything_else_is_byte_identical(quicktime):
    sent = video_with_location(quicktime=quicktime)
    assert PARIS_ISO6709 in sent and LOCI_NAME in sent and video_location.has_location(sent)
    kept = video_location.without_location(sent)

    assert PARIS_ISO6709 not in kept and b"+48.8583" not in kept and LOCI_NAME not in kept
    assert not video_location.has_location(kept)
    assert len(kept) == len(sent)
    before = list(boxes(sent)) + apple_items(sent)
    after = list(boxes(kept)) + apple_items(kept)
    # The same tree: every box at the same depth, offset and size; only the location's type
    # changed, to `free`.
    assert [(d, at, size) for d, _, at, size in before] == [(d, at, size) for d, _, at, size in after]
    changed = [(b, a) for b, a in zip(before, after) if b[1] != a[1]]
    assert {b[1] for b, _ in changed} == BLANKED and {a[1] for _, a in changed} == {b"free"}
    assert len(changed) == 4  # moov/udta's ©xyz and loci, the track's ©xyz, Apple's item
    # Every byte outside the blanked boxes is the same; inside them, zeros after the header
    spans = [(at, at + size) for _, kind, at, size in before if kind in BLANKED]
    for start, end in spans:
        assert kept[start + 4:start + 8] == b"free" and kept[start + 8:end] == bytes(end - start - 8)
    outside = bytearray(sent), bytearray(kept)
    for start, end in spans:
        for b in outside:
            b[start:end] = bytes(end - start)
    assert outside[0] == outside[1]
    # The frames and the chunk offset pointing at them: unchanged, so the video plays as sent.
    mdat = next((at, size) for _, kind, at, size in after if kind == b"mdat")
    stco = next(at for _, kind, at, _ in after if kind == b"stco")
    assert int.from_bytes(kept[stco + 16:stco + 20], "big") == mdat[0] + 8
    assert kept[mdat[0]:mdat[0] + mdat[1]] == sent[mdat[0]:mdat[0] + mdat[1]]
    # Apple's other keys stay: only the location item is blanked.
    assert b"com.apple.quicktime.make" in kept and b"Apple" in kept
    assert files.sniff(kept[:files.SNIFF_BYTES]) == files.sniff(sent[:files.SNIFF_BYTES])


def test_the_type_names_of_location_boxes_are_gone_too():
    kept = video_location.without_location(video_with_location())
    assert b"\xa9xyz" not in kept and b"loci" not in kept


def test_a_video_without_location_is_left_exactly_as_sent():
    for sent in (mp4(), mov(), video_location.without_location(video_with_location())):
        assert video_location.without_location(sent) == sent


def test_a_64_bit_box_size_is_followed():
    """A large mdat uses size 1 and a 64-bit size: the walk reaches the moov after it."""
    sent = video_with_location()
    ftyp_end = int.from_bytes(sent[:4], "big")
    mdat_size = int.from_bytes(sent[ftyp_end:ftyp_end + 4], "big")
    payload = sent[ftyp_end + 8:ftyp_end + mdat_size]
    large = (1).to_bytes(4, "big") + b"mdat" + (16 + len(payload)).to_bytes(8, "big") + payload
    rebuilt = sent[:ftyp_end] + large + sent[ftyp_end + mdat_size:]
    kept = video_location.without_location(rebuilt)
    assert len(kept) == len(rebuilt) and PARIS_ISO6709 not in kept


def test_xmp_in_a_video_is_removed_as_in_a_photo():
    xmp = b"<x:xmpmeta><exif:GPSLatitude>48,51.4N</exif:GPSLatitude></x:xmpmeta>"
    sent = mp4(256) + box(b"moov", box(b"udta", box(b"XMP_", xmp)))
    sent = sent[:32] + sent[256:]  # ftyp + free, then moov
    kept = video_location.without_location(sent)
    assert b"GPSLatitude" not in kept and len(kept) == len(sent)


def test_a_box_tree_that_does_not_fit_is_refused():
    sent = video_with_location()
    moov = sent.index(b"moov") - 4
    broken = sent[:moov] + (len(sent)).to_bytes(4, "big") + sent[moov + 4:]  # past the end
    with pytest.raises(video_location.MalformedVideo):
        video_location.without_location(broken)


async def _keep(tmp_path, data: bytes, content_type: str):
    path = tmp_path / "upload"
    path.write_bytes(data)
    received = files.Received(path=path, content_type=content_type, media=files.Media.video,
                              size=len(data))
    store = LocalEvidenceStore(tmp_path / "store")
    kept = await keep(store, "fine-jewelry", "R-1", received)
    return kept, await store.get(kept.key)


async def test_keep_stores_the_video_without_its_location(tmp_path):
    """Where photos lose their GPS (evidence/keep.py), videos lose theirs; the hash and size are
    the stored file's."""
    import hashlib

    for quicktime, content_type in ((False, "video/mp4"), (True, "video/quicktime")):
        sent = video_with_location(quicktime=quicktime)
        kept, stored = await _keep(tmp_path, sent, content_type)
        assert not video_location.has_location(stored) and PARIS_ISO6709 not in stored
        assert kept.size == len(stored) == len(sent)
        assert kept.sha256 == hashlib.sha256(stored).hexdigest()


async def test_keep_refuses_a_video_whose_boxes_do_not_fit(tmp_path):
    sent = video_with_location()
    moov = sent.index(b"moov") - 4
    broken = sent[:moov] + (len(sent)).to_bytes(4, "big") + sent[moov + 4:]
    with pytest.raises(files.Refused) as refused:
        await _keep(tmp_path, broken, "video/mp4")
    assert refused.value.problem == files.FileProblem.unreadable_video
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").rglob("*R-1*"))


async def test_webm_is_kept_as_sent(tmp_path):
    sent = webm()
    _, stored = await _keep(tmp_path, sent, "video/webm")
    assert stored == sent
