from __future__ import annotations

import json
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx2
import pytest

from harness_connector.domain.logs import LogLine
from harness_connector.errors import (
    HarnessInvalidRequestError,
    HarnessNotFoundError,
    HarnessPermissionError,
    HarnessUnavailableError,
    UsageError,
)
from harness_connector.harness.client import HarnessClient
from harness_connector.harness.logs import LogService, iter_zip_logs, parse_log_lines, parse_log_text, strip_ansi

pytestmark = pytest.mark.anyio

KEY = "pat.acct1.tok.secret"
PREFIX = "accountId:acct1/orgId:default/projectId:demo/pipelineId:build/runSequence:7/level0:pipeline"
LINK = "https://storage.googleapis.com/logs-bucket/acct1/logs.zip?X-Goog-Signature=abc123"
Handler = Callable[[httpx2.Request], httpx2.Response]


class SleepRecorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def make_client(handler: Handler, sleep: SleepRecorder) -> HarnessClient:
    return HarnessClient("https://app.harness.io", api_key=KEY, transport=httpx2.MockTransport(handler), sleep=sleep)


def entry(out: str, *, level: str = "INFO", pos: int = 0, ascii_only: bool = True) -> bytes:
    line = {"level": level, "pos": pos, "out": out, "time": f"2024-05-01T10:00:{pos:02d}Z", "args": {}}
    return (json.dumps(line, ensure_ascii=ascii_only) + "\n").encode()


