"""The customer page's signed links and words: pure, no server."""

from __future__ import annotations

import time

import pytest

from customer_page import words
from customer_page.links import CustomerLinks, LinkProblem

KEY_A = "a" * 40
KEY_B = "b" * 40


def links(*keys: str) -> CustomerLinks:
    return CustomerLinks(keys or (KEY_A,), "https://returns.example")


def test_a_link_opens_its_own_return_only():
    token = links().token("opalook", "R-1")
    assert links().check("opalook", "R-1", token) is None
    assert links().check("opalook", "R-2", token) is LinkProblem.forged
    assert links().check("fine-jewelry", "R-1", token) is LinkProblem.forged


def test_forged_and_expired_links_are_refused():
    token = links().token("opalook", "R-1")
    expires, _, signature = token.partition(".")
    assert links().check("opalook", "R-1", f"{int(expires) + 1}.{signature}") is LinkProblem.forged
    assert links().check("opalook", "R-1", "garbage") is LinkProblem.forged
    assert links(KEY_B).check("opalook", "R-1", token) is LinkProblem.forged
    old = links().token("opalook", "R-1", expires=int(time.time()) - 1)
    assert links().check("opalook", "R-1", old) is LinkProblem.expired


def test_keys_rotate_the_new_one_signs_the_old_one_still_opens():
    old_link = links(KEY_A).token("opalook", "R-1")
    rotated = links(KEY_B, KEY_A)
    assert rotated.check("opalook", "R-1", old_link) is None
    assert links(KEY_B).check("opalook", "R-1", rotated.token("opalook", "R-1")) is None


def test_the_url_holds_ids_a_date_and_a_signature_only():
    url = links().url("opalook", "R-1", "fr-FR")
    assert url.startswith("https://returns.example/r/opalook/R-1/")
    assert url.endswith("?lang=fr")


def test_short_keys_are_refused_at_start():
    with pytest.raises(ValueError, match="shorter than 32"):
        CustomerLinks(("short",), "https://x")
    assert CustomerLinks.from_env({}) is None


def test_csrf_tokens_are_bound_to_the_link_and_the_cookie():
    token = links().token("opalook", "R-1")
    form = links().csrf(token, "nonce-0123456789abcdef")
    assert links().csrf_ok(token, "nonce-0123456789abcdef", form)
    assert not links().csrf_ok(token, "other-0123456789abcdef", form)
    assert not links().csrf_ok(links().token("opalook", "R-2"), "nonce-0123456789abcdef", form)
    assert not links().csrf_ok(token, "", form)


def test_every_language_has_every_word():
    keys = set(words.WORDS["en"])
    for language in words.LANGUAGES:
        assert set(words.WORDS[language]) == keys, language


def test_money_and_dates_follow_the_language():
    assert words.money(1250, "EUR", "fr").replace("\u202f", " ").replace("\xa0", " ") == "12,50 €"
    assert words.money(1250, "EUR", "en") == "€12.50"
    assert words.money(500, "JPY", "en") == "¥500"
    assert words.language_of(None, "zh-CN,zh;q=0.9") == "zh"
    assert words.language_of("de", "de-DE") == "en"


def test_actions_are_rate_limited_per_return():
    from customer_page.server import MAX_ACTIONS, CustomerPages

    pages = CustomerPages(client=None, links=links(), registry=None)  # type: ignore[arg-type]
    assert not any(pages._rate_limited("opalook", "R-1") for _ in range(MAX_ACTIONS))
    assert pages._rate_limited("opalook", "R-1")
    assert not pages._rate_limited("opalook", "R-2")  # another return is not held back
