"""Parsing the YAML files of `knowledge/`, with libyaml's loader where PyYAML has it."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's loader is several times faster (reading knowledge/regions/ took 0.45 s of a 1.8 s
# start-up with the pure-Python one); a PyYAML built without libyaml has only the latter.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """The data in a YAML document (plain types only, as yaml.safe_load gives)."""
    return yaml.load(text, Loader=LOADER)
