"""runtime/logging.py: in JSON mode every line on stderr is one JSON object, the standard library's
loggers (temporalio, aiohttp, asyncio, stripe) and warnings included, with the same fields and the
same PII redaction as structlog's lines; in a terminal the stdlib lines are rendered readably too."""

from __future__ import annotations

import dataclasses
import json
import logging
import warnings

import pytest
import structlog
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from runtime.logging import configure_logging, get_logger


@pytest.fixture(autouse=True)
def restore_logging():
    """configure_logging changes process-wide state: put it back for the other tests."""
    config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    showwarning = warnings.showwarning
    yield
    structlog.contextvars.clear_contextvars()
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)
    warnings.showwarning = showwarning
    structlog.reset_defaults()
    structlog.configure(**config)


def json_lines(err: str) -> list[dict]:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "nothing was logged"
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}\nall output:\n{err}")
        assert isinstance(record, dict), line
        assert {"timestamp", "level", "event"} <= record.keys(), line
        records.append(record)
    return records


def by_event(records: list[dict], event: str) -> dict:
    found = [r for r in records if r["event"] == event]
    assert len(found) == 1, f"{event!r} logged {len(found)} times: {records}"
    return found[0]


def test_every_line_is_json_stdlib_and_structlog_alike(capsys):
    configure_logging(json=True, level="INFO")
    structlog.contextvars.bind_contextvars(email="jane@example.com", return_id="R-42")

    get_logger("worker").info("worker.started", task_queue="returns", email="jane@example.com")
    try:
        raise RuntimeError("provider said no")
    except RuntimeError:
        logging.getLogger("temporalio.activity").warning(
            "Completing activity as failed", exc_info=True,
            extra={"temporal_activity": {"workflow_id": "return-opalook-R-7", "activity_type": "issue_refund",
                                         "attempt": 3}})
    logging.getLogger("temporalio.worker").info("Beginning worker shutdown")
    logging.getLogger("aiohttp.access").info('%s "%s" %d', "127.0.0.1", "GET /healthz", 200)
    logging.getLogger("asyncio").error("Task exception was never retrieved")
    logging.getLogger("stripe").info("message='Request to Stripe api' method=post")
    logging.getLogger("aiohttp.server").debug("below the level: not printed")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        logging.captureWarnings(True)
        warnings.warn("an old API", DeprecationWarning, stacklevel=1)

    records = json_lines(capsys.readouterr().err)
    assert len(records) == 7, records

    ours = by_event(records, "worker.started")
    assert ours["level"] == "info" and ours["task_queue"] == "returns"
    assert ours["email"] == "[redacted]"

    failed = by_event(records, "Completing activity as failed")
    assert failed["level"] == "warning" and failed["logger"] == "temporalio.activity"
    assert failed["workflow_id"] == "return-opalook-R-7" and failed["activity"] == "issue_refund"
    assert failed["attempt"] == 3
    assert "Traceback (most recent call last)" in failed["exception"]
    assert "RuntimeError: provider said no" in failed["exception"]

    access = by_event(records, '127.0.0.1 "GET /healthz" 200')
    assert access["logger"] == "aiohttp.access" and access["level"] == "info"
    assert by_event(records, "Task exception was never retrieved")["level"] == "error"
    assert by_event(records, "message='Request to Stripe api' method=post")["logger"] == "stripe"
    assert [r["logger"] for r in records if "an old API" in r["event"]] == ["py.warnings"]

    for record in records:  # context vars on every line, PII among them redacted on every line
        assert record["return_id"] == "R-42", record
        assert record["email"] == "[redacted]", record
    assert "jane@example.com" not in json.dumps(records)


def test_the_configured_level_holds_for_stdlib_loggers(capsys):
    configure_logging(json=True, level="WARNING")
    get_logger("worker").info("structlog info")
    logging.getLogger("temporalio.worker").info("stdlib info")
    logging.getLogger("temporalio.worker").warning("stdlib warning")
    records = json_lines(capsys.readouterr().err)
    assert [(r["event"], r["level"]) for r in records] == [("stdlib warning", "warning")]


def test_configuring_twice_prints_each_line_once(capsys):
    configure_logging(json=True)
    configure_logging(json=True)
    logging.getLogger("aiohttp.server").warning("once")
    assert [r["event"] for r in json_lines(capsys.readouterr().err)] == ["once"]


async def test_lines_inside_an_activity_carry_workflow_and_activity(capsys):
    """The workflow id names merchant and return (`return-<merchant>-<return>`); it is not split:
    both ids may hold `-`, so a derived return id could be wrong."""
    configure_logging(json=True)

    @activity.defn(name="issue_refund")
    async def issue_refund() -> None:
        activity.logger.warning("from temporalio's logger")
        get_logger("payments").info("from structlog")

    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id="return-pearl-platform-R-9", activity_type="issue_refund")
    await env.run(issue_refund)

    records = json_lines(capsys.readouterr().err)
    assert len(records) == 2, records
    for record in records:
        assert record["workflow_id"] == "return-pearl-platform-R-9", record
        assert "return_id" not in record, record
        assert record["activity"] == "issue_refund", record


def test_a_terminal_gets_readable_stdlib_lines(capsys):
    configure_logging(json=False)
    logging.getLogger("temporalio.worker").warning("Worker shutting down")
    err = capsys.readouterr().err
    assert "Worker shutting down" in err and "temporalio.worker" in err
    with pytest.raises(ValueError):
        json.loads(err.splitlines()[0])


def test_make_run_keeps_request_lines_off_the_console_but_in_the_log():
    """The dev stack echoes each child's JSON lines readably, except aiohttp's one-per-request
    access lines (still written to .data/logs/)."""
    from runtime.processes import _quiet

    assert _quiet(json.dumps({"event": "GET /healthz 200", "logger": "aiohttp.access"}))
    assert not _quiet(json.dumps({"event": "event.delivered", "logger": "ingestion"}))
    assert not _quiet("plain text from the Temporal CLI")


def test_once_the_stack_is_up_only_what_went_wrong_reaches_the_console():
    """After the ready banner, routine lines (a codec decode per page view, worker chatter, the
    dev server's info lines) stay in the log files; warnings, errors and tracebacks still show."""
    from runtime.processes import WARNING, _quiet

    assert _quiet(json.dumps({"event": "decoded", "level": "info", "logger": "codec"}), WARNING)
    assert not _quiet(json.dumps({"event": "refund failed", "level": "error"}), WARNING)
    assert not _quiet(json.dumps({"event": "slow", "level": "warning"}), WARNING)
    assert _quiet('time=2026-12-06 level=INFO msg="history shard"', WARNING)
    assert not _quiet("Traceback (most recent call last):", WARNING)
