"""The Jinja2 environment: templates/*.yaml.j2 rendered to manifest dicts (pure)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jinja2
import yaml

from arcdesk.api.resources import data_dir

# Characters YAML cannot carry raw inside a quoted scalar (non-printable, or line breaks
# that would be folded away); everything else is written as itself.
# libyaml's safe loader parses the same YAML about 10x faster than PyYAML's own; rendering
# is the operator's largest CPU cost (a profile of provisioning showed 60% in safe_load).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def to_yaml_scalar(value: Any) -> str:
    """JSON (a subset of YAML) for a template value; keys sorted like Jinja's ``tojson``.

    Jinja's own ``tojson`` escapes non-ASCII as ``\\uXXXX``; PyYAML turns the surrogate
    pair of an emoji into two lone surrogates, a string no API server or UTF-8 encoder
    accepts. Writing the characters themselves keeps every string intact.
    """
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@cache
def environment() -> jinja2.Environment:
    """One environment; StrictUndefined makes a missing value an error, not blank YAML."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["tojson"] = to_yaml_scalar
    return env


def render(template: str, **context: Any) -> dict[str, Any]:
    """Render ``template`` (e.g. ``pod.yaml.j2``) with ``context`` into one manifest."""
    text = environment().get_template(template).render(**context)
    manifest = yaml.load(text, Loader=_LOADER)  # _LOADER is a safe loader
    if not isinstance(manifest, dict):
        raise ValueError(f"{template} did not render to one object")
    return manifest
