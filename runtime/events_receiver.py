"""A small order-system stand-in that receives the return events (docs/events.md, "Events out").

    python -m runtime.events_receiver --port 8090 --dir .data/events-received

It checks each POST's `Returns-Signature` with the project's own verifier and the merchants'
webhook secrets (`RETURNS_WEBHOOK_SECRETS_<MERCHANT>`, as the worker signs with), drops a repeated
event id (answers 200: the sender may stop), and appends each new event as one JSON line to
`<dir>/<merchant_id>/<return_id>.jsonl`. The dev stack runs it and points the worker at it
(`RETURNS_DELIVERY_URL`), so a newcomer sees a return's events after `make run`. This is also what
a merchant's own endpoint must do: verify, drop repeats by event id, answer 2xx quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from aiohttp import web

from ingestion.signing import SIGNATURE_HEADER, SignatureError, authenticate

PATH = "/events"
MAX_BODY = 256 * 1024


class EventsReceiver:
    """Verifies, drops repeats, writes; `events` keeps every new event in arrival order."""

    def __init__(self, secrets_by_merchant: Mapping[str, Sequence[str]],
                 directory: Path | None = None) -> None:
        self.secrets = dict(secrets_by_merchant)
        self.directory = directory
        self.events: list[dict] = []  # new events, in arrival order
        self.posts = 0  # every POST that verified, repeats included
        self._seen: set[str] = set()
        if directory is not None:  # what an earlier run received is not received again
            for path in directory.glob("*/*.jsonl"):
                for line in path.read_text(encoding="utf-8").splitlines():
                    self._seen.add(json.loads(line)["event_id"])

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(PATH, self.receive)
        app.router.add_get("/health", self.health)
        return app

    async def health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            merchant = authenticate(request.headers.get(SIGNATURE_HEADER), body, self.secrets)
        except SignatureError as err:
            return web.json_response({"error": str(err)}, status=401)
        try:
            event = json.loads(body)
            event_id, return_id = event["event_id"], event["return_id"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "not a return event"}, status=400)
        if event.get("merchant_id") != merchant:
            return web.json_response({"error": "signed by another merchant"}, status=403)
        self.posts += 1
        if event_id in self._seen:
            return web.json_response({"duplicate": event_id})
        self._seen.add(event_id)
        self.events.append(event)
        if self.directory is not None:
            path = self.directory / merchant / f"{return_id}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(event, sort_keys=True) + "\n")
        return web.json_response({"received": event_id})


async def _serve(port: int, directory: Path) -> None:
    from ingestion.merchant_secrets import load_merchant_secrets
    from ingestion.merchants import merchant_ids
    from runtime.settings import Settings

    settings = Settings.from_env()
    secrets = load_merchant_secrets(merchant_ids(settings.policies_dir),
                                    secrets_file=settings.secrets_file)
    runner = web.AppRunner(EventsReceiver(secrets.by_merchant, directory).app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"events receiver on http://127.0.0.1:{port}{PATH}, writing to {directory}", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.events_receiver",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--dir", type=Path, default=Path(".data/events-received"))
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args.port, args.dir))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
