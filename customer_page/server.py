"""The customer page server: one page per return, reached only through its signed link.

    GET  /r/<merchant>/<return>/<token>            the page (?lang=en|fr|zh)
    GET  /r/<merchant>/<return>/<token>/label      the return label the workflow made
    POST /r/<merchant>/<return>/<token>/tracking   carrier + tracking number (form, CSRF)
    POST /r/<merchant>/<return>/<token>/withdraw   withdraw before the parcel is in (form, CSRF)
    POST /r/<merchant>/<return>/<token>/evidence   a photo or video (multipart form, CSRF;
                                                   customer_page/uploads.py)
    POST /r/<merchant>/<return>/<token>/answer     answer staff's question (form, CSRF): the
                                                   `answer_question` update; its refusal is shown
                                                   in the page's language by its code
    GET  /healthz

Every request checks the link first (customer_page.links): a forged one, or one for another return,
gets 403, an expired one 410, and nothing of the return is read. The page reads the return through
the workflow's `status` query; the actions send the order system's own messages (`parcel_scanned`
with scan `picked_up`, which counts as shipped for the ship-by deadline, and `withdraw`), after
the same checks the workflow applies, so the customer is refused on the page, in their language,
instead of raising an alert to staff.

Safe on the internet: no access log (the path holds the token), `Referrer-Policy: no-referrer`,
a strict CSP with a per-response style nonce, no caching, CSRF tokens bound to the link and to a
SameSite=Strict cookie, actions rate-limited per return.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import secrets
import time
from collections import defaultdict, deque
from datetime import datetime, timezone
from pathlib import Path

import jinja2
from aiohttp import web
from pydantic import ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from customer_page import uploads, view, words
from customer_page.links import CustomerLinks, LinkProblem
from evidence.store import EvidenceStore, open_store
from returns.allowed import OPEN_BEFORE_RECEIPT
from returns.customer_answers import REFUSALS, AnswerQuestion
from returns.tracking import CUSTOMER_EVENT_PREFIX
from returns.events import ParcelScanned, ReturnWithdrawn, ScanKind, workflow_id_for
from returns.policy.registry import PolicyRegistry
from returns.status import ReceiptOutcome, ReturnStatus
from workflows import names

TEMPLATES = Path(__file__).resolve().parent / "templates"
CSRF_COOKIE = "return_csrf"
TRACKING = re.compile(r"^[A-Za-z0-9-]{4,40}$")
MAX_ACTIONS = 10  # per return and per RATE_WINDOW seconds
RATE_WINDOW = 600.0
SEEN_TIMEOUT = 5.0  # how long a POST waits for the workflow to show what it sent


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=True, undefined=jinja2.StrictUndefined)


class CustomerPages:
    def __init__(self, client: Client, links: CustomerLinks, registry: PolicyRegistry,
                 evidence_store: EvidenceStore | None = None) -> None:
        self.client = client
        self.evidence_store = evidence_store or open_store()
        self.links = links
        self.registry = registry
        self.jinja = _environment()
        self.actions: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_headers], client_max_size=16 * 1024)
        base = "/r/{merchant_id}/{return_id}/{token}"
        app.add_routes([web.get("/healthz", self.health), web.get(base, self.page),
                        web.get(base + "/label", self.label),
                        web.post(base + "/tracking", self.tracking),
                        web.post(base + "/withdraw", self.withdraw),
                        web.post(base + "/evidence", self.evidence),
                        web.post(base + "/answer", self.answer)])
        return app

    # ------------------------------------------------------------------ plumbing
    def _language(self, request: web.Request) -> str:
        return words.language_of(request.query.get("lang"),
                                 request.headers.get("Accept-Language"))

    def _render(self, request: web.Request, template: str, status: int = 200,
                **context) -> web.Response:
        language = context.setdefault("language", self._language(request))
        nonce = secrets.token_urlsafe(12)
        html = self.jinja.get_template(template).render(
            html_lang=words.HTML_LANG[language], nonce=nonce,
            colon="：" if language == "zh" else " : " if language == "fr" else ": ", **context)
        response = web.Response(text=html, content_type="text/html", status=status)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
        response.headers["Content-Language"] = words.HTML_LANG[language]
        return response

    def _problem(self, request: web.Request, problem: str, status: int) -> web.Response:
        w = words.WORDS[self._language(request)]
        return self._render(request, "problem.html", status=status, heading=w[problem],
                            text=w.get(f"{problem}_text", ""))

    def _ids(self, request: web.Request) -> tuple[str, str, str]:
        info = request.match_info
        return info["merchant_id"], info["return_id"], info["token"]

    def _link_refusal(self, request: web.Request) -> web.Response | None:
        merchant_id, return_id, token = self._ids(request)
        problem = self.links.check(merchant_id, return_id, token)
        if problem is LinkProblem.forged:
            return self._problem(request, "link_forged", 403)
        if problem is LinkProblem.expired:
            return self._problem(request, "link_expired", 410)
        return None

    async def _status(self, merchant_id: str, return_id: str) -> ReturnStatus | None:
        handle = self.client.get_workflow_handle(workflow_id_for(merchant_id, return_id))
        try:
            return await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    def _view(self, status: ReturnStatus, language: str) -> view.CustomerView:
        contact, tz = None, None
        if status.merchant_id in self.registry:
            policy = self.registry.get(status.merchant_id)
            contact, tz = policy.merchant.contact(), policy.sla.calendar.timezone
        return view.build(status, contact, tz, language)

    def _nonce(self, request: web.Request) -> tuple[str, bool]:
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if re.fullmatch(r"[A-Za-z0-9_-]{16,64}", nonce):
            return nonce, False
        return secrets.token_urlsafe(24), True

    async def _show(self, request: web.Request, status: ReturnStatus, *, refusal: str | None = None,
                    http_status: int = 200, form: dict | None = None) -> web.Response:
        merchant_id, return_id, token = self._ids(request)
        language = self._language(request)
        nonce, new = self._nonce(request)
        response = self._render(
            request, "page.html", status=http_status, v=self._view(status, language),
            base=self.links.path(merchant_id, return_id, token),
            csrf=self.links.csrf(token, nonce), refusal=refusal, form=form or {})
        if new:
            response.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="Strict",
                                path="/r/", secure=request.secure)
        return response

    def _rate_limited(self, merchant_id: str, return_id: str) -> bool:
        now = time.monotonic()
        if len(self.actions) > 10_000:  # forget returns with no action in the window
            for key in [k for k, q in self.actions.items() if not q or now - q[-1] > RATE_WINDOW]:
                del self.actions[key]
        recent = self.actions[(merchant_id, return_id)]
        while recent and now - recent[0] > RATE_WINDOW:
            recent.popleft()
        if len(recent) >= MAX_ACTIONS:
            return True
        recent.append(now)
        return False

    async def _action_checks(self, request: web.Request):
        """The link, the rate limit, the CSRF token, the return: (status, form) or a response."""
        refusal = self._link_refusal(request)
        if refusal is not None:
            return refusal
        merchant_id, return_id, token = self._ids(request)
        if self._rate_limited(merchant_id, return_id):
            response = self._problem(request, "unavailable", 429)
            response.headers["Retry-After"] = str(int(RATE_WINDOW))
            return response
        form = await request.post()
        status = await self._status(merchant_id, return_id)
        if status is None:
            return self._problem(request, "link_expired", 410)
        if not self.links.csrf_ok(token, request.cookies.get(CSRF_COOKIE, ""),
                                  str(form.get("csrf", ""))):
            w = words.WORDS[self._language(request)]
            return await self._show(request, status, refusal=w["bad_form"], http_status=403)
        return status, form

    async def _until(self, merchant_id: str, return_id: str, seen) -> None:
        """Wait (briefly) until the workflow shows what was sent, so the page shows it too."""
        deadline = time.monotonic() + SEEN_TIMEOUT
        while time.monotonic() < deadline:
            status = await self._status(merchant_id, return_id)
            if status is None or seen(status):
                return
            await asyncio.sleep(0.1)

    def _back(self, request: web.Request) -> web.Response:
        raise web.HTTPSeeOther(f"{request.path.rsplit('/', 1)[0]}?lang={self._language(request)}")

    # ------------------------------------------------------------------ views
    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def page(self, request: web.Request) -> web.Response:
        refusal = self._link_refusal(request)
        if refusal is not None:
            return refusal
        merchant_id, return_id, _ = self._ids(request)
        try:
            status = await self._status(merchant_id, return_id)
        except RPCError:
            return self._problem(request, "unavailable", 503)
        if status is None:
            return self._problem(request, "link_expired", 410)
        return await self._show(request, status)

    async def label(self, request: web.Request) -> web.StreamResponse:
        refusal = self._link_refusal(request)
        if refusal is not None:
            return refusal
        merchant_id, return_id, _ = self._ids(request)
        status = await self._status(merchant_id, return_id)
        path = Path(status.label.path) if status and status.label else None
        if path is None or not path.is_file() or path.suffix.lower() not in (".pdf", ".png"):
            return self._problem(request, "unavailable", 404)
        return web.FileResponse(path, headers={
            "Content-Disposition": f'attachment; filename="return-label-{return_id}{path.suffix}"'})

    async def tracking(self, request: web.Request) -> web.Response:
        checked = await self._action_checks(request)
        if isinstance(checked, web.StreamResponse):
            return checked
        status, form = checked
        merchant_id, return_id, _ = self._ids(request)
        w = words.WORDS[self._language(request)]
        carrier = " ".join(str(form.get("carrier", "")).split())
        number = re.sub(r"\s+", "", str(form.get("tracking_number", ""))).upper()
        entered = {"carrier": carrier, "tracking_number": number}
        if status.state not in view.TRACKING_STATES:
            return await self._show(request, status, refusal=w["not_now_tracking"],
                                    http_status=409)
        if not carrier or len(carrier) > 40:
            return await self._show(request, status, refusal=w["bad_carrier"], http_status=400,
                                    form=entered)
        if not TRACKING.fullmatch(number):
            return await self._show(request, status, refusal=w["bad_tracking"], http_status=400,
                                    form=entered)
        key = hashlib.sha256(f"{merchant_id}\n{return_id}\n{number}".encode()).hexdigest()[:24]
        try:
            event = ParcelScanned(
                event_id=f"{CUSTOMER_EVENT_PREFIX}{key}", occurred_at=datetime.now(timezone.utc),
                return_id=return_id, merchant_id=merchant_id, carrier=carrier,
                tracking_number=number, scan=ScanKind.picked_up)
        except ValidationError:
            return await self._show(request, status, refusal=w["bad_tracking"], http_status=400,
                                    form=entered)
        handle = self.client.get_workflow_handle(workflow_id_for(merchant_id, return_id))
        await handle.signal(names.SIGNAL_PARCEL_SCANNED, event)
        await self._until(merchant_id, return_id, lambda s: s.state not in view.TRACKING_STATES)
        return self._back(request)

    async def withdraw(self, request: web.Request) -> web.Response:
        checked = await self._action_checks(request)
        if isinstance(checked, web.StreamResponse):
            return checked
        status, _ = checked
        merchant_id, return_id, _ = self._ids(request)
        w = words.WORDS[self._language(request)]
        parcel_in = any(r.outcome == ReceiptOutcome.recorded for r in status.receipts)
        if status.state not in OPEN_BEFORE_RECEIPT or parcel_in:
            return await self._show(request, status, refusal=w["not_now_withdraw"],
                                    http_status=409)
        event = ReturnWithdrawn(
            event_id=f"customer-withdraw-{return_id}"[:64], occurred_at=datetime.now(timezone.utc),
            return_id=return_id, merchant_id=merchant_id, reason="withdrawn on the return page")
        handle = self.client.get_workflow_handle(workflow_id_for(merchant_id, return_id))
        await handle.signal(names.SIGNAL_WITHDRAW, event)
        await self._until(merchant_id, return_id, lambda s: s.state.value == "withdrawn")
        return self._back(request)

    async def evidence(self, request: web.Request) -> web.StreamResponse:
        return await uploads.receive_upload(self, request)

    async def answer(self, request: web.Request) -> web.Response:
        """The customer's answer to staff's open question, through the workflow's validator: an
        answer out of turn (review over, no question, a newer question) is refused there and
        shown here in the page's language (its code, never the workflow's English)."""
        checked = await self._action_checks(request)
        if isinstance(checked, web.StreamResponse):
            return checked
        status, form = checked
        merchant_id, return_id, _ = self._ids(request)
        w = words.WORDS[self._language(request)]
        text = str(form.get("answer", "")).replace("\r\n", "\n").strip()
        entered = {"answer": text}
        try:
            answer = AnswerQuestion(question_number=int(str(form.get("question_number", "0"))),
                                    answer=text)
        except (ValueError, ValidationError):
            return await self._show(request, status, refusal=w["bad_answer"], http_status=400,
                                    form=entered)
        handle = self.client.get_workflow_handle(workflow_id_for(merchant_id, return_id))
        try:
            # One update id per question: a double submit is answered once.
            await handle.execute_update(
                names.UPDATE_ANSWER_QUESTION, answer,
                id=f"customer-answer-{answer.question_number}")
        except (WorkflowUpdateFailedError, RPCError) as err:
            code = _refusal_code(err)
            if code is None:
                raise
            status = await self._status(merchant_id, return_id) or status
            return await self._show(request, status, refusal=w[f"answer_refused_{code}"],
                                    http_status=409, form=entered)
        return self._back(request)


def _refusal_code(err: WorkflowUpdateFailedError | RPCError) -> str | None:
    """The customer-facing refusal's code (returns.customer_answers.REFUSALS), from the
    validator's ApplicationError details; a return that has ended takes no answer either."""
    if isinstance(err, RPCError):
        return "review_over" if err.status == RPCStatusCode.NOT_FOUND else None
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.details \
            and str(cause.details[0]) in REFUSALS:
        return str(cause.details[0])
    return None


@web.middleware
async def _headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if isinstance(response, web.HTTPException):
        raise response
    return response


async def serve(host: str, port: int) -> None:
    from runtime.client import connect
    from runtime.settings import Settings

    settings = Settings.from_env()
    links = CustomerLinks.from_env(dict(os.environ))
    if links is None:
        raise SystemExit("RETURNS_CUSTOMER_PAGE_KEYS is not set: the page cannot check its links")
    try:
        store = open_store()  # evidence files: a folder, or an S3 bucket (evidence/store.py)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    pages = CustomerPages(await connect(), links, PolicyRegistry.load(settings.policies_dir),
                          evidence_store=store)
    runner = web.AppRunner(pages.app(), access_log=None)  # paths hold tokens: never logged
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"customer pages on http://{host}:{port}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("RETURNS_CUSTOMER_PAGE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("RETURNS_CUSTOMER_PAGE_PORT", "8082")))
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass  # Ctrl-C, or `make run` stopping it with SIGINT: a quiet stop, not a traceback


if __name__ == "__main__":
    main()
