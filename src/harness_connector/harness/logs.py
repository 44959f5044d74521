"""Step logs from Harness's log service: a streaming parser, single-key blobs and zip downloads of a prefix.

The log service stores each step's log as JSON lines, one object per line:
`{"level": "INFO", "pos": 3, "out": "\\u001b[32mok\\u001b[0m\\n", "time": "2024-05-01T10:00:00Z", "args": {}}`.

Parsing rules, shared by the async stream parser, the text parser and the zip reader:

- Input is split on `\\n` only (a trailing `\\r` is dropped); blank lines are skipped. Lines are numbered from 1.
- A JSON object with an `out` field becomes one `LogLine` with its `level` (upper-cased, default `INFO`) and
  `time`. ANSI escape sequences (CSI colours and cursor moves, OSC titles and hyperlinks, other ESC sequences)
  are removed and the trailing newline of `out` is dropped.
- A multi-line `out` stays **one** `LogLine` whose text contains `\\n`: line numbers then match the log
  service's own entries (`pos`), and a stack trace written in one call stays together.
- Anything else (plain text, JSON that is not a log entry, a truncated last line with broken JSON) is kept as a
  plain `INFO` line with the text as it came, minus ANSI codes. Nothing is dropped and nothing raises.
- A line longer than `max_line_bytes` (64 KiB by default) is cut there and ends with
  `[... line cut, N more bytes not shown]`; what was cut is never held in memory. If the cut line was a JSON
  entry, the readable start of its `out` text is recovered. So memory stays bounded whatever the log size.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import zipfile
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import anyio

from harness_connector.domain.logs import LogLine
from harness_connector.errors import HarnessError, HarnessInvalidRequestError, HarnessUnavailableError, UsageError
from harness_connector.harness.client import HarnessClient, HarnessResponse
from harness_connector.harness.registry.model import RetryPolicy

__all__ = [
    "MAX_LINE_BYTES",
    "LogService",
    "RawLogLines",
    "decode_line",
    "iter_zip_logs",
    "parse_log_lines",
    "parse_log_text",
    "strip_ansi",
]

BLOB_PATH = "/gateway/log-service/blob"
DOWNLOAD_PATH = "/gateway/log-service/blob/download"
MAX_LINE_BYTES = 64 * 1024
_READ_SIZE = 64 * 1024
_PENDING_STATUSES = frozenset({"queued", "in_progress"})

_ANSI = re.compile(
    r"""
    \x1b(?:                          # ESC, then one of:
        \[[0-?]*[ -/]*[@-~]          #   CSI: colours, cursor moves, erase
      | \][^\x07\x1b]*(?:\x07|\x1b\\)  #   OSC: window titles, hyperlinks (ended by BEL or ST)
      | [PX^_][^\x1b]*\x1b\\        #   DCS, SOS, PM, APC strings
      | [ -/]*[0-~]                 #   any other escape sequence
      |                             #   nothing: a stray ESC (e.g. at a cut)
    )
    | \x9b(?:[0-?]*[ -/]*[@-~])?     # 8-bit CSI, or a stray one
    """,
    re.VERBOSE,
)
_DECODER = json.JSONDecoder(strict=False)
_ODD_START = re.compile(rb"\n[^\x21-\x7e]")  # a line that is empty or starts with a space, control or non-ASCII byte
_OUT_FIELD = re.compile(r'"out"\s*:\s*"')
_LEVEL_FIELD = re.compile(r'"level"\s*:\s*"([A-Za-z]{1,16})"')
_TIME_FIELD = re.compile(r'"time"\s*:\s*"([^"\\]{1,64})"')


def strip_ansi(text: str) -> str:
    """The text without terminal escape sequences."""
    if "\x1b" not in text and "\x9b" not in text:
        return text
    return _ANSI.sub("", text)


class _LineParser:
    """Turns raw lines into numbered `LogLine`s; one instance per log."""

    __slots__ = ("_limit", "_number", "_pending", "_pending_dropped")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise UsageError("max_line_bytes must be at least 1")
        self._limit = limit
        self._number = 0
        self._pending = bytearray()  # the unfinished line at the end of the chunks seen so far (at most limit)
        self._pending_dropped = 0  # bytes of that line thrown away past the limit

    def feed(self, chunk: bytes) -> list[LogLine]:
        """The lines completed by this chunk of bytes."""
        pieces = chunk.split(b"\n")
        if len(pieces) == 1:
            self._extend(chunk)
            return []
        self._extend(pieces[0])
        first = self._take_pending()
        out = [first] if first is not None else []
        out.extend(line for raw in pieces[1:-1] if raw and (line := self._parse_bytes(raw)) is not None)
        self._extend(pieces[-1])
        return out

    def feed_undecoded(self, chunk: bytes) -> RawLogLines | None:
        """Like `feed`, but the completed lines come back undecoded, to be decoded one by one when wanted.

        Lines that start with a printable ASCII character (nearly all: `{` for JSON lines) cannot be blank once
        decoded, so they are numbered without decoding. Anything else (an empty line, a space, escape sequence
        or byte-order mark at the start, a line over the limit, the line completed across chunks) is decoded
        now by the same rules. Numbers and lines are exactly those `feed` gives.
        """
        pieces = chunk.split(b"\n")
        if len(pieces) == 1:
            self._extend(chunk)
            return None
        self._extend(pieces[0])
        raw: list[bytes] = []
        decoded: dict[int, LogLine] = {}
        pending = self.pending
        first = self._take_pending()
        if first is not None:
            decoded[0] = first
            raw.append(pending)
        number = self._number + 1 - len(raw)
        middle = pieces[1:-1]
        if (
            middle
            and _ODD_START.search(chunk, len(pieces[0]), len(chunk) - len(pieces[-1])) is None
            and max(map(len, middle)) <= self._limit
        ):
            self._number += len(middle)
            raw.extend(middle)
        else:
            for piece in middle:
                if piece and 0x20 < piece[0] < 0x7F and len(piece) <= self._limit:
                    self._number += 1
                    raw.append(piece)
                elif (line := self._parse_bytes(piece)) is not None:
                    decoded[len(raw)] = line
                    raw.append(piece[: self._limit])
        self._extend(pieces[-1])
        return RawLogLines(number, raw, decoded) if raw else None

    @property
    def pending(self) -> bytes:
        """The bytes of the unfinished last line (at most the limit)."""
        return bytes(self._pending)

    def finish(self) -> LogLine | None:
        """The last line, when the input did not end with a newline."""
        return self._take_pending()

    def parse_text_line(self, line: str) -> LogLine | None:
        """Parse one line of already-decoded text (no newline inside)."""
        if len(line) * 4 > self._limit:  # possibly over the limit once encoded
            return self._parse_bytes(line.encode("utf-8", errors="replace"))
        return self._parse(line, 0)

    def _parse_bytes(self, raw: bytes) -> LogLine | None:
        if len(raw) > self._limit:
            return self._parse(_decode(raw[: self._limit], cut=True), len(raw) - self._limit)
        return self._parse(raw.decode("utf-8", errors="replace"), 0)

    def _extend(self, piece: bytes) -> None:
        room = self._limit - len(self._pending)
        if len(piece) > room:
            self._pending_dropped += len(piece) - room
            piece = piece[:room]
        self._pending += piece

    def _take_pending(self) -> LogLine | None:
        pending, dropped = bytes(self._pending), self._pending_dropped
        self._pending.clear()
        self._pending_dropped = 0
        return self._parse(_decode(pending, cut=dropped > 0), dropped) if pending or dropped else None

    def _parse(self, text: str, dropped: int) -> LogLine | None:
        stripped = text.strip()
        if self._number == 0 and stripped.startswith("\ufeff"):  # a byte-order mark before the first line
            text = text.replace("\ufeff", "", 1)
            stripped = stripped[1:].strip()
        if not stripped:
            return None
        self._number += 1
        return _line(self._number, text, stripped, dropped)


def decode_line(number: int, raw: bytes) -> LogLine:
    """The `LogLine` of a line `_LineParser.feed_undecoded` left undecoded (never blank, never cut)."""
    text = raw.decode("utf-8", errors="replace")
    return _line(number, text, text.strip(), 0)


class RawLogLines:
    """A batch of consecutive log lines as raw bytes, decoded one at a time on request (`UndecodedLines`)."""

    __slots__ = ("_decoded", "first_number", "raw")

    def __init__(self, first_number: int, raw: list[bytes], decoded: dict[int, LogLine]) -> None:
        self.first_number = first_number
        self.raw = raw
        self._decoded = decoded  # lines decoded while splitting (odd starts, cut lines), by index

    def line(self, index: int) -> LogLine:
        done = self._decoded.get(index)
        return done if done is not None else decode_line(self.first_number + index, self.raw[index])

    def single(self, index: int) -> RawLogLines:
        done = self._decoded.get(index)
        return RawLogLines(self.first_number + index, [self.raw[index]], {} if done is None else {0: done})


def _line(number: int, text: str, stripped: str, dropped: int) -> LogLine:
    entry = _json_entry(stripped, cut=dropped > 0) if stripped[0] == "{" else None
    if entry is None:
        level, time, body = "INFO", None, text[:-1] if text[-1] == "\r" else text
    else:
        level, time, body = entry
    if "\x1b" in body or "\x9b" in body:
        body = _ANSI.sub("", body)
    if dropped:
        body = f"{body} [... line cut, {dropped} more bytes not shown]"
    return LogLine(number=number, text=body, level=level, time=time)


def _decode(raw: bytes, *, cut: bool) -> str:
    if not cut:
        return raw.decode("utf-8", errors="replace")
    # A cut may fall inside a multi-byte character: drop that partial character rather than show U+FFFD.
    return codecs.getincrementaldecoder("utf-8")(errors="replace").decode(raw, final=False)


def _json_entry(text: str, *, cut: bool) -> tuple[str, str | None, str] | None:
    """(level, time, out) of a log-service JSON line, or None when the text is not one."""
    try:
        obj, end = _DECODER.raw_decode(text)
    except ValueError:
        return _salvage(text) if cut else None
    if end != len(text) or type(obj) is not dict or "out" not in obj:
        return None
    out, level, time = obj["out"], obj.get("level"), obj.get("time")
    body = out if type(out) is str else ("" if out is None else str(out))
    level_name = level.upper() if isinstance(level, str) and level else "INFO"
    return level_name, time if isinstance(time, str) and time else None, body.replace("\r\n", "\n").rstrip("\r\n")


def _salvage(text: str) -> tuple[str, str | None, str] | None:
    """Recover level, time and the readable start of `out` from a JSON line cut short."""
    found = _OUT_FIELD.search(text)
    if found is None:
        return None
    rest = text[found.end() - 1 :]  # from the opening quote
    # Either `out` ended before the cut, or the cut fell inside it (maybe inside an escape such as \u00e9).
    for candidate in (rest, *(rest[: len(rest) - trim] + '"' for trim in range(7))):
        try:
            body: str = _DECODER.raw_decode(candidate)[0]
        except ValueError:
            continue
        level, time = _LEVEL_FIELD.search(text), _TIME_FIELD.search(text)
        return (level.group(1).upper() if level else "INFO", time.group(1) if time else None, body.rstrip("\r\n"))
    return None


async def parse_log_lines(
    chunks: AsyncIterable[bytes], *, max_line_bytes: int = MAX_LINE_BYTES
) -> AsyncIterator[LogLine]:
    """Parse a log-service JSON-lines (or plain text) byte stream of any size into `LogLine`s as it arrives.

    Chunks may split lines and UTF-8 characters anywhere. See the module docstring for the rules.
    """
    parser = _LineParser(max_line_bytes)
    async for chunk in chunks:
        for line in parser.feed(chunk):
            yield line
    last = parser.finish()
    if last is not None:
        yield last


def parse_log_text(text: str, *, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[LogLine]:
    """Parse a whole log already in memory (a standalone file: plain text or JSON lines), line by line."""
    parser = _LineParser(max_line_bytes)
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end < 0:
            end = size
        line = parser.parse_text_line(text[start:end])
        start = end + 1
        if line is not None:
            yield line


def iter_zip_logs(
    path: str | os.PathLike[str], *, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[str, Iterator[LogLine]]]:
    """Each log in a zip from `download_prefix`, as (entry name, its lines), in the archive's order.

    Entries are found through the central directory (the log service writes zips in streaming mode, so the
    local headers may lack sizes) and each is read in 64 KiB pieces, never whole. Read an entry's lines before
    advancing to the next entry; the archive closes when this iterator ends.

    Raises:
        UsageError: the file is not a zip archive.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UsageError(f"{os.fspath(path)} is not a readable zip archive ({exc})") from exc
    with archive:
        for info in archive.infolist():
            if not info.is_dir():
                yield info.filename, _iter_entry(archive, info, max_line_bytes)


