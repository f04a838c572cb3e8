"""Turning what people type into comparable tokens.

Questions and item names go through the same steps, so "J.W.P.", "joint work plan" and
"JWP" meet, and so do "whaling commission", "International Whaling Commission" and "IWC".
"""

from __future__ import annotations

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
    """Phrase replacements: abbreviations, then partner names to one token per partner."""

    def __init__(self, partner_phrases: dict[str, str] | None = None) -> None:
        phrases = dict(ABBREVIATIONS)
        for phrase, token in (partner_phrases or {}).items():
            folded = fold(phrase)
            if folded and folded not in STOPWORDS:
                phrases[folded] = token
        # Longest phrases first, so "unep regional office for africa" beats "unep".
        ordered = sorted(phrases, key=lambda p: (-len(p.split()), -len(p)))
        self._pattern = re.compile(r"\b(" + "|".join(re.escape(p) for p in ordered) + r")\b")
        self._phrases = phrases

    def tokens(self, text: str) -> list[str]:
        replaced = self._pattern.sub(lambda m: " " + self._phrases[m.group(1)] + " ", fold(text))
        return [w for w in replaced.split() if w not in STOPWORDS]

    def normal(self, text: str) -> str:
        return " ".join(self.tokens(text))


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
