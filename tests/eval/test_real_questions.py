"""Real questions copied from public pages: the bar answering is held to (held-out half).

The tuning half may be looked at while improving answering; the held-out half is only scored.
Failures are printed so that a reader sees what users would have seen.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests import realset

MIN_IN_SCOPE = 250
MIN_OUT_OF_SCOPE = 80
MIN_OUT_OF_SCOPE_WITH_PLACE = 40
# The bars of issue 10, printed beside what the held-out half reaches.
TARGETS = {"right": 0.90, "wrong": 0.03, "oos_declined": 0.95, "oos_place_declined": 0.95,
           "shown": 0.98}
# What the held-out half reached when these bars were last set (docs/benchmarks.md): answering
# may not get worse than this. Where it is short of TARGETS, issue 10 says so.
FLOORS = {"right": 0.63, "wrong": 0.035, "oos_declined": 0.95, "oos_place_declined": 0.95,
          "shown": 0.91}


@pytest.fixture(scope="module")
def real() -> tuple[list[dict], list[dict]]:
    return realset.load("in_scope"), realset.load("out_of_scope")


def test_real_set_is_large_sourced_and_labelled(real, engine):
    in_scope, out_of_scope = real
    assert len(in_scope) >= MIN_IN_SCOPE
    assert len(out_of_scope) >= MIN_OUT_OF_SCOPE
    assert sum(bool(i.get("place")) for i in out_of_scope) >= MIN_OUT_OF_SCOPE_WITH_PLACE
    for item in in_scope + out_of_scope:
        assert str(item.get("url", "")).startswith("http"), item
    unknown = {i for item in in_scope for i in realset.labels(item)} - set(engine.kb.entries)
    assert not unknown, f"labels that are not knowledge entries: {sorted(unknown)}"
    repeated = [q for q, n in Counter(i["q"] for i in in_scope + out_of_scope).items() if n > 1]
    assert not repeated, repeated


def test_halves_are_fixed_and_balanced(real):
    questions = [i["q"] for i in real[0] + real[1]]
    held_out = sum(realset.half_of(q) == "held-out" for q in questions)
    assert 0.4 < held_out / len(questions) < 0.6
    assert realset.half_of("养老金认证怎么弄") == realset.half_of("养老金认证怎么弄")


def test_held_out_half_holds_its_floors(real, engine):
    in_scope, out_of_scope = (realset.split(items, "held-out") for items in real)
    result = realset.score(engine, in_scope, out_of_scope)
    reached = {"right": result.right_rate, "wrong": result.wrong_rate,
               "oos_declined": result.oos_declined_rate,
               "oos_place_declined": result.oos_place_declined_rate, "shown": result.shown_rate}
    print(f"\nreal questions, held-out half: {result.summary()}")
    for name, value in reached.items():
        print(f"  {name}: {value:.1%} (target {TARGETS[name]:.0%}, floor {FLOORS[name]:.0%})")
    print(result.failures())
    assert reached["right"] >= FLOORS["right"]
    assert reached["wrong"] <= FLOORS["wrong"]
    assert reached["oos_declined"] >= FLOORS["oos_declined"]
    assert reached["oos_place_declined"] >= FLOORS["oos_place_declined"]
    assert reached["shown"] >= FLOORS["shown"]
