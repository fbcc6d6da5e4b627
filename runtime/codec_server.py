"""The codec server: lets staff read encrypted payloads in the Temporal Web UI and CLI, and only them.

    RETURNS_CODEC_SERVER_TOKEN=... python -m runtime.codec_server --port 8081

Temporal's remote codec protocol: `POST /decode` and `POST /encode` take and return
`{"payloads": [{"metadata": {...}, "data": "<base64>"}]}` (protobuf JSON). The Web UI calls
`/decode` from the browser to show inputs, results and the status card; `/encode` when staff send
an update or signal from the UI, so their input is stored encrypted too.

Who may call it:
- `Authorization: Bearer <token>` (RETURNS_CODEC_SERVER_TOKEN), compared in constant time; this is
  what the CLI sends: `temporal workflow show --codec-endpoint URL --codec-auth "Bearer <token>"`;
- or, for the browser, a session cookie set by `GET/POST /login` after the same token is entered
  once (the Web UI sends a bearer header only to https endpoints, and only its own login token;
  with "Include cross-origin credentials" ticked in its codec settings it sends the cookie).
Anything else gets 401. CORS answers only the UI's origin (RETURNS_CODEC_CORS_ORIGINS, default
http://127.0.0.1:8233): another site open in the same browser cannot make the browser decode for it.
Payloads are never logged.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import hdrs, web
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payloads

from runtime.codec import CodecKeyError, EncryptionCodec, Keyring, UndecryptablePayload
from runtime.logging import configure_logging, get_logger
from runtime.settings import DEV_UI_URL

log = get_logger("codec_server")

SESSION_COOKIE = "returns_codec_session"
MAX_BODY_BYTES = 16 * 1024 * 1024  # a long history's payloads in one request
ALLOWED_HEADERS = "Content-Type, X-Namespace, Authorization"


class MissingToken(ValueError):
    pass


@dataclass(frozen=True)
class CodecServerConfig:
    token: str
    allowed_origins: tuple[str, ...] = (DEV_UI_URL,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "CodecServerConfig":
        env = os.environ if env is None else env
        token = env.get("RETURNS_CODEC_SERVER_TOKEN", "").strip()
        if len(token) < 16:
            raise MissingToken("RETURNS_CODEC_SERVER_TOKEN must be set to a secret of at least 16 "
                               "characters: the codec server decrypts customer data for whoever "
                               "holds it (see docs/security.md)")
        origins = tuple(o.strip().rstrip("/") for o in
                        env.get("RETURNS_CODEC_CORS_ORIGINS", DEV_UI_URL).split(",") if o.strip())
        return cls(token=token, allowed_origins=origins)


def _session_value(token: str) -> str:
    """The cookie's value: derived from the token (stateless, survives restarts), not the token."""
    return hmac.new(token.encode(), b"returns codec session v1", hashlib.sha256).hexdigest()


