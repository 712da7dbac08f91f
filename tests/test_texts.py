"""The shipped English text and its 27-symbol encoding (notebook 06)."""

import hashlib
import re
from importlib import resources

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emlab.data import texts


def reference_encode(text: str) -> list[int]:
    """Character by character, the rules of the docstring, written independently."""
    out: list[int] = []
    for ch in text.lower():
        if ch in "'\u2019":
            continue
        if "a" <= ch <= "z":
            out.append(ord(ch) - ord("a"))
        elif out and out[-1] != 26:
            out.append(26)
    while out and out[-1] == 26:
        out.pop()
    return out


def test_shipped_file_is_the_one_the_readme_describes():
    raw = resources.files("emlab.data").joinpath(texts.TEXT_NAME).read_bytes()
    readme = resources.files("emlab.data").joinpath("README.md").read_text(encoding="utf-8")
    digest = re.search(r"SHA-256\s+`([0-9a-f]{64})`", readme).group(1)
    assert hashlib.sha256(raw).hexdigest() == digest
    assert f"{len(raw):,} bytes" in readme
    assert len(raw) < 500_000  # "a few hundred kB at most"
    assert texts.load_text().startswith("NORTHANGER ABBEY")
    assert "Project Gutenberg" not in texts.load_text()  # no licence/trademark text left in the body


def test_encoding_of_the_whole_text_matches_a_character_by_character_reference():
    text = texts.load_text()
    np.testing.assert_array_equal(texts.letters(), reference_encode(text))


def test_letter_statistics_are_those_of_english():
    codes = texts.letters()
    freq = np.bincount(codes, minlength=27) / codes.size
    assert codes.size > 400_000
    assert freq.argmax() == texts.SPACE                           # the word space is the commonest symbol
    assert texts.ALPHABET[freq[:26].argmax()] == "e"              # e is the commonest letter
    vowel_share = sum(freq[texts.ALPHABET.index(v)] for v in texts.VOWELS) / freq[:26].sum()
    assert 0.35 < vowel_share < 0.42                              # about 38% of English letters
    assert not np.any((codes[1:] == texts.SPACE) & (codes[:-1] == texts.SPACE))  # runs collapsed


@given(st.text(alphabet=st.sampled_from("abcXYZ '\u2019.,-9\n\u00e9"), max_size=40))
def test_encode_matches_reference_on_arbitrary_strings(s):
    expected = reference_encode(s)
    if not any(ch.isascii() and ch.isalpha() for ch in s):
        with pytest.raises(ValueError, match="no letters"):
            texts.encode_letters(s)
        return
    np.testing.assert_array_equal(texts.encode_letters(s), expected)
    assert texts.encode_letters(texts.decode_letters(texts.encode_letters(s))).tolist() == expected


def test_letters_slices_and_chunks():
    whole = texts.letters()
    np.testing.assert_array_equal(texts.letters(50, start=10), whole[10:60])
    chunks = texts.letter_chunks(1000, 300)
    assert [c.size for c in chunks] == [300, 300, 300, 100]
    np.testing.assert_array_equal(np.concatenate(chunks), whole[:1000])
    texts.letters(5)[0] = 99                                       # a fresh copy: the cache is untouched
    assert texts.letters(5)[0] == whole[0]


@pytest.mark.parametrize("call, message", [
    (lambda: texts.letters(0), "n must be"),
    (lambda: texts.letters(10, start=-1), "start must be"),
    (lambda: texts.letters(10**7), "n must be"),
    (lambda: texts.letter_chunks(100, 0), "length must be"),
    (lambda: texts.encode_letters(b"abc"), "text must be a str"),
    (lambda: texts.encode_letters("123 !"), "no letters"),
    (lambda: texts.decode_letters([0, 27]), "position 1 has symbol 27"),
    (lambda: texts.decode_letters([[0]]), "1-D"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()
