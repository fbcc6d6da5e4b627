"""Event ingestion: the order system's events into return workflows (start or signal).

    from ingestion import Intake, parse_event, sign

`Intake.submit(raw)` is the one path both entry points use: `starter.py send` (JSON Lines) and
`starter.py serve` (the signed webhook, `ingestion.webhook`). See docs/events.md.
"""

from ingestion.intake import (
    FieldProblem,
    Intake,
    IntakeResult,
    InvalidEvent,
    Outcome,
    TemporalUnavailable,
    parse_event,
)
from ingestion.merchant_secrets import MerchantSecrets, MissingSecret, load_merchant_secrets
from ingestion.merchants import known_merchants, merchant_ids
from ingestion.signing import SIGNATURE_HEADER, SignatureError, authenticate, sign, verify

__all__ = [
    "FieldProblem", "Intake", "IntakeResult", "InvalidEvent", "MerchantSecrets", "MissingSecret",
    "Outcome", "SIGNATURE_HEADER", "SignatureError", "TemporalUnavailable", "authenticate",
    "known_merchants", "load_merchant_secrets", "merchant_ids", "parse_event", "sign", "verify",
]