def _iter_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_line_bytes: int) -> Iterator[LogLine]:
    parser = _LineParser(max_line_bytes)
    with archive.open(info) as handle:
        while chunk := handle.read(_READ_SIZE):
            yield from parser.feed(chunk)
    last = parser.finish()
    if last is not None:
        yield last


class LogService:
    """Reads step logs through a `HarnessClient` (which adds `accountID` and `routingId` itself).

    Args:
        client: the connected client.
        sleep: awaited between zip-status polls (injected for tests).
        max_line_bytes: longest line kept whole; longer ones are cut with a marker.
    """

    def __init__(
        self,
        client: HarnessClient,
        *,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        self._client = client
        self._sleep = sleep
        self._max_line_bytes = max_line_bytes

    async def stream_step_log(self, key: str) -> AsyncIterator[LogLine]:
        """The finished log of one log key (`GET /blob?key=`), parsed as it streams.

        Close the iterator (`contextlib.aclosing`) when stopping early, so the connection is released.

        Raises:
            UsageError: the key is empty.
            HarnessError: the log service refused (e.g. HarnessNotFoundError for an unknown key).
        """
        if not key.strip():
            raise UsageError("a log key is required; take it from the execution graph's logBaseKey")
        async with self._client.stream("GET", BLOB_PATH, params=[("key", key)]) as chunks:
            async for line in parse_log_lines(chunks, max_line_bytes=self._max_line_bytes):
                yield line

    async def stream_step_log_undecoded(self, key: str) -> AsyncIterator[RawLogLines]:
        """The log of one key as batches of undecoded lines (`RawLogLines`), one batch per chunk received.

        For readers that look at a few lines of a long log: search the raw bytes, and decode only the lines
        worth reading with `RawLogLines.line`. Decoding every line costs most of the time of reading a
        half-million-line log. Numbers and decoded lines are exactly those of `stream_step_log`.

        Raises:
            UsageError: the key is empty.
            HarnessError: the log service refused (e.g. HarnessNotFoundError for an unknown key).
        """
        if not key.strip():
            raise UsageError("a log key is required; take it from the execution graph's logBaseKey")
        parser = _LineParser(self._max_line_bytes)
        async with self._client.stream("GET", BLOB_PATH, params=[("key", key)]) as chunks:
            async for chunk in chunks:
                batch = parser.feed_undecoded(chunk)
                if batch is not None:
                    yield batch
        pending = bytes(parser.pending)
        last = parser.finish()
        if last is not None:
            yield RawLogLines(last.number, [pending], {0: last})

    async def download_prefix(
        self,
        prefix: str,
        *,
        dest_dir: str | os.PathLike[str],
        poll_interval_s: float = 3,
        max_polls: int = 20,
    ) -> Path:
        """Download every log under `prefix` as one zip into `dest_dir` and return the file's path.

        Asks the log service to build the zip (`POST /blob/download?prefix=`), asking again every
        `poll_interval_s` while it is `queued` or `in_progress`, at most `max_polls` times, then streams the
        pre-signed link to disk without Harness credentials. Read the result with `iter_zip_logs`.

        Raises:
            UsageError: the prefix is empty or max_polls is below 1.
            HarnessInvalidRequestError: the prefix holds too many files (the limit is 500).
            HarnessUnavailableError: the zip failed to build or was not ready after `max_polls` polls.
            HarnessError: the request or the download failed.
        """
        if not prefix.strip():
            raise UsageError("a log key prefix is required; take it from the execution graph's logBaseKey")
        if max_polls < 1:
            raise UsageError("max_polls must be at least 1")
        link = await self._wait_for_link(prefix, poll_interval_s, max_polls)
        return await self._save(link, Path(dest_dir) / _zip_name(prefix))

    async def _wait_for_link(self, prefix: str, poll_interval_s: float, max_polls: int) -> str:
        status = ""
        for poll in range(1, max_polls + 1):
            answer = await self._client.request(
                "POST", DOWNLOAD_PATH, params=[("prefix", prefix)], retry=RetryPolicy.SAFE
            )
            status, link, message = _download_status(answer)
            if status == "success":
                if not link:
                    raise _unavailable("the log zip is ready but Harness sent no download link")
                return link
            if status == "error":
                raise _build_failed(message, prefix)
            if status not in _PENDING_STATUSES:
                raise _unavailable(f"unexpected log zip status {status!r} (expected queued, in_progress or success)")
            if poll < max_polls:
                await self._sleep(poll_interval_s)
        waited = poll_interval_s * (max_polls - 1)
        raise _unavailable(
            f"the log zip for prefix {prefix!r} was still {status} after {max_polls} polls ({waited:g}s); "
            "try again later, allow more polls, or read single steps with their log keys"
        )

    async def _save(self, link: str, target: Path) -> Path:
        parts = urlsplit(urljoin(self._client.base_url + "/", link))
        if parts.scheme not in ("http", "https"):
            raise _unavailable("the log service sent a download link that is not an http(s) URL")
        # The signature lives in the link's query and must reach the storage server byte for byte.
        url, params = parts._replace(query="", fragment="").geturl(), parse_qsl(parts.query, keep_blank_values=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        try:
            # Pre-signed cloud-storage links must get no Harness headers: authenticated=False.
            async with self._client.stream("GET", url, params=params, authenticated=False) as chunks:
                with part.open("wb") as out:
                    async for chunk in chunks:
                        out.write(chunk)
            part.replace(target)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return target


def _download_status(answer: HarnessResponse) -> tuple[str, str, str]:
    try:
        payload: Any = answer.json()
    except ValueError:
        raise _unavailable("the log service answered the zip request with a body that is not JSON") from None
    if not isinstance(payload, Mapping):
        raise _unavailable("the log service answered the zip request without a status")
    return (
        str(payload.get("status") or "").strip().lower(),
        str(payload.get("link") or "").strip(),
        str(payload.get("message") or payload.get("error_msg") or "").strip(),
    )


def _build_failed(message: str, prefix: str) -> HarnessError:
    text = message or "the log service could not build the zip and gave no reason"
    if "limit" in text.lower():
        return HarnessInvalidRequestError(
            f"{text}; download a narrower prefix (one stage or step) instead of {prefix!r}",
            method="POST",
            path=DOWNLOAD_PATH,
        )
    return _unavailable(f"{text}; try again, or read single steps with their log keys")


def _unavailable(message: str) -> HarnessUnavailableError:
    return HarnessUnavailableError(message, method="POST", path=DOWNLOAD_PATH)


def _zip_name(prefix: str) -> str:
    digest = hashlib.sha256(prefix.encode("utf-8")).hexdigest()[:12]
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", prefix)[-60:].strip("._-")
    return f"logs-{tail}-{digest}.zip" if tail else f"logs-{digest}.zip"
