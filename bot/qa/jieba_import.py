"""jieba, imported without setuptools' pkg_resources.

jieba finds its data files through pkg_resources when that is importable, and importing it takes
about 0.15 s, a tenth of the command line's start-up. Without it jieba opens the same files by
path, as it does in any environment without setuptools (Python 3.12's venvs have none).
"""

from __future__ import annotations

import sys

_HIDE = "pkg_resources" not in sys.modules
if _HIDE:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import raises ImportError
try:
    import jieba
finally:
    if _HIDE:
        del sys.modules["pkg_resources"]

__all__ = ["jieba"]
