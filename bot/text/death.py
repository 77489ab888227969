"""Whether a message speaks of a death: such a message is never treated as a routine question.

A family writing after a death needs to report it (and stop payments), not a certification
date: the deadline reader stays silent, and the matcher puts the report-a-death topic first.
"""

from __future__ import annotations

import re

# On normalised text (simplified characters); synonyms are not applied yet.
# 走了 alone is too vague (手续走了一遍); after a family member, and not followed by where or
# how far (老人走了好几个地方), it is the usual euphemism.
_DEATH = re.compile(r"去世|过世|死亡|死了|离世|病故|身故|逝世|去逝|不在了|丧葬|人没了|后事|过身"
                    r"|仙逝|(爸|妈|父亲|母亲|老伴|老人|爷爷|奶奶|外公|外婆|姥姥|姥爷|公公|婆婆"
                    r"|丈夫|老公|妻子|老婆)(已经)?走(了|的)(?![好很几一两半路过到去来趟遍多])")


def mentions_death(text: str) -> bool:
    """Whether a normalised message speaks of someone's death."""
    return bool(_DEATH.search(re.sub(r"\s+", "", text)))
