"""Where evidence files live: outside Temporal history, which keeps only their hash, type, size and
key (returns.status.EvidenceFile).

`open_store()` picks the store from the environment:
- RETURNS_EVIDENCE_S3_BUCKET set: an S3-compatible bucket (AWS S3, MinIO, Ceph, ...), at
  RETURNS_EVIDENCE_S3_ENDPOINT when set (else AWS's), region RETURNS_EVIDENCE_S3_REGION (or
  AWS_REGION / AWS_DEFAULT_REGION, default us-east-1), credentials from boto3's usual chain
  (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance role);
- otherwise a local folder, RETURNS_EVIDENCE_DIR (default `<RETURNS_DATA_DIR>/evidence`, that is
  `.data/evidence` in the checkout, beside the labels and the outbox).

Keys are `<merchant_id>/<return_id>/<sha256>`: ids and a hash, nothing personal. The same file
uploaded twice has the same key, so a repeat overwrites it with the same bytes.
boto3 is blocking: its calls run in a thread.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Mapping, Protocol

DIR_ENV = "RETURNS_EVIDENCE_DIR"
S3_ENDPOINT_ENV = "RETURNS_EVIDENCE_S3_ENDPOINT"
S3_BUCKET_ENV = "RETURNS_EVIDENCE_S3_BUCKET"
S3_REGION_ENV = "RETURNS_EVIDENCE_S3_REGION"
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}(/[A-Za-z0-9][A-Za-z0-9._:-]{0,63}){1,3}$")


class EvidenceStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def put_file(self, key: str, path: Path, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...


def evidence_key(merchant_id: str, return_id: str, sha256: str) -> str:
    return f"{merchant_id}/{return_id}/{sha256}"


def check_key(key: str) -> str:
    """Keys are ids and a hash joined by '/': nothing else reaches a path or a bucket."""
    if not KEY.fullmatch(key) or ".." in key:
        raise ValueError(f"key: {key!r} is not <merchant_id>/<return_id>/<sha256>")
    return key


class LocalEvidenceStore:
    """A folder on this machine (the default; `make run` uses .data/evidence)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        await asyncio.to_thread(self._copy, self._path(key), Path(path))

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, target)  # whole or absent, never half written

    @staticmethod
    def _copy(target: Path, source: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            with source.open("rb") as src:
                shutil.copyfileobj(src, tmp)
        os.replace(tmp.name, target)


class S3EvidenceStore:
    """An S3-compatible bucket through boto3 (tests: moto's S3 protocol server)."""

    def __init__(self, bucket: str, endpoint_url: str | None = None,
                 region: str = "us-east-1", client=None) -> None:
        import boto3

        self.bucket = bucket
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url or None,
                                             region_name=region)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self.client.put_object, Bucket=self.bucket, Key=check_key(key),
                                Body=data, ContentType=content_type)

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        await asyncio.to_thread(self.client.upload_file, str(path), self.bucket, check_key(key),
                                ExtraArgs={"ContentType": content_type})

    async def get(self, key: str) -> bytes:
        def read() -> bytes:
            return self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"].read()
        return await asyncio.to_thread(read)


def open_store(env: Mapping[str, str] | None = None) -> EvidenceStore:
    """The store the environment configures (module docstring)."""
    env = os.environ if env is None else env
    bucket = env.get(S3_BUCKET_ENV, "").strip()
    if bucket:
        region = (env.get(S3_REGION_ENV) or env.get("AWS_REGION")
                  or env.get("AWS_DEFAULT_REGION") or "us-east-1")
        return S3EvidenceStore(bucket, env.get(S3_ENDPOINT_ENV, "").strip() or None, region)
    if env.get(S3_ENDPOINT_ENV, "").strip():
        raise ValueError(f"{S3_ENDPOINT_ENV} is set but {S3_BUCKET_ENV} is not: name the bucket")
    if env.get(DIR_ENV):
        return LocalEvidenceStore(Path(env[DIR_ENV]))
    from runtime.settings import Settings

    return LocalEvidenceStore(Settings.from_env(dict(env)).data_dir / "evidence")
