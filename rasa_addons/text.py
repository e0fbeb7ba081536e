"""Text normalisation shared by the NLU components.

Citizens often type without the Danish and Swedish letters ("spaerret",
"far jag", "flyttanmalan") and with doubled or missing consonants. Folding
every spelling onto one skeleton lets the featurizers see those variants as the
same word, so training data written with æøå also covers text typed without.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Letters with a conventional ASCII spelling in Danish or Swedish.
_LETTER_FOLDS = str.maketrans(
    {"æ": "a", "ä": "a", "å": "a", "ø": "o", "ö": "o", "ü": "u", "ß": "ss"}
)
# The digraphs people write when the keyboard lacks the letter.
_DIGRAPHS = re.compile(r"ae|aa|oe")
_REPEATS = re.compile(r"(.)\1+")


# Pure and called for every word of every text and message: the words repeat.
@functools.lru_cache(maxsize=100_000)
def fold(word: str) -> str:
    """Return the spelling-insensitive skeleton of one word.

    >>> fold("Spærret"), fold("spaerret"), fold("sparet")
    ('sparet', 'sparet', 'sparet')
    """
    lowered = word.lower()
    lowered = _DIGRAPHS.sub(lambda m: m.group(0)[0], lowered)
    lowered = lowered.translate(_LETTER_FOLDS)
    # Strip any remaining accents (é, è, ñ ...).
    decomposed = unicodedata.normalize("NFKD", lowered)
    lowered = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _REPEATS.sub(r"\1", lowered)
