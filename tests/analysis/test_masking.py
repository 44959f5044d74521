from __future__ import annotations

import random
import re

import pytest

from bench.labelled_logs import generate
from harness_connector.analysis import log_signatures
from harness_connector.analysis.logs.masking import MASKS, PLACEHOLDERS, mask, mask_tokens, strip_ansi, template_id


def _mask_in_order(text: str) -> str:
    """What `mask` is defined to do: every substitution of MASKS, in order, then whitespace folded."""
    text = strip_ansi(text)
    for rule in MASKS:
        text = rule.pattern.sub(rule.placeholder, text)
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("started 2026-03-01T10:02:03.123Z", "started <time>"),
        ("started 2026-03-01 10:02:03+01:00", "started <time>"),
        ("2026/03/01 10:02:03 dial tcp", "<time> dial tcp"),
        ("at 10:02:03,5 and on 2026-03-01", "at <time> and on <time>"),
        ("GET https://api.acme.io/v1/items/42?x=1, then", "GET <url>, then"),
        ("(see git+ssh://git@github.com/acme/api.git)", "(see <url>)"),
        ("connect 10.2.3.4:5432 refused", "connect <ip> refused"),
        ("from 10.2.3.4", "from <ip>"),
        ("bind [::1]:8080 and fe80::1ff:fe23:4567:890a", "bind <ip> and <ip>"),
        ("peer 2001:0db8:85a3:0000:0000:8a2e:0370:7334 up", "peer <ip> up"),
        ("request 1f8813f8-af02-8109-9578-eded791d02c4 done", "request <uuid> done"),
        ("HEAD is now at 9f8e7d6 fix", "HEAD is now at <hex> fix"),
        ("image sha256:33abd1b54b4e1814d88a939b0a8617606565dcebef7e3346b43f1dbc8983ac25", "image <hex>"),
        ("pc=0x6fade8 addr=0X0", "pc=<hex> addr=<hex>"),
        ("layer 81F7F841C3E6 pulled", "layer <hex> pulled"),
        ("open /home/runner/work/app/main.py failed", "open <path> failed"),
        ("see src/pkg/main.go and src/main.go:12", "see <path> and <path>:<num>"),
        ("copy C:\\Users\\runner\\out.txt to C:/tmp/out/x", "copy <path> to <path>"),
        ("installed requests 2.31.0 and v2.0.1-rc1", "installed requests <version> and <version>"),
        ("go: downloading golang.org/x/sys v0.0.0-20231012093201-5c0f8a1b2c3d", "go: downloading <path> <version>"),
        ("took 15s, 5012ms, 1m30s, 1h2m3.5s", "took <duration>, <duration>, <duration>, <duration>"),
        ("timed out after 30 s (attempt 1)", "timed out after <duration> (attempt <num>)"),
        (
            "Tests run: 12, Failures: 0, 12.5 kB at 7.1 MB/s",
            "Tests run: <num>, Failures: <num>, <num> kB at <num> MB/s",
        ),
    ],
    ids=lambda value: value[:40],
)
def test_each_kind_of_value_becomes_its_placeholder(line: str, masked: str) -> None:
    assert mask(line) == masked


@pytest.mark.parametrize(
    "line",
    [
        "deadbeef and cafebabe are words",
        "std::vector a::b test_x.py::test_y",
        "x86_64 lib123.jar utf8 sha256sum",
        "Step 5/923 : a/b",
    ],
)
def test_look_alikes_of_values_are_not_masked_as_them(line: str) -> None:
    masked = mask(line)
    assert all(placeholder not in masked for placeholder in ("<hex>", "<ip>", "<path>"))


def test_terminal_codes_are_removed_and_whitespace_folded() -> None:
    line = "\x1b[1;31mERROR\x1b[0m   \x1b]8;;https://x.io/a\x07build log\x1b]8;;\x07\t failed  "
    assert mask(line) == "ERROR build log failed"


def test_a_line_without_values_is_only_folded() -> None:
    assert mask("  npm WARN  deprecated   package ") == "npm WARN deprecated package"


def test_placeholders_are_the_masks_placeholders() -> None:
    assert {"<time>", "<url>", "<ip>", "<uuid>", "<hex>", "<path>", "<version>", "<duration>", "<num>"} == PLACEHOLDERS


EDGE_CASES = [
    "1.2.3.4.5 1.2.3-1f2e3d4c5b 12.5.6x 1.2.3abc1234 5.1.2.3 v1.2 v1.2.3.4",
    "0x 0x1g 00:00:00:00 10:00:001 2024-01-01T10:00:00 2024-01-01 2024-01-01x",
    "a//b/c /1/2 ~/x/y ./a/b ../c/d.txt C: C:\\x 1/2/3/4",
    "abcdef1-2345-6789 abcdef12-3456-7890-abcd-ef1234567890x 1234567 abcdefa 1bcdefa 12ab",
    "5min 5mins 3d 2h 1µs 5 seconds 5  s 1.5s 1.5.5s 30sec",
    "dead:beef:cafe:babe:face:fade:bead:1eed fe80::1%eth0 [::] ::ffff:10.0.0.1 1::2::3",
    "sha1:<hex> sha256:abc sha512:0123456789abcdef0123",
    "http:// x https://a.b/c). ftp://h/p; <url>/x/y 1.2.3.4:99999",
]


@pytest.mark.parametrize("line", EDGE_CASES)
def test_mask_equals_running_the_masks_in_order_on_edge_cases(line: str) -> None:
    assert mask(line) == _mask_in_order(line)


def test_mask_equals_running_the_masks_in_order_on_a_labelled_build_log() -> None:
    lines = [labelled.text for labelled in generate(3_000, seed=11)]
    assert [mask(line) for line in lines] == [_mask_in_order(line) for line in lines]


def test_mask_equals_running_the_masks_in_order_on_random_fragments() -> None:
    fragments = [
        *("1", "12", "2024", "0x", "ff", "a", "dead", "beef", "v", "-", ".", ":", "::", "/", "\\", " ", "\t"),
        *("T", "Z", "+", "_", "ms", "s", "m", "h", "min", "x", "<", ">", "[", "]", "(", ",", "'", "=", "~", "@"),
        *("http", "://", "sha256", "C", "µs", "0", "9", "e", "AB", "F1", "rc", "seconds", "\x1b[31m", "<num>"),
    ]
    rng = random.Random(5)
    lines = ["".join(rng.choice(fragments) for _ in range(rng.randint(1, 14))) for _ in range(3_000)]
    assert [mask(line) for line in lines] == [_mask_in_order(line) for line in lines]


def test_tokens_are_capped() -> None:
    assert mask_tokens("a 1 b " * 100, 5) == ["a", "<num>", "b", "a", "<num>"]
    assert mask_tokens("a b", 5) == ["a", "b"]


def test_every_mask_pattern_compiles_as_one_regex_of_the_masking_order() -> None:
    assert all(isinstance(rule.pattern, re.Pattern) and rule.placeholder in PLACEHOLDERS for rule in MASKS)
    assert [rule.name for rule in MASKS][:3] == ["url", "ip6_short", "path"]


def test_template_ids_are_short_stable_hex() -> None:
    assert template_id("x <num>") == template_id("x <num>")
    assert re.fullmatch(r"[0-9a-f]{16}", template_id("x <num>"))
    assert template_id("x <num>") != template_id("x <ip>")


def test_log_signatures_masks_with_the_same_functions() -> None:
    assert log_signatures.mask is mask
    assert log_signatures.template_id is template_id
