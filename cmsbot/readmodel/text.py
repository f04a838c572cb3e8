"""Turning what people type into comparable tokens.

Questions and item names go through the same steps, so "J.W.P.", "joint work plan" and
"JWP" meet, and so do "whaling commission", "International Whaling Commission" and "IWC".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

# Abbreviations and spellings, folded to one form on both sides.
ABBREVIATIONS = {
    "jwp": "joint work plan",
    "jwps": "joint work plan",
    "joint workplan": "joint work plan",
    "workplan": "work plan",
    "moc": "memorandum cooperation",
    "mocs": "memorandum cooperation",
    "mou": "memorandum understanding",
    "mous": "memorandum understanding",
    "memoranda": "memorandum",
    "program": "programme",
    "programs": "programme",
    "organization": "organisation",
    "organizations": "organisation",
    "organisations": "organisation",
    "workshops": "workshop",
    "meetings": "meeting",
    "officers": "officer",
    "coordinators": "coordinator",
    "submissions": "submission",
    "agreements": "agreement",
    "consultations": "consultation",
    "posts": "post",
    "ngos": "ngo",
    "csos": "cso",
    "wetland": "wetlands",
    "whales": "whale",
    "southeast": "south east",
    "videoconference": "video conference",
    "vc": "video conference",
}

# Words that carry no identity here ("CMS" is in almost every name).
STOPWORDS = frozenset((
    "a an and are as at be been being by can could did do does for from had has have how i in "
    "is it its me my of on or our please s so tell than that the their them there these this "
    "those to us was we were what whats where which who whom why will with would you your about "
    "any anything cms secretariat current currently latest status state update updates progress "
    "where's what's how's going happening news doing show give know let see like "
).split())

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": " ", "—": " ",
                         "/": " ", "\\": " ", "_": " "})


def fold(text: str) -> str:
    """Lower case, no accents, no punctuation; acronyms with dots closed up."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_QUOTES).lower()
    text = re.sub(r"(?<=\b[a-z])\.(?=[a-z]\b)|(?<=\b[a-z])\.(?=\s|$)", "", text)  # j.w.p.
    text = re.sub(r"(?<=[a-z])'s\b", "", text)
    text = re.sub(r"[^\w\s.]|(?<!\d)\.|\.(?!\d)", " ", text)
    return " ".join(text.split())


class Vocabulary:
    """Phrase replacements: abbreviations, then partner names to one token per partner.

    The phrases are one pattern, longest first. Compiling it for a thousand partners'
    phrases takes longer than reading a question, so a vocabulary reads a few texts each
    with a pattern of only the phrases found in that text: the same replacements,
    since a phrase can only match where it occurs, tried in the same order. It compiles
    the whole pattern once it has read `FEW` texts, or when told that many follow (`many`,
    as building a name index does)."""

    def __init__(self, partner_phrases: dict[str, str] | None = None) -> None:
        phrases = dict(ABBREVIATIONS)
        for phrase, token in (partner_phrases or {}).items():
            folded = fold(phrase)
            if folded and folded not in STOPWORDS:
                phrases[folded] = token
        # Longest phrases first, so "unep regional office for africa" beats "unep".
        self._ordered = sorted(phrases, key=lambda p: (-len(p.split()), -len(p)))
        self._phrases = phrases
        self._whole: re.Pattern[str] | None = None
        self._read = 0

    def many(self) -> None:
        """Compile the whole pattern now: many texts follow."""
        if self._whole is None:
            self._whole = _compile(self._ordered)

    def _pattern_for(self, folded: str) -> re.Pattern[str] | None:
        self._read += 1
        if self._whole is None and self._read > FEW:
            self.many()
        if self._whole is not None:
            return self._whole
        found = tuple(p for p in self._ordered if p in folded)
        return _few_pattern(found) if found else None

    def tokens(self, text: str) -> list[str]:
        folded = fold(text)
        pattern = self._pattern_for(folded)
        replaced = folded if pattern is None else pattern.sub(
            lambda m: " " + self._phrases[m.group(1)] + " ", folded)
        return [w for w in replaced.split() if w not in STOPWORDS]

    def normal(self, text: str) -> str:
        return " ".join(self.tokens(text))


# Texts a vocabulary reads with patterns of their own phrases before it compiles the whole.
FEW = 200


def _compile(phrases: Iterable[str]) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(re.escape(p) for p in phrases) + r")\b")


_few_pattern = functools.lru_cache(maxsize=256)(_compile)  # a text's few phrases


def partner_token(key: str) -> str:
    return "p" + re.sub(r"[^a-z0-9]", "", key.lower())


def partner_phrases(partners: Iterable[tuple[str, str | None, str, list[str]]],
                    ) -> dict[str, str]:
    """Every way a partner is named (key, acronym, name, aliases) → its one token."""
    phrases: dict[str, str] = {}
    for key, acronym, name, aliases in partners:
        token = partner_token(key)
        for phrase in (key.replace("-", " "), acronym or "", name, *aliases):
            if phrase:
                phrases.setdefault(fold(phrase), token)
    return phrases
