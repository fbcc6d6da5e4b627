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
from ingestion.merchants import known_merchants
from ingestion.signing import SIGNATURE_HEADER, SignatureError, sign, verify

__all__ = [
    "FieldProblem", "Intake", "IntakeResult", "InvalidEvent", "Outcome", "SIGNATURE_HEADER",
    "SignatureError", "TemporalUnavailable", "known_merchants", "parse_event", "sign", "verify",
]
