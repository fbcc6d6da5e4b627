"""The evidence store, in a local folder and in an S3-compatible bucket: the bucket is moto's S3
protocol server (ThreadedMotoServer, a real HTTP server speaking S3's API, tests/uploads/conftest.py),
since no real S3 is reachable from here. And `evidence_bytes`, the staff console's reader: only a
file the return recorded, with bytes matching its hash."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest

from evidence import evidence_bytes, evidence_key, open_store
from evidence.store import LocalEvidenceStore, S3EvidenceStore
from returns.events import EvidenceKind
from returns.status import EvidenceFile, ReturnState, ReturnStatus
from tests.uploads.media import mp4, photo


def _status(*files: EvidenceFile, return_id="R-1") -> ReturnStatus:
    return ReturnStatus(return_id=return_id, merchant_id="opalook", order_id="O-1",
                        state=ReturnState.under_review, currency="EUR", evidence=list(files))


def _recorded(data: bytes, return_id="R-1", content_type="image/jpeg") -> EvidenceFile:
    sha = hashlib.sha256(data).hexdigest()
    return EvidenceFile(sha256=sha, content_type=content_type, size=len(data),
                        kind=EvidenceKind.photos, uploaded_at=datetime.now(timezone.utc),
                        key=evidence_key("opalook", return_id, sha))


async def _round_trip(store, tmp_path):
    data = photo(gps=False)
    key = evidence_key("opalook", "R-1", hashlib.sha256(data).hexdigest())
    await store.put(key, data, "image/jpeg")
    assert await store.get(key) == data
    await store.put(key, data, "image/jpeg")  # the same file again: same key, same bytes
    assert await store.get(key) == data
    video = mp4(3 * 1024 * 1024)
    path = tmp_path / "upload.mp4"
    path.write_bytes(video)
    video_key = evidence_key("opalook", "R-1", hashlib.sha256(video).hexdigest())
    await store.put_file(video_key, path, "video/mp4")
    assert await store.get(video_key) == video


async def test_the_local_folder_keeps_files_by_key(tmp_path):
    store = open_store({"RETURNS_EVIDENCE_DIR": str(tmp_path / "evidence")})
    assert isinstance(store, LocalEvidenceStore)
    await _round_trip(store, tmp_path)
    files = sorted(p.relative_to(tmp_path / "evidence").as_posix()
                   for p in (tmp_path / "evidence").rglob("*") if p.is_file())
    assert len(files) == 2 and all(f.startswith("opalook/R-1/") for f in files)


async def test_an_s3_bucket_keeps_files_by_key(s3_env, tmp_path):
    store = open_store(s3_env)
    assert isinstance(store, S3EvidenceStore)
    await _round_trip(store, tmp_path)
    head = store.client.head_object(Bucket=s3_env["RETURNS_EVIDENCE_S3_BUCKET"],
                                    Key=evidence_key("opalook", "R-1", hashlib.sha256(
                                        photo(gps=False)).hexdigest()))
    assert head["ContentType"] == "image/jpeg"


@pytest.mark.parametrize("key", ["../etc/passwd", "opalook/../../x", "/abs/path/x", "a",
                                 "opalook/R-1/x/y/z", "opalook/R 1/abc"])
async def test_keys_are_ids_and_a_hash_only(tmp_path, key):
    store = LocalEvidenceStore(tmp_path)
    with pytest.raises(ValueError, match="key"):
        await store.put(key, b"x", "image/jpeg")
    with pytest.raises(ValueError, match="key"):
        await store.get(key)


def test_an_endpoint_without_a_bucket_is_an_error_naming_it():
    with pytest.raises(ValueError, match="RETURNS_EVIDENCE_S3_BUCKET"):
        open_store({"RETURNS_EVIDENCE_S3_ENDPOINT": "http://127.0.0.1:9000"})


@pytest.mark.parametrize("backend", ["local", "s3"])
async def test_staff_read_only_files_the_return_recorded(backend, tmp_path, request):
    store = (LocalEvidenceStore(tmp_path) if backend == "local"
             else open_store(request.getfixturevalue("s3_env")))
    mine, theirs, stray = photo(gps=False), photo(gps=False, color=(0, 0, 255)), mp4()
    for data, return_id in ((mine, "R-1"), (theirs, "R-2"), (stray, "R-1")):
        await store.put(evidence_key("opalook", return_id, hashlib.sha256(data).hexdigest()),
                        data, "image/jpeg")
    status = _status(_recorded(mine))
    assert await evidence_bytes(store, status, hashlib.sha256(mine).hexdigest()) == (
        mine, "image/jpeg")
    # Another return's file, a stored file no return recorded, a made-up or malformed hash: None.
    assert await evidence_bytes(store, status, hashlib.sha256(theirs).hexdigest()) is None
    assert await evidence_bytes(store, status, hashlib.sha256(stray).hexdigest()) is None
    assert await evidence_bytes(store, status, "0" * 64) is None
    assert await evidence_bytes(store, status, "../../R-2/x") is None
    # R-2's status does not open R-1's file even with its hash.
    assert await evidence_bytes(store, _status(_recorded(theirs, "R-2"), return_id="R-2"),
                                hashlib.sha256(mine).hexdigest()) is None


async def test_a_recorded_file_missing_or_changed_in_the_store_is_not_served(tmp_path):
    store = LocalEvidenceStore(tmp_path)
    data = photo(gps=False)
    recorded = _recorded(data)
    status = _status(recorded)
    assert await evidence_bytes(store, status, recorded.sha256) is None  # never stored
    await store.put(recorded.key, b"something else", "image/jpeg")
    assert await evidence_bytes(store, status, recorded.sha256) is None  # bytes do not match
