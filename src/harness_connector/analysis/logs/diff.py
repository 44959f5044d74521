"""What a failed run printed that a passing run of the same step did not: the templates new to the failure.

Comparing template ids alone reports noise, because two runs generalise the same message differently: the
passing run saw `retrying in <*>` with several values and the failed run only `retrying in 5s`. So a failed
template also counts as known when the baseline's miner would put its sample line into one of its templates,
which is Drain's own test of "the same message" and tolerates exactly the variation the miner does.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Unpack

from harness_connector.analysis.logs.miner import MinerOptions, Template, TemplateMiner

__all__ = ["diff_templates"]


def diff_templates(
    failed: Sequence[Template],
    baseline: Sequence[Template] | TemplateMiner,
    **options: Unpack[MinerOptions],
) -> list[Template]:
    """The templates of `failed` that the baseline run never printed, in order of first appearance.

    `baseline` is either the passing run's templates or the miner that mined it (which knows its tree as it
    grew). `options` configure the miner rebuilt from templates; a `sim_threshold` closer to 1 reports more
    templates as new.
    """
    reference = baseline if isinstance(baseline, TemplateMiner) else TemplateMiner.from_templates(baseline, **options)
    known = {template.template_id for template in reference.templates()}
    new = [
        template
        for template in failed
        if template.template_id not in known and reference.match(template.sample) is None
    ]
    return sorted(new, key=operator.attrgetter("first_line"))
