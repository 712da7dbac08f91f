"""A public-domain English text, as integer letter codes (notebook 06, the vowel/consonant HMM).

The package ships Jane Austen's *Northanger Abbey* (1817; source and licence in
``emlab/data/README.md``). Following Cave & Neuwirth (1980) and Stamp's "A Revealing
Introduction to Hidden Markov Models", the text is reduced to **27 symbols**: the letters
``a``–``z`` (codes 0–25) and the word space (code 26):

- letters are lower-cased;
- apostrophes are dropped, so ``don't`` becomes ``dont`` (one word, as Stamp does);
- every other character (punctuation, digits, line breaks) becomes a space;
- runs of spaces collapse to one, and leading/trailing spaces are removed.

>>> decode_letters(encode_letters("Don't -- STOP!  Now, 1803."))
'dont stop now'
>>> letters(20).tolist()[:8]
[13, 14, 17, 19, 7, 0, 13, 6]
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import numpy as np

from ..validation import check_symbols

__all__ = [
    "ALPHABET", "VOWELS", "SPACE", "TEXT_NAME", "load_text", "encode_letters", "decode_letters",
    "letters", "letter_chunks",
]

#: The 27 symbols: code ``i`` is ``ALPHABET[i]``; the space is code 26.
ALPHABET = "abcdefghijklmnopqrstuvwxyz "
#: The code of the word space.
SPACE = 26
#: The five vowel letters the vowel/consonant experiment looks for.
VOWELS = "aeiou"
#: The shipped text's file name in ``emlab/data``.
TEXT_NAME = "northanger_abbey.txt"

_APOSTROPHES = re.compile("['\u2019]")
_NON_LETTERS = re.compile("[^a-z]+")


@lru_cache(maxsize=1)
def load_text() -> str:
    """The shipped text, exactly as stored in ``emlab/data/northanger_abbey.txt``."""
    return resources.files("emlab.data").joinpath(TEXT_NAME).read_text(encoding="utf-8")


def _normalize(text: str) -> str:
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    lowered = _APOSTROPHES.sub("", text.lower())
    return _NON_LETTERS.sub(" ", lowered).strip()


def encode_letters(text: str) -> np.ndarray:
    """Integer codes (``intp``) of ``text`` over :data:`ALPHABET`, by the rules of the module docstring.

    Raises ``ValueError`` when ``text`` is not a string or holds no letter at all.
    """
    clean = _normalize(text)
    if not clean:
        raise ValueError("text contains no letters a-z to encode")
    raw = np.frombuffer(clean.encode("ascii"), dtype=np.uint8).astype(np.intp)
    return np.where(raw == ord(" "), SPACE, raw - ord("a"))


def decode_letters(codes) -> str:
    """The string of 27-symbol ``codes`` (inverse of :func:`encode_letters` on normalized text).

    Raises ``ValueError`` naming the first position whose code is outside 0..26 (or what is not
    a 1-D sequence of integer codes).
    """
    empty_array = isinstance(codes, np.ndarray) and codes.shape == (0,)
    if empty_array or isinstance(codes, (list, tuple)) and not codes:
        return ""
    arr = check_symbols("codes", codes, len(ALPHABET))
    return "".join(ALPHABET[c] for c in arr.tolist())


@lru_cache(maxsize=1)
def _all_codes() -> np.ndarray:
    codes = encode_letters(load_text())
    codes.setflags(write=False)
    return codes


def letters(n: int | None = None, start: int = 0) -> np.ndarray:
    """The shipped text as one sequence of letter codes: ``n`` symbols from position ``start``
    (the whole text, about 420,000 symbols, when ``n`` is None). Returns a fresh array."""
    codes = _all_codes()
    total = codes.size
    if not (isinstance(start, (int, np.integer)) and 0 <= start < total):
        raise ValueError(f"start must be an integer in 0..{total - 1}, got {start!r}")
    if n is None:
        return codes[start:].copy()
    if not (isinstance(n, (int, np.integer)) and 1 <= n <= total - start):
        raise ValueError(f"n must be an integer in 1..{total - start} (symbols after start), got {n!r}")
    return codes[start:start + n].copy()


def letter_chunks(n: int, length: int, start: int = 0) -> list[np.ndarray]:
    """``letters(n, start)`` cut into consecutive sequences of ``length`` symbols (the last one
    shorter if ``length`` does not divide ``n``): a corpus for HMM training."""
    if not (isinstance(length, (int, np.integer)) and length >= 1):
        raise ValueError(f"length must be a positive integer, got {length!r}")
    codes = letters(n, start)
    return [codes[i:i + length] for i in range(0, codes.size, length)]
