"""Loading policy files: the three seed policies, their SLA values, and readable errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from returns.policy.decision import DayUnit
from returns.policy.registry import PolicyFileError, PolicyRegistry, UnknownMerchant

from .builders import POLICIES_DIR


def test_loads_the_three_seed_merchants(registry):
    """Seeds README: each seed becomes one merchant policy."""
    assert registry.merchant_ids == ["fine-jewelry", "opalook", "pearl-platform"]
    assert registry.get("opalook").merchant.name == "Opalook"


def test_unknown_merchant_is_a_readable_key_error(registry):
    """An event for a merchant without a policy file must say so plainly."""
    with pytest.raises(KeyError) as info:
        registry.get("acme")
    assert isinstance(info.value, UnknownMerchant)
    assert str(info.value) == ("no return policy for merchant 'acme' (known merchants: "
                               "fine-jewelry, opalook, pearl-platform)")


def _sla(policy):
    return {name: (d.amount, d.unit) for name, d in policy.sla_terms() if name not in
            ("calendar", "clauses")}


def test_fine_jewelry_sla(fine):
    """004 §3.2 review 2 business days, §3.3 ship within 3 business days, §3.5 inspection 3-5
    business days (upper bound), §3.6 refund within 7 business days, reshipment 3-5 (upper)."""
    sla = _sla(fine)
    bd = DayUnit.business_days
    assert sla["review"] == (2, bd) and sla["ship_by"] == (3, bd)
    assert sla["inspection"] == (5, bd) and sla["refund"] == (7, bd)
    assert sla["reshipment"] == (5, bd)
    terms = fine.sla_terms()
    assert (terms.calendar.country, terms.calendar.timezone) == ("CN", "Asia/Shanghai")
    assert terms.clauses["review"].startswith("004 §3.2")
    assert "upper bound" in terms.clauses["inspection"]


def test_pearl_platform_sla(pearl):
    """003 §III.2 review 3 working days, §III.3 return within 7 days, §III.4 inspection 5 working
    days and exchange shipment 3-5 working days (upper bound); refund time not in seed."""
    sla = _sla(pearl)
    assert sla["review"] == (3, DayUnit.business_days)
    assert sla["ship_by"] == (7, DayUnit.calendar_days)
    assert sla["inspection"] == (5, DayUnit.business_days)
    assert sla["reshipment"] == (5, DayUnit.business_days)
    assert pearl.sla_terms().clauses["refund"].startswith("merchant default, not in seed")


def test_opalook_sla_is_all_merchant_defaults(opalook):
    """Seed 000 states no review, shipping, inspection or refund times: every value is marked
    "merchant default, not in seed"; French calendar."""
    terms = opalook.sla_terms()
    assert (terms.calendar.country, terms.calendar.timezone) == ("FR", "Europe/Paris")
    assert all(c.startswith("merchant default, not in seed") for c in terms.clauses.values())
    assert _sla(opalook)["ship_by_reminder_before"] == (48, DayUnit.hours)


def test_merchant_contacts(registry):
    """000 §3.2.VI Opalook's return address; 004 §9 support email; demo addresses where the seeds
    give none, never a placeholder (issue 16)."""
    opalook = registry.get("opalook").contact()
    assert (opalook.return_address.line1, opalook.return_address.postal_code,
            opalook.return_address.city, opalook.return_address.country) == (
        "11 rue Alix", "93600", "Aulnay sous Bois", "FR")
    assert registry.get("fine-jewelry").contact().support_email == "949350421@qq.com"
    for merchant in registry.merchant_ids:
        contact = registry.get(merchant).contact()
        assert "PLACEHOLDER" not in contact.model_dump_json().upper()
        assert contact.sender_email


# --- invalid files --------------------------------------------------------------------------------------
@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    for path in POLICIES_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("old, new, field, problem", [
    ("basis_points = 3000", "basis_points = 30000", "fees.0.basis_points",
     "less than or equal to 10000"),
    ('kind = "restocking"', 'kind = "handling"', "fees.0.kind", "Input should be"),
    ('review = { amount = 2, unit = "business_days"', 'review = { amount = 2, unit = "weeks"',
     "sla.review.unit", "Input should be"),
    ('calendar = { country = "CN", timezone = "Asia/Shanghai" }',
     'calendar = { country = "CN", timezone = "Asia/Shangai" }', "sla.calendar",
     "unknown time zone"),
    ('support_email = "949350421@qq.com"', 'support_email = "not-an-email"',
     "merchant.support_email", "String should match pattern"),
    ("regex = '\\b(apo|fpo|dpo)\\b'", "regex = '(apo'", "address.refused.1.regex",
     "not a valid regular expression"),
    ('auto_reject_ineligible = true\nauto_reject_clause', 'auto_reject_ineligible = true\n# ',
     "policy.auto_reject_clause", "required when auto_reject_ineligible is true"),
    ('[reasons.size_fit]\nquality = false\nclause = "004 §6.2.1"',
     '[reasons.size_fit]\nquality = false\nclause = "004 §6.2.1"\nmeaning = "x"\n[unused]',
     "unused", "Extra inputs are not permitted"),
    ('[reasons.size_fit]\nquality = false\nclause = "004 §6.2.1"\nmeaning = "feeling the size is '
     'inconsistent with expectations although the size is correct"', "", "reasons",
     "every return reason must be classified; missing ['size_fit']"),
    ('reasons = ["defective"]\nresolutions = ["repair"]',
     'reasons = ["defective"]\nresolutions = ["repair"]\nregions = ["asia"]',
     "grounds.4.regions", "unknown region 'asia'"),
    ('title = "Fine jewelry Return & Exchange Policy"',
     'title = "Fine jewelry Return & Exchange Policy"\ncolour = "gold"', "policy.colour",
     "Extra inputs are not permitted"),
    ('instead = { refund = "repair", exchange = "repair" }',
     'instead = { refund = "refund", exchange = "repair" }', "grounds.4.instead.refund",
     "'refund' is not one of this ground's resolutions"),
    # lost parcels: nothing comes back only with a stated reason
    ('returnless = { clause = "merchant default, not in seed (004 §4.2)"',
     '# returnless = { clause = "merchant default, not in seed (004 §4.2)"', "grounds.3.returnless",
     'exactly when return_shipping is "nobody"'),
    ('instead_reasons = { repair = { clause = "004 §6.1.2, §4.3"',
     'instead_reasons = { exchange = { clause = "004 §6.1.2, §4.3"',
     "grounds.1.instead_reasons.exchange", "not a key of instead"),
    # 004 §4.5 special approval needs something refused to approve
    ('non_quality_resolutions = ["exchange"]\nquality_resolutions = ["exchange", "repair"]\n'
     'quality_instead = { refund = "exchange" }\n', "", "attribute_rules.0",
     "this rule restricts no resolution"),
])
def test_invalid_file_names_file_field_and_problem(policy_dir, old, new, field, problem):
    """A policy file error names the file, the field (dotted path) and the problem."""
    path = policy_dir / "fine-jewelry.toml"
    _edit(path, old, new)
    with pytest.raises(PolicyFileError) as info:
        PolicyRegistry.load(policy_dir)
    message = str(info.value)
    assert str(path) in message
    assert re.search(rf"{re.escape(str(path))}: {re.escape(field)}(\.[\w.]+)?: .*{re.escape(problem)}",
                     message), message


def test_invalid_toml_names_the_file(policy_dir):
    """A syntax error names the file and the position."""
    path = policy_dir / "opalook.toml"
    path.write_text(path.read_text() + "\n[broken\n")
    with pytest.raises(PolicyFileError, match=r"opalook\.toml: not valid TOML: .*line"):
        PolicyRegistry.load(policy_dir)


def test_duplicate_merchant_ids_are_refused(policy_dir):
    """One policy per merchant: a second file with the same merchant_id is an error naming both."""
    shutil.copy(policy_dir / "opalook.toml", policy_dir / "opalook-copy.toml")
    with pytest.raises(PolicyFileError) as info:
        PolicyRegistry.load(policy_dir)
    assert "policy.merchant_id: 'opalook' is already defined in" in str(info.value)
    assert "opalook-copy.toml" in str(info.value) and "opalook.toml" in str(info.value)


def test_empty_or_missing_directory(tmp_path):
    """No policy files means nothing can be decided: say so at start-up."""
    with pytest.raises(PolicyFileError, match="no policy files"):
        PolicyRegistry.load(tmp_path)
    with pytest.raises(PolicyFileError, match="does not exist"):
        PolicyRegistry.load(tmp_path / "nope")


def test_a_fourth_merchant_is_one_more_file(policy_dir):
    """docs/policies.md "adding a merchant": copy a file, change the merchant id — done."""
    text = (policy_dir / "opalook.toml").read_text().replace(
        'merchant_id = "opalook"', 'merchant_id = "atelier-nord"')
    (policy_dir / "atelier-nord.toml").write_text(text)
    assert "atelier-nord" in PolicyRegistry.load(policy_dir).merchant_ids
