"""The `make run` banner prints each demo return's customer page (it printed only
`/r/<merchant>/<return>/<token>`, so a newcomer had to dig a link out of the outbox): one signed
link per requested return, in its customer's language, that the page server accepts."""

from __future__ import annotations

import json
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
        assert url.endswith(f"?lang={language.strip('()')}")  # the link says what opens
    assert "(fr)" in languages and "(en)" in languages


def test_bad_bodies_are_skipped():
    assert demo_page_links([b"not json", b"[]", b'{"type": "return.requested"}'], KEYS,
                           "http://x") == []


def _requested(return_id: str, locale: str | None) -> bytes:
    customer = {"name": "x"} | ({"locale": locale} if locale is not None else {})
    return json.dumps({"type": "return.requested", "merchant_id": "opalook",
                       "return_id": return_id, "order": {"customer": customer}}).encode()


def test_each_link_says_the_language_the_page_will_use():
    """The page speaks en, fr and zh: a German (or unknown) customer's page is English, so its
    link says lang=en, never lang=de; regional locales lose their region."""
    cases = {"R-DE": ("de-DE", "en"), "R-FR": ("fr-FR", "fr"), "R-ZH": ("zh_CN", "zh"),
             "R-EN": ("en-US", "en"), "R-XX": ("xx", "en"), "R-NONE": (None, "en")}
    lines = demo_page_links([_requested(r, locale) for r, (locale, _) in cases.items()], KEYS,
                            "http://127.0.0.1:18082")
    assert len(lines) == len(cases)
    for line in lines:
        return_id, language, url = line.split()
        expected = cases[return_id][1]
        assert language == f"({expected})"
        assert url.endswith(f"?lang={expected}"), url
        assert "lang=de" not in url
