"""structlog: JSON lines in production (or when stdout is not a terminal), readable in a terminal.

Every line carries the workflow id and activity when logged inside an activity. The workflow id
(`return-<merchant_id>-<return_id>`) names the merchant and the return; it is not split into
them here, since both ids may hold `-` (returns.events.workflow_id_for).
Never log PII: log ids, states and amounts, not names, emails or addresses.

The standard library's loggers (temporalio's own, aiohttp's access and server lines, asyncio,
stripe) and Python warnings go through the same processors and renderer, by
`structlog.stdlib.ProcessorFormatter` on the root logger: in JSON mode every line on stderr is one
JSON object, tracebacks included (in its `exception` field).
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
    return event_dict


def _temporal_record_context(_logger, _method, event_dict):
    """A stdlib record from temporalio's activity or workflow logger: the ids from its `extra`."""
    record = event_dict.get("_record")
    details = getattr(record, "temporal_activity", None) or getattr(record, "temporal_workflow",
                                                                      None)
    if isinstance(details, dict):
        workflow_id = details.get("workflow_id")
        if workflow_id:
            event_dict.setdefault("workflow_id", workflow_id)
        if details.get("activity_type"):
            event_dict.setdefault("activity", details["activity_type"])
        if details.get("attempt") is not None:
            event_dict.setdefault("attempt", details["attempt"])
    return event_dict


def _drop_pii(_logger, _method, event_dict):
    for key in PII_KEYS & event_dict.keys():
        event_dict[key] = "[redacted]"
    return event_dict


class _StderrHandler(logging.Handler):
    """Writes through structlog's own writer (same stream, same lock): lines never interleave."""

    def __init__(self, stream) -> None:
        super().__init__()
        self._out = structlog.WriteLogger(stream)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._out.msg(self.format(record))
        except Exception:
            self.handleError(record)


def configure_logging(json: bool | None = None, level: str | None = None) -> None:
    if json is None:
        json = os.environ.get("RETURNS_LOG_FORMAT", "").lower() == "json" or not sys.stderr.isatty()
    level_name = (level or os.environ.get("RETURNS_LOG_LEVEL", "INFO")).upper()
    numeric_level = getattr(logging, level_name, logging.INFO)
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _temporal_context,
    ]
    tail = [_drop_pii, structlog.processors.format_exc_info]
    structlog.configure(
        processors=[*shared, *tail, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )

    # The standard library's loggers: same processors (plus the logger's name), same renderer.
    handler = _StderrHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, _temporal_record_context,
                           *tail],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    ))
    handler._returns_handler = True  # so a second configure_logging replaces it
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_returns_handler", False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric_level)
    logging.captureWarnings(True)  # warnings.warn(...) too: a `py.warnings` line, not raw text


def get_logger(name: str | None = None):
    return structlog.get_logger(name)
