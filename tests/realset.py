"""The real-question yardstick: questions copied from public pages, scored as a user sees them.

`tests/eval/real/in_scope.yaml` and `out_of_scope.yaml` hold questions copied word for word
from public pages (each with its URL), labelled with the topic that answers them (`intent`)
and the province they mean (`place`). Each question falls for good into the tuning half or the
held-out half by a hash of its text with a fixed seed, so adding questions never moves old ones.
Tune on the tuning half; report the held-out half.

    python -m tests.realset [tune|held-out|all] [--show]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REAL_DIR = Path(__file__).parent / "eval" / "real"
SEED = "real-questions-2026-12-01"
TODAY = dt.date(2026, 12, 1)
DEADLINE_ID = "next-due-how"


def load(name: str) -> list[dict]:
    """The questions of one file of the real set."""
    data = yaml.safe_load((REAL_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    return list(data["questions"])


def half_of(question: str) -> str:
    """'tune' or 'held-out', fixed for ever by the question's text."""
    digest = hashlib.sha256(f"{SEED}|{question}".encode()).digest()
    return "held-out" if digest[0] % 2 else "tune"


def split(items: list[dict], half: str) -> list[dict]:
    return items if half == "all" else [i for i in items if half_of(i["q"]) == half]


ANY = "*"  # any topic is right, as long as the place is (old labels such as prov-liaoning)


def labels(item: dict) -> set[str]:
    intent = item["intent"]
    return set(intent) if isinstance(intent, list) else {intent}


def regression_items(path: Path) -> tuple[list[dict], list[dict]]:
    """The old, self-written set (tests/eval/questions.yaml) in this module's shape.

    Its province labels (prov-liaoning) predate places being read apart from topics: such a
    question is right when the reply adds that province's specifics, whatever the topic.
    """
    from bot.deadline.regions import lookup_region

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    in_scope = []
    for item in data["in_scope"]:
        ids = item["id"] if isinstance(item["id"], list) else [item["id"]]
        topics = [i for i in ids if not i.startswith("prov-")]
        provinces = [i for i in ids if i.startswith("prov-")]
        converted = {"q": item["q"], "intent": topics or [ANY]}
        if provinces and not topics:
            converted["place"] = _province_of_entry(provinces[0], lookup_region)
        in_scope.append(converted)
    return in_scope, [{"q": item["q"]} for item in data["out_of_scope"]]


def _province_of_entry(entry_id: str, lookup_region) -> str:
    from bot.qa.engine import default_engine

    entry = default_engine().kb.entries[entry_id]
    region = lookup_region(entry.regions[0])
    return region.province_short if region else entry.regions[0]


@dataclass
class Score:
    """What users would see: right first time, confidently wrong, declined, unsure."""

    total: int = 0
    right: int = 0
    wrong: list[str] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)
    unsure: list[str] = field(default_factory=list)
    shown: int = 0  # the right topic among what is shown (answer or buttons)
    first: int = 0  # the right topic first: answered, or the first suggestion (ranking alone)
    oos_total: int = 0
    oos_answered: list[str] = field(default_factory=list)
    oos_place_total: int = 0
    oos_place_answered: int = 0

    def rate(self, n: int, d: int) -> float:
        return n / d if d else 1.0

    @property
    def right_rate(self) -> float:
        return self.rate(self.right, self.total)

    @property
    def wrong_rate(self) -> float:
        return self.rate(len(self.wrong), self.total)

    @property
    def first_rate(self) -> float:
        return self.rate(self.first, self.total)

    @property
    def shown_rate(self) -> float:
        return self.rate(self.shown, self.total)

    @property
    def oos_declined_rate(self) -> float:
        return self.rate(self.oos_total - len(self.oos_answered), self.oos_total)

    @property
    def oos_place_declined_rate(self) -> float:
        return self.rate(self.oos_place_total - self.oos_place_answered, self.oos_place_total)

    def summary(self) -> str:
        return (f"in scope {self.total}: answered right {self.right} ({self.right_rate:.1%}), "
                f"confidently wrong {len(self.wrong)} ({self.wrong_rate:.1%}), "
                f"unsure {len(self.unsure)}, declined {len(self.declined)}, "
                f"right topic shown {self.shown} ({self.shown_rate:.1%}), "
                f"first {self.first} ({self.first_rate:.1%}); "
                f"out of scope {self.oos_total}: declined "
                f"{self.oos_total - len(self.oos_answered)} ({self.oos_declined_rate:.1%}), "
                f"naming a place {self.oos_place_total - self.oos_place_answered}/"
                f"{self.oos_place_total} ({self.oos_place_declined_rate:.1%})")

    def failures(self) -> str:
        parts = [("confidently wrong", self.wrong), ("unsure (suggestions only)", self.unsure),
                 ("declined", self.declined), ("out of scope answered", self.oos_answered)]
        return "\n".join(f"{title}:\n" + "\n".join(f"  {line}" for line in lines)
                         for title, lines in parts if lines)


def score(engine, in_scope: list[dict], out_of_scope: list[dict]) -> Score:
    """Answer every question as the bot would and count the outcomes."""
    from bot.qa.answers import answer

    result = Score()
    for item in in_scope:
        want, place = labels(item), item.get("place")
        reply = answer(engine, item["q"], TODAY)
        got = DEADLINE_ID if reply.kind == "deadline" else reply.id
        if ANY in want:  # the old province labels: right when the reply is about that province
            topic = got or next(iter(reply.suggestion_ids), None)
            want = {topic} if topic and reply.province == place else want
        place_ok = not place or not reply.province or reply.province == place
        line = (f"{item['q']!r}: want {sorted(want)}{'@' + place if place else ''}, got "
                f"{reply.kind} {got}{'@' + reply.province if reply.province else ''} "
                f"({reply.score:.2f}) {item.get('url', '')}")
        result.total += 1
        shown = {got, *reply.suggestion_ids, *(target for _, target in reply.buttons)}
        if want & shown:
            result.shown += 1
        first = got or next(iter(reply.suggestion_ids), None)
        if first in want and place_ok:
            result.first += 1
        if reply.kind in ("answer", "deadline"):
            if got in want and place_ok:
                result.right += 1
            else:
                result.wrong.append(line)
        elif reply.kind == "suggest":
            result.unsure.append(line)
        else:
            result.declined.append(line)
    for item in out_of_scope:
        reply = answer(engine, item["q"], TODAY)
        result.oos_total += 1
        result.oos_place_total += bool(item.get("place"))
        if reply.matched:
            result.oos_answered.append(f"{item['q']!r}: answered {reply.id} ({reply.score:.2f}) "
                                       f"{item.get('url', '')}")
            result.oos_place_answered += bool(item.get("place"))
    return result


def main(argv: list[str]) -> int:
    from bot.qa.engine import default_engine

    half = next((a for a in argv if not a.startswith("-")), "tune")
    engine = default_engine()
    result = score(engine, split(load("in_scope"), half), split(load("out_of_scope"), half))
    print(f"[{half}] {result.summary()}")
    if "--show" in argv:
        print(result.failures())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
