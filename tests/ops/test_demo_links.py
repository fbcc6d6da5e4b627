"""The `make run` banner prints each demo return's customer page (it printed only
`/r/<merchant>/<return>/<token>`, so a newcomer had to dig a link out of the outbox): one signed
link per requested return, in its customer's language, that the page server accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from customer_page.links import CustomerLinks
from runtime.demo_links import demo_page_links

ROOT = Path(__file__).resolve().parents[2]
KEYS = "demo-links-test-key-" + "x" * 32 + ",old-key-" + "y" * 32


def test_one_link_per_demo_return_in_its_customers_language():
    out = subprocess.run([sys.executable, str(ROOT / "demo" / "generate.py")], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    bodies = [line.encode() for line in out.splitlines() if line.strip()]
    lines = demo_page_links(bodies + bodies[:1], KEYS, "http://127.0.0.1:18082")
    requested = [b for b in bodies if b'"return.requested"' in b]
    assert len(lines) == len(requested) > 0  # follow-up events and repeats add nothing
    checker = CustomerLinks(("demo-links-test-key-" + "x" * 32,), "http://127.0.0.1:18082")
    languages = set()
    for line in lines:
        return_id, language, url = line.split()
        languages.add(language)
        assert url.startswith("http://127.0.0.1:18082/r/")
        merchant, rid, token = url.split("/r/")[1].split("?")[0].split("/")
        assert rid == return_id and checker.check(merchant, rid, token) is None
        assert language in ("(en)", "(fr)", "(zh)")  # the page's language (German reads English)
    assert "(fr)" in languages and "(en)" in languages


def test_bad_bodies_are_skipped():
    assert demo_page_links([b"not json", b"[]", b'{"type": "return.requested"}'], KEYS,
                           "http://x") == []