def create_codec_app(codec: EncryptionCodec, config: CodecServerConfig) -> web.Application:
    session = _session_value(config.token)

    def authorized(request: web.Request) -> bool:
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        scheme, _, credential = header.partition(" ")
        ok = False
        if scheme.lower() == "bearer" and credential:
            ok |= hmac.compare_digest(credential.strip().encode(), config.token.encode())
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if cookie:
            ok |= hmac.compare_digest(cookie.encode(), session.encode())
        return ok

    def cors(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN, "")
        response.headers[hdrs.VARY] = "Origin"
        if origin in config.allowed_origins:
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS] = "true"
        return response

    def error(request: web.Request, status: int, problem: str) -> web.StreamResponse:
        return cors(request, web.json_response({"error": problem}, status=status))

    async def preflight(request: web.Request) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN, "")
        if origin not in config.allowed_origins:
            log.warning("codec.cors_refused", origin=origin[:200], path=request.path)
            return web.Response(status=403, text="origin not allowed\n")
        response = web.Response(status=204)
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = "POST"
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = ALLOWED_HEADERS
        response.headers[hdrs.ACCESS_CONTROL_MAX_AGE] = "600"
        return cors(request, response)

    def handler(transform, what: str):
        async def handle(request: web.Request) -> web.StreamResponse:
            origin = request.headers.get(hdrs.ORIGIN)
            if origin is not None and origin not in config.allowed_origins:
                log.warning("codec.cors_refused", origin=origin[:200], path=request.path)
                return web.json_response({"error": "origin not allowed"}, status=403)
            if not authorized(request):
                log.warning("codec.unauthorized", path=request.path, remote=request.remote)
                return error(request, 401, "missing or wrong token: send Authorization: Bearer "
                                           "<token>, or sign in at /login")
            try:
                payloads = json_format.Parse(await request.read(), Payloads())
            except (json_format.ParseError, DecodeError, UnicodeDecodeError) as err:
                return error(request, 400, f"body is not {{\"payloads\": [...]}}: {err}"[:300])
            try:
                out = Payloads(payloads=await transform(payloads.payloads))
            except UndecryptablePayload as err:
                log.warning("codec.undecryptable", reason=str(err))
                return error(request, 422, str(err))
            except Exception as err:  # noqa: BLE001 - any payload it cannot open is the caller's
                # A 4xx, never a 500: what cannot be opened is the request's problem. The reason
                # is the exception's type only (its text might quote the payload).
                log.warning("codec.unreadable", reason=type(err).__name__)
                return error(request, 422, f"a payload cannot be {what}: {type(err).__name__}")
            log.info(f"codec.{what}", payloads=len(payloads.payloads),
                     namespace=request.headers.get("X-Namespace"))
            return cors(request, web.Response(text=json_format.MessageToJson(out),
                                              content_type="application/json"))

        return handle

    async def login_form(request: web.Request, problem: str = "") -> web.Response:
        note = f"<p style='color:#b00'>{html.escape(problem)}</p>" if problem else ""
        return web.Response(content_type="text/html", status=401 if problem else 200, text=(
            "<!doctype html><title>Returns codec server</title>"
            "<h1>Decode payloads in the Temporal Web UI</h1>" + note +
            "<form method=post action=/login><label>Codec server token "
            "<input type=password name=token autofocus></label> <button>Sign in</button></form>"
            "<p>Then, in the Web UI's codec server settings, tick <em>Include cross-origin "
            "credentials</em>.</p>"))

    async def login(request: web.Request) -> web.StreamResponse:
        form = await request.post()
        token = str(form.get("token", "")).strip()
        if not hmac.compare_digest(token.encode(), config.token.encode()):
            log.warning("codec.login_refused", remote=request.remote)
            return await login_form(request, "wrong token")
        response = web.Response(status=303, headers={
            hdrs.LOCATION: config.allowed_origins[0] if config.allowed_origins else "/"})
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Strict", path="/",
                            secure=request.secure, max_age=12 * 3600)
        log.info("codec.login", remote=request.remote)
        return response

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "key": codec.keyring.current_id})

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post("/decode", handler(codec.decode, "decoded"))
    app.router.add_post("/encode", handler(codec.encode, "encoded"))
    app.router.add_route("OPTIONS", "/decode", preflight)
    app.router.add_route("OPTIONS", "/encode", preflight)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_get("/healthz", healthz)
    # The banner prints the server's address: opened in a browser, it leads to the sign-in.
    app.router.add_get("/", _to_login)
    return app


async def _to_login(_request: web.Request) -> web.StreamResponse:
    return web.Response(status=303, headers={hdrs.LOCATION: "/login"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.codec_server",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    configure_logging()
    try:
        config = CodecServerConfig.from_env()
        keyring = Keyring.from_env()
    except (MissingToken, CodecKeyError) as err:
        print(f"codec server: {err}", file=sys.stderr)
        return 2
    log.info("codec.listening", url=f"http://{args.host}:{args.port}", key=keyring.current_id,
             origins=list(config.allowed_origins))
    web.run_app(create_codec_app(EncryptionCodec(keyring), config), host=args.host,
                port=args.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
