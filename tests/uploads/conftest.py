"""A real S3 protocol server for the evidence store: moto's ThreadedMotoServer (moto[server]),
which speaks S3's HTTP API on a free local port. Real AWS cannot be reached from here (no
internet); boto3 talks to moto exactly as it talks to S3 or MinIO."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(scope="session")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_endpoint, monkeypatch):
    """Settings of an S3-compatible store with a fresh bucket, as an operator would set them."""
    import boto3

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-3"}.items():
        monkeypatch.setenv(name, value)
    bucket = f"evidence-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return {"RETURNS_EVIDENCE_S3_ENDPOINT": s3_endpoint, "RETURNS_EVIDENCE_S3_BUCKET": bucket,
            "RETURNS_EVIDENCE_S3_REGION": "eu-west-3"}
