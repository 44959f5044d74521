"""The stable test id: the same suite, class and name always give the same id, whatever run, file or dialect.

Rule (other parts that meet test names, such as the sync of Harness's ti-service reports, call `test_id` so
their ids agree with ingested JUnit):

1. Each of suite, class and name is normalised: Unicode NFC; every run of whitespace (spaces, tabs, newlines
   from pretty-printed XML) becomes one space; leading and trailing whitespace is dropped. Case is kept.
2. A trailing `()` on the name is dropped: Gradle writes a JUnit 5 method as `adds()`, Surefire as `adds`.
   Parameter lists (`adds(int, int)[1]`) are kept; they tell cases apart.
3. The three parts are joined with U+001F (the ASCII unit separator, which XML 1.0 cannot contain, so no
   name can forge a boundary) and hashed with BLAKE2b; the id is the first 8 bytes as 16 lower-case hex digits.
   At a million distinct tests the chance of any collision is about 3 in 100 million.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata

__all__ = ["Hasher", "id_hasher", "normalise_name", "normalise_part", "test_id"]

Hasher = hashlib.blake2b

_SEPARATOR = "\x1f"
# For callers that meet the same names again and again (the sync of many builds of one project).
_CACHE_SIZE = 1 << 14


def normalise_part(text: str) -> str:
    """One part of the id key, normalised as the module docstring says (without the `()` rule)."""
    if text.isascii():
        # Most names are printable ASCII without a space: nothing to do, and this test is ten times cheaper.
        if text.isprintable() and " " not in text:
            return text
    else:
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def normalise_name(name: str) -> str:
    """The name part of the key: normalised, and without a trailing `()`."""
    name = normalise_part(name)
    if name.endswith("()"):
        name = name[:-2].rstrip()
    return name


def id_hasher(suite: str, class_name: str) -> Hasher:
    """A hash already fed with one (suite, class): `.copy()`, `.update(name)`, `.hexdigest()` finish an id.

    The parser keeps one per suite and class, so a test case costs one copy and one short update, which is
    cheaper than looking the id up in a cache.
    """
    prefix = normalise_part(suite) + _SEPARATOR + normalise_part(class_name) + _SEPARATOR
    return hashlib.blake2b(prefix.encode("utf-8", "surrogatepass"), digest_size=8)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def test_id(suite: str, class_name: str, name: str) -> str:
    """The 16-hex-digit id of a test, stable across runs, files and dialects."""
    hasher = id_hasher(suite, class_name)
    hasher.update(normalise_name(name).encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()


test_id.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite the name
