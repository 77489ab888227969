"""Segmentation: synonyms, homophone and pinyin repair, particles, bigrams."""

from __future__ import annotations

import pytest

from bot.qa.segment import BIGRAM_PREFIX, fuzzy_syllable, split_pinyin
from bot.text.normalize import normalize


@pytest.fixture(scope="module")
def segmenter(engine):
    return engine.matcher.segmenter


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("养老金认正怎么弄", "养老金认证怎么办"),  # homophone 认正 → 认证
        ("刷连老是失败", "刷脸老是失败"),  # homophone 刷连 → 刷脸
        ("shua lian ren zheng", "刷脸"),  # typed pinyin, then 刷脸认证 → 刷脸
        ("renzheng zenme ban", "认证怎么办"),
        ("年审在哪里弄", "认证在哪里弄"),  # synonym
        ("退休金停发了", "养老金停发了"),
        ("人脸识别不通过", "刷脸失败"),
        ("我妈在外地", "父母在外地"),
        ("社保认证助手能用吗", "社保认证助手能用吗"),  # a fake app's name stays whole
        ("事业单位退休", "事业单位退休"),  # a real word is not "repaired"
        ("shua lian zong shi shi bai", "刷脸zongshi失败"),  # 失败 (a domain word) beats 逝世
        ("刷连老是失败", "刷脸老是失败"),  # 是失 spans two words: not 逝世
        ("养老金一年几次", "养老金多久"),  # a synonym written with 一 meets the message's 1
        ("多久一次", "多久"),
    ],
)
def test_canonical(segmenter, typed, canonical):
    assert segmenter.canonical(normalize(typed)) == canonical


def test_words_drop_particles(segmenter):
    words = segmenter.words(segmenter.canonical(normalize("请问一下刷脸失败了怎么办呢")))
    assert "刷脸" in words and "失败" in words
    assert not {"请问", "一下", "了", "呢"} & set(words)


def test_terms_include_bigrams(segmenter):
    _compact, terms = segmenter.terms(normalize("刷脸失败"))
    assert BIGRAM_PREFIX + "刷脸" in terms and BIGRAM_PREFIX + "脸失" in terms


@pytest.mark.parametrize(("syllable", "folded"), [("zheng", "zen"), ("shi", "si"), ("jing", "jin"),
                                                   ("lian", "lian"), ("nian", "lian")])
def test_fuzzy_syllable(syllable, folded):
    assert fuzzy_syllable(syllable) == folded


def test_split_pinyin(segmenter):
    syllables = frozenset({"shua", "lian", "ren", "zheng", "a"})
    assert split_pinyin("shualian", syllables) == ["shua", "lian"]
    assert split_pinyin("shua lian", syllables) == ["shua", "lian"]
    assert split_pinyin("app", syllables) is None


@pytest.mark.parametrize(("typed", "repaired"), [
    ("锦洲养老认证", "锦州养老认证"),  # a place typo keeps a character: the place it shares it with
    ("您的养老金", "您的养老金"),  # 您的 only sounds like 宁德
    # Nor a pure homophone with no character in common, even of the same tones.
    ("刷脸老失败 是不是屋里太暗", "刷脸老失败 是不是屋里太暗"),  # not 泰安, a city
    ("刷了一下午都没过还能去哪认证", "刷了一下午都没过还能去哪认证"),  # not 美国
    # Nor one that would change a word typed inside it.
    ("是线上还是线下认证", "是线上还是线下认证"),  # not 线上海市线下
    ("退休后每年都要验证吗", "退休后每年都要验证吗"),  # 吗 closing a question: not 验证码
    ("天府市民云", "天府市民云"),  # 市民 is a word, not 实名
    # A domain word is not forced in where the words as typed read likelier.
    ("老人怎么认证", "老人怎么认证"),  # not 老认证么认证
    ("家人怎么帮忙认证", "家人怎么帮忙认证"),  # not 家认证么
    ("老公上个月认证了", "老公上个月认证了"),  # not 老工伤个月
    ("外公上周刚认证过", "外公上周刚认证过"),  # not 外工伤周
    ("智能设备不会用", "智能设备不会用"),  # not 智人社备
    ("用工商银行卡领的养老金", "用工商银行卡领的养老金"),  # a bank, not 工伤 (work injury)
])
def test_repair_keeps_real_words_and_the_place_typed(engine, typed, repaired):
    assert engine.matcher.segmenter.repair(normalize(typed)) == repaired


@pytest.mark.parametrize(("typed", "repaired"), [
    ("养老金认正", "养老金认证"),
    ("刷连不成功", "刷脸不成功"),
    ("认证收废吗", "认证收费吗"),
    ("粤省是怎么认证", "粤省事怎么认证"),
])
def test_repair_fixes_typos(engine, typed, repaired):
    assert engine.matcher.segmenter.repair(normalize(typed)) == repaired


def test_knowledge_is_indexed_as_messages_arrive(engine):
    """Phrasings are normalised like messages (養老金 → 养老金, 一次 → 1次), or they never meet."""
    indexed = engine.matcher.index()["_compacts"]
    assert indexed and all(normalize(text) == text for text in indexed)
