"""General questions: which words only frame a question, and which entry answers one.

"养老金认证怎么弄" says nothing but how to certify: the overview entry answers it. One more word
that an entry lists as `general_with` (手机 → the phone channels, 刷脸 → how face checks work)
makes that entry the answer. Anything else is left to the matcher.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.qa.decision import CERTIFICATION_WORDS

# A message made only of these words asks "how do I certify?" in general: the overview entry
# (tagged `overview`) answers it. Words are in their canonical form (after synonyms).
GENERAL_WORDS = frozenset((
    "认证", "养老金", "养老", "社保", "退休", "退休人员", "人员", "职工", "领取", "待遇",
    "资格", "怎么", "怎么办", "怎样", "如何", "怎么样", "进行", "办", "办理", "弄",
    "搞", "做", "操作", "流程", "步骤", "方法", "方式", "办法", "手续", "程序",
    "在哪", "哪里", "哪儿", "去哪", "去哪里", "哪", "要", "该",
    "一下", "的", "了", "呢", "吗", "啊", "呀",
    "我", "我们", "咱", "俺", "是", "在", "去", "到", "可以", "能", "详细",
    "指南", "攻略", "教程", "全国", "老人", "老年人", "退休老人", "岁", "多岁",
    "最新", "规定", "政策", "新规", "注意", "事项", "注意事项", "须知", "新手", "必看",
    "常见问题", "解答", "问题", "详解", "全攻略", "一览", "汇总",
    "这边", "那边", "这块", "这块儿", "当地", "本地", "上哪", "上哪儿", "在那", "咋",
    "啥", "嘛", "吧", "哦", "呐", "在线等", "急",
    # Words of a question's frame, not its subject (有哪些关键步骤需要注意, 对于…来说, 具体该如何).
    "应该", "关键", "过程", "中", "具体", "对于", "来说", "离", "今年", "那么", "时", "上",
    # Whose pension (我爸的养老金怎么认证): the overview, whose buttons include 帮家里老人.
    "父母", "老伴",
))
# In a question that asks how or where, these are its frame (退休每年怎么网上认证 asks how to
# certify online; 养老金认证需要怎么办理 how to certify); without (每年要认证吗, 需要认证吗) they
# ask how often or whether.
GENERAL_WHEN_HOW = frozenset(("每年", "每次", "年年", "今后", "需要"))
# Words of a message that asks how to do something (after synonyms: 咋整 is 怎么办).
HOW_WORDS = re.compile("怎么|如何|怎样|咋|办法|方法|方式|流程|步骤|操作")


def general_answer(compact: str, words: list[str], overview: str | None,
                   general_with: Mapping[str, str]) -> str | None:
    """The entry for a message of general words only: `overview`, or the entry whose
    `general_with` names the one other kind of word it has; None when the matcher must weigh it.

    `compact` and `words` are the message in canonical form (after synonyms) and its words.
    """
    if not overview or not words or not any(w in compact for w in CERTIFICATION_WORDS):
        return None
    picked: set[str] = set()
    asks_how = bool(HOW_WORDS.search(compact)) or "哪" in compact
    for w in words:
        if w in GENERAL_WORDS or (w.isdigit() and len(w) <= 3) or (
                asks_how and w in GENERAL_WHEN_HOW):
            continue
        entry = general_with.get(w)
        if entry is None:
            return None
        picked.add(entry)
    if len(picked) > 1:  # 手机刷脸怎么认证: two kinds, the matcher weighs them
        return None
    return picked.pop() if picked else overview
