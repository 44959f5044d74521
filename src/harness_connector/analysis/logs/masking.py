"""Mask the variable parts of a log line: ids, hosts, numbers, paths and times become placeholders.

Two lines say the same thing when they differ only in values: `ECONNRESET 10.2.3.4:443 after 5012ms` and
`ECONNRESET 10.9.8.7:8443 after 30s` are both `ECONNRESET <ip> after <duration>`.

What masking does is defined by `MASKS`: an ordered list of substitutions, each applied to the whole line in
turn after terminal escape codes are removed, most specific shape first (a URL before the path and numbers inside
it, a version before the three numbers it is made of). Whitespace is folded at the end. Any regex engine running
`MASKS` in order gets the same result, which is how the benchmark configures other miners.

`mask` computes that result faster, which matters at hundreds of thousands of lines per log:

* Each substitution that needs a marker (`://`, `::`, `/`, a digit) is skipped on lines without it. Skipping is
  exact, not a heuristic: substitutions only remove characters, so a marker missing at the start is missing later.
* The shapes that start a word with a digit or hex letter (times, addresses, ids, versions, durations, numbers)
  run as one alternation in one pass instead of eight. Each such pattern is written as a shared first-character
  class followed by a tail that starts by checking that character, so alternative `i` matches exactly where
  `MASKS` entry `i` would; the tests check the two agree on a labelled corpus and on edge cases.
* Every pattern starts with a single character class rather than `\\b`: the regex engine then jumps straight to
  candidate characters instead of trying the whole pattern at every position. A word boundary becomes a
  look-behind after that first character (`\\d(?<!\\w\\d)`: a digit not preceded by a word character).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["MASKS", "PLACEHOLDERS", "Mask", "mask", "mask_tokens", "strip_ansi", "template_id"]


@dataclass(frozen=True, slots=True)
class Mask:
    """One substitution of the masking order: what it finds and the placeholder that replaces it."""

    name: str
    pattern: re.Pattern[str]
    placeholder: str


_HEX = "0-9a-fA-F"
_HEX_GROUP = f"[{_HEX}]{{1,4}}"
_PATH_CHAR = r"[\w.@+~-]"
_DURATION_UNIT = "(?:ms|us|µs|ns|min|sec|h|m|s|d)"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")

_URL = re.compile(r"(?a)[a-zA-Z](?<!\w[a-zA-Z])[a-zA-Z0-9+.-]*+://[^\s'\"<>]*[^\s'\"<>.,;:!?)\]}]")

# Abbreviated IPv6 (`fe80::1`, `[::1]:8080`); the full eight-group form is a word-start shape below. A digit is
# required so that `std::` and `a::b` are not addresses. The first character is matched on its own, as in every
# pattern here, so the rest splits by what it was: `[`, `:` or a hex digit.
_V6_TAIL = rf"(?:{_HEX_GROUP}(?::{_HEX_GROUP}){{0,6}})?"
_IP6 = re.compile(
    rf"(?a)[\[:{_HEX}]"
    rf"(?:(?<=\[)(?=[{_HEX}:]*\d)(?:{_HEX_GROUP}(?::{_HEX_GROUP}){{0,6}})?::{_V6_TAIL}\](?::\d{{1,5}})?"
    rf"|(?<![\w:.][:{_HEX}])"
    rf"(?:(?<=:)(?=[{_HEX}:]*\d):{_V6_TAIL}"
    rf"|(?<=[{_HEX}])(?:(?<=\d)|(?=[{_HEX}:]*\d))[{_HEX}]{{0,3}}(?::{_HEX_GROUP}){{0,6}}::{_V6_TAIL})"
    r"(?![\w:.]))"
)
# Every address above has a hex digit right before or after its `::`; pytest ids and C++ names (`x.py::test`,
# `std::map`) do not, and this literal-led search rules them out without trying the pattern at every character.
_IP6_HINT = re.compile(r"::(?<=[0-9a-fA-F]::)|::(?=[0-9a-fA-F])")

# Absolute paths with two segments or more, relative ones with two slashes or more or ending in `dir/file.ext`,
# and Windows drive paths. A run of only digits and slashes is a date or a fraction, not a path.
_PATH = re.compile(
    rf"(?a)[\w.@+~/-](?<!{_PATH_CHAR}.)"
    r"(?!(?<=[\d/])[\d/]*+(?![\w.@+~/-]))"
    rf"(?:(?<=/){_PATH_CHAR}++(?:/{_PATH_CHAR}++)+"
    rf"|(?<=[a-zA-Z]):(?:/{_PATH_CHAR}++){{2,}}"
    rf"|(?<=[a-zA-Z]):\\(?:{_PATH_CHAR}++\\)*{_PATH_CHAR}++"
    rf"|(?<={_PATH_CHAR}){_PATH_CHAR}*+(?:/{_PATH_CHAR}++){{2,}}"
    rf"|(?<={_PATH_CHAR}){_PATH_CHAR}*+/[\w@+-]++\.[a-zA-Z][a-zA-Z0-9]{{0,5}}\b"
    r")/?"
)

# The word-start shapes, in masking order: (name, placeholder, first character, the rest). Each rest begins by
# checking the first character, so that it can sit behind the shared class in the one-pass alternation. Each
# ends at a word boundary too: then replacing a match never makes the next character start a word, which is what
# lets one pass over the original line find what eight passes over ever more masked text would.
_WORD_SHAPES: tuple[tuple[str, str, str, str], ...] = (
    (
        "time",
        "<time>",
        r"\d",
        r"(?<=\d)(?:\d{3}[-/]\d{2}[-/]\d{2}[T ]\d{2}|\d):\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b"
        r"|(?<=\d)\d{3}-\d{2}-\d{2}\b",
    ),
    # Structure first, then the digit: a look-ahead that fails on the next few characters is cheap.
    (
        "ip6",
        "<ip>",
        f"[{_HEX}]",
        rf"(?<=[{_HEX}])(?=[{_HEX}]{{0,3}}:)(?:(?<=\d)|(?=[{_HEX}:]*\d))"
        rf"[{_HEX}]{{0,3}}:(?:{_HEX_GROUP}:){{6}}{_HEX_GROUP}(?![\w:.])",
    ),
    ("ip4", "<ip>", r"\d", r"(?<=\d)\d{0,2}+\.(?:\d{1,3}\.){2}\d{1,3}(?::\d{1,5})?\b"),
    (
        "uuid",
        "<uuid>",
        f"[{_HEX}]",
        rf"(?<=[{_HEX}])(?=[{_HEX}]{{7}}-)(?:(?<=\d)|(?=[-{_HEX}]*\d))"
        rf"[{_HEX}]{{7}}-[{_HEX}]{{4}}-[{_HEX}]{{4}}-[{_HEX}]{{4}}-[{_HEX}]{{12}}\b",
    ),
    # Before hex ids, so that a Go pseudo-version (`v0.0.0-20240101120000-5c0f8a1b2c3d`) stays one version.
    (
        "version",
        "<version>",
        r"[\dv]",
        r"(?:(?<=v)\d++|(?<=\d)\d*+)\.\d++\.\d++(?:-[0-9A-Za-z.-]*[0-9A-Za-z])?(?:\+[0-9A-Za-z.-]*[0-9A-Za-z])?\b",
    ),
    # `0x...`, and runs of 7-64 hex digits in one case holding both a digit and a letter: `deadbeef` and
    # `1234567` stay a word and a number.
    (
        "hex",
        "<hex>",
        f"[{_HEX}]",
        r"(?:(?<=0)[xX][0-9a-fA-F]+"
        r"|(?:(?<=\d)(?=\d*+[a-f])|(?<=[a-f])(?=[a-f]*+\d))[0-9a-f]{6,63}"
        r"|(?:(?<=\d)(?=\d*+[A-F])|(?<=[A-F])(?=[A-F]*+\d))[0-9A-F]{6,63})\b",
    ),
    (
        "duration",
        "<duration>",
        r"\d",
        rf"(?<=\d)\d*+(?:\.\d++)?(?:{_DURATION_UNIT}(?:\d++(?:\.\d++)?{_DURATION_UNIT}){{0,3}}\b"
        r"|\s(?:ms|s|secs?|seconds?|mins?|minutes?|h|hours?)\b)",
    ),
    ("num", "<num>", r"\d", r"(?<=\d)\d*+(?:\.\d++)?\b"),
)

_WORD_LEAD = f"[{_HEX}v]"
# Most words that start with a hex letter are words ("added", "failed"). Every shape that can start with a letter
# needs a `:` within four hex digits (IPv6) or six more hex digits (ids), and `v` must be followed by a digit:
# checking that once spares the words eight failing alternatives each. It rejects nothing a shape would match.
_WORD_FILTER = rf"(?:(?<=\d)|(?<=v)(?=\d)|(?=[{_HEX}]{{0,3}}:|[{_HEX}]{{6}}))"
_WORD_PASS = re.compile(
    f"(?a){_WORD_LEAD}(?<!\\w{_WORD_LEAD}){_WORD_FILTER}(?:"
    + "|".join(f"({rest})" for _, _, _, rest in _WORD_SHAPES)
    + ")"
)
# Group i of the alternation is shape i - 1.
_WORD_PLACEHOLDERS: tuple[str, ...] = ("", *(placeholder for _, placeholder, _, _ in _WORD_SHAPES))

# `sha256:` in front of a masked digest belongs to it.
_DIGEST = re.compile(r"(?a)s(?<!\ws)ha(?:1|256|384|512):<hex>")
_DIGIT = re.compile(r"[0-9]")

MASKS: tuple[Mask, ...] = (
    Mask("url", _URL, "<url>"),
    Mask("ip6_short", _IP6, "<ip>"),
    Mask("path", _PATH, "<path>"),
    *(
        Mask(name, re.compile(f"(?a){lead}(?<!\\w{lead})(?:{rest})"), placeholder)
        for name, placeholder, lead, rest in _WORD_SHAPES
    ),
    Mask("digest", _DIGEST, "<hex>"),
)
PLACEHOLDERS: frozenset[str] = frozenset(rule.placeholder for rule in MASKS)


def strip_ansi(text: str) -> str:
    """The text without terminal colour and hyperlink escape sequences."""
    return _ANSI.sub("", text) if "\x1b" in text else text


def mask(text: str) -> str:
    """The line with its variable parts replaced by placeholders, ANSI codes removed and whitespace folded."""
    return " ".join(_masked(text).split())


def mask_tokens(text: str, limit: int) -> list[str]:
    """The masked line's first `limit` whitespace-separated tokens."""
    tokens = _masked(text).split(None, limit)
    if len(tokens) > limit:
        del tokens[limit]
    return tokens


def template_id(template: str) -> str:
    """A short, stable id for a template: 16 hex characters of its SHA-1."""
    return hashlib.sha1(template.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def _word_placeholder(match: re.Match[str]) -> str:
    return _WORD_PLACEHOLDERS[match.lastindex or 0]


def _masked(text: str) -> str:
    # The same result as running MASKS in order (see the module docstring), whitespace not yet folded.
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "://" in text:
        text = _URL.sub("<url>", text)
    if "::" in text and _IP6_HINT.search(text) is not None:
        text = _IP6.sub("<ip>", text)
    if "/" in text or "\\" in text:
        text = _PATH.sub("<path>", text)
    if _DIGIT.search(text) is not None:
        text = _WORD_PASS.sub(_word_placeholder, text)
    if ":<hex>" in text:
        text = _DIGEST.sub("<hex>", text)
    return text
