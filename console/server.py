"""The staff console server: sign-in, the daily queues, a page per return with a form for each
action it takes now, bulk approve / reject.

    GET  /sign-in, POST /sign-in, POST /sign-out
    GET  /queues/<queue>                   (to_review, reviews_overdue, needs_attention, ...)
    GET  /merchants/<merchant>             one merchant's open returns
    GET  /orders/<order>                   an order's returns, finished ones too
    POST /queues/<queue>/bulk              approve or reject the selected returns
    GET  /returns/<workflow_id>            status, evidence, answers, tracking, audit, forms
    POST /returns/<workflow_id>/<action>   one action: the update (or signal) the Temporal UI sends
    GET  /returns/<workflow_id>/evidence/<sha256>   a file the customer uploaded (staff only)
    GET  /requests/new, POST   a return request taken by customer service (console/requests.py)
    GET  /find?q=...                       a return id, a scanned label barcode, a tracking number
    GET  /healthz

Security is a layer, not a per-view check: every request passes `_guard` (the session, the
CSRF token of every POST, the security headers); every return is read through `_visible_return`
(a merchant the person may not see is a 404, exactly like a return that does not exist). The
actor of every action is the signed-in person. No access log: nothing of a URL is personal, but
nothing needs logging either.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web
from pydantic import BaseModel
from temporalio.client import (
    Client, WorkflowExecutionStatus, WorkflowQueryFailedError, WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.service import RPCError, RPCStatusCode

from console import forms, queues
from console.accounts import SESSION_SECONDS, Accounts, Session
from console.requests import CHANNELS, EVIDENCE, REASONS, RESOLUTIONS, build_request
from console.roles import TAKE_REQUEST, may, offered_actions
from console.status_needed import needs_status
from console.throttle import SignInThrottle
from console.evidence_upload import receive_staff_upload
from console.find_words import NOTHING_FOUND, find_problem
from console.known_runs import KnownRuns
from customer_page.upload_view import can_upload
from evidence import evidence_bytes, open_store
from evidence.store import EvidenceStore
from ingestion.intake import Intake, TemporalUnavailable
from ingestion.intake import Outcome as IntakeOutcome
from returns.actions import ActionResult, WarehouseReceipt
from returns.events import EvidenceKind
from returns.allowed import Action, Now
from returns.money import format_money
from returns.receipts import expected_units, receipt_problems, received_units
from returns.refund_shown import refund_shown
from returns.status import DEADLINE_LABELS, ReceiptOutcome, ReturnStatus
from returns_cli.lookup import LookupFailed, find_returns
from returns_cli.main import failure_message
from returns_cli.queries import FilterError
from workflows import names
from workflows import search_attributes as sa

TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "console_session"
SIGN_IN_COOKIE = "console_sign_in"  # the sign-in form's CSRF (double submit), before a session
UPDATE_TIMEOUT = 10.0  # how long a form waits for its update's result
RPC_TIMEOUT = timedelta(seconds=10)
LIST_LIMIT = 200
SEEN_TIMEOUT = 5.0
# Temporal could not answer a read (down, or no worker to answer the status query).
UNAVAILABLE = (RPCError, WorkflowQueryFailedError)
# What the security layer hands the views.
SESSION = web.RequestKey("session", object)
FORM = web.RequestKey("form", object)
COUNTS = web.RequestKey("counts", dict)


@dataclass
class Outcome:
    """What became of one action, for the page and the bulk result."""

    ok: bool
    message: str


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["money"] = lambda amount, currency: (
        format_money(amount, currency) if amount is not None and currency else "—")
    env.filters["when"] = lambda moment: (
        moment.astimezone(UTC).strftime("%d %b %Y %H:%M UTC") if moment else "—")
    env.filters["short"] = lambda moment: moment.astimezone(UTC).strftime("%d %b %H:%M")
    env.globals["field"] = forms.field
    env.globals["deadline_label"] = lambda kind: DEADLINE_LABELS.get(kind, str(kind))
    return env


class Console:
    def __init__(self, client: Client, accounts: Accounts, *, ui_url: str,
                 throttle: SignInThrottle | None = None, clock=None,
                 intake: Intake | None = None, merchants: list[str] | None = None,
                 secure_cookies: bool = False, evidence_store: EvidenceStore | None = None) -> None:
        self.client = client
        self.evidence_store = evidence_store  # opened at the first download when not given
        # Behind a TLS proxy the request looks like plain HTTP: the public address decides.
        self.secure_cookies = secure_cookies
        self.intake = intake  # customer service's requests go in as the order system's do
        self.merchants = sorted(merchants or [])  # those with a policy (for "*" accounts)
        self.accounts = accounts
        self.ui_url = ui_url.rstrip("/")
        self.throttle = throttle or SignInThrottle()
        self.jinja = _environment()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.flash: dict[str, str] = {}  # session -> the last action's result, shown once
        # Each return's run and merchant once checked: a form post and the page after it ask the
        # server once, not twice (console/known_runs.py).
        self.known_runs = KnownRuns()

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=256 * 1024)
        app.add_routes([
            web.get("/healthz", self.health),
            web.get("/", self.home),
            web.get("/favicon.ico", self.no_icon),
            web.get("/sign-in", self.sign_in_page), web.post("/sign-in", self.sign_in),
            web.post("/sign-out", self.sign_out),
            web.get("/queues/{queue}", self.queue),
            web.post("/queues/{queue}/bulk", self.bulk),
            web.get("/merchants/{merchant}", self.merchant_queue),
            web.get("/orders/{order}", self.order_queue),
            web.get("/find", self.find),
            web.get("/requests/new", self.request_form),
            web.post("/requests/new", self.take_request),
            web.get("/returns/{workflow_id}", self.return_page),
            web.get("/returns/{workflow_id}/evidence/{sha256}", self.evidence),
            web.post("/returns/{workflow_id}/upload", self.upload),  # before /{action}
            web.post("/returns/{workflow_id}/{action}", self.act),
        ])
        return app

    # ------------------------------------------------------------------ the security layer
    @web.middleware
    async def _guard(self, request: web.Request, handler):
        public = request.path in ("/sign-in", "/healthz", "/favicon.ico")
        session = self.accounts.session(request.cookies.get(SESSION_COOKIE))
        request[SESSION] = session
        try:
            if not public and session is None:
                if request.method == "GET":
                    raise web.HTTPSeeOther(f"/sign-in?next={quote(request.path_qs, safe='')}")
                raise web.HTTPForbidden(text="sign in first")
            if request.method == "POST" and not public and not _is_upload(request):
                form = await request.post()
                request[FORM] = form
                if not hmac.compare_digest(str(form.get("csrf", "")), session.csrf):
                    response = self._render(request, "problem.html", status=403,
                                            heading="This form has expired",
                                            text="Reload the page and send it again.")
                    raise _Done(response)
            response = await handler(request)
        except _Done as done:
            response = done.response
        except web.HTTPException as exc:
            response = exc
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if isinstance(response, web.HTTPException):
            raise response
        return response

    def _render(self, request: web.Request, template: str, status: int = 200,
                **context: Any) -> web.Response:
        nonce = secrets.token_urlsafe(12)
        session: Session | None = request.get(SESSION)
        html = self.jinja.get_template(template).render(
            nonce=nonce, me=session.staff if session else None,
            csrf=session.csrf if session else "", queues=queues.QUEUES,
            counts=request.get(COUNTS, {}),
            may_take_requests=bool(session and self.intake is not None
                                   and may(session.staff.role, TAKE_REQUEST)), **context)
        response = web.Response(text=html, content_type="text/html", status=status)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
        return response

    def _unavailable(self, request: web.Request, err: Exception) -> web.Response:
        return self._render(request, "problem.html", status=503,
                            heading="The return cannot be read right now",
                            text=f"{getattr(err, 'message', None) or err}. Is the worker running? "
                                 "Try again in a moment.")

    def _not_found(self, request: web.Request) -> web.Response:
        return self._render(request, "problem.html", status=404, heading="Not found",
                            text="There is no such return, or it is not one of your merchants'.")

    # ------------------------------------------------------------------ sign-in
    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def no_icon(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def home(self, request: web.Request) -> web.Response:
        raise web.HTTPSeeOther("/queues/to_review")

    def _sign_in_form(self, request: web.Request, *, error: str | None = None, status: int = 200,
                      name: str = "") -> web.Response:
        # One token per browser until it signs in: a second tab (or the favicon's request)
        # must not invalidate the form already open.
        token = request.cookies.get(SIGN_IN_COOKIE, "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{32}", token):
            token = secrets.token_urlsafe(24)
        nxt = request.query.get("next", "") or str(request.get(FORM, {}).get("next", ""))
        response = self._render(request, "sign_in.html", status=status, error=error, name=name,
                                sign_in_csrf=token, next=_safe_next(nxt))
        response.set_cookie(SIGN_IN_COOKIE, token, httponly=True, samesite="Strict",
                            path="/sign-in", secure=request.secure or self.secure_cookies)
        return response

    async def sign_in_page(self, request: web.Request) -> web.Response:
        return self._sign_in_form(request)

    async def sign_in(self, request: web.Request) -> web.Response:
        form = await request.post()
        request[FORM] = form
        name = str(form.get("name", "")).strip().lower()[:80]
        password = str(form.get("password", ""))[:1000]
        if not hmac.compare_digest(str(form.get("csrf", "")),
                                   request.cookies.get(SIGN_IN_COOKIE, "") or "-"):
            return self._sign_in_form(request, status=403, name=name,
                                      error="This form has expired: sign in again.")
        address = request.remote or "unknown"
        wait = self.throttle.retry_after(name, address)
        if wait is not None:
            response = self._sign_in_form(
                request, status=429, name=name,
                error=f"Too many failed sign-ins. Try again in {wait // 60 + 1} minutes.")
            response.headers["Retry-After"] = str(wait)
            return response
        staff = await asyncio.to_thread(self.accounts.check_password, name, password)
        if staff is None:
            self.throttle.failed(name, address)
            return self._sign_in_form(request, status=401, name=name,
                                      error="Wrong name or password.")
        self.throttle.succeeded(name)
        token, _ = self.accounts.open_session(staff)
        response = web.HTTPSeeOther(_safe_next(str(form.get("next", ""))) or "/queues/to_review")
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", path="/",
                            secure=request.secure or self.secure_cookies, max_age=SESSION_SECONDS)
        response.del_cookie(SIGN_IN_COOKIE, path="/sign-in")
        raise response

    async def sign_out(self, request: web.Request) -> web.Response:
        session: Session = request[SESSION]
        self.accounts.close_session(session.token_hash)
        response = web.HTTPSeeOther("/sign-in")
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response

    # ------------------------------------------------------------------ queues
    async def _counts(self, request: web.Request, now: datetime) -> None:
        staff = request[SESSION].staff

        async def count(queue: queues.Queue) -> int | None:
            try:
                result = await self.client.count_workflows(
                    queues.query(queue, staff, now), rpc_timeout=RPC_TIMEOUT)
                return result.count
            except RPCError:
                return None

        keys = list(queues.QUEUES)
        values = await asyncio.gather(*(count(queues.QUEUES[k]) for k in keys))
        request[COUNTS] = dict(zip(keys, values))

    async def _rows(self, query: str) -> list[queues.Row]:
        rows = []
        async for w in self.client.list_workflows(query, limit=LIST_LIMIT,
                                                  rpc_timeout=RPC_TIMEOUT):
            attrs = w.typed_search_attributes
            if not attrs.get(sa.RETURN_ID):
                continue
            rows.append(queues.Row(
                workflow_id=w.id, return_id=attrs.get(sa.RETURN_ID),
                merchant_id=attrs.get(sa.MERCHANT_ID) or "?",
                order_id=attrs.get(sa.ORDER_ID) or "?",
                state=attrs.get(sa.RETURN_STATE) or "?",
                waiting_on=attrs.get(sa.WAITING_ON) or "—",
                next_deadline=attrs.get(sa.NEXT_DEADLINE),
                next_deadline_kind=attrs.get(sa.NEXT_DEADLINE_KIND),
                needs_attention=bool(attrs.get(sa.NEEDS_ATTENTION)),
                refund_amount=attrs.get(sa.REFUND_AMOUNT), currency=attrs.get(sa.CURRENCY),
                running=w.status == WorkflowExecutionStatus.RUNNING,
                requested_at=attrs.get(sa.REQUESTED_AT)))
        return queues.due_first(rows)

    async def _list(self, request: web.Request, queue: queues.Queue, title: str, *,
                    merchant: str | None = None, order: str | None = None,
                    results: list[tuple[str, Outcome]] | None = None,
                    status: int = 200, acted: frozenset[str] = frozenset()) -> web.Response:
        """`acted`: workflow ids just approved or rejected here; the list's index lags a moment
        behind them, so they are left out rather than offered again (and refused)."""
        staff = request[SESSION].staff
        now = self.clock()
        try:
            query = queues.query(queue, staff, now, merchant=merchant, order=order)
        except FilterError:
            return self._not_found(request)
        try:
            rows, _ = await asyncio.gather(self._rows(query), self._counts(request, now))
        except RPCError as err:
            return self._render(request, "problem.html", status=503,
                                heading="Temporal did not answer", text=err.message)
        rows = [r for r in rows if r.workflow_id not in acted]
        return self._render(request, "queue.html", status=status, queue=queue, title=title,
                            rows=rows, now=now, query=query, results=results or [],
                            ui_list=f"{self.ui_url}/namespaces/"
                                    f"{quote(self.client.namespace, safe='')}/workflows?query="
                                    f"{quote(query, safe='')}",
                            can_bulk=queue.bulk and may(staff.role, Action.approve))

    async def queue(self, request: web.Request) -> web.Response:
        queue = queues.QUEUES.get(request.match_info["queue"])
        if queue is None:
            return self._not_found(request)
        return await self._list(request, queue, queue.title)

    async def merchant_queue(self, request: web.Request) -> web.Response:
        merchant = request.match_info["merchant"]
        if not request[SESSION].staff.sees(merchant):
            return self._not_found(request)
        return await self._list(request, queues.MERCHANT, f"Merchant {merchant}: open returns",
                                merchant=merchant)

    async def order_queue(self, request: web.Request) -> web.Response:
        order = request.match_info["order"]
        return await self._list(request, queues.ORDER, f"Order {order}: its returns", order=order)

    async def bulk(self, request: web.Request) -> web.Response:
        queue = queues.QUEUES.get(request.match_info["queue"])
        if queue is None or not queue.bulk:
            return self._not_found(request)
        session: Session = request[SESSION]
        form = request[FORM]
        verb = str(form.get("bulk", ""))
        action = {"approve": Action.approve, "reject": Action.reject}.get(verb)
        if action is None or not may(session.staff.role, action):
            return self._render(request, "problem.html", status=403, heading="Not allowed",
                                text=f"Your role ({session.staff.role}) may not {verb} returns.")
        selected = list(dict.fromkeys(str(w) for w in form.getall("selected", [])))[:100]
        problem = ("select at least one return" if not selected else
                   "reason: say why they are rejected (the customers are told)"
                   if action == Action.reject and not str(form.get("reason", "")).strip()
                   else None)
        if problem:
            return await self._list(request, queue, queue.title, status=400,
                                    results=[("", Outcome(False, problem))])

        async def one(workflow_id: str) -> tuple[str, Outcome]:
            try:
                found = await self._visible_return(request, workflow_id)
            except UNAVAILABLE as err:
                return workflow_id, Outcome(False, f"cannot be read now: "
                                                   f"{getattr(err, 'message', None) or err}")
            if found is None:
                return workflow_id, Outcome(False, "not found")
            return_id, status = found
            try:
                payload = forms.build(action, form, status, session.staff.name)
            except forms.FormProblem as problem:
                return return_id, Outcome(False, str(problem))
            return return_id, await self._send(workflow_id, action, payload)

        results = await asyncio.gather(*(one(w) for w in selected))
        acted = frozenset(w for w, (_, outcome) in zip(selected, results) if outcome.ok)
        return await self._list(request, queue, queue.title, results=list(results), acted=acted)

    async def find(self, request: web.Request) -> web.Response:
        typed = " ".join(request.query.get("q", "").split())[:100]
        staff = request[SESSION].staff
        if not typed:
            raise web.HTTPSeeOther("/queues/to_review")
        try:
            found = await find_returns(
                self.client, typed, typed.removeprefix("RMA-"), merchant=None, timeout=10,
                merchants=self.merchants if staff.all_merchants else sorted(staff.merchants),
                visible=None if staff.all_merchants else sorted(staff.merchants))
        except LookupFailed:
            found = []
        mine = [ref for ref in found if staff.sees(ref.merchant_id)]
        if len(mine) == 1:
            raise web.HTTPSeeOther(f"/returns/{quote(mine[0].workflow_id, safe='')}")
        problem = None if mine else find_problem(typed)
        return self._render(request, "found.html", typed=typed, found=mine, problem=problem,
                            nothing=NOTHING_FOUND,
                            status=200 if mine else 400 if problem else 404)

    # ------------------------------------------------------------------ a return
    async def _visible_return(self, request: web.Request, workflow_id: str, *,
                              with_status: bool = True
                              ) -> tuple[str | None, ReturnStatus | None] | None:
        """(return id, status) of a return the signed-in person may see; None otherwise, with no
        difference between "not there" and "not yours". `with_status=False`: (None, None) once
        it is visible, without the status query."""
        staff = request[SESSION].staff
        if not workflow_id.startswith("return-") or len(workflow_id) > 200:
            return None
        known = self.known_runs.get(workflow_id)
        if known is None:
            try:
                description = await self.client.get_workflow_handle(workflow_id).describe(
                    rpc_timeout=RPC_TIMEOUT)
            except RPCError as err:
                if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                    return None
                raise
            known = self.known_runs.remember(
                workflow_id, description.run_id,
                description.typed_search_attributes.get(sa.MERCHANT_ID))
        if not staff.sees(known.merchant_id):
            return None
        if not with_status:
            return None, None
        try:
            status = await self._handle(workflow_id).query(
                names.QUERY_STATUS, result_type=ReturnStatus, rpc_timeout=RPC_TIMEOUT)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:  # the remembered run is gone: ask again
                self.known_runs.forget(workflow_id)
            raise
        return status.return_id, status

    def _handle(self, workflow_id: str):
        """The return's workflow, pinned to the run whose merchant was checked (known_runs.py);
        only ever called after `_visible_return` let the person see it."""
        known = self.known_runs.get(workflow_id)
        return self.client.get_workflow_handle(workflow_id,
                                               run_id=known.run_id if known else None)

    async def _return_or_page(self, request: web.Request, workflow_id: str, *,
                              with_status: bool = True
                              ) -> tuple[str | None, ReturnStatus | None]:
        """`_visible_return`, or the page that says why not (not found, or Temporal not
        answering), raised for the guard to send."""
        try:
            found = await self._visible_return(request, workflow_id, with_status=with_status)
        except UNAVAILABLE as err:
            raise _Done(self._unavailable(request, err)) from err
        if found is None:
            raise _Done(self._not_found(request))
        return found

    async def return_page(self, request: web.Request) -> web.Response:
        workflow_id = request.match_info["workflow_id"]
        _, status = await self._return_or_page(request, workflow_id)
        flash = self.flash.pop(request[SESSION].token_hash, None)
        return self._show(request, workflow_id, status, flash=flash)

    def _show(self, request: web.Request, workflow_id: str, status: ReturnStatus, *,
              flash: str | None = None, refusal: tuple[str, str] | None = None,
              entered: Any = None, http_status: int = 200, kept: str | None = None,
              scan_note: str | None = None) -> web.Response:
        staff = request[SESSION].staff
        possible = offered_actions(status.next_actions)
        running = [d for d in status.deadlines if not d.met]
        actions = [a.value for a in possible if may(staff.role, a)]
        if refusal and refusal[0] not in actions and may(staff.role, refusal[0]):
            # The refused form stays on the page with what was typed, even when the return has
            # moved on and no longer takes it: the refusal says why.
            actions.append(refusal[0])
        return self._render(
            request, "return.html", status=http_status, s=status, workflow_id=workflow_id,
            actions=actions,
            not_mine=[a.value for a in possible if not may(staff.role, a)],
            running_deadlines=running, flash=flash,
            refusal_action=refusal[0] if refusal else None,
            refusal=refusal[1] if refusal else None, entered=entered or {},
            kept_action=kept or (refusal[0] if refusal else None), scan_note=scan_note,
            evidence=getattr(status, "evidence", None) or [],
            # customer service adds a file the customer sent another way (evidence_upload.py)
            can_add_files=may(staff.role, TAKE_REQUEST) and can_upload(status),
            evidence_kinds=[k.value for k in EvidenceKind],
            answers=getattr(status, "customer_answers", None) or [],
            tracking=getattr(status, "tracking", None) or [],
            # The refund as the outcome has it (returns/refund_shown.py): none once the inspection
            # failed, what was paid once refunded; not the policy's proposal.
            refund_line=refund_shown(status).words,
            ui_link=f"{self.ui_url}/namespaces/{quote(self.client.namespace, safe='')}"
                    f"/workflows/{quote(workflow_id, safe='')}",
            quote=quote)

    async def upload(self, request: web.Request) -> web.Response:
        """A photo or video the customer sent another way, added by customer service (read by
        console/evidence_upload.py, which checks this form's CSRF token itself)."""
        session: Session = request[SESSION]
        workflow_id = request.match_info["workflow_id"]
        _, status = await self._return_or_page(request, workflow_id)
        if not may(session.staff.role, TAKE_REQUEST):
            return self._show(request, workflow_id, status, http_status=403, refusal=(
                "upload", f"your role ({session.staff.role.value}) may not add files for the "
                          "customer"))
        return await receive_staff_upload(self, request, session, workflow_id, status)

    async def evidence(self, request: web.Request) -> web.StreamResponse:
        """A file of the return's evidence (ReturnStatus.evidence, from the customer page), read
        from the evidence store; only for staff who may see the return's merchant."""
        found = await self._return_or_page(request, request.match_info["workflow_id"])
        if self.evidence_store is None:
            self.evidence_store = open_store()
        # Only a file this return recorded, and only while the stored bytes match its hash.
        answer = await evidence_bytes(self.evidence_store, found[1], request.match_info["sha256"])
        if answer is None:
            return self._not_found(request)
        data, content_type = answer
        return web.Response(body=data, content_type=content_type, headers={
            "Content-Disposition": f'attachment; filename="{request.match_info["sha256"][:16]}"',
            "X-Content-Type-Options": "nosniff"})

    # ------------------------------------------------------------------ customer service
    def _request_merchants(self, request: web.Request) -> list[str]:
        staff = request[SESSION].staff
        return self.merchants if staff.all_merchants else sorted(staff.merchants)

    def _show_request_form(self, request: web.Request, *, problems: list[str] | None = None,
                           entered: Any = None, status: int = 200) -> web.Response:
        return self._render(request, "request.html", status=status, problems=problems or [],
                            entered=entered or {}, merchants=self._request_merchants(request),
                            channels=CHANNELS, reasons=REASONS, resolutions=RESOLUTIONS,
                            evidence_kinds=EVIDENCE,
                            # Given when the form opens, so the same form sent twice (a double
                            # click) is one return: the intake answers "duplicate".
                            new_return_id=f"CS-{secrets.token_hex(4).upper()}")

    async def request_form(self, request: web.Request) -> web.Response:
        if not may(request[SESSION].staff.role, TAKE_REQUEST) or self.intake is None:
            return self._not_found(request)
        return self._show_request_form(request)

    async def take_request(self, request: web.Request) -> web.Response:
        """Build the `return.requested` the order system would have sent and start it through
        the same intake (ingestion.intake.Intake), as the merchant the person works for."""
        session: Session = request[SESSION]
        if not may(session.staff.role, TAKE_REQUEST) or self.intake is None:
            return self._not_found(request)
        form = request[FORM]
        entered = {k: form.getall(k) for k in form if k != "csrf"}
        merchant = str(form.get("merchant", ""))
        if merchant not in self._request_merchants(request):
            return self._show_request_form(request, problems=["merchant: choose one of yours"],
                                           entered=entered, status=400)
        try:
            event = build_request(form, merchant_id=merchant, taken_by=session.staff.name,
                                  now=self.clock())
        except forms.FormProblem as problem:
            return self._show_request_form(request, problems=[str(problem)], entered=entered,
                                           status=400)
        try:
            result = await self.intake.submit(json.dumps(event), merchant=merchant)
        except TemporalUnavailable as err:
            return self._show_request_form(request, problems=[str(err)], entered=entered,
                                           status=503)
        if result.outcome == IntakeOutcome.started:
            self.flash[session.token_hash] = (
                f"return request recorded ({CHANNELS[event_id_channel(event)]}), "
                f"taken by {session.staff.name}")
            raise web.HTTPSeeOther(f"/returns/{quote(result.workflow_id, safe='')}")
        problems = [f"{p.field}: {p.problem}" for p in result.problems] or [
            f"not started: {result.outcome.value} (return {event['return_id']} exists already)"]
        return self._show_request_form(request, problems=problems, entered=entered, status=409
                                       if result.outcome in (IntakeOutcome.duplicate,
                                                             IntakeOutcome.conflict) else 400)

    async def act(self, request: web.Request) -> web.Response:
        workflow_id = request.match_info["workflow_id"]
        session: Session = request[SESSION]
        try:
            action = Action(request.match_info["action"])
        except ValueError:
            return self._not_found(request)
        form = request[FORM]
        # The form is the payload: who may see the return is checked, its status is not read (a
        # round trip through the worker saved); a refusal reads it below.
        _, status = await self._return_or_page(
            request, workflow_id,
            with_status=not may(session.staff.role, action) or needs_status(action, form))
        entered = {k: form.getall(k) for k in form if k != "csrf"}
        if not may(session.staff.role, action):
            why = (f"your role ({session.staff.role.value}) may not "
                   f"{action.value.replace('_', ' ')}")
            return self._show(request, workflow_id, status, refusal=(action.value, why),
                              entered=entered, http_status=403)
        if action == Action.warehouse_receipt and str(form.get("scan", "")).strip():
            # A scanner types the item's barcode and Enter: count it in the form, send nothing.
            try:
                entered, note = forms.scanned(entered, status, str(form["scan"]))
            except forms.FormProblem as problem:
                return self._show(request, workflow_id, status, entered=entered,
                                  refusal=(action.value, str(problem)), http_status=400)
            return self._show(request, workflow_id, status, entered=entered, kept=action.value,
                              scan_note=note)
        try:
            payload = forms.build(action, form, status, session.staff.name)
        except forms.FormProblem as problem:
            if status is None:  # not read before building: read it to show the form again
                _, status = await self._return_or_page(request, workflow_id)
            return self._show(request, workflow_id, status, refusal=(action.value, str(problem)),
                              entered=entered, http_status=400)
        if action == Action.warehouse_receipt:
            outcome = await self._receive(workflow_id, status, payload)
        else:
            outcome = await self._send(workflow_id, action, payload)
        if not outcome.ok:
            try:
                _, status = await self._visible_return(request, workflow_id) or (None, status)
            except UNAVAILABLE as err:
                if status is None:  # not read before sending: nothing to show the refusal on
                    return self._unavailable(request, err)
            if status is None:
                return self._not_found(request)
            return self._show(request, workflow_id, status, refusal=(action.value, outcome.message),
                              entered=entered, http_status=409)
        self.flash[session.token_hash] = outcome.message
        raise web.HTTPSeeOther(f"/returns/{quote(workflow_id, safe='')}")

    async def _send(self, workflow_id: str, action: Action, payload: BaseModel) -> Outcome:
        """One update, as the Temporal UI sends it: refused by its validator, or its result."""
        handle = self._handle(workflow_id)
        name = forms.MESSAGE_NAMES[action]
        try:
            update = await handle.start_update(name, payload, result_type=ActionResult,
                                               wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                                               rpc_timeout=RPC_TIMEOUT)
            result = await asyncio.wait_for(update.result(), UPDATE_TIMEOUT)
        except WorkflowUpdateFailedError as err:
            return Outcome(False, failure_message(err))
        except TimeoutError:
            return Outcome(True, f"{name} accepted; it is still being applied")
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return Outcome(False, await self._finished(workflow_id))
            return Outcome(False, f"Temporal did not take it: {err.message}")
        return Outcome(True, f"{name}: {result.message}")

    async def _finished(self, workflow_id: str) -> str:
        try:
            description = await self.client.get_workflow_handle(workflow_id).describe(
                rpc_timeout=RPC_TIMEOUT)
            state = description.typed_search_attributes.get(sa.RETURN_STATE) or "finished"
        except RPCError:
            state = "finished"
        return f"return is finished ({state}); nothing more can be recorded"

    async def _receive(self, workflow_id: str, status: ReturnStatus,
                       receipt: WarehouseReceipt) -> Outcome:
        """The warehouse's signal. A signal cannot answer, so what the workflow would refuse
        (returns.receipts, the same check it makes) is refused here first and nothing is sent;
        then the page waits until the workflow shows what became of the receipt."""
        problems = receipt_problems(Now.of(status), expected_units(status.items),
                                    received_units(status.items), receipt)
        if problems:
            return Outcome(False, "; ".join(problems))
        handle = self._handle(workflow_id)
        await handle.signal(names.SIGNAL_WAREHOUSE_RECEIPT, receipt, rpc_timeout=RPC_TIMEOUT)
        deadline = asyncio.get_running_loop().time() + SEEN_TIMEOUT
        while asyncio.get_running_loop().time() < deadline:
            current = await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
            logged = [r for r in current.receipts if r.receipt_id == receipt.receipt_id]
            if logged:
                last = logged[-1]
                if last.outcome == ReceiptOutcome.refused:
                    return Outcome(False, f"receipt refused: {last.detail}")
                if last.outcome == ReceiptOutcome.repeat:
                    return Outcome(True, f"receipt {receipt.receipt_id} was already recorded; "
                                         "not counted again")
                return Outcome(True, f"receipt {receipt.receipt_id} recorded")
            await asyncio.sleep(0.1)
        return Outcome(True, f"receipt {receipt.receipt_id} sent; not shown yet, reload")


class _Done(Exception):
    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response


def _is_upload(request: web.Request) -> bool:
    """The upload form (multipart, up to 100 MB) is read by its handler, not the guard."""
    return request.method == "POST" and request.path.startswith("/returns/") \
        and request.path.endswith("/upload") and request.path.count("/") == 3


def event_id_channel(event: dict) -> str:
    """The channel a customer-service event id names (`cs-<channel>.<name>.<n>`)."""
    return event["event_id"].split(".", 1)[0].removeprefix("cs-").replace("-", "_")


def _safe_next(path: str) -> str:
    """Only a path on this site (never `//host` or a full URL) after signing in."""
    if path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return ""


def ui_url_from_env(env: dict[str, str]) -> str:
    if env.get("RETURNS_UI_URL"):
        return env["RETURNS_UI_URL"]
    return f"http://127.0.0.1:{env.get('RETURNS_UI_PORT', '8233')}"


async def serve(host: str, port: int) -> None:
    from customer_page.links import CustomerLinks
    from ingestion.merchants import merchant_ids
    from runtime.client import connect
    from runtime.settings import Settings

    settings = Settings.from_env()
    accounts = Accounts.in_data_dir(settings.data_dir)
    client = await connect()
    merchants = merchant_ids(settings.policies_dir)
    intake = Intake(client, task_queue=settings.task_queue,
                    known_merchant=set(merchants).__contains__,
                    links=CustomerLinks.from_settings(dict(os.environ), settings.secrets_file),
                    console_url=os.environ.get("RETURNS_CONSOLE_URL"))
    console = Console(client, accounts, ui_url=ui_url_from_env(dict(os.environ)), intake=intake,
                      merchants=merchants,
                      secure_cookies=os.environ.get("RETURNS_CONSOLE_URL", "").startswith("https:"))
    runner = web.AppRunner(console.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(f"staff console on http://{host}:{port}", flush=True)
    await asyncio.Event().wait()


def serve_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m console serve",
                                     description="Run the staff console.")
    parser.add_argument("--host", default=os.environ.get("RETURNS_CONSOLE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("RETURNS_CONSOLE_PORT", "8083")))
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass  # Ctrl-C, or `make run` stopping it with SIGINT: a quiet stop, not a traceback
