"""``qcompare import``: add a researcher's own scheme beside the five.

:func:`plan_import` reads a ``.docx``, ``.xlsx`` or tab-text file
(:mod:`qcompare.sources`), finds the scheme table and its header
(:mod:`qcompare.mapping`, or a mapping file), writes the table as text in
the seeds' format and parses it (:mod:`qcompare.parsers.table`).  Nothing
is written yet.

:func:`import_scheme` then adds the scheme to the project's data, or
changes nothing:

1. a staging folder inside ``data/`` receives a copy of ``data/raw`` plus
   the new files — ``<id>.txt`` (the table as text; every ``raw_ref``
   points into it), ``<id>.import.json`` (the import record: column roles,
   merges, and the original cell each line came from) and
   ``originals/<id>.<ext>`` (the file as given) — and a manifest with one
   more row;
2. the whole pipeline runs on the staged copy (parsing, department
   resolution, rules, ontology, crosswalk, schema validation) and proves
   every line of the new text lands in some table;
3. only then are ``data/raw`` and ``data/normalized`` swapped for the
   staged ones, one directory rename each, rolled back if the second
   fails.  Any error before or during the swap leaves both folders
   byte-identical; the staging folder is removed either way.

A scheme id is a lower-case slug (``^[a-z][a-z0-9_]{1,39}$``) that no
scheme or document uses yet, so it cannot name a path outside
``data/raw``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from qcompare.build import build_tables, import_record_name
from qcompare.errors import InputError
from qcompare.mapping import (
    HIERARCHY_ROLES,
    SINGLE_ROLES,
    Mapping,
    column_index,
    detect_header,
    header_roles,
    load_mapping,
)
from qcompare.model import DocumentResult
from qcompare.parsers.table import ImportSpec, parse_table
from qcompare.paths import normalized_dir, project_root, raw_dir
from qcompare.raw import ManifestEntry, manifest_text, read_manifest
from qcompare.reader import iter_rows, read_blocks, split_lines
from qcompare.schema import TableValidationError
from qcompare.sources import SourceCell, SourceTable, read_source
from qcompare.tables import write_tables
from qcompare.text import clean_text

__all__ = [
    "ImportPlan",
    "ImportResult",
    "check_scheme_id",
    "column_roles",
    "import_scheme",
    "import_summary",
    "plan_import",
    "scratch_project",
    "table_as_text",
]

SCHEME_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
Progress = Callable[[str], None]


@dataclass
class ImportPlan:
    """What an import would add: the text, its import record, the parsed scheme."""

    scheme_id: str
    source: Path
    text: str
    spec: ImportSpec
    document: DocumentResult
    warnings: list[str] = field(default_factory=list)

    @property
    def file(self) -> str:
        return f"{self.scheme_id}.txt"


@dataclass
class ImportResult:
    """A finished import: the plan, the tables now in the data, the files written."""

    plan: ImportPlan
    tables: dict[str, pd.DataFrame]
    written: list[Path]

    def summary(self) -> pd.DataFrame:
        """Nodes per level, points and data issues of the imported scheme."""
        return import_summary(self.tables, self.plan.scheme_id)


def check_scheme_id(scheme_id: str, taken: set[str], raw: Path) -> str:
    """The scheme id if it is a safe, unused slug; an InputError otherwise.

    >>> check_scheme_id("suzhou_2016", {"nantong"}, Path("data/raw"))
    'suzhou_2016'
    >>> check_scheme_id("../../etc/x", set(), Path("data/raw"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qcompare.errors.InputError: --id, '../../etc/x': a scheme id is 2-40 lower-case letters, digits or _, ...
      fix: choose an id such as 'suzhou' or 'suzhou_2016'
    """
    if not SCHEME_ID.fullmatch(scheme_id):
        raise InputError(
            "--id",
            repr(scheme_id),
            "a scheme id is 2-40 lower-case letters, digits or _, starting with a letter",
            "choose an id such as 'suzhou' or 'suzhou_2016'",
        )
    if scheme_id in taken:
        raise InputError(
            "--id",
            repr(scheme_id),
            "a scheme or document with this id is already in the data",
            "choose another id, or pass --replace to re-import an imported scheme",
        )
    target = (raw / f"{scheme_id}.txt").resolve()
    if target.parent != raw.resolve():
        raise InputError("--id", repr(scheme_id), "the id would write outside data/raw", "choose a plain slug")
    return scheme_id


def _choose_table(tables: list[SourceTable], mapping: Mapping, file: str) -> tuple[SourceTable, int, list[str | None]]:
    """The scheme table, its header row and the role of each column."""
    if mapping.table is not None:
        wanted = mapping.table.strip()
        chosen = [t for t in tables if wanted in (t.name, t.name.split(" ", 1)[-1])]
        if not chosen:
            names = ", ".join(t.name for t in tables)
            raise InputError(file, f"mapping key table = {wanted!r}", "no such table", f"choose one of: {names}")
        tables = chosen
    found = []
    for table in tables:
        if mapping.header_row is not None:
            index = mapping.header_row - 1
            if index >= len(table.rows):
                raise InputError(
                    file,
                    table.name,
                    f"header_row {mapping.header_row} is past the last row ({len(table.rows)})",
                    "fix header_row",
                )
            found.append((table, index, header_roles(table.rows[index], table.width)))
            continue
        detected = detect_header(table)
        if detected is not None:
            found.append((table, detected[0], detected[1]))
    if not found:
        first = next(
            (
                " | ".join(c.text for c in row if c.text.strip())
                for t in tables
                for row in t.rows
                if any(c.text.strip() for c in row)
            ),
            "",
        )
        raise InputError(
            file,
            tables[0].name if len(tables) == 1 else None,
            "no header row with known column names (一级指标, 考核内容, 分值, 评分标准, 牵头单位 …); "
            f"first row: {first[:80]!r}",
            "write a mapping file with header_row and [columns] and pass it with --mapping",
        )
    if len(found) > 1:
        names = ", ".join(t.name for t, _, _ in found)
        raise InputError(
            file,
            None,
            f"{len(found)} tables look like scheme tables ({names})",
            'say which in a mapping file: table = "..."',
        )
    table, index, roles = found[0]
    headers = [cell.text for cell in table.rows[index]]
    roles = list(roles)
    for key, role in mapping.columns.items():
        column = column_index(key, headers)
        if column is None or column >= table.width:
            raise InputError(
                file,
                f"mapping key columns.{key}",
                "no such column in the header row",
                f"use one of: {' | '.join(headers)}",
            )
        roles[column] = None if role == "ignore" else role
    _inherit_merged_headers(table, index, roles)
    _check_roles(roles, headers, file, table.name)
    return table, index, roles


def _inherit_merged_headers(table: SourceTable, index: int, roles: list[str | None]) -> None:
    """A header merged across several columns (考核指标 over 一级 and 二级)
    gives each column it covers the same hierarchy role."""
    for c, cell in enumerate(table.rows[index]):
        anchor = cell.merged_into
        if roles[c] is None and anchor is not None and anchor[0] == index and roles[anchor[1]] in HIERARCHY_ROLES:
            roles[c] = roles[anchor[1]]


def _check_roles(roles: list[str | None], headers: list[str], file: str, where: str) -> None:
    if not any(role in HIERARCHY_ROLES for role in roles):
        raise InputError(
            file,
            where,
            "no column names the indicators (一级指标, 二级指标, 考核内容, 考核要点 …)",
            "map one in the mapping file's [columns]",
        )
    for role in SINGLE_ROLES:
        columns = [headers[c] or str(c + 1) for c, r in enumerate(roles) if r == role]
        if len(columns) > 1:
            raise InputError(
                file,
                where,
                f"{len(columns)} columns are {role} ({', '.join(columns)})",
                'map all but one to "ignore" in [columns]',
            )


def _cell_lines(text: str) -> list[str]:
    """A cell's text as export lines: tabs to spaces, no blank first or last
    line, no run of blank lines (the reader would end the row there)."""
    lines = [line.rstrip() for line in split_lines(text.replace("\t", " "))]
    lines = ["" if not line.strip(" \u3000\xa0") else line for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    out: list[str] = []
    for line in lines:
        if not line and out and not out[-1]:
            continue
        out.append(line)
    return out or [""]


def table_as_text(
    table: SourceTable, header: int
) -> tuple[str, list[tuple[int, int, int, int]], list[tuple[int, str]]]:
    """A grid as text in the seeds' format, from the header row down.

    Returns the text, the merges re-numbered to the text's table rows, and
    the original location of every cell's first line.  Empty rows and empty
    columns are left out; the rows above the header become title lines.

    >>> from qcompare.sources import SourceCell as C
    >>> grid = [[C("方案", "A1"), C("", "B1", (0, 0))], [C("一级指标", "A2"), C("分值", "B2")]]
    >>> grid.append([C("质量目标", "A3"), C("40", "B3")])
    >>> text, merges, cells = table_as_text(SourceTable("x.xlsx", "sheet 1", grid), 1)
    >>> text.split("\\n")
    ['方案', '', '', '\\t一级指标', '\\t分值', '', '\\t质量目标', '\\t40', '']
    >>> cells[:2]
    [(4, 'A2'), (5, 'B2')]
    """
    rows = table.rows
    kept_rows, kept_columns = _kept(table, header)
    lines = [line for text in table.before for line in _cell_lines(text) if line]
    for r in range(header):  # a row above the header (a title, a subtitle) becomes one line
        texts = [" ".join(line for line in _cell_lines(text) if line) for text in _cell_texts(rows[r])]
        if texts:
            lines.append(" | ".join(texts))
    if lines:
        lines += ["", ""]
    cells: list[tuple[int, str]] = []
    for number, r in enumerate(kept_rows):
        if number:
            lines.append("")
        for c in kept_columns:
            cell = rows[r][c]
            location = cell.location
            if cell.merged_into is not None:
                ar, ac = cell.merged_into
                location += f" (merged into {rows[ar][ac].location.rsplit(', ', 1)[-1]})"
            cells.append((len(lines) + 1, location))
            parts = _cell_lines(cell.text)
            lines.append("\t" + parts[0])
            lines.extend(parts[1:])
    after = [line for text in table.after for line in _cell_lines(text) if line]
    if after:
        lines += ["", "", *after]
    row_number = {r: n for n, r in enumerate(kept_rows)}
    column_number = {c: n for n, c in enumerate(kept_columns)}
    merges = []
    for r0, c0, r1, c1 in table.merges():
        if r0 not in row_number or c0 not in column_number:
            continue
        inside_rows = [row_number[r] for r in range(r0, r1 + 1) if r in row_number]
        inside_columns = [column_number[c] for c in range(c0, c1 + 1) if c in column_number]
        if len(inside_rows) > 1 or len(inside_columns) > 1:
            merges.append((inside_rows[0], inside_columns[0], inside_rows[-1], inside_columns[-1]))
    text = "\n".join(lines) + "\n"
    expected = [[_cell_lines(rows[r][c].text) for c in kept_columns] for r in kept_rows]
    got = [[cell.text.split("\n") for cell in row.cells] for row in iter_rows(read_blocks(text))]
    if got != expected:
        raise RuntimeError(
            f"{table.file}: the text export of {table.name} does not read back as the same table (a qcompare bug)"
        )
    return text, merges, cells


def _kept(table: SourceTable, header: int) -> tuple[list[int], list[int]]:
    """The rows (from the header down) and columns that hold text or a merge."""

    def used(r: int, c: int) -> bool:
        row = table.rows[r]
        return c < len(row) and (bool(row[c].text.strip()) or row[c].merged_into is not None)

    rows = [r for r in range(header, len(table.rows)) if any(used(r, c) for c in range(table.width))]
    columns = [c for c in range(table.width) if any(used(r, c) for r in rows)]
    return rows, columns


def _cell_texts(row: list[SourceCell]) -> list[str]:
    return [cell.text for cell in row if cell.text.strip()]


def plan_import(
    source: Path,
    scheme_id: str,
    mapping: Mapping | Path | None = None,
    *,
    encoding: str | None = None,
    root: Path | None = None,
    replace: bool = False,
) -> ImportPlan:
    """Read, detect and parse a scheme file; write nothing."""
    source = Path(source)
    raw = raw_dir(root)
    entries = read_manifest(raw / "MANIFEST.csv")
    taken = {e.document_id for e in entries} | {Path(e.file).stem for e in entries}
    if replace:
        existing = [e for e in entries if e.document_id == scheme_id]
        if existing and existing[0].parser != "table":
            raise InputError(
                "--id",
                repr(scheme_id),
                "--replace only replaces an imported scheme, not one of the seeds",
                "choose another id",
            )
        taken -= {scheme_id}
    check_scheme_id(scheme_id, taken, raw)
    if isinstance(mapping, Path):
        mapping = load_mapping(mapping)
    mapping = mapping or Mapping()
    tables = read_source(source, encoding)
    table, header, roles = _choose_table(tables, mapping, source.name)
    warnings = []
    if table.text is not None:
        text = table.text
        merges: list[tuple[int, int, int, int]] = []
        cells: list[tuple[int, str]] = []
        header_row = header
        columns = roles[: len(table.rows[header])]
        source_format = "text"
    else:
        text, merges, cells = table_as_text(table, header)
        header_row = 0
        columns = [roles[c] for c in _kept(table, header)[1]]
        source_format = source.suffix.lower().lstrip(".")
    unmapped = [
        clean_text(c.text) or f"column {i + 1}"
        for i, c in enumerate(table.rows[header])
        if roles[i] is None and c.text.strip()
    ]
    if unmapped:
        warnings.append(f"columns kept as data issues (not mapped to the data model): {', '.join(unmapped)}")
    spec = ImportSpec(
        original=f"originals/{scheme_id}{source.suffix.lower() or '.txt'}",
        original_sha256=hashlib.sha256(source.read_bytes()).hexdigest(),
        source_format=source_format,
        source_table=table.name,
        encoding=table.encoding,
        header_row=header_row,
        columns=columns,
        merges=merges,
        cells=cells,
        scheme=mapping.scheme,
    )
    document = parse_table(text, f"{scheme_id}.txt", scheme_id, spec)
    if not mapping.scheme.city:
        warnings.append("no city given: set scheme.city in a mapping file (or --city); 未注明 is recorded")
    return ImportPlan(scheme_id, source, text, spec, document, warnings)


def column_roles(plan: ImportPlan) -> pd.DataFrame:
    """Each column of the imported table: its header and the role it was given."""
    header = next(row for index, row in enumerate(iter_rows(read_blocks(plan.text))) if index == plan.spec.header_row)
    return pd.DataFrame(
        {
            "column": range(1, len(plan.spec.columns) + 1),
            "header": [clean_text(c.text) for c in header.cells] + [""] * (len(plan.spec.columns) - len(header.cells)),
            "role": [role or "(kept as data issues)" for role in plan.spec.columns],
        }
    )


def scratch_project(target: Path, root: Path | None = None) -> Path:
    """Copy a project's ``data/raw`` and ``data/normalized`` into ``target``
    (a project root of its own), to try imports without touching the real data."""
    for source, copy in ((raw_dir(root), raw_dir(target)), (normalized_dir(root), normalized_dir(target))):
        if copy.exists():
            raise InputError(str(copy), None, "already exists", "choose an empty folder for the scratch project")
        shutil.copytree(source, copy)
    return target


def import_summary(tables: dict[str, pd.DataFrame], scheme_id: str) -> pd.DataFrame:
    """One row per level of a scheme: label, nodes, points; then the data issues by kind."""
    nodes = tables["nodes"][tables["nodes"]["scheme_id"] == scheme_id]
    levels = nodes.groupby(["level", "level_label"], sort=True).agg(nodes=("node_id", "size"), points=("points", "sum"))
    issues = tables["data_issues"][tables["data_issues"]["scheme_id"] == scheme_id]
    kinds = issues.groupby("kind").size().rename("nodes").to_frame()
    kinds.index = pd.MultiIndex.from_tuples([("data issue", k) for k in kinds.index], names=["level", "level_label"])
    return pd.concat([levels.reset_index(), kinds.reset_index()], ignore_index=True)


def import_scheme(
    source: Path,
    scheme_id: str,
    mapping: Mapping | Path | None = None,
    *,
    encoding: str | None = None,
    root: Path | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a scheme file into the project's data (see the module docs)."""
    say = progress or (lambda _message: None)
    root = root or project_root()
    raw, normalized = raw_dir(root), normalized_dir(root)
    say(f"reading {source}")
    plan = plan_import(source, scheme_id, mapping, encoding=encoding, root=root, replace=replace)
    for warning in plan.warnings:
        say(f"warning: {warning}")
    say(f"{plan.spec.source_table}: {len(plan.document.schemes[0].nodes)} nodes parsed")
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=raw.parent))
    try:
        staged_raw, staged_normalized = staging / "raw", staging / "normalized"
        shutil.copytree(raw, staged_raw)
        _stage_files(plan, staged_raw, replace)
        say("running the whole pipeline on the staged data")
        tables = build_tables(staged_raw, progress=say)
        _prove_nothing_lost(tables, staged_raw, plan)
        if normalized.exists():
            shutil.copytree(normalized, staged_normalized)
        try:
            written = write_tables(tables, staged_normalized)
        except TableValidationError as err:
            raise InputError(
                plan.source.name, None, f"the imported scheme breaks the data model: {err}", "check the column mapping"
            ) from err
        _swap([(staged_raw, raw), (staged_normalized, normalized)])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    files = [raw / plan.file, raw / import_record_name(plan.file), raw / plan.spec.original, raw / "MANIFEST.csv"]
    say(f"added {scheme_id}: {', '.join(str(p) for p in files)}; rewrote {len(written)} files in {normalized}")
    return ImportResult(plan, tables, files + [normalized / p.name for p in written])


