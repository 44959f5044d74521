"""The log service's line format: one compact JSON object per line, `{"level","pos","out","time","args"}`.

Encoded with the JSON module's C string encoder rather than one `json.dumps` of a dict per line: a live log can
hold half a million lines, and the dict-per-line form tripled the time to write and serve it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring as _quote

__all__ = ["encode_entries", "encode_entry"]

_BATCH_LINES = 1024


def encode_entry(pos: int, level: str, time: str, out: str) -> str:
    """One log line as the log service writes it (without the newline); `out` always ends with one."""
    text = out if out.endswith("\n") else out + "\n"
    return f'{{"level":{_quote(level)},"pos":{int(pos)},"out":{_quote(text)},"time":{_quote(time)},"args":{{}}}}'


def encode_entries(lines: Iterable[tuple[int, str, str, str]]) -> Iterator[bytes]:
    """(pos, level, time, out) lines as NDJSON bytes, a batch of lines per piece, each piece ending in a newline."""
    batch: list[str] = []
    for pos, level, time, out in lines:
        batch.append(encode_entry(pos, level, time, out))
        if len(batch) >= _BATCH_LINES:
            yield ("\n".join(batch) + "\n").encode()
            batch.clear()
    if batch:
        yield ("\n".join(batch) + "\n").encode()
