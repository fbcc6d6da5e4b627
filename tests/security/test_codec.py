"""The payload codec and the codec server the Web UI decodes through: keys rotate, tampering and
unknown keys are refused, and only the UI's origin with the token gets anything decoded."""

from __future__ import annotations

import base64
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from runtime.codec import (
    ENCODING, KEY_ID, CodecKeyError, EncryptionCodec, Keyring, UndecryptablePayload,
    ensure_dev_keys,
)
from runtime.codec_server import SESSION_COOKIE, CodecServerConfig, create_codec_app
from runtime.converter import encrypted_data_converter
from returns.actions import Approve

PII = b'{"name": "Ada Lovelace", "email": "ada@example.com"}'
UI = "http://127.0.0.1:8233"
TOKEN = "codec-test-token-0123456789"


def plain(data: bytes = PII) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


async def test_a_payload_is_encrypted_with_the_current_key_and_decrypts_to_itself():
    codec = EncryptionCodec(Keyring.generate("k1"))
    [sealed] = await codec.encode([plain()])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"k1"
    assert b"Ada" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [plain()]
    [again] = await codec.encode([plain()])
    assert again.data != sealed.data  # a fresh nonce every time


async def test_after_rotation_old_payloads_still_decrypt_and_new_ones_use_the_new_key():
    old = Keyring.generate("k2025")
    [sealed_old] = await EncryptionCodec(old).encode([plain()])
    rotated = Keyring.parse(f"k2026:{base64.b64encode(b'n' * 32).decode()}\n" + old.dumps())
    assert rotated.current_id == "k2026" and rotated.ids == ["k2026", "k2025"]
    codec = EncryptionCodec(rotated)
    [sealed_new] = await codec.encode([plain()])
    assert sealed_new.metadata[KEY_ID] == b"k2026"
    assert await codec.decode([sealed_old, sealed_new]) == [plain(), plain()]
    # Dropping the old key too early is a clear error naming the key, not garbage.
    with pytest.raises(UndecryptablePayload, match="k2025.*not in the keyring"):
        await EncryptionCodec(Keyring.parse(f"k2026:{base64.b64encode(b'n' * 32).decode()}")
                              ).decode([sealed_old])


async def test_plaintext_payloads_from_before_encryption_pass_through():
    codec = EncryptionCodec(Keyring.generate())
    assert await codec.decode([plain()]) == [plain()]


async def test_tampered_or_relabelled_payloads_are_refused():
    ring = Keyring.generate("a").with_new_current("b", b"b" * 32)
    codec = EncryptionCodec(ring)
    [sealed] = await codec.encode([plain()])
    flipped = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(UndecryptablePayload, match="altered"):
        await codec.decode([flipped])
    relabelled = Payload(metadata={"encoding": ENCODING, KEY_ID: b"a"}, data=sealed.data)
    with pytest.raises(UndecryptablePayload):
        await codec.decode([relabelled])  # the key id is authenticated data


@pytest.mark.parametrize("text, problem", [
    ("", "no keys"),
    ("k1", "not <key id>:<base64 key>"),
    ("k1:not base64!", "not valid base64"),
    (f"k1:{base64.b64encode(b'short').decode()}", "needs 32"),
    (f"k1:{base64.b64encode(b'x' * 32).decode()},k1:{base64.b64encode(b'y' * 32).decode()}", "twice"),
    (f"bad id:{base64.b64encode(b'x' * 32).decode()}", "key id"),
])
def test_a_malformed_keyring_says_what_is_wrong_without_showing_a_key(text, problem):
    with pytest.raises(CodecKeyError, match=problem) as err:
        Keyring.parse(text)
    assert "eHh4" not in str(err.value)  # base64 of "xxx": no key material in messages


def test_keys_come_from_the_environment_a_file_or_a_dev_key_only_for_a_local_server(tmp_path):
    ring = Keyring.generate("envkey")
    assert Keyring.from_env({"RETURNS_CODEC_KEYS": ring.dumps().strip()}).current_id == "envkey"
    keys_file = tmp_path / "keys"
    keys_file.write_text("# rotated 2026-01\n" + ring.dumps())
    assert Keyring.from_env({"RETURNS_CODEC_KEYS_FILE": str(keys_file)}).keys == ring.keys
    remote = {"RETURNS_DATA_DIR": str(tmp_path / "remote"), "TEMPORAL_ADDRESS": "temporal.prod:7233"}
    with pytest.raises(CodecKeyError, match="RETURNS_CODEC_KEYS"):
        Keyring.from_env(remote)
    local = {"RETURNS_DATA_DIR": str(tmp_path / "dev"), "TEMPORAL_ADDRESS": "127.0.0.1:7233"}
    first = Keyring.from_env(local)
    assert (tmp_path / "dev" / "codec-keys").stat().st_mode & 0o777 == 0o600
    assert Keyring.from_env(local).keys == first.keys == ensure_dev_keys(tmp_path / "dev" / "codec-keys").keys


async def test_the_converter_encrypts_every_payload_and_failure_messages():
    converter = encrypted_data_converter(Keyring.generate())
    [payload] = await converter.encode([Approve(actor="sam", note="Ada Lovelace called")])
    assert payload.metadata["encoding"] == ENCODING and b"Ada" not in payload.data
    assert await converter.decode([payload], [Approve]) == [Approve(actor="sam", note="Ada Lovelace called")]
    from temporalio.api.failure.v1 import Failure
    from temporalio.exceptions import ApplicationError

    failure = Failure()
    await converter.encode_failure(ApplicationError("550 no mailbox ada@example.com"), failure)
    assert b"ada@example.com" not in failure.SerializeToString()
    assert "ada@example.com" in str(await converter.decode_failure(failure))


