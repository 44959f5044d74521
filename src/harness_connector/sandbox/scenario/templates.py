"""Every successful-log template, by id (`install:npm`, `test:maven`, `deploy:rolling`, ...)."""

from __future__ import annotations

from harness_connector.sandbox.scenario.template import LogTemplate
from harness_connector.sandbox.scenario.templates_build import BUILD_TEMPLATES
from harness_connector.sandbox.scenario.templates_ops import OPS_TEMPLATES

__all__ = ["TEMPLATES", "LogTemplate"]

TEMPLATES: dict[str, LogTemplate] = {template.id: template for template in (*BUILD_TEMPLATES, *OPS_TEMPLATES)}
