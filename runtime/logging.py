"""structlog: JSON lines in production (or when stdout is not a terminal), readable in a terminal.

Every line carries the workflow id, return id and activity when logged inside an activity.
Never log PII: log ids, states and amounts, not names, emails or addresses.
"""

from __future__ import annotations

import logging
import os
import sys

import structlog

PII_KEYS = frozenset({"email", "to", "name", "customer_name", "address", "shipping_address",
                      "customer_address", "password", "api_key", "secret"})


def _temporal_context(_logger, _method, event_dict):
    from temporalio import activity

    if activity.in_activity():
        info = activity.info()
        event_dict.setdefault("workflow_id", info.workflow_id)
        event_dict.setdefault("activity", info.activity_type)
        event_dict.setdefault("attempt", info.attempt)
        if info.workflow_id.startswith("return-"):
            event_dict.setdefault("return_id", info.workflow_id.removeprefix("return-"))
    return event_dict


def _drop_pii(_logger, _method, event_dict):
    for key in PII_KEYS & event_dict.keys():
        event_dict[key] = "[redacted]"
    return event_dict


def configure_logging(json: bool | None = None, level: str | None = None) -> None:
    if json is None:
        json = os.environ.get("RETURNS_LOG_FORMAT", "").lower() == "json" or not sys.stderr.isatty()
    level_name = (level or os.environ.get("RETURNS_LOG_LEVEL", "INFO")).upper()
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _temporal_context,
            _drop_pii,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level_name, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=getattr(logging, level_name, logging.INFO), stream=sys.stderr,
                        format="%(levelname)s %(name)s %(message)s")


def get_logger(name: str | None = None):
    return structlog.get_logger(name)
