"""Whether a message speaks of a death: such a message is never treated as a routine question.

A family writing after a death needs to report it (and stop payments), not a certification
date: the deadline reader stays silent, and the matcher puts the report-a-death topic first.
"""

from __future__ import annotations

import re

# On normalised text (simplified characters); synonyms are not applied yet.
_DEATH = re.compile(r"去世|过世|死亡|死了|离世|病故|身故|逝世|去逝|不在了|丧葬")


def mentions_death(text: str) -> bool:
    """Whether a normalised message speaks of someone's death."""
    return bool(_DEATH.search(re.sub(r"\s+", "", text)))
