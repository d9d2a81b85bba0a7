"""Shared fixtures for the eligibility tests: parameter sets with and without overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.eligibility.parameters import ParameterSet

PROJECT = Path(__file__).resolve().parents[2]
PARAMS_DIR = PROJECT / "policy_kb" / "parameters"


@pytest.fixture(scope="session")
def pset(tmp_path_factory) -> ParameterSet:
    """The shipped parameters with an empty overrides file (independent of JZ_DATA_DIR)."""
    return ParameterSet(PARAMS_DIR, tmp_path_factory.mktemp("no_overrides") / "eligibility_parameters.json")