async def stream(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def chunked(data: bytes, size: int) -> AsyncIterator[bytes]:
    return stream([data[start : start + size] for start in range(0, len(data), size)])


async def parse(data: bytes, size: int = 65536, **kwargs: int) -> list[LogLine]:
    return [line async for line in parse_log_lines(chunked(data, size), **kwargs)]


def texts(lines: list[LogLine]) -> list[str]:
    return [line.text for line in lines]


# ---- parsing ---------------------------------------------------------------------------------------------


async def test_json_lines_become_numbered_lines_with_level_time_and_no_ansi_or_trailing_newline() -> None:
    data = entry("\x1b[32mStarting step\x1b[0m\n", pos=0) + entry("\x1b[1;31mboom\x1b[0m\n", level="error", pos=1)

    lines = await parse(data)

    assert lines == [
        LogLine(number=1, text="Starting step", level="INFO", time="2024-05-01T10:00:00Z"),
        LogLine(number=2, text="boom", level="ERROR", time="2024-05-01T10:00:01Z"),
    ]


async def test_chunks_split_mid_line_and_mid_utf8_character_give_the_same_lines() -> None:
    data = entry("héllo wörld ✓ 日本\n", pos=0, ascii_only=False) + b"plain \xc3\xbcn\xc3\xafc\xc3\xb6de text\n"
    whole = await parse(data)

    split_in_char = data.index("✓".encode()) + 1
    halves = [data[:split_in_char], data[split_in_char:]]
    by_halves = [line async for line in parse_log_lines(stream(halves))]
    by_bytes = await parse(data, size=1)

    assert texts(whole) == ["héllo wörld ✓ 日本", "plain ünïcöde text"]
    assert by_halves == whole
    assert by_bytes == whole


def test_every_kind_of_ansi_escape_is_stripped() -> None:
    samples = {
        "\x1b[38;5;208morange\x1b[0m": "orange",
        "\x1b[2K\x1b[1Gprogress 50%": "progress 50%",
        "\x1b]8;;https://example.com\x07link\x1b]8;;\x07": "link",
        "\x1b]0;window title\x1b\\after": "after",
        "\x1b(Bcharset": "charset",
        "\x9b31mc1 red": "c1 red",
        "stray\x1b": "stray",
        "no escapes here": "no escapes here",
    }
    assert {raw: strip_ansi(raw) for raw in samples} == samples


async def test_non_json_lines_and_json_without_out_are_kept_as_plain_info_text() -> None:
    data = b"+ make build\n" + entry("ok\n") + b'{"message": "not a log entry"}\n' + b"[1, 2]\n"

    lines = await parse(data)

    assert [(line.number, line.level, line.text, line.time) for line in lines] == [
        (1, "INFO", "+ make build", None),
        (2, "INFO", "ok", "2024-05-01T10:00:00Z"),
        (3, "INFO", '{"message": "not a log entry"}', None),
        (4, "INFO", "[1, 2]", None),
    ]


async def test_a_truncated_last_line_without_newline_is_yielded_as_text() -> None:
    data = entry("done\n") + b'{"level":"ERROR","pos":2,"out":"half a li'

    lines = await parse(data, size=7)

    assert texts(lines) == ["done", '{"level":"ERROR","pos":2,"out":"half a li']
    assert (lines[1].level, lines[1].number) == ("INFO", 2)
    complete = await parse(entry("last", level="WARN").rstrip(b"\n"))
    assert [(line.text, line.level) for line in complete] == [("last", "WARN")]


async def test_blank_lines_are_skipped_but_an_empty_out_is_kept_and_numbering_stays_consecutive() -> None:
    data = b"\n\n" + entry("one\n") + b"   \n\r\n" + entry("\n") + entry("two\n") + b"\n"

    lines = await parse(data)

    assert [(line.number, line.text) for line in lines] == [(1, "one"), (2, ""), (3, "two")]


async def test_a_multi_line_out_stays_one_log_line_and_crlf_is_normalised() -> None:
    lines = await parse(entry("Traceback:\r\n  File x.py\n  boom\r\n") + b"plain with crlf\r\n")

    assert texts(lines) == ["Traceback:\n  File x.py\n  boom", "plain with crlf"]


async def test_a_huge_json_line_is_cut_with_a_marker_and_keeps_its_level_and_start() -> None:
    huge = entry("x" * 200_000 + "\n", level="error", pos=1)
    data = huge + entry("after\n", pos=2)

    lines = await parse(data, size=4096)

    dropped = len(huge) - 1 - 64 * 1024
    assert lines[0].text.startswith("xxxx")
    assert lines[0].text.endswith(f" [... line cut, {dropped} more bytes not shown]")
    assert len(lines[0].text) < 64 * 1024 + 64
    assert lines[0].level == "ERROR"
    assert (lines[1].number, lines[1].text) == (2, "after")


async def test_a_long_plain_line_is_cut_at_the_byte_limit_even_when_it_arrives_in_one_chunk() -> None:
    data = b"abcdefghij\nnext\n"

    streamed = await parse(data, size=3, max_line_bytes=4)
    single_chunk = await parse(data, max_line_bytes=4)

    assert texts(streamed) == ["abcd [... line cut, 6 more bytes not shown]", "next"]
    assert single_chunk == streamed
    mid_character = await parse("ab✓cd\n".encode(), max_line_bytes=4)  # the check mark takes bytes 2..4
    assert texts(mid_character) == ["ab [... line cut, 3 more bytes not shown]"]


async def test_a_cut_json_line_recovers_out_even_when_cut_inside_an_escape() -> None:
    line = b'{"level":"WARN","pos":1,"out":"caf\\u00e9 \\u00e9\\u00e9\\u00e9"}\n'
    cut_at = line.index(b"\\u00e9 ") + 18  # inside the third escape

    lines = await parse(line, max_line_bytes=cut_at)

    assert lines[0].level == "WARN"
    assert lines[0].text.startswith("café é")
    assert "line cut" in lines[0].text


def test_parse_log_text_reads_plain_and_json_lines_like_the_stream_parser() -> None:
    text = "\ufeffplain start\n\n" + entry("\x1b[33mwarned\x1b[0m\n", level="warn").decode() + "tail without newline"

    lines = list(parse_log_text(text))

    assert [(line.number, line.level, line.text) for line in lines] == [
        (1, "INFO", "plain start"),
        (2, "WARN", "warned"),
        (3, "INFO", "tail without newline"),
    ]


def test_parse_log_text_cuts_a_huge_line_too() -> None:
    lines = list(parse_log_text("é" * 10 + "\nok", max_line_bytes=5))

    assert texts(lines) == ["éé [... line cut, 15 more bytes not shown]", "ok"]


# ---- the log service ---------------------------------------------------------------------------------------


async def test_stream_step_log_gets_the_blob_with_key_and_account_id_and_parses_it() -> None:
    seen: list[httpx2.Request] = []
    body = entry("\x1b[32mstep one\x1b[0m\n") + entry("step two\n", pos=1)

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, content=chunked(body, 5))

    async with make_client(handler, SleepRecorder()) as client:
        lines = [line async for line in LogService(client).stream_step_log("acct1/pipeline/build/7/-abc/s1/step1")]

    assert texts(lines) == ["step one", "step two"]
    request = seen[0]
    assert (request.method, request.url.path) == ("GET", "/gateway/log-service/blob")
    assert request.url.params["key"] == "acct1/pipeline/build/7/-abc/s1/step1"
    assert request.url.params["accountID"] == "acct1"
    assert "accountIdentifier" not in request.url.params
    assert request.headers["x-api-key"] == KEY


