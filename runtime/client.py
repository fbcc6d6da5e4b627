"""One way to connect to Temporal: `temporalio.envconfig` (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TEMPORAL_API_KEY, TLS settings, TEMPORAL_PROFILE and the config file), the readable pydantic
converter with every payload encrypted (runtime/converter.py, runtime/codec.py: keys from
RETURNS_CODEC_KEYS), and the local dev server when nothing is configured."""

from __future__ import annotations

import os

from temporalio.client import Client
from temporalio.envconfig import ClientConfig

from runtime.converter import encrypted_data_converter
from runtime.settings import DEV_SERVER_ADDRESS


def connect_config() -> dict:
    config = dict(ClientConfig.load_client_connect_config())
    config.setdefault("target_host", DEV_SERVER_ADDRESS)
    if not config.get("target_host"):
        config["target_host"] = DEV_SERVER_ADDRESS
    config.setdefault("namespace", "default")
    return config


def external_server_configured() -> bool:
    """True when TEMPORAL_ADDRESS (or a profile) points at a real cluster: start no dev server."""
    return bool(os.environ.get("TEMPORAL_ADDRESS") or os.environ.get("TEMPORAL_PROFILE"))


# One converter per process: its keyring is read on first use (RETURNS_CODEC_KEYS, ...), so
# commands that never touch a payload (search attributes, health checks) need no key.
data_converter = encrypted_data_converter()
# The worker's: a signal or update whose payload does not decrypt (a key-rotation mistake, a
# truncated or clear-text payload) fails only that message, never the workflow task.
worker_data_converter = encrypted_data_converter(tolerant=True)


async def connect(**overrides) -> Client:
    config = connect_config()
    config.update(overrides)
    config.setdefault("data_converter", data_converter)
    return await Client.connect(**config)
