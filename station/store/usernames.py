"""When two usernames are the same name to a person reading them: the store keeps one account
per `username_key`.

Why: `Admin`, `admin`, `аdmin` (Cyrillic а) and `ａｄｍｉｎ` (full width) read alike in a
list of users, a security log line or a health log's author; an attacker who can add or import
an account should not get a lookalike of a real one. The key is a small version of Unicode's
confusable skeleton (UTS #39): NFKC, casefolded, combining marks and invisible characters
dropped, the Cyrillic and Greek letters that look like Latin ones mapped to them, and the
common digit and letter lookalikes (0/o; 1, I, i and l; rn/m; vv/w) folded. It errs towards calling
names alike: two people whose names differ only by an accent are asked to tell them apart.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that look like a Latin letter (after casefolding, which makes capitals lower case):
# Cyrillic first, then Greek. Capitals that look Latin (В, Н, М, Т, Κ...) fold to a lower
# case letter that does not, so both are listed by what the capital looks like.
_LOOKALIKE_LETTERS = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "н": "h",
        "і": "l", "ї": "l", "ј": "j", "к": "k", "ӏ": "l", "м": "m", "о": "o", "р": "p",
        "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "ԝ": "w", "х": "x", "ү": "y", "п": "n",
        # Greek
        "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "l", "κ": "k", "μ": "m",
        "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w",
        # Latin letters and digits that pass for others
        "i": "l", "ı": "l", "ł": "l", "ø": "o", "0": "o", "1": "l", "|": "l", "ſ": "s",
    }
)
_LETTER_PAIRS = (("rn", "m"), ("vv", "w"))
_SPACES = re.compile(r"\s+")


def username_key(username: str) -> str:
    """The form two usernames share when they look alike (see the module doc)."""
    text = unicodedata.normalize("NFKC", username).casefold()
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Mn", "Me", "Cf"))
    text = text.translate(_LOOKALIKE_LETTERS)
    for pair, single in _LETTER_PAIRS:
        text = text.replace(pair, single)
    return _SPACES.sub(" ", text).strip()
