"""Every Temporal payload encrypted with AES-256-GCM: customers' names, emails and addresses never
reach Temporal's database (or its UI) in clear.

    RETURNS_CODEC_KEYS="k2026b:<base64 32 bytes>,k2026a:<base64 32 bytes>"   the first encrypts
    RETURNS_CODEC_KEYS_FILE=/run/secrets/codec-keys                          same, one per line
    python -m runtime.codec new-key [KEY_ID]                                 print a fresh entry

An encrypted payload's metadata says `encoding: binary/encrypted` and which key encrypted it
(`encryption-key-id`), so keys rotate: put the new key first, keep the old ones after it for as
long as histories encrypted with them exist. Payloads without that encoding (histories recorded
before encryption) pass through untouched, so they still replay and display.

Where the keys come from, first match wins: RETURNS_CODEC_KEYS, RETURNS_CODEC_KEYS_FILE,
`$RETURNS_DATA_DIR/codec-keys`. When none exists and Temporal is on this machine (the dev server),
a dev key is generated into `$RETURNS_DATA_DIR/codec-keys` (mode 0600) once, as `make run` does;
against any other server a missing key is an error, never a silent fallback to plaintext.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
KEYS_FILE_NAME = "codec-keys"
NONCE_BYTES = 12
TAG_BYTES = 16  # AES-GCM's authentication tag, at the end of the ciphertext
_KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


# The encoding of what a tolerant codec hands on for a payload it could not decrypt; its data is
# why, in words (runtime/converter.py turns it back into an error at the handler that needs it).
UNDECRYPTABLE = b"binary/undecryptable"


class CodecKeyError(ValueError):
    """The keyring is missing or malformed; the message says where to look (never a key)."""


class UndecryptablePayload(ValueError):
    """A payload cannot be decrypted: its key is not in the keyring, or the data was altered."""


@dataclass(frozen=True)
class Keyring:
    """Key id -> 32-byte AES key, in order; the first one encrypts, every one decrypts."""

    keys: tuple[tuple[str, bytes], ...]
    source: str = "memory"

    def __post_init__(self) -> None:
        if not self.keys:
            raise CodecKeyError(f"{self.source}: no keys")
        seen = set()
        for key_id, key in self.keys:
            if not _KEY_ID_PATTERN.match(key_id):
                raise CodecKeyError(f"{self.source}: key id {key_id!r} must be 1 to 64 letters, "
                                    "digits and . _ -")
            if key_id in seen:
                raise CodecKeyError(f"{self.source}: key id {key_id} appears twice")
            seen.add(key_id)
            if len(key) != 32:
                raise CodecKeyError(f"{self.source}: key {key_id} is {len(key)} bytes; AES-256 "
                                    "needs 32 (base64 of 32 random bytes)")

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    @property
    def ids(self) -> list[str]:
        return [key_id for key_id, _ in self.keys]

    def key(self, key_id: str) -> bytes | None:
        return dict(self.keys).get(key_id)

    def with_new_current(self, key_id: str, key: bytes) -> "Keyring":
        """A rotation: `key_id` encrypts from now on; every older key still decrypts."""
        return Keyring(((key_id, key),) + self.keys, self.source)

    @classmethod
    def generate(cls, key_id: str | None = None) -> "Keyring":
        return cls(((key_id or new_key_id(), secrets.token_bytes(32)),))

    @classmethod
    def parse(cls, text: str, source: str = "RETURNS_CODEC_KEYS") -> "Keyring":
        """`kid:base64key` entries separated by commas or new lines; `#` starts a comment."""
        entries = []
        for line in text.splitlines():
            line = line.split("#", 1)[0]
            entries += [e.strip() for e in line.split(",") if e.strip()]
        keys = []
        for n, entry in enumerate(entries, start=1):
            key_id, sep, encoded = entry.partition(":")
            if not sep:
                raise CodecKeyError(f"{source}: entry {n} is not <key id>:<base64 key>")
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise CodecKeyError(f"{source}: key {key_id.strip()} is not valid base64") from None
            keys.append((key_id.strip(), key))
        return cls(tuple(keys), source)

    def dumps(self) -> str:
        return "".join(f"{key_id}:{base64.b64encode(key).decode()}\n" for key_id, key in self.keys)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Keyring":
        env = os.environ if env is None else env
        if env.get("RETURNS_CODEC_KEYS", "").strip():
            return cls.parse(env["RETURNS_CODEC_KEYS"])
        if env.get("RETURNS_CODEC_KEYS_FILE", "").strip():
            path = Path(env["RETURNS_CODEC_KEYS_FILE"])
            try:
                return cls.parse(path.read_text(), source=str(path))
            except OSError as err:
                raise CodecKeyError(f"RETURNS_CODEC_KEYS_FILE={path}: {err.strerror}") from None
        path = default_keys_file(env)
        if path.exists():
            return cls.parse(path.read_text(), source=str(path))
        if temporal_is_local(env):
            return ensure_dev_keys(path)
        raise CodecKeyError(
            "no payload encryption key: set RETURNS_CODEC_KEYS=<key id>:<base64 32 bytes> or "
            "RETURNS_CODEC_KEYS_FILE (generate one with `python -m runtime.codec new-key`); "
            "see docs/security.md")


def new_key_id() -> str:
    return "k" + datetime.now(timezone.utc).strftime("%Y%m%d") + "-" + secrets.token_hex(2)


def default_keys_file(env: Mapping[str, str]) -> Path:
    from runtime.settings import Settings

    return Settings.from_env(dict(env)).data_dir / KEYS_FILE_NAME


def temporal_is_local(env: Mapping[str, str]) -> bool:
    """No cluster configured, or TEMPORAL_ADDRESS is a loopback address (a dev server)."""
    if env.get("TEMPORAL_PROFILE"):
        return False
    address = env.get("TEMPORAL_ADDRESS", "").strip()
    if not address:
        return True
    host = address.rsplit(":", 1)[0] if not address.endswith("]") else address
    return host in _LOCAL_HOSTS


def ensure_dev_keys(path: Path) -> Keyring:
    """The dev keyring in `path`: read it, or create it once (atomically, mode 0600) so that
    processes starting together (worker, receiver) end up with the same key."""
    try:
        return Keyring.parse(path.read_text(), source=str(path))
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = Keyring.generate(key_id="dev-" + secrets.token_hex(3))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("# dev payload encryption keys (generated once; the first one encrypts)\n")
        out.write(fresh.dumps())
    try:
        os.link(tmp, path)  # fails if another process won the race: then use its key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return Keyring.parse(path.read_text(), source=str(path))


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM per payload: a random 96-bit nonce, the key id as associated data (so a
    payload cannot be relabelled with another key id), the whole original payload (metadata and
    data) inside."""

    def __init__(self, keyring: Keyring | Callable[[], Keyring], tolerant: bool = False) -> None:
        """`tolerant` (the worker's codec): a payload that does not decrypt is handed on as an
        `UNDECRYPTABLE` payload saying why, instead of failing the whole workflow activation: the
        signal or update it carries is refused and reported, and the return goes on."""
        super().__init__()
        self.tolerant = tolerant
        self._keyring = keyring if isinstance(keyring, Keyring) else None
        self._load = None if isinstance(keyring, Keyring) else keyring
        self._ciphers: dict[str, AESGCM] = {}

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            self._keyring = self._load()  # type: ignore[misc]
        return self._keyring

    def _cipher(self, key_id: str) -> AESGCM | None:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            key = self.keyring.key(key_id)
            if key is None:
                return None
            cipher = self._ciphers[key_id] = AESGCM(key)
        return cipher

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return [self._decrypt_or_explain(p) if self.tolerant else self.decrypt(p)
                for p in payloads]

    def _decrypt_or_explain(self, payload: Payload) -> Payload:
        try:
            return self.decrypt(payload)
        except UndecryptablePayload as err:
            return Payload(metadata={"encoding": UNDECRYPTABLE}, data=str(err).encode())

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.keyring.current_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher(key_id).encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()},
                       data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # not ours (recorded before encryption): leave it as it is
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._cipher(key_id)
        if cipher is None:
            raise UndecryptablePayload(
                f"payload encrypted with key {key_id!r}, which is not in the keyring "
                f"({', '.join(self.keyring.ids)}); add it back to RETURNS_CODEC_KEYS")
        data = payload.data
        if len(data) < NONCE_BYTES + TAG_BYTES:
            raise UndecryptablePayload(f"payload said to be encrypted with key {key_id!r} is "
                                       f"{len(data)} bytes, shorter than a nonce and a tag "
                                       f"({NONCE_BYTES + TAG_BYTES}): truncated, or not ciphertext")
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
        except (InvalidTag, ValueError):
            raise UndecryptablePayload(f"payload encrypted with key {key_id!r} does not decrypt: "
                                       "the key is different, the data was altered or it is not "
                                       "ciphertext") from None
        try:
            return Payload.FromString(plain)
        except DecodeError:
            raise UndecryptablePayload(f"payload encrypted with key {key_id!r} decrypts to "
                                       "something that is not a payload") from None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("new-key", "check"):
        print("usage: python -m runtime.codec new-key [KEY_ID]   print a new <id>:<base64> entry\n"
              "       python -m runtime.codec check              show which keys are configured",
              file=sys.stderr)
        return 2
    if args[0] == "new-key":
        print(Keyring.generate(args[1] if len(args) > 1 else None).dumps(), end="")
        return 0
    try:
        keyring = Keyring.from_env()
    except CodecKeyError as err:
        print(f"codec keys: {err}", file=sys.stderr)
        return 1
    print(f"codec keys from {keyring.source}: encrypting with {keyring.current_id}; "
          f"decrypting {', '.join(keyring.ids)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
