"""The configuration: defaults, every bundled config, and readable errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from umbrella.core.config import load_config, validate_config
from umbrella.core.errors import InputError


@pytest.mark.parametrize("path", sorted((ROOT / "config").glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_configs_are_valid(path: Path) -> None:
    config = load_config(path)
    assert (ROOT / config["data"]).is_dir()


def test_defaults_are_filled_in() -> None:
    config = validate_config({"data": "d", "title": "T", "research_questions": {"q": {"label": "Q?"}}})
    assert config["simulated"] is False
    assert config["published"] is None
    assert config["limitations"] == []
    assert config["overview"] == {
        "citation": None,
        "doi": None,
        "registration": None,
        "search": None,
        "published_quality": None,
    }
    assert config["report"] == {"p_values": "threshold"}


def test_a_published_quality_summary_needs_its_counts() -> None:
    base = {"data": "d", "title": "T", "research_questions": {"q": {"label": "Q?"}}}
    stated = {"low_or_critically_low": 34, "of": 35, "source": "Abstract"}
    config = validate_config({**base, "overview": {"published_quality": stated}})
    assert config["overview"]["published_quality"] == stated
    with pytest.raises(InputError, match="of"):
        validate_config({**base, "overview": {"published_quality": {"low_or_critically_low": 34}}})
    with pytest.raises(InputError, match="p_values"):
        validate_config({**base, "report": {"p_values": "scientific"}})


def test_errors_name_each_bad_key() -> None:
    bad = {
        "data": "d",
        "title": "T",
        "research_questions": {"bad key": {"label": "x"}, "ok": {}},
        "published": {"n_reviews": "many"},
        "colour": "blue",
    }
    with pytest.raises(InputError) as info:
        validate_config(bad, source="my.yaml")
    text = str(info.value)
    assert "The configuration my.yaml has problems" in text
    assert "key published.n_reviews: 'many' is not of type 'integer'" in text
    assert "research_questions.ok: 'label' is a required property" in text
    assert "'bad key' does not match" in text
    assert "'colour' was unexpected" in text


def test_sheet_reference_is_up_to_date_with_the_schemas() -> None:
    from umbrella.docs import render

    committed = (ROOT / "config/README.md").read_text(encoding="utf-8")
    assert committed == render(), "run: python -m umbrella.docs config/README.md"
