"""Returns-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import subprocess

import pytest

from ingestion.signing import SignatureError, sign, sign_with_secrets, verify

from ingestion_support import ROOT

BODY = b'{"type":"return.withdrawn","return_id":"R-1"}'
SECRET = "whsec_current"
OLD_SECRET = "whsec_previous"
NOW = 1_790_000_000


def test_the_header_is_t_and_the_hmac_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET, NOW) == f"t={NOW},v1={expected}"


def test_a_fresh_signature_verifies_and_returns_its_timestamp():
    assert verify(sign(BODY, SECRET, NOW), BODY, [SECRET], now=NOW + 299) == NOW


@pytest.mark.parametrize("header, reason", [
    (None, "missing Returns-Signature"),
    ("", "missing Returns-Signature"),
    (f"v1={'0' * 64}", "no t="),
    (f"t={NOW}", "no v1="),
    (f"t=yesterday,v1={'0' * 64}", "exactly one t="),
    (f"t={NOW},t={NOW},v1={'0' * 64}", "exactly one t="),
])
def test_unsigned_or_unparsable_headers_are_refused(header, reason):
    with pytest.raises(SignatureError, match=reason):
        verify(header, BODY, [SECRET], now=NOW)


def test_a_changed_body_wrong_secret_or_moved_timestamp_is_refused():
    header = sign(BODY, SECRET, NOW)
    with pytest.raises(SignatureError, match="no v1 signature matches"):
        verify(header, BODY + b" ", [SECRET], now=NOW)
    with pytest.raises(SignatureError, match="no v1 signature matches"):
        verify(sign(BODY, "whsec_guess", NOW), BODY, [SECRET], now=NOW)
    moved = header.replace(f"t={NOW}", f"t={NOW + 1}")
    with pytest.raises(SignatureError, match="no v1 signature matches"):
        verify(moved, BODY, [SECRET], now=NOW)


@pytest.mark.parametrize("skew", [301, -301, 86_400])
def test_a_timestamp_outside_the_tolerance_is_refused_as_a_replay(skew):
    header = sign(BODY, SECRET, NOW)
    with pytest.raises(SignatureError, match="more than 300 s"):
        verify(header, BODY, [SECRET], now=NOW + skew)
    assert verify(header, BODY, [SECRET], now=NOW + skew, tolerance_seconds=abs(skew)) == NOW


def test_rotation_any_v1_entry_and_any_receiver_secret_may_match():
    both = sign_with_secrets(BODY, [OLD_SECRET, SECRET], NOW)
    assert both.count("v1=") == 2
    # The sender signs with old and new; a receiver already on the new secret accepts ...
    assert verify(both, BODY, [SECRET], now=NOW) == NOW
    # ... and so does one still on the old secret, or one that knows both.
    assert verify(both, BODY, [OLD_SECRET], now=NOW) == NOW
    assert verify(sign(BODY, OLD_SECRET, NOW), BODY, [SECRET, OLD_SECRET], now=NOW) == NOW
    # Unknown schemes are ignored, so senders can add a v2 later.
    assert verify(f"{sign(BODY, SECRET, NOW)},v0=abc", BODY, [SECRET], now=NOW) == NOW
    with pytest.raises(SignatureError):
        verify(both, BODY, ["whsec_other"], now=NOW)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_the_shell_recipe_in_docs_events_md_computes_the_same_signature():
    recipe = ("printf '%s.%s' \"$t\" \"$body\" | openssl dgst -sha256 -hmac "
              "\"$MERCHANT_SECRET\" | sed 's/^.* //'")
    assert f"v1=$({recipe})" in (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    body = '{"type": "return.withdrawn", "note": "l\'été, 100%"}'
    digest = subprocess.run(["bash", "-c", recipe], check=True, capture_output=True, text=True,
                            env={"t": str(NOW), "body": body, "MERCHANT_SECRET": SECRET,
                                 "PATH": "/usr/bin:/bin"}).stdout.strip()
    assert f"t={NOW},v1={digest}" == sign(body.encode(), SECRET, NOW)
