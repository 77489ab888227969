"""Our one-pass word cutter gives jieba's words (HMM off), text for text."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.qa.wordcut import WordCutter
from tests import realset


@pytest.fixture(scope="module")
def tokenizer(engine):
    return engine.matcher.segmenter._tokenizer


@pytest.fixture(scope="module")
def cutter(tokenizer):
    return WordCutter(tokenizer)


@pytest.mark.parametrize("text", [
    "", " ", "\r\n你好\t世界", "abc 12 x", "a1b2", "微信app12333怎么弄",
    "养老金认证怎么弄？", "我妈在外地，养老金认证怎么弄", "代他人认证用谁的手机号",
    "C++ & 3.5% a-b_c", "養老金認證", "😭刷脸过不去😭",
])
def test_cuts_like_jieba(cutter, tokenizer, text):
    assert cutter.cut(text) == tokenizer.lcut(text, HMM=False)


def test_cuts_every_known_text_like_jieba(engine, cutter, tokenizer):
    """Knowledge phrasings, real questions and their canonical forms: where ties and unknown
    characters occur in practice."""
    segmenter = engine.matcher.segmenter
    texts = [t for entry in engine.kb.entries.values() for t in entry.texts]
    texts += [item["q"] for item in realset.load("in_scope") + realset.load("out_of_scope")]
    texts += [segmenter.canonical(t) for t in texts]
    differ = [t for t in texts if cutter.cut(t) != tokenizer.lcut(t, HMM=False)]
    assert not differ, differ[:5]


def test_cuts_random_text_like_jieba(engine, cutter, tokenizer):
    """Random strings of the characters the knowledge uses: every route jieba could take."""
    rng = random.Random(20261201)
    chars = sorted({c for entry in engine.kb.entries.values() for t in entry.texts for c in t})
    texts = ["".join(rng.choice(chars) for _ in range(rng.randrange(1, 60))) for _ in range(2000)]
    differ = [t for t in texts if cutter.cut(t) != tokenizer.lcut(t, HMM=False)]
    assert not differ, differ[:5]


def test_cuts_every_short_text_like_jieba_on_a_small_dictionary(tmp_path):
    """Every text of up to four characters over a dictionary made for the hard cases: equal
    routes (甲乙|丙 or 甲|乙丙), a prefix that is no word (戊 of 戊己), and a word whose best
    route starts with an unknown character (戊|己庚辛 beats 戊己|庚|辛)."""
    from bot.qa.jieba_import import jieba

    dictionary = tmp_path / "dict.txt"
    words = ["甲 2", "乙 2", "丙 2", "甲乙 2", "乙丙 2", "甲乙丙丁 3",
             "戊己 1", "己庚辛 100000", "辛 5"]
    dictionary.write_text("\n".join(words) + "\n", encoding="utf-8")
    tokenizer = jieba.Tokenizer(dictionary=str(dictionary))
    tokenizer.tmp_dir = str(tmp_path)
    cutter = WordCutter(tokenizer)
    alphabet = "甲乙丙丁戊己庚辛"
    texts = ["".join(p) for n in range(1, 5) for p in itertools.product(alphabet, repeat=n)]
    differ = [t for t in texts if cutter.cut(t) != tokenizer.lcut(t, HMM=False)]
    assert not differ, differ[:5]


def test_log_probability_is_jiebas(engine, cutter, tokenizer):
    """What typo repair compares: jieba's best route score, to the last bit."""
    texts = ["老公上个月认证了", "老工伤个月认证了", "工商银行", "a", "认证", "戊"]
    texts += [t for entry in list(engine.kb.entries.values())[:20] for t in entry.texts]
    for text in texts:
        route: dict[int, tuple[float, int]] = {}
        tokenizer.calc(text, tokenizer.get_DAG(text), route)
        assert cutter.log_probability(text) == route[0][0], text
