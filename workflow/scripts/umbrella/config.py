"""The analysis configuration: validation against its JSON Schema, defaults filled in."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path

import jsonschema
import yaml

from .errors import InputError, Problem

CONFIG_SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


def _with_defaults(validator_class):
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, spec in properties.items():
                if "default" in spec and name not in instance:
                    instance[name] = copy.deepcopy(spec["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def validate_config(config: Mapping, source: str = "config") -> dict:
    """Return a copy of ``config`` with the schema's defaults filled in; raise :class:`InputError` naming each
    bad key (as a dotted path) and what it should be."""
    with open(CONFIG_SCHEMA, encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    config = copy.deepcopy(dict(config))
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    problems = []
    for err in sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path]):
        key = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        description = err.schema.get("description", "") if isinstance(err.schema, dict) else ""
        hint = f" ({description.strip()})" if description else ""
        problems.append(Problem(source, column=key, message=f"{err.message}{hint}", column_word="key"))
    if problems:
        raise InputError(problems, heading=f"The configuration {source} has problems")
    return config


def load_config(path: str | Path) -> dict:
    """Read and validate a YAML config file."""
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    return validate_config(raw, source=str(path))


def vocabularies(config: Mapping) -> dict[str, list[str]]:
    """Values that the sheets may use and that the config declares: the research-question keys and the
    domains of the implementation framework."""
    return {
        "research_questions": list(config["research_questions"]),
        "framework_domains": list(config["synthesis"]["framework"]["domains"]),
    }