def _stage_files(plan: ImportPlan, raw: Path, replace: bool) -> None:
    entries = read_manifest(raw / "MANIFEST.csv")
    if replace:
        for entry in [e for e in entries if e.document_id == plan.scheme_id]:
            for name in (entry.file, import_record_name(entry.file)):
                (raw / name).unlink(missing_ok=True)
            for old in (raw / "originals").glob(f"{plan.scheme_id}.*"):
                old.unlink()
        entries = [e for e in entries if e.document_id != plan.scheme_id]
    data = plan.text.encode("utf-8")
    (raw / plan.file).write_bytes(data)
    (raw / import_record_name(plan.file)).write_text(plan.spec.model_dump_json(indent=1) + "\n", encoding="utf-8")
    (raw / "originals").mkdir(exist_ok=True)
    shutil.copyfile(plan.source, raw / plan.spec.original)
    scheme = plan.document.schemes[0].scheme
    entries.append(
        ManifestEntry(
            file=plan.file,
            seed_name=plan.source.name,
            document_id=plan.scheme_id,
            city=scheme["city"],
            district=scheme["district"] or "",
            admin_level=scheme["admin_level"],
            title=scheme["title"],
            sha256=hashlib.sha256(data).hexdigest(),
            bytes=len(data),
            parser="table",
        )
    )
    (raw / "MANIFEST.csv").write_text(manifest_text(entries), encoding="utf-8", newline="")


def _prove_nothing_lost(tables: dict[str, pd.DataFrame], raw: Path, plan: ImportPlan) -> None:
    from qcompare.accounting import unaccounted_lines

    missing = unaccounted_lines(tables, raw)
    missing = missing[missing["file"] == plan.file]
    if len(missing):
        lines = ", ".join(f"line {n}" for n in missing["line"].head(5))
        raise RuntimeError(
            f"{plan.file}: {len(missing)} line(s) land in no table ({lines}); a qcompare bug, please report it"
        )


def _swap(pairs: list[tuple[Path, Path]]) -> None:
    """Replace each target folder by its staged one; all or nothing."""
    done: list[tuple[Path, Path]] = []
    token = os.urandom(4).hex()
    try:
        for staged, target in pairs:
            old = target.with_name(f".{target.name}.old-{token}")
            if target.exists():
                target.rename(old)
            try:
                staged.rename(target)
            except BaseException:
                if old.exists():
                    old.rename(target)
                raise
            done.append((old, target))
    except BaseException:
        for old, target in reversed(done):
            shutil.rmtree(target, ignore_errors=True)
            if old.exists():
                old.rename(target)
        raise
    for old, _ in done:
        shutil.rmtree(old, ignore_errors=True)
