"""The Jinja2 environment: templates/*.yaml.j2 rendered to manifest dicts (pure)."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
import yaml

from arcdesk.resources import data_dir


@cache
def environment() -> jinja2.Environment:
    """One environment; StrictUndefined makes a missing value an error, not blank YAML."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> dict[str, Any]:
    """Render ``template`` (e.g. ``pod.yaml.j2``) with ``context`` into one manifest."""
    text = environment().get_template(template).render(**context)
    manifest = yaml.safe_load(text)
    if not isinstance(manifest, dict):
        raise ValueError(f"{template} did not render to one object")
    return manifest
