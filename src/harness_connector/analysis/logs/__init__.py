"""Log template mining: mask a log's variable parts, group its lines into templates, compare two runs' templates.

`masking` turns a line into its shape (`connect to <ip> after <duration>`), `miner` groups lines into templates
online (Drain), `diff` finds the templates of a failed run that a passing run did not print.
"""

from __future__ import annotations

from harness_connector.analysis.logs.diff import diff_templates
from harness_connector.analysis.logs.masking import (
    MASKS,
    PLACEHOLDERS,
    Mask,
    mask,
    mask_tokens,
    strip_ansi,
    template_id,
)
from harness_connector.analysis.logs.miner import (
    OVERFLOW,
    WILDCARD,
    MinerOptions,
    Template,
    TemplateMiner,
    mine,
    mine_log_lines,
)

__all__ = [
    "MASKS",
    "OVERFLOW",
    "PLACEHOLDERS",
    "WILDCARD",
    "Mask",
    "MinerOptions",
    "Template",
    "TemplateMiner",
    "diff_templates",
    "mask",
    "mask_tokens",
    "mine",
    "mine_log_lines",
    "strip_ansi",
    "template_id",
]
