"""Building the question-answering engine from `knowledge/`, with an on-disk cache.

Building means segmenting every phrasing, reading pinyin tables and fitting the matcher's
calibration: about a second or two. The result is cached under a key made of the knowledge
files' fingerprint and the code version, so start-up after the first run only unpickles it,
and editing a knowledge file rebuilds it automatically.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot import KNOWLEDGE_DIR, PACKAGE_DIR
from bot.deadline.region_data import all_regions
from bot.qa.jieba_import import jieba
from bot.qa.knowledge import KnowledgeBase, fingerprint, load_knowledge
from bot.qa.matcher import Matcher
from bot.qa.places import app_names, strip_places
from bot.qa.segment import Segmenter, build_pinyin_tables

log = logging.getLogger(__name__)

# The cache is only valid for the code that built it: key it on these modules' source.
_BUILD_MODULES = ("qa/engine.py", "qa/matcher.py", "qa/decision.py", "qa/classifier.py",
                  "qa/segment.py", "qa/knowledge.py", "qa/entries.py", "qa/places.py",
                  "text/normalize.py", "deadline/divisions.py", "deadline/place_names.py",
                  "deadline/region_data.py", "deadline/region_checks.py")
CODE_VERSION = hashlib.sha256(
    b"".join((PACKAGE_DIR / name).read_bytes() for name in _BUILD_MODULES)
).hexdigest()[:12]
GENERAL_WORDS = 60_000  # most frequent words of jieba's dictionary: enough, and loads fast


def cache_dir() -> Path:
    """Where built indexes live: $BOT_CACHE_DIR, else the user's cache directory; a
    temporary directory when that cannot be made or written (a service user without a home),
    which only costs start-up time."""
    configured = os.environ.get("BOT_CACHE_DIR")
    if configured:
        directory = Path(configured)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        directory = Path(base) / "pension-cert-bot"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if os.access(directory, os.W_OK):
            return directory
    except OSError:
        pass
    fallback = Path(tempfile.gettempdir()) / f"pension-cert-bot-{os.getuid()}"
    log.warning("cache directory %s cannot be written; using %s", directory, fallback)
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _general_dictionary(directory: Path) -> Path:
    """A trimmed copy of jieba's dictionary: the full one takes a second to load."""
    path = directory / f"jieba-top{GENERAL_WORDS}.txt"
    if path.exists():
        return path
    source = Path(jieba.__file__).parent / "dict.txt"
    rows = [line.split(" ") for line in source.read_text(encoding="utf-8").splitlines() if line]
    rows.sort(key=lambda row: -int(row[1]))
    _write_atomic(path, "\n".join(" ".join(row) for row in rows[:GENERAL_WORDS]).encode())
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _tokenizer(dictionary: Path, words: tuple[str, ...]) -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer(dictionary=str(dictionary))
    tokenizer.tmp_dir = str(dictionary.parent)
    tokenizer.initialize()
    for word in words:
        tokenizer.add_word(word, freq=20000)
    return tokenizer


def knowledge_tokenizer(kb: KnowledgeBase) -> jieba.Tokenizer:
    """jieba with the knowledge base's dictionary and every place name as whole words."""
    return _tokenizer(_general_dictionary(cache_dir()), _domain_words(kb))


def _domain_words(kb: KnowledgeBase) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*kb.dictionary, *_place_words())))


def _place_words() -> tuple[str, ...]:
    """Place names and local app names: whole words for jieba and targets of typo repair."""
    words = [*app_names()]
    for region in all_regions():
        words += [region.name, region.short]
    return tuple(w for w in dict.fromkeys(words) if len(w) >= 2)


@dataclass
class Engine:
    """The loaded knowledge base and its matcher."""

    kb: KnowledgeBase
    matcher: Matcher


def build_engine(knowledge_dir: Path = KNOWLEDGE_DIR, *, use_cache: bool = True) -> Engine:
    """Load `knowledge_dir` and build (or unpickle) its matcher."""
    kb = load_knowledge(knowledge_dir)
    for problem in kb.problems:
        log.warning("knowledge rejected: %s", problem)
    directory = cache_dir()
    dictionary = _general_dictionary(directory)
    # Entries are tied to provinces through the region data, so its files count too.
    regions = fingerprint(sorted((knowledge_dir / "regions").rglob("*.*")))
    key = hashlib.sha256(
        f"{CODE_VERSION}|{kb.fingerprint}|{regions}|{sorted(kb.problems)}".encode()
    ).hexdigest()[:20]
    cache_file = directory / f"engine-{key}.pickle"
    words = _domain_words(kb)
    tokenizer = _tokenizer(dictionary, words)
    if use_cache and cache_file.exists():
        try:
            tables, index = pickle.loads(cache_file.read_bytes())
            segmenter = Segmenter(tokenizer, kb.synonyms, tables)
            return Engine(kb, Matcher.from_index(index, segmenter, strip_places))
        except Exception:  # a stale or damaged cache is rebuilt, never fatal
            log.warning("engine cache %s unreadable; rebuilding", cache_file)
    known = {line.split(" ", 1)[0] for line in dictionary.read_text(encoding="utf-8").splitlines()}
    # Only domain words are repair targets: repairing towards any word of the knowledge base
    # turns correct text into nonsense (老是失败 → 老实施败).
    vocabulary = set(kb.synonyms.values()) | set(kb.synonyms) | set(words)
    tables = build_pinyin_tables(vocabulary, kb.dictionary, known)
    segmenter = Segmenter(tokenizer, kb.synonyms, tables)
    matcher = Matcher(kb, segmenter, strip_places)
    if use_cache:
        try:
            _write_atomic(cache_file, pickle.dumps((tables, matcher.index()), protocol=5))
        except OSError as exc:  # a read-only cache directory only costs start-up time
            log.warning("cannot write engine cache %s: %s", cache_file, exc)
    return Engine(kb, matcher)


@lru_cache(maxsize=1)
def default_engine() -> Engine:
    """The engine for the configured knowledge directory (bot.config), built once per process:
    for tests, benchmarks and tools; the bot and the command line build their own."""
    from bot.config import knowledge_dir

    return build_engine(knowledge_dir())
