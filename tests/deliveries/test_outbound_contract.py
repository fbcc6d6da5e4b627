"""The outbound contract and its configuration, in milliseconds: event ids from the step only,
no personal data in the model, the merchant's `deliveries` setting read and refused as the other
adapters are, and a merchant with an endpoint but no secret stopping the worker."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from activities import wiring
from activities.adapters import AdapterConfigError, load_adapters
from returns.outbound import ENDING, FINISHED, SHIPPED, OutboundType, ReturnEvent, event_id_for
from runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MERCHANTS = ["fine-jewelry", "opalook", "pearl-platform"]


def test_event_ids_come_from_the_return_and_the_step_only():
    a = event_id_for("return-opalook-R-1", 3, OutboundType.received)
    assert a == event_id_for("return-opalook-R-1", 3, OutboundType.received)  # replays, retries
    assert a != event_id_for("return-opalook-R-1", 4, OutboundType.received)
    assert a != event_id_for("return-pearl-platform-R-1", 3, OutboundType.received)
    assert a.startswith("evt_") and len(a) == 36


def test_no_personal_data_in_the_contract():
    fields = set(ReturnEvent.model_fields)
    for personal in ("email", "name", "address", "customer", "phone"):
        assert not any(personal in f and f != "customer_page_url" for f in fields), personal
    assert ReturnEvent.model_fields["customer_page_url"].default is None


def test_every_way_a_return_ends_has_its_last_event():
    assert set(FINISHED.values()) | {OutboundType.closed} == ENDING
    assert set(SHIPPED.values()).isdisjoint(ENDING)


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "adapters.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_deliveries_setting_is_read_and_checked(tmp_path):
    config = load_adapters(_file(tmp_path, '[merchants.opalook.deliveries]\n'
                                 'url = "https://orders.opalook.example/events"\n'
                                 'retry_for = "P2D"\nattention_after = 1800\n'), env={})
    d = config.for_merchant("opalook").deliveries
    assert (d.retry_for, d.attention_after) == (timedelta(days=2), timedelta(minutes=30))
    assert config.for_merchant("pearl-platform").deliveries is None
    with pytest.raises(AdapterConfigError, match=r"merchants\.opalook\.deliveries\.retry_for"):
        load_adapters(_file(tmp_path, '[merchants.opalook.deliveries]\nurl = "https://x.example"'
                                      '\nretry_for = "P90D"\n'), env={})
    with pytest.raises(AdapterConfigError, match=r"merchants\.opalook\.deliveries\.url"):
        load_adapters(_file(tmp_path, '[merchants.opalook.deliveries]\nurl = "ftp://x"\n'),
                      env={})


def test_an_endpoint_needs_the_merchants_secret(tmp_path, monkeypatch):
    for m in MERCHANTS:
        monkeypatch.delenv(f"RETURNS_WEBHOOK_SECRETS_{m.upper().replace('-', '_')}", raising=False)
    settings = replace(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path)}),
                       delivery_url=None)
    none = load_adapters(None, env={})
    assert wiring.delivery_endpoints(settings, none, MERCHANTS) == {}  # nothing to sign: fine
    config = load_adapters(_file(tmp_path, '[merchants.opalook.deliveries]\n'
                                 'url = "https://orders.opalook.example/events"\n'), env={})
    monkeypatch.setenv("RETURNS_WEBHOOK_SECRETS_PEARL_PLATFORM", "whsec_pearl_0123456789abcdef")
    with pytest.raises(AdapterConfigError, match="RETURNS_WEBHOOK_SECRETS_OPALOOK is not set"):
        wiring.delivery_endpoints(settings, config, MERCHANTS)
    monkeypatch.setenv("RETURNS_WEBHOOK_SECRETS_OPALOOK", "whsec_new_0123456789abcdef,"
                                                          "whsec_old_0123456789abcdef")
    endpoints = wiring.delivery_endpoints(settings, config, MERCHANTS)
    assert list(endpoints) == ["opalook"]
    assert endpoints["opalook"].secrets == ("whsec_new_0123456789abcdef",
                                            "whsec_old_0123456789abcdef")  # both sign
    assert "whsec" not in repr(endpoints["opalook"])
