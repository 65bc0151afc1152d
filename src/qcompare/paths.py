"""Where things live.  Only typed paths; nothing here reads or writes.

The project root is found from this file, so the paths hold for an
editable install and for a run from the repository.  ``QCOMPARE_ROOT``
overrides it (the end-to-end test builds into a temporary copy).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["manifest_path", "normalized_dir", "notebooks_dir", "project_root", "raw_dir", "reports_dir"]


def project_root() -> Path:
    """The repository root (``QCOMPARE_ROOT`` wins when set)."""
    override = os.environ.get("QCOMPARE_ROOT")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[2]


def raw_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "data" / "raw"


def normalized_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "data" / "normalized"


def notebooks_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "notebooks"


def reports_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "reports"


def manifest_path(root: Path | None = None) -> Path:
    return raw_dir(root) / "MANIFEST.csv"
