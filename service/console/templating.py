"""The console's templates: the shared environment (service.web.templating) on ``console/templates``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment

from config.settings import get_settings
from service.web.templating import (
    FLAG_LABELS,
    LOCAL_FORMAT,
    ROLE_LABELS,
    STATUS_LABELS,
    actor_label,
    build_environment,
    local_time,
)

# The labels and filters live with the shared configuration; console modules may import them from here.
__all__ = [
    "FLAG_LABELS",
    "LOCAL_FORMAT",
    "ROLE_LABELS",
    "STATIC",
    "STATUS_LABELS",
    "TEMPLATES",
    "actor_label",
    "environment",
    "local_time",
    "render",
]

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def environment() -> Environment:
    """The console's environment: the same settings, filters, labels and i18n as the public pages."""
    return build_environment("service.console")


def render(name: str, **context: Any) -> str:
    """Template ``name`` rendered with ``context`` and the site title; jinja2.TemplateNotFound if there is none."""
    settings = get_settings()
    return environment().get_template(name).render(site_title=settings.site_title, **context)
