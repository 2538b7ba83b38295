"""Is a question English enough for the embedding model?

all-MiniLM-L6-v2 was trained on English only: a question in German or Japanese embeds
close to nothing useful and retrieval returns confident nonsense, so the bot says it
reads English instead. Reps type terse, misspelt English full of product and company
names, so a text is flagged only when the check is sure:

- mostly letters outside the Latin script (Cyrillic, CJK, Hangul, ...): not English;
- otherwise names are set aside (acronyms, runs of capitalised words, unknown
  capitalised words), and all of these must hold: at least `MIN_WORDS` words remain; a
  language identifier (py3langid: its model ships in the wheel, nothing is downloaded)
  gives them English at most `MAX_ENGLISH_PROBABILITY`; fewer than `MIN_ENGLISH_WORDS`
  of them are whole words of the model's own vocab.txt; and those vocabulary words,
  read alone, do not read as English ("next steps with société générale").

No phrase lists: the identifier and the model's vocabulary carry the knowledge.
Calibrated on tests/data/language/dev.yaml and the English utterances listed in
bench/language.py (`python -m bench.language`).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from knowledge.text import normalize

log = logging.getLogger(__name__)

# Calibrated on the dev split (bench/language.py), names set aside: English texts of three
# words or more got P(en) >= 0.06, non-English ones <= 0.025 and at most 70% of their
# words in the model's vocabulary; the vocabulary words of a non-English text, read
# alone, got P(en) <= 0.05 (around foreign names, English ones read as English).
MAX_ENGLISH_PROBABILITY = 0.04
MIN_ENGLISH_WORDS = 0.75
MAX_KNOWN_ENGLISH_PROBABILITY = 0.5
MIN_KNOWN_WORDS = 2  # fewer vocabulary words than this are not read alone
MIN_WORDS = 3  # fewer words than this are never flagged: too little to tell
MIN_FOREIGN_SCRIPT = 0.5  # share of letters outside the Latin script that decides alone
NAME_LANGUAGE_FROM = 0.5  # a language is named only when at least this likely

# The languages the identifier chooses between: English and the languages reps are likely
# to write in. Fewer candidates keep terse English from scattering into look-alikes
# (Pidgin, Walloon, Luxembourgish) that the full 97-language model would offer.
LANGUAGES: dict[str, str] = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "pt": "Portuguese",
    "it": "Italian", "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "da": "Danish",
    "no": "Norwegian", "fi": "Finnish", "cs": "Czech", "sk": "Slovak", "hu": "Hungarian",
    "ro": "Romanian", "hr": "Croatian", "sl": "Slovenian", "et": "Estonian", "lv": "Latvian",
    "lt": "Lithuanian", "bg": "Bulgarian", "uk": "Ukrainian", "ru": "Russian", "el": "Greek",
    "tr": "Turkish", "ar": "Arabic", "he": "Hebrew", "fa": "Persian", "hi": "Hindi",
    "th": "Thai", "vi": "Vietnamese", "id": "Indonesian", "ms": "Malay", "ja": "Japanese",
    "zh": "Chinese", "ko": "Korean", "ca": "Catalan", "gl": "Galician", "eu": "Basque",
}

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_ENGLISH_SUFFIX = re.compile(r"['’](?:s|t|re|ll|ve|d|m)$")


@dataclass(frozen=True)
class LanguageCheck:
    """`english` is the verdict (False only when confident). `language` is the ISO 639-1
    code: "en" for English, else the most likely other language, or None when no single
    language is likely enough to name. `confidence` is how sure the verdict is: the
    probability of English, or for a non-English verdict that of not English."""

    english: bool
    language: str | None
    confidence: float

    @property
    def language_name(self) -> str | None:
        return LANGUAGES.get(self.language) if self.language else None


class LanguageDetector:
    """Built once per process (see `detector_for`); `check` is thread-safe and takes
    well under a millisecond after the identifier's one-off load (~0.4 s)."""

    def __init__(self, english_words: frozenset[str] = frozenset()) -> None:
        self.english_words = english_words

    def check(self, text: str) -> LanguageCheck:
        plain = normalize(text)
        letters = [c for c in plain if c.isalpha()]
        foreign = sum(not _latin(c) for c in letters)
        if foreign >= 2 and foreign / len(letters) >= MIN_FOREIGN_SCRIPT:
            return _verdict(_ranked(plain), english=False)
        kept = self._content_words(plain)
        if not kept:
            return LanguageCheck(True, "en", 0.0)
        known = [w for w in kept if _ENGLISH_SUFFIX.sub("", w.lower()) in self.english_words]
        if len(kept) < MIN_WORDS or len(known) >= MIN_ENGLISH_WORDS * len(kept):
            # Decided without the identifier, whose model costs a CLI start 0.4 s to load.
            return LanguageCheck(True, "en", round(len(known) / len(kept), 4))
        ranked = _ranked(" ".join(kept))
        return _verdict(ranked, english=not self._surely_foreign(known, ranked))

    def _surely_foreign(self, known: list[str], ranked: dict[str, float]) -> bool:
        if ranked.get("en", 0.0) > MAX_ENGLISH_PROBABILITY:
            return False
        return len(known) < MIN_KNOWN_WORDS or _ranked(" ".join(known)).get("en", 0.0) <= MAX_KNOWN_ENGLISH_PROBABILITY

    def _content_words(self, text: str) -> list[str]:
        """The words without names, which say nothing about the language a question is
        written in: acronyms ("CFO"), runs of capitalised words ("Société Générale",
        "Deutsche Telekom") and single capitalised words the model does not know after
        the first ("... at Fjällräven")."""
        found = _WORD.findall(text)
        name = [len(w) > 1 and w.isupper() for w in found]
        start = 0
        while start < len(found):
            end = start
            while end < len(found) and found[end][0].isupper():
                end += 1
            if end - start >= 2:
                name[start:end] = [True] * (end - start)
            elif end - start == 1 and start > 0 and found[start].lower() not in self.english_words:
                name[start] = True
            start = max(end, start + 1)
        return [w for w, is_name in zip(found, name, strict=False) if not is_name]