# Every kind of line the parser treats specially, so the undecoded path is checked against each rule.
_AWKWARD_LOG = (
    "\ufeff"  # a byte-order mark before the first line
    + entry("first\n").decode()
    + "\n\n   \n\t\n"  # blank lines of several kinds
    + entry("\x1b[31merror: red\x1b[0m\n", level="error", pos=1).decode()
    + "  indented plain text\r\n"
    + "\x1b[1mbold plain text\x1b[0m\n"
    + "\u00a0\u2003\n"  # a line of non-ASCII spaces only: blank
    + "caf\u00e9 plain text\n"
    + entry("multi\nline\nout\n", level="warn", pos=2).decode()
    + '{"level": "INFO", "pos": 3}\n'  # JSON that is not a log entry
    + entry("x" * 300 + "\n", pos=4).decode()  # cut at the limit below
    + "y" * 500
    + "\n"
    + entry("last\n", level="fatal", pos=5).decode()
    + '{"level":"info","out":"trunc'  # a truncated last line
).encode()


_PLAIN_LOG = b"".join(entry(f"[INFO] step {n} \u00e9 ok\n", pos=n, ascii_only=n % 2 == 0) for n in range(400))


@pytest.mark.parametrize(
    "log", [_AWKWARD_LOG, _PLAIN_LOG, _AWKWARD_LOG + b"\n" + _PLAIN_LOG], ids=["awkward", "plain", "both"]
)
@pytest.mark.parametrize("size", [1, 7, 64, 4096, 65536])
async def test_undecoded_batches_give_the_same_numbers_and_lines_as_the_decoded_stream(log: bytes, size: int) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=chunked(log, size))

    async with make_client(handler, SleepRecorder()) as client:
        service = LogService(client, max_line_bytes=200)
        decoded = [line async for line in service.stream_step_log("k")]
        batches = [batch async for batch in service.stream_step_log_undecoded("k")]

    undecoded = [batch.line(index) for batch in batches for index in range(len(batch.raw))]
    assert undecoded == decoded
    assert [line.number for line in undecoded] == list(range(1, len(decoded) + 1))
    for batch in batches:  # a detached line decodes the same as in its batch
        assert all(batch.single(i).line(0) == batch.line(i) for i in range(len(batch.raw)))
    assert all(len(raw) <= 200 for batch in batches for raw in batch.raw)


async def test_undecoded_stream_of_an_empty_key_is_a_usage_error() -> None:
    async with make_client(lambda request: httpx2.Response(200), SleepRecorder()) as client:
        with pytest.raises(UsageError):
            _ = [batch async for batch in LogService(client).stream_step_log_undecoded(" ")]


async def test_stream_step_log_of_an_unknown_key_raises_not_found() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(404, text="key not found")

    async with make_client(handler, SleepRecorder()) as client:
        with pytest.raises(HarnessNotFoundError):
            _ = [line async for line in LogService(client).stream_step_log("missing")]


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """A zip written in streaming mode (data descriptors, no seeking), as the log service writes them."""
    sink = StreamSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("acct1/pipeline/"), b"")
        for name, data in entries.items():
            with archive.open(name, "w") as handle:
                handle.write(data)
    return bytes(sink.data)


