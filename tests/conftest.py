"""Shared fixtures: the real seeds, the tables built from them, the committed data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from qcompare.build import build_tables, parse_documents
from qcompare.model import DocumentResult
from qcompare.paths import project_root, raw_dir
from qcompare.tables import load_tables

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def raw_text() -> dict[str, str]:
    """The text of each raw file, by document id."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(raw_dir().glob("*.txt"))}


@pytest.fixture(scope="session")
def results() -> dict[str, DocumentResult]:
    return {r.document_id: r for r in parse_documents()}


@pytest.fixture(scope="session")
def tables() -> dict[str, pd.DataFrame]:
    """The tables built from data/raw now (not the committed copy)."""
    return build_tables()


@pytest.fixture(scope="session")
def committed() -> dict[str, pd.DataFrame]:
    return load_tables()


@pytest.fixture(scope="session")
def root() -> Path:
    return project_root()


def nodes_of(tables: dict[str, pd.DataFrame], scheme_id: str) -> pd.DataFrame:
    nodes = tables["nodes"]
    return nodes[nodes["scheme_id"] == scheme_id].set_index("node_id")


def issues_of(tables: dict[str, pd.DataFrame], scheme_id: str, kind: str) -> pd.DataFrame:
    issues = tables["data_issues"]
    return issues[(issues["scheme_id"] == scheme_id) & (issues["kind"] == kind)]
