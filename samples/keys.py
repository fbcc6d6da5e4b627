"""The payload encryption keys of the test suite and the benchmarks: fixed, so histories recorded
by the lifecycle tests (RECORD_HISTORIES=1) replay in tests/replay with the same keys. Test data
only, not a secret.
"""

from __future__ import annotations

import base64
import hashlib

from runtime.codec import Keyring
from runtime.converter import encrypted_data_converter


def _key(label: str) -> bytes:
    return hashlib.sha256(f"returns-on-temporal test key {label}".encode()).digest()


TEST_KEYRING = Keyring((("test-2026", _key("2026")),), source="samples/keys.py")
TEST_KEYS_ENV = ",".join(f"{kid}:{base64.b64encode(key).decode()}" for kid, key in TEST_KEYRING.keys)
test_data_converter = encrypted_data_converter(TEST_KEYRING)
test_worker_data_converter = encrypted_data_converter(TEST_KEYRING, tolerant=True)  # worker.py's kind
