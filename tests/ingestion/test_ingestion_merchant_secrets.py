"""Each merchant's webhook secrets, from the environment or the secrets file (no server needed)."""

from __future__ import annotations

import pytest

from ingestion.merchant_secrets import MissingSecret, env_name, load_merchant_secrets
from ingestion.webhook import WebhookConfig

MERCHANTS = ["fine-jewelry", "opalook", "pearl-platform"]
A, B, C = "whsec_a_0123456789abcdef", "whsec_b_0123456789abcdef", "whsec_c_0123456789abcdef"


def test_the_variable_of_a_merchant_is_its_id_in_upper_case():
    assert env_name("pearl-platform") == "RETURNS_WEBHOOK_SECRETS_PEARL_PLATFORM"
    assert env_name("opalook") == "RETURNS_WEBHOOK_SECRETS_OPALOOK"


def test_secrets_come_from_the_environment_then_the_secrets_file(tmp_path):
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(f"# webhook secrets\nRETURNS_WEBHOOK_SECRETS_PEARL_PLATFORM='{C}'\n"
                            f"RETURNS_WEBHOOK_SECRETS_OPALOOK=whsec_ignored_env_wins_0000\n")
    env = {"RETURNS_WEBHOOK_SECRETS_OPALOOK": f"{A}, {B}"}
    loaded = load_merchant_secrets(MERCHANTS, env, secrets_file)
    assert dict(loaded.by_merchant) == {"opalook": (A, B), "pearl-platform": (C,)}
    assert loaded.without == ("fine-jewelry",)
    assert loaded.sources == {"opalook": "env RETURNS_WEBHOOK_SECRETS_OPALOOK",
                              "pearl-platform": "secrets file RETURNS_WEBHOOK_SECRETS_PEARL_PLATFORM"}
    assert A not in repr(loaded) and C not in repr(loaded)
    config = WebhookConfig.from_env(MERCHANTS, env, secrets_file)
    assert dict(config.secrets) == {"opalook": (A, B), "pearl-platform": (C,)}
    assert A not in repr(config)


@pytest.mark.parametrize("env, problem", [
    ({}, "no merchant has a webhook secret"),
    ({"RETURNS_WEBHOOK_SECRET": A}, "RETURNS_WEBHOOK_SECRET (one secret for every merchant) is no "
                                    "longer read"),
    ({"RETURNS_WEBHOOK_SECRETS_OPALOOK": A, "RETURNS_WEBHOOK_SECRETS_FINE_JEWELRY": f"{B},{A}"},
     "RETURNS_WEBHOOK_SECRETS_OPALOOK: secret 1 is also a secret of merchant 'fine-jewelry'"),
    ({"RETURNS_WEBHOOK_SECRETS_OPALOOK": "short"}, "secret 1 is shorter than 16 characters"),
    ({"RETURNS_WEBHOOK_SECRETS_OPALOOK": A, "RETURNS_WEBHOOK_SECRETS_OPALOOOK": B},
     "RETURNS_WEBHOOK_SECRETS_OPALOOOK names no merchant with a returns policy"),
])
def test_a_configuration_that_would_blur_merchants_stops_the_receiver(env, problem):
    with pytest.raises(MissingSecret) as err:
        load_merchant_secrets(MERCHANTS, env)
    assert problem in str(err.value)
    assert A not in str(err.value) and B not in str(err.value)


def test_two_merchants_whose_variables_collide_are_refused():
    with pytest.raises(MissingSecret, match="would share the variable"):
        load_merchant_secrets(["pearl-platform", "pearl_platform"],
                              {"RETURNS_WEBHOOK_SECRETS_PEARL_PLATFORM": A})
