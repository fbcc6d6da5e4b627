"""The demo returns' customer pages, for the `make run` banner: one signed link per return the
demo requests, in its customer's language, so a newcomer can open a customer's page without
digging a link out of the outbox (the same link every customer email carries)."""

from __future__ import annotations

import json

from customer_page.links import CustomerLinks, split_keys
from customer_page.words import language_of as page_language


def demo_page_links(bodies: list[bytes], keys: str, base_url: str) -> list[str]:
    """Banner lines `<return id> (<language>)  <link>` for each `return.requested` in `bodies`."""
    links = CustomerLinks(tuple(split_keys(keys)), base_url)
    lines: list[str] = []
    seen: set[tuple[str, str]] = set()
    for body in bodies:
        try:
            event = json.loads(body)
            if event.get("type") != "return.requested":
                continue
            merchant, return_id = event["merchant_id"], event["return_id"]
            locale = str(event["order"]["customer"].get("locale") or "en")
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if (merchant, return_id) in seen:
            continue
        seen.add((merchant, return_id))
        # The language the page will show (English for one it lacks: a German customer's page
        # reads English), so the link's lang= says what opens, never lang=de.
        language = page_language(locale)
        url = links.url(merchant, return_id, language)
        lines.append(f"{return_id:<15}({language})  {url}")
    return lines
