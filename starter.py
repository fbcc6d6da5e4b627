"""Feed the order system's events to Temporal: a return.requested starts the return's workflow,
return.withdrawn and parcel.scanned signal it.

    python starter.py send FILE                      JSON Lines, "-" for stdin; one output line
                                                     per event; exit 1 if any was not accepted
    python starter.py serve [--host 127.0.0.1] [--port 8000]
                                                     the signed webhook, POST /events (needs a
                                                     secret per merchant:
                                                     RETURNS_WEBHOOK_SECRETS_<MERCHANT>)

Both go through `ingestion.Intake`; the event contract and the signature are in docs/events.md.
`serve` takes the merchant from the secret that signed each request; `send` has Temporal's own
credentials and takes each event's `merchant_id` as it is (an operator's tool, not a tenant's).
Temporal is reached as configured by TEMPORAL_ADDRESS / TEMPORAL_PROFILE (runtime.client).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterator
from typing import BinaryIO, TextIO

from customer_page.links import CustomerLinks
from ingestion.intake import Intake, IntakeResult, Outcome, TemporalUnavailable
from ingestion.merchants import known_merchants, merchant_ids
from runtime.client import connect, connect_config
from runtime.shutdown import exit_now
from runtime.logging import configure_logging, get_logger
from runtime.settings import Settings
from runtime import telemetry

EXIT_NOT_ACCEPTED = 1
EXIT_UNAVAILABLE = 2


def describe(line_number: int, result: IntakeResult) -> str:
    """`line 3: started return-opalook-R-1`, `line 4: rejected order.lines[0].unit_price: ...`,
    `line 5: conflict return-opalook-R-1 differs: items[0].quantity, ...`."""
    if result.outcome == Outcome.rejected:
        problems = "; ".join(f"{p.field}: {p.problem}" for p in result.problems)
        return f"line {line_number}: rejected {problems}"
    if result.outcome == Outcome.conflict:
        fields = ", ".join(p.field for p in result.problems)
        return f"line {line_number}: conflict {result.workflow_id} differs: {fields}"
    return f"line {line_number}: {result.outcome.value} {result.workflow_id}"


def _lines(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    # Bytes, not text: a line that is not UTF-8 is that line's problem, not the whole file's.
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line.strip()


async def send(stream: BinaryIO, out: TextIO = sys.stdout) -> int:
    """Submit each line of `stream`; return the exit status (0: every event accepted)."""
    settings = Settings.from_env()
    try:
        client = await connect()
    except RuntimeError as err:
        print(f"cannot reach Temporal at {connect_config()['target_host']}: {err}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    intake = Intake(client, task_queue=settings.task_queue,
                    known_merchant=known_merchants(settings.policies_dir),
                    links=CustomerLinks.from_settings(dict(os.environ), settings.secrets_file),
                    console_url=settings.console_url)
    status = 0
    for number, line in _lines(stream):
        try:
            result = await intake.submit(line)
        except TemporalUnavailable as err:
            print(f"line {number}: unavailable ({err}); stopped here, later lines not sent "
                  "(sending the file again is safe)", file=out, flush=True)
            return EXIT_UNAVAILABLE
        print(describe(number, result), file=out, flush=True)
        if not result.outcome.accepted:
            status = EXIT_NOT_ACCEPTED
    return status


def serve(host: str, port: int, tolerance: int | None) -> int:
    from dataclasses import replace

    from aiohttp import web

    from ingestion.webhook import MissingSecret, WebhookConfig, create_app, temporal_health

    settings = Settings.from_env()
    known = known_merchants(settings.policies_dir)
    try:
        config = WebhookConfig.from_env(merchant_ids(settings.policies_dir),
                                        secrets_file=settings.secrets_file)
    except MissingSecret as err:
        print(f"starter.py serve: {err}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if tolerance is not None:
        config = replace(config, tolerance_seconds=tolerance)
    from ingestion.stripe_webhook import StripeSecretProblem, load_stripe_secrets

    try:  # customers' payments of what they owe (issue 18 point 2): docs/operations.md
        stripe_secrets = load_stripe_secrets(merchant_ids(settings.policies_dir),
                                             secrets_file=settings.secrets_file)
    except StripeSecretProblem as err:
        print(f"starter.py serve: {err}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    log = get_logger("starter")
    try:  # metrics (RETURNS_METRICS_ADDRESS) and traces (OTEL_EXPORTER_OTLP_*): docs/operations.md
        metrics_address = telemetry.install_runtime()
    except telemetry.TelemetryConfigError as err:
        print(f"starter.py serve: {err}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    tracing = telemetry.tracing("returns-receiver")

    async def application() -> web.Application:
        # Lazy: the receiver comes up (and answers 503) while Temporal is still starting or down.
        client = await connect(lazy=True, interceptors=tracing.interceptors())
        intake = Intake(client, task_queue=settings.task_queue, known_merchant=known,
                        links=CustomerLinks.from_settings(dict(os.environ),
                                                          settings.secrets_file),
                        console_url=settings.console_url)
        log.info("receiver.listening", url=f"http://{host}:{port}/events",
                 temporal=connect_config()["target_host"], task_queue=settings.task_queue,
                 tolerance_seconds=config.tolerance_seconds, merchants=sorted(config.secrets),
                 metrics=f"http://{metrics_address}/metrics" if metrics_address else None,
                 traces=tracing.endpoint)
        app = create_app(intake, config, health=temporal_health(client),
                         stripe=_stripe_webhook(client, stripe_secrets))
        app.middlewares.append(telemetry.webhook_middleware(telemetry.meter(), tracing.tracer))
        return app

    web.run_app(application(), host=host, port=port, print=None)
    tracing.shutdown()
    return 0


def _stripe_webhook(client, secrets: dict[str, tuple[str, ...]]):
    """`POST /stripe/webhook` when a merchant has a Stripe webhook secret
    (RETURNS_STRIPE_WEBHOOK_SECRETS_<MERCHANT>: ingestion/stripe_webhook.py), else None."""
    from ingestion.stripe_webhook import StripeWebhook

    if not secrets:
        return None
    get_logger("starter").info("receiver.stripe_webhook", path="/stripe/webhook",
                               merchants=sorted(secrets))
    return StripeWebhook(client, secrets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="starter.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    send_cmd = commands.add_parser("send", help="send events from a JSON Lines file")
    send_cmd.add_argument("file", help='JSON Lines file of events, "-" for stdin')
    serve_cmd = commands.add_parser("serve", help="receive signed events over HTTP")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8000)
    serve_cmd.add_argument("--tolerance", type=int, default=None, metavar="SECONDS",
                           help="accepted signature age (default RETURNS_WEBHOOK_TOLERANCE_SECONDS "
                                "or 300)")
    args = parser.parse_args(argv)

    if args.command == "send":
        # stdout carries one result per event; the log (stderr) only speaks up about trouble.
        configure_logging(level=os.environ.get("RETURNS_LOG_LEVEL", "WARNING"))
        try:
            if args.file == "-":
                return asyncio.run(send(sys.stdin.buffer))
            with open(args.file, "rb") as stream:
                return asyncio.run(send(stream))
        except BrokenPipeError:  # `send ... | head`: the reader left, stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_NOT_ACCEPTED
    configure_logging()
    return serve(args.host, args.port, args.tolerance)


if __name__ == "__main__":
    exit_now(main())