def _verdict(ranked: dict[str, float], *, english: bool) -> LanguageCheck:
    p_english = ranked.get("en", 0.0)
    if english:
        return LanguageCheck(True, "en", round(p_english, 4))
    other, p_other = max(((k, v) for k, v in ranked.items() if k != "en"), key=lambda kv: kv[1])
    return LanguageCheck(False, other if p_other >= NAME_LANGUAGE_FROM else None, round(1.0 - p_english, 4))


def _latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


_identifier: LanguageIdentifier | None = None
_identifier_lock = threading.Lock()


def _ranked(text: str) -> dict[str, float]:
    """Probability of each candidate language (py3langid's normalised scores)."""
    return {lang: float(p) for lang, p in _loaded_identifier().rank(text)}


def _loaded_identifier() -> LanguageIdentifier:
    """py3langid's model, loaded once per process (~0.4 s: it is xz-compressed)."""
    global _identifier
    identifier = _identifier
    if identifier is None:
        with _identifier_lock:
            identifier = _identifier
            if identifier is None:
                identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                identifier.set_languages(list(LANGUAGES))
                _identifier = identifier
    return identifier


def vocabulary_words(model_dir: Path | None) -> frozenset[str]:
    """Whole lower-case words of the embedding model's vocab.txt (empty without one)."""
    path = Path(model_dir) / "vocab.txt" if model_dir is not None else None
    if path is None or not path.is_file():
        return frozenset()
    return frozenset(w for w in path.read_text(encoding="utf-8").split() if w.isalpha() and w.isascii() and w.islower())


@lru_cache(maxsize=4)
def detector_for(model_dir: Path | None) -> LanguageDetector:
    """The detector for a model folder: its vocabulary read once per process."""
    words = vocabulary_words(model_dir)
    if not words:
        log.warning("no vocab.txt in %s: the English-only check relies on the language identifier alone", model_dir)
    return LanguageDetector(words)
