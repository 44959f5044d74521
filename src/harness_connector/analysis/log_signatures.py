"""Summarise a failed step's log into signatures: its error-looking lines with the variable parts masked.

Two failures are "the same" when their logs say the same thing up to ids, numbers, hosts and paths. Masking those
(`ECONNRESET 10.2.3.4:443 after 5012ms` → `ECONNRESET <ip> after <duration>`) gives a template; its hash is the
signature id the history store uses to find the same failure in other pipelines, branches and days. Pure: lines
in, signatures out, in one pass with memory bounded by the number of distinct templates kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from harness_connector.analysis.logs.masking import mask, strip_ansi, template_id
from harness_connector.domain.logs import LogLine

__all__ = ["Signature", "is_error_line", "mask", "signatures", "template_id"]

_ERROR = re.compile(
    r"error|fail|exception|fatal|panic|traceback|timed? ?out|timeout|refused|denied|unauthori[sz]ed|forbidden|"
    r"not found|cannot|could not|unable to|no space|oomkilled|killed|exit (?:code|status) [1-9]|econn|enotfound|"
    r"eai_again|\b5\d\d\b|toomanyrequests|rate limit",
    re.IGNORECASE,
)
_BENIGN = re.compile(r"\b0 (?:errors?|failures?|failed)\b|failures: 0|errors: 0|exit code 0", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Signature:
    """One template in a log: how often it occurred, where first, and one real line as a sample."""

    template_id: str
    template: str
    count: int
    first_line: int
    sample: str
    level: str


def is_error_line(line: LogLine) -> bool:
    """Whether a line looks like it reports a problem (and not "0 errors")."""
    if line.level.upper() in ("ERROR", "FATAL"):
        return True
    return bool(_ERROR.search(line.text)) and not _BENIGN.search(line.text)


def signatures(lines: Iterable[LogLine], *, max_templates: int = 50, sample_chars: int = 300) -> list[Signature]:
    """The error-looking templates of a log, most frequent first (ties by first appearance).

    Only error-looking lines count: a build log's thousands of ordinary lines would bury the few that explain a
    failure. At most `max_templates` distinct templates are tracked; later new ones are counted in none.
    """
    found: dict[str, _Seen] = {}
    for line in lines:
        if not line.text.strip() or not is_error_line(line):
            continue
        template = mask(line.text)
        if not template:
            continue
        seen = found.get(template)
        if seen is not None:
            seen.count += 1
        elif len(found) < max_templates:
            sample = strip_ansi(line.text).strip()[:sample_chars]
            found[template] = _Seen(count=1, first_line=line.number, sample=sample, level=line.level.upper())
    ordered = sorted(found.items(), key=lambda kv: (-kv[1].count, kv[1].first_line))
    return [
        Signature(
            template_id=template_id(template),
            template=template,
            count=seen.count,
            first_line=seen.first_line,
            sample=seen.sample,
            level=seen.level,
        )
        for template, seen in ordered
    ]


@dataclass(slots=True)
class _Seen:
    count: int
    first_line: int
    sample: str
    level: str
