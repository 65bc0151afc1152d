"""Read the raw documents and prove they are the evidence we think they are.

``data/raw/MANIFEST.csv`` lists every raw file with the seed name it was
copied from, its city and title, its SHA-256 and its size.  The raw files
are never edited; :func:`read_raw` refuses a file whose bytes no longer
match the manifest, so a changed file cannot slip into the data unnoticed.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from qcompare.errors import InputError
from qcompare.paths import manifest_path, raw_dir

__all__ = [
    "MANIFEST_COLUMNS",
    "ManifestEntry",
    "RawFileError",
    "manifest_text",
    "read_manifest",
    "read_raw",
    "sha256_of",
    "verify_raw",
]


class RawFileError(InputError):
    """A raw file is missing, changed, or not valid UTF-8.

    >>> print(RawFileError("data/raw/x.txt", "missing", fix="restore it from git"))
    data/raw/x.txt: missing
      fix: restore it from git
    """

    def __init__(self, file: str | Path, problem: str, location: str | None = None, fix: str | None = None) -> None:
        super().__init__(str(file), location, problem, fix)


@dataclass(frozen=True)
class ManifestEntry:
    file: str
    seed_name: str
    document_id: str
    city: str
    district: str
    admin_level: str
    title: str
    sha256: str
    bytes: int
    #: which parser reads it: a key of qcompare.parsers.PARSERS, or "table" for an imported scheme
    parser: str = ""

    def __post_init__(self) -> None:
        if not self.parser:
            object.__setattr__(self, "parser", self.document_id)


def read_manifest(path: Path | None = None) -> list[ManifestEntry]:
    """The manifest rows, in file order."""
    path = path or manifest_path()
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            ManifestEntry(
                file=row["file"],
                seed_name=row["seed_name"],
                document_id=row["document_id"],
                city=row["city"],
                district=row["district"],
                admin_level=row["admin_level"],
                title=row["title"],
                sha256=row["sha256"],
                bytes=int(row["bytes"]),
                parser=row.get("parser") or row["document_id"],
            )
            for row in csv.DictReader(handle)
        ]


MANIFEST_COLUMNS = [
    "file",
    "seed_name",
    "document_id",
    "city",
    "district",
    "admin_level",
    "title",
    "sha256",
    "bytes",
    "parser",
]


def manifest_text(entries: list[ManifestEntry]) -> str:
    """The manifest as CSV text (``\n`` line ends, the columns in their order).

    >>> entry = ManifestEntry("x.txt", "x.docx", "x", "某市", "", "county", "某县方案", "ab", 3, "table")
    >>> print(manifest_text([entry]), end="")
    file,seed_name,document_id,city,district,admin_level,title,sha256,bytes,parser
    x.txt,x.docx,x,某市,,county,某县方案,ab,3,table
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow({column: getattr(entry, column) for column in MANIFEST_COLUMNS})
    return buffer.getvalue()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_raw(entry: ManifestEntry, directory: Path | None = None) -> Path:
    """Check one raw file against its manifest row and return its path."""
    path = (directory or raw_dir()) / entry.file
    if not path.exists():
        raise RawFileError(
            path, "listed in MANIFEST.csv but missing", fix="restore it from git (raw files are never edited)"
        )
    digest = sha256_of(path)
    if digest != entry.sha256:
        raise RawFileError(
            path,
            f"SHA-256 is {digest}, but MANIFEST.csv records {entry.sha256}",
            fix="raw files are evidence and must not change: restore it with 'git checkout -- data/raw', "
            "and put any fix in the parser instead",
        )
    return path


def read_raw(entry: ManifestEntry, directory: Path | None = None) -> str:
    """The verified text of one raw file."""
    path = verify_raw(entry, directory)
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise RawFileError(
            path, "not UTF-8", location=f"byte {err.start}", fix="convert the file to UTF-8 (qcompare import does it)"
        ) from err
