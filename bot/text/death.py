"""Whether a message speaks of a death: such a message is never treated as a routine question.

A family writing after a death needs to report it (and stop payments), not a certification
date: the deadline reader stays silent, and the matcher puts the report-a-death topic first.
"""

from __future__ import annotations

import re

# On normalised text (simplified characters); synonyms are not applied yet.
# 走了 alone is too vague (手续走了一遍); after a family member, and not followed by where or
# how far (老人走了好几个地方), it is the usual euphemism; a time may come between
# (我爸去年十月走的, 老伴上个月走了). 急死了, 烦死了 … only say how the writer feels.
_FAMILY = r"(爸|妈|父亲|母亲|老伴|老人|爷爷|奶奶|外公|外婆|姥姥|姥爷|公公|婆婆|丈夫|老公|妻子|老婆)"
_WHEN = (r"(已经|刚刚?|去年|前年|今年|上个?月|这个月|年初|年底|年前|年后|春节|前几天|"
         r"前些天|前段时间|上周|昨天|前天|冬天|夏天|[0-9一二三四五六七八九十]{1,2}月份?|"
         r"[0-9一二三四五六七八九十]{1,3}[号日]|初|底|中旬)*")
_DEATH = re.compile(r"去世|过世|死亡|(?<![急气烦累愁吓笑忙难热冷饿困疼闷])死了|离世|病故|身故|逝世|"
                    r"去逝|不在了|丧葬|人没了|后事|过身|仙逝|"
                    + _FAMILY + _WHEN + r"走(的|了(?![好很几一两半路过到去来趟遍多]))")

def mentions_death(text: str) -> bool:
    """Whether a normalised message speaks of someone's death."""
    return bool(_DEATH.search(re.sub(r"\s+", "", text)))