# --- the codec server ----------------------------------------------------------------------------
@pytest.fixture
async def codec_server():
    codec = EncryptionCodec(Keyring.generate("k1"))
    app = create_codec_app(codec, CodecServerConfig(token=TOKEN, allowed_origins=(UI,)))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        client.codec = codec
        yield client


def body(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=list(payloads)))


async def test_the_ui_decodes_with_the_token_and_gets_the_payloads_back(codec_server):
    [sealed] = await codec_server.codec.encode([plain()])
    response = await codec_server.post("/decode", data=body(sealed), headers={
        "Content-Type": "application/json", "X-Namespace": "default", "Origin": UI,
        "Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == UI
    decoded = json_format.Parse(await response.text(), Payloads())
    assert list(decoded.payloads) == [plain()]
    # /encode is what the UI calls when staff send an update: the result is ciphertext.
    response = await codec_server.post("/encode", data=body(plain()), headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert response.status == 200
    [encoded] = json_format.Parse(await response.text(), Payloads()).payloads
    assert encoded.metadata["encoding"] == ENCODING
    assert await codec_server.codec.decode([encoded]) == [plain()]


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong-token-0123456789"},
    {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": TOKEN},
    {"Cookie": f"{SESSION_COOKIE}=forged"},
], ids=["none", "wrong", "longer", "basic", "no-scheme", "forged-cookie"])
async def test_without_the_right_token_nothing_is_decoded_401(codec_server, headers):
    [sealed] = await codec_server.codec.encode([plain()])
    for path in ("/decode", "/encode"):
        response = await codec_server.post(path, data=body(sealed), headers={
            "Content-Type": "application/json", "Origin": UI, **headers})
        assert response.status == 401, path
        text = await response.text()
        assert "Ada" not in text and "binary/encrypted" not in text and "YmluYXJ5" not in text


async def test_cors_preflight_is_answered_only_for_the_ui_origin(codec_server):
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,x-namespace"}
    response = await codec_server.options("/decode", headers={"Origin": UI, **preflight})
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == UI
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "x-namespace" in response.headers["Access-Control-Allow-Headers"].lower()
    for origin in ("http://evil.example", "http://127.0.0.1:8234", "null", "http://localhost:8233"):
        response = await codec_server.options("/decode", headers={"Origin": origin, **preflight})
        assert response.status == 403, origin
        assert "Access-Control-Allow-Origin" not in response.headers
        # Even with the token, a page on another origin gets nothing.
        response = await codec_server.post("/decode", data=body(plain()), headers={
            "Origin": origin, "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        assert response.status == 403 and "Access-Control-Allow-Origin" not in response.headers


async def test_staff_sign_in_once_and_the_browser_cookie_decodes(codec_server):
    response = await codec_server.post("/login", data={"token": "wrong"}, allow_redirects=False)
    assert response.status == 401 and SESSION_COOKIE not in response.cookies
    response = await codec_server.post("/login", data={"token": TOKEN}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == UI
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert TOKEN not in cookie.value
    [sealed] = await codec_server.codec.encode([plain()])
    response = await codec_server.post("/decode", data=body(sealed), headers={
        "Content-Type": "application/json", "Origin": UI,
        "Cookie": f"{SESSION_COOKIE}={cookie.value}"})
    assert response.status == 200
    assert list(json_format.Parse(await response.text(), Payloads()).payloads) == [plain()]


async def test_a_payload_it_cannot_decrypt_or_a_bad_body_is_a_clear_error(codec_server):
    [foreign] = await EncryptionCodec(Keyring.generate("other")).encode([plain()])
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    response = await codec_server.post("/decode", data=body(foreign), headers=auth)
    assert response.status == 422 and "other" in (await response.json())["error"]
    response = await codec_server.post("/decode", data=json.dumps({"payloads": 3}), headers=auth)
    assert response.status == 400


def _ciphertext_it_cannot_open(sealed: Payload) -> dict[str, Payload]:
    meta = {"encoding": ENCODING, "encryption-key-id": b"k1"}
    return {
        "empty": Payload(metadata=meta, data=b""),
        "shorter than a nonce": Payload(metadata=meta, data=b"\x01\x02\x03"),  # was a 500
        "a nonce and no tag": Payload(metadata=meta, data=sealed.data[:12] + b"\x00" * 5),
        "truncated": Payload(metadata=meta, data=sealed.data[:-1]),
        "clear text": Payload(metadata=meta, data=PII),
        "unknown key": Payload(metadata={"encoding": ENCODING, "encryption-key-id": b"k9"},
                               data=sealed.data),
        "no key id": Payload(metadata={"encoding": ENCODING}, data=sealed.data),
        "key id not UTF-8": Payload(metadata={"encoding": ENCODING,
                                              "encryption-key-id": b"\xff\xfe"}, data=sealed.data),
    }


async def test_any_ciphertext_it_cannot_open_is_a_4xx_never_a_500(codec_server):
    """Too short, truncated, clear text under the encrypted encoding, an unknown key: 422 with
    what went wrong, and the payload never in the answer."""
    [sealed] = await codec_server.codec.encode([plain()])
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    for name, payload in _ciphertext_it_cannot_open(sealed).items():
        with pytest.raises(UndecryptablePayload):
            codec_server.codec.decrypt(payload)
        response = await codec_server.post("/decode", data=body(payload), headers=auth)
        assert response.status == 422, name
        error = (await response.json())["error"]
        assert "Ada" not in error and "ada@" not in error, name


async def test_the_printed_address_opened_in_a_browser_leads_to_the_sign_in(codec_server):
    """`make run` prints the codec server's address; opening it used to answer 404."""
    response = await codec_server.get("/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login"
    response = await codec_server.get("/")
    assert response.status == 200 and "Codec server token" in await response.text()
