"""console/known_runs.py: a return's checked run and merchant are remembered for a while, the least
recently used forgotten first; the permission itself is never remembered (server.py asks
`Staff.sees` on every request, tested in test_console.py's merchant-not-seen cases)."""

from console.known_runs import KnownRuns


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_checked_run_is_remembered_with_its_merchant_until_it_is_stale():
    clock = Clock()
    runs = KnownRuns(keep_seconds=60, clock=clock)
    assert runs.get("return-shop-R1") is None
    runs.remember("return-shop-R1", "run-a", "shop")
    clock.now += 59
    known = runs.get("return-shop-R1")
    assert (known.run_id, known.merchant_id) == ("run-a", "shop")
    clock.now += 2  # 61 s after it was checked: asked again
    assert runs.get("return-shop-R1") is None
    assert len(runs) == 0


def test_the_least_recently_used_are_forgotten_first():
    runs = KnownRuns(most=2, clock=Clock())
    runs.remember("w1", "r1", "m")
    runs.remember("w2", "r2", "m")
    runs.get("w1")  # used: w2 is now the oldest
    runs.remember("w3", "r3", "m")
    assert runs.get("w2") is None
    assert runs.get("w1").run_id == "r1" and runs.get("w3").run_id == "r3"


def test_forget_and_a_newer_check_replace_what_was_known():
    runs = KnownRuns(clock=Clock())
    runs.remember("w1", "r1", "m")
    runs.remember("w1", "r2", "m")
    assert runs.get("w1").run_id == "r2"
    runs.forget("w1")
    runs.forget("never-seen")
    assert runs.get("w1") is None
