"""The analysis configuration: validation against its JSON Schema, defaults filled in."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path

import jsonschema
import yaml

from umbrella.core.errors import InputError, Problem, shorten

CONFIG_SCHEMA = Path(__file__).resolve().parents[3] / "schemas" / "config.schema.yaml"


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
        # the value shown in jsonschema's message may be huge (YAML anchors expand): cut it, keep the hint whole
        message = shorten(err.message, 300)
        problems.append(Problem(source, column=key, message=f"{message}{hint}", column_word="key"))
    if not problems:
        problems = _reanalysis_problems(config, source)
    if problems:
        raise InputError(problems, heading=f"The configuration {source} has problems")
    return config


def _reanalysis_problems(config: Mapping, source: str) -> list[Problem]:
    """What the schema cannot say: personalised classes need criteria, and the equivalence ranges of the GRADE
    inconsistency rule must hold the null inside them."""
    problems = []
    reanalysis = config.get("reanalysis", {})
    if reanalysis.get("classes") == "personalised" and not any((reanalysis.get("personalised") or {}).values()):
        problems.append(
            Problem(
                source,
                column="reanalysis.personalised",
                column_word="key",
                message="classes: personalised needs the thresholds of at least one class here, e.g. "
                "personalised: {I: {n_cases: 1000, p_value: 1.0e-6}} (see config/README.md)",
            )  # fmt: skip
        )
    grade = reanalysis.get("grade", {})
    for key, null in (("eq_range_or", 1.0), ("eq_range_g", 0.0)):
        lower, upper = grade.get(key, (null - 1, null + 1))
        if not lower < null < upper:
            problems.append(
                Problem(
                    source,
                    column=f"reanalysis.grade.{key}",
                    value=str([lower, upper]),
                    column_word="key",
                    message=f"must be [lower, upper] with lower < {null:g} < upper",
                )  # fmt: skip
            )
    return problems


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