class StreamSink:
    """A write-only file without seek or tell."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)

    def flush(self) -> None: ...

    def close(self) -> None: ...


ZIP_ENTRIES = {
    "acct1/pipeline/stage1/step1": entry("\x1b[36mcompile\x1b[0m\n") + entry("done\n", pos=1),
    "acct1/pipeline/stage1/step2": entry("tests failed\n", level="ERROR"),
}


async def test_download_prefix_polls_until_success_then_fetches_the_link_without_credentials(tmp_path: Path) -> None:
    statuses = iter(["queued", "in_progress", "success"])
    seen: list[httpx2.Request] = []
    archive = zip_bytes(ZIP_ENTRIES)

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if request.url.host == "storage.googleapis.com":
            return httpx2.Response(200, content=chunked(archive, 1000))
        status = next(statuses)
        return httpx2.Response(200, json={"link": LINK if status == "success" else "", "status": status})

    sleep = SleepRecorder()
    async with make_client(handler, sleep) as client:
        path = await LogService(client, sleep=sleep).download_prefix(PREFIX, dest_dir=tmp_path / "out")

    polls, download = seen[:3], seen[3]
    assert [(r.method, r.url.path) for r in polls] == [("POST", "/gateway/log-service/blob/download")] * 3
    assert {r.url.params["prefix"] for r in polls} == {PREFIX}
    assert {r.url.params["accountID"] for r in polls} == {"acct1"}
    assert sleep.sleeps == [3, 3]
    assert str(download.url) == LINK
    assert "x-api-key" not in download.headers
    assert "harness-account" not in download.headers
    assert path.parent == tmp_path / "out"
    assert path.suffix == ".zip"
    assert path.read_bytes() == archive
    assert [p.name for p in path.parent.iterdir()] == [path.name]


async def test_a_relative_download_link_is_resolved_against_the_base_url_and_still_sent_without_key(
    tmp_path: Path,
) -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if request.url.path.startswith("/storage/"):
            return httpx2.Response(200, content=b"PK-data")
        return httpx2.Response(200, json={"link": "/storage/logs.zip?sig=1", "status": "success"})

    async with make_client(handler, SleepRecorder()) as client:
        path = await LogService(client).download_prefix(PREFIX, dest_dir=tmp_path)

    assert str(seen[1].url) == "https://app.harness.io/storage/logs.zip?sig=1"
    assert "x-api-key" not in seen[1].headers
    assert path.read_bytes() == b"PK-data"


@pytest.mark.parametrize(
    ("message", "error", "advice"),
    [
        ("storage backend failed", HarnessUnavailableError, "try again"),
        ("Prefix Key Exceeds Maximum Download Limit", HarnessInvalidRequestError, "download a narrower prefix"),
    ],
)
async def test_an_error_status_raises_with_the_log_service_message_and_advice(
    tmp_path: Path, message: str, error: type[Exception], advice: str
) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"link": "", "status": "error", "message": message})

    async with make_client(handler, SleepRecorder()) as client:
        with pytest.raises(error, match=f"{message}; {advice}"):
            await LogService(client).download_prefix(PREFIX, dest_dir=tmp_path)

    assert list(tmp_path.iterdir()) == []


async def test_too_many_polls_raise_unavailable_saying_so(tmp_path: Path) -> None:
    posts: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        posts.append(request)
        return httpx2.Response(200, json={"link": "", "status": "in_progress"})

    sleep = SleepRecorder()
    async with make_client(handler, sleep) as client:
        service = LogService(client, sleep=sleep)
        with pytest.raises(HarnessUnavailableError, match=r"still in_progress after 4 polls \(3s\)"):
            await service.download_prefix(PREFIX, dest_dir=tmp_path, poll_interval_s=1, max_polls=4)

    assert len(posts) == 4
    assert sleep.sleeps == [1, 1, 1]
    assert list(tmp_path.iterdir()) == []


async def test_a_refused_download_leaves_no_partial_file(tmp_path: Path) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "storage.googleapis.com":
            return httpx2.Response(403, text="<Error><Code>AccessDenied</Code></Error>")
        return httpx2.Response(200, json={"link": LINK, "status": "success"})

    async with make_client(handler, SleepRecorder()) as client:
        with pytest.raises(HarnessPermissionError) as caught:
            await LogService(client).download_prefix(PREFIX, dest_dir=tmp_path)

    assert "X-Goog-Signature" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_zip_entries_are_iterated_with_their_parsed_lines(tmp_path: Path) -> None:
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes(ZIP_ENTRIES))

    found = [(name, [(line.number, line.level, line.text) for line in lines]) for name, lines in iter_zip_logs(path)]

    assert found == [
        ("acct1/pipeline/stage1/step1", [(1, "INFO", "compile"), (2, "INFO", "done")]),
        ("acct1/pipeline/stage1/step2", [(1, "ERROR", "tests failed")]),
    ]
    with zipfile.ZipFile(path) as archive:
        assert all(info.flag_bits & 0x08 for info in archive.infolist() if not info.is_dir())


def test_a_file_that_is_not_a_zip_is_reported_as_such(tmp_path: Path) -> None:
    path = tmp_path / "logs.zip"
    path.write_bytes(b"<html>gateway error</html>")

    with pytest.raises(UsageError, match="not a readable zip archive"):
        list(iter_zip_logs(path))


def test_a_zip_entry_with_a_huge_line_is_cut_rather_than_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "logs.zip"
    path.write_bytes(zip_bytes({"big": b"y" * 300_000 + b"\nsmall\n"}))

    [(name, lines)] = [(name, list(lines)) for name, lines in iter_zip_logs(path, max_line_bytes=1000)]

    assert name == "big"
    assert texts(lines) == ["y" * 1000 + " [... line cut, 299000 more bytes not shown]", "small"]
