"""returns/tracking_refs.py: a tracking number as the TrackingRefs search attribute holds it."""

from __future__ import annotations

import hashlib

import pytest

from console.find_words import find_problem
from returns.tracking_refs import (
    REF_PREFIX, NotATrackingNumber, is_tracking_number, normalise, tracking_ref, tracking_refs,
)


def test_normalise_drops_spaces_and_dashes_and_upper_cases():
    assert normalise(" 1z 999-aa1 0123\t456784 ") == "1Z999AA10123456784"
    assert normalise("jd-0001-4711") == "JD00014711"


def test_the_ref_is_16_hex_of_sha256_over_the_prefix_and_the_normalised_number():
    expected = hashlib.sha256((REF_PREFIX + "1Z999AA10123456784").encode()).hexdigest()[:16]
    assert tracking_ref("1Z999AA10123456784") == expected
    assert tracking_ref("1z 999 aa1-0123-456784") == expected  # as a person types it
    assert len(expected) == 16 and int(expected, 16) >= 0
    assert "1Z999AA10123456784" not in expected and tracking_ref("JD00014711") != expected
    # not a plain hash of the number: the prefix is product-specific
    assert expected != hashlib.sha256(b"1Z999AA10123456784").hexdigest()[:16]


@pytest.mark.parametrize("typed", ["", "   ", "AB1", "1Z99/9", "1Z\"99999", "x" * 41, "ÄBCDE12"])
def test_what_cannot_be_a_tracking_number_is_refused_naming_the_field(typed):
    assert not is_tracking_number(typed)
    with pytest.raises(NotATrackingNumber, match=r"^tracking_number: .* is not a tracking number"):
        tracking_ref(typed)


def test_refs_are_each_once_sorted_and_skip_what_is_no_tracking_number():
    refs = tracking_refs(["jd-0001-4711", "JD00014711", "1Z999AA10123456784", "??"])
    assert refs == sorted({tracking_ref("JD00014711"), tracking_ref("1Z999AA10123456784")})
    assert tracking_refs([]) == []


def test_the_find_box_names_q_when_what_was_typed_can_be_nothing_it_finds():
    for fine in ("R-1001", "RMA-R-1001", "1z 999 aa1 0123 456784", "9400111899223197428490"):
        assert find_problem(fine) is None
    problem = find_problem('<script>"x"')
    assert problem.startswith("q: ") and "tracking number" in problem
