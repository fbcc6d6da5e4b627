"""The console's security layer without Temporal: accounts (argon2 hashes), sessions that expire,
CSRF on every form, sign-in throttling per person and per address, roles, and the
`python -m console add-user` command. The server runs for real (aiohttp, a free port); no Temporal
call is made by these pages, so none is running (the queue and return pages are in
tests/browser/test_console.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from console.accounts import IDLE_SECONDS, SESSION_SECONDS, AccountError, Accounts
from console.roles import Role, action_of, may, offered_actions
from console.server import Console
from console.throttle import SignInThrottle
from returns.allowed import Action

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def accounts(tmp_path):
    clock = Clock()
    store = Accounts(tmp_path / "console.sqlite3", clock=clock)
    store.clock_ = clock
    yield store
    store.close()


def test_passwords_are_argon2_hashes_and_checked(accounts, tmp_path):
    accounts.add("sam", PASSWORD, "reviewer", ["opalook"])
    stored = accounts.db.execute("SELECT password_hash FROM staff").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.check_password("sam", PASSWORD).role == Role.reviewer
    assert accounts.check_password("sam", "wrong password!") is None
    assert accounts.check_password("nobody", PASSWORD) is None


@pytest.mark.parametrize("name, password, role, merchants, field", [
    ("Sam Smith", PASSWORD, "reviewer", ["opalook"], "NAME"),
    ("sam", "short", "reviewer", ["opalook"], "password"),
    ("sam", PASSWORD, "boss", ["opalook"], "--role"),
    ("sam", PASSWORD, "reviewer", [], "--merchant"),
    ("sam", PASSWORD, "reviewer", ["bad merchant"], "--merchant"),
])
def test_a_bad_account_names_its_field(accounts, name, password, role, merchants, field):
    with pytest.raises(AccountError, match=f"^{re.escape(field)}"):
        accounts.add(name, password, role, merchants)
    assert accounts.get("sam") is None


def test_an_account_is_added_once(accounts):
    accounts.add("sam", PASSWORD, "reviewer", ["opalook"])
    with pytest.raises(AccountError, match="exists already"):
        accounts.add("sam", PASSWORD, "admin", ["*"])
    assert accounts.get("sam").role == Role.reviewer


def test_sessions_expire_when_idle_and_after_a_day(accounts):
    staff = accounts.add("sam", PASSWORD, "reviewer", ["opalook"])
    token, _ = accounts.open_session(staff)
    assert accounts.session(token).staff.name == "sam"
    assert accounts.session("forged-token") is None
    accounts.clock_.now += IDLE_SECONDS + 1
    assert accounts.session(token) is None
    token, _ = accounts.open_session(staff)
    for _ in range(SESSION_SECONDS // IDLE_SECONDS + 1):  # used all day, never idle
        accounts.clock_.now += IDLE_SECONDS - 60
        found = accounts.session(token)
    assert found is None


def test_replacing_an_account_signs_it_out(accounts):
    staff = accounts.add("sam", PASSWORD, "reviewer", ["opalook"])
    token, _ = accounts.open_session(staff)
    accounts.add("sam", PASSWORD + "2", "warehouse", ["opalook"], replace=True)
    assert accounts.session(token) is None


def test_throttle_per_person_and_per_address():
    clock = Clock()
    throttle = SignInThrottle(per_user=3, per_address=5, window=60, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("sam", "10.0.0.1") is None
        throttle.failed("sam", "10.0.0.1")
    assert throttle.retry_after("sam", "10.0.0.2") is not None  # the person, from anywhere
    assert throttle.retry_after("ann", "10.0.0.3") is None
    for name in ("ann", "bob"):
        throttle.failed(name, "10.0.0.1")
    assert throttle.retry_after("cid", "10.0.0.1") is not None  # the address, for anyone
    clock.now += 61
    assert throttle.retry_after("sam", "10.0.0.1") is None


def test_roles_decide_the_actions():
    assert may(Role.reviewer, Action.approve) and not may(Role.reviewer, Action.warehouse_receipt)
    assert may(Role.warehouse, Action.warehouse_receipt) and not may(Role.warehouse, Action.approve)
    assert may(Role.inspector, Action.record_inspection)
    assert may(Role.refunds, Action.retry_refund) and not may(Role.refunds, Action.reject)
    assert all(may(Role.admin, a) for a in Action)


def test_the_status_cards_offers_read_back_as_actions():
    assert action_of("signal warehouse_receipt") == Action.warehouse_receipt
    assert action_of("extend_deadline (ship_by, review)") == Action.extend_deadline
    assert action_of("acknowledge (what needs attention)") == Action.acknowledge
    assert offered_actions(["approve", "reject", "nonsense"]) == [Action.approve, Action.reject]


def test_add_user_command(tmp_path):
    env = {"RETURNS_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "console", "add-user", "sam", "--role",
                           "reviewer", "--merchant", "opalook", "--merchant", "pearl-platform"],
                          input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "added sam: reviewer, merchants opalook, pearl-platform" in done.stdout
    store = Accounts.in_data_dir(tmp_path)
    assert store.check_password("sam", PASSWORD).merchants == {"opalook", "pearl-platform"}
    store.close()
    again = subprocess.run([sys.executable, "-m", "console", "add-user", "sam", "--role",
                            "admin", "--merchant", "*"], input=PASSWORD + "\n",
                           capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
                           check=False)
    assert again.returncode == 2 and "exists already" in again.stderr


# ---------------------------------------------------------------------- the server's layer
@pytest.fixture
async def site(accounts):
    accounts.add("sam", PASSWORD, "reviewer", ["opalook"])
    console = Console(client=None, accounts=accounts, ui_url="http://ui",  # type: ignore[arg-type]
                      throttle=SignInThrottle(per_user=3, per_address=10))
    runner = web.AppRunner(console.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield base
    await runner.cleanup()


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


async def sign_in(http: aiohttp.ClientSession, base: str, password: str = PASSWORD,
                  name: str = "sam") -> aiohttp.ClientResponse:
    page = await (await http.get(f"{base}/sign-in")).text()
    return await http.post(f"{base}/sign-in", allow_redirects=False, data={
        "csrf": hidden(page, "csrf"), "name": name, "password": password, "next": "/orders/O-1"})


async def test_pages_need_a_session(site):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        response = await http.get(f"{site}/queues/to_review", allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/sign-in?next=")
        response = await http.post(f"{site}/returns/return-opalook-R1/approve", data={})
        assert response.status == 403


async def test_sign_in_sets_a_strict_http_only_cookie(site):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        response = await sign_in(http, site)
        assert response.status == 303 and response.headers["Location"] == "/orders/O-1"
        cookie = response.headers.getall("Set-Cookie")
        session = next(c for c in cookie if c.startswith("console_session="))
        assert "HttpOnly" in session and "SameSite=Strict" in session and "Max-Age=" in session


async def test_sign_in_form_needs_its_csrf_token(site):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        response = await http.post(f"{site}/sign-in", allow_redirects=False,
                                   data={"csrf": "guess", "name": "sam", "password": PASSWORD})
        assert response.status == 403
        assert "console_session" not in response.cookies


async def test_every_form_needs_the_sessions_csrf_token(site):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        assert (await sign_in(http, site)).status == 303
        response = await http.post(f"{site}/sign-out", data={"csrf": "forged"},
                                   allow_redirects=False)
        assert response.status == 403
        assert "This form has expired" in await response.text()
        response = await http.post(f"{site}/returns/return-opalook-R1/approve",
                                   data={}, allow_redirects=False)
        assert response.status == 403


async def test_sign_in_is_throttled_per_person(site):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for _ in range(3):
            assert (await sign_in(http, site, password="wrong password")).status == 401
        response = await sign_in(http, site)  # the right password, too late
        assert response.status == 429 and int(response.headers["Retry-After"]) > 0
        assert "Too many failed sign-ins" in await response.text()


async def test_sign_out_ends_the_session(site):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await sign_in(http, site)
        page = await (await http.get(f"{site}/sign-in")).text()  # any page with the token
        response = await http.get(f"{site}/merchants/pearl-platform")  # not sam's: 404
        assert response.status == 404
        csrf = hidden(await response.text(), "csrf")
        response = await http.post(f"{site}/sign-out", data={"csrf": csrf}, allow_redirects=False)
        assert response.status == 303
        response = await http.get(f"{site}/queues/to_review", allow_redirects=False)
        assert response.status == 303 and "/sign-in" in response.headers["Location"]
        assert page
