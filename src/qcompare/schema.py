"""Schemas of the normalized tables, checked before anything is written.

Each table of ``DATA_MODEL.md`` has a pandera schema here: column names,
types, nullability, allowed values and row-level checks.
:func:`validate_tables` runs every schema and then the checks that span
tables (every ``node_id`` a rule, target, assignment or issue names exists;
every parent exists; ids belong to their scheme).  It raises
:class:`TableValidationError` with one line per failure, and returns
:class:`ValidatedTables`, which the CSV and Parquet writers take without
validating again (each validates any other tables it is given).

:func:`schema_document` renders the schemas as the machine-readable
``schema.json`` that ships beside the CSV files.

Text columns are :data:`STRING`, pandas' string dtype with its storage
pinned to ``"python"``.  Left to its default, pandas 3 stores strings in
pyarrow whenever pyarrow is installed, so the same pipeline would produce
differently typed tables (``string[pyarrow]`` in ``schema.json``) and
string methods with different answers (``Series(["二"]).str.isnumeric()``
is True with Python's ``str`` and False in pyarrow; ``"ß".upper()``,
Greek final sigma) depending on what else is installed.  Pinning the dtype
of the package's own tables keeps the data contract and the results the
same in every environment, without touching pandas' global options (a
user's own frames keep whatever storage their pandas chooses).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

__all__ = [
    "DATA_ISSUE_KINDS",
    "ROLES",
    "RULE_TYPES",
    "SCHEMAS",
    "STRING",
    "TableValidationError",
    "ValidatedTables",
    "pin_string_storage",
    "schema_document",
    "validate_tables",
    "validated",
]

#: The dtype of every text column: pandas' ``str`` (missing = NaN) with Python storage, whether or not
#: pyarrow is installed.  ``str(STRING) == "str"``; pandera and ``schema.json`` call it ``string[python]``.
STRING = pd.StringDtype("python", na_value=np.nan)

#: Codes of the three facets of shared/design/ONTOLOGY.md.
NATURES = ["process", "outcome"]
LEVERS = [
    "strategy",
    "organization",
    "funding",
    "culture",
    "credit",
    "supervision",
    "infrastructure",
    "talent",
    "brand",
    "consumer",
    "analysis",
    "innovation",
    "general",
]
DOMAINS = [
    "product",
    "food_agri",
    "engineering",
    "service",
    "environment",
    "special_equipment",
    "trade",
    "economy",
    "general",
]
ADMIN_LEVELS = ["prefecture", "district", "county", "province"]
KINDS = ["annual_assessment", "demonstration_city", "task_breakdown", "target_list", "implementation_plan"]
ASSESSEES = ["county_governments", "district_governments", "towns_streets", "departments", "the_city_itself"]
DEPARTMENT_ROLES = ["owner", "assessor"]
POINTS_STATUS = ["declared", "derived_sum", "recovered", "none"]
RULE_TYPES = [
    "additive",
    "tiered",
    "band_deduction",
    "linear_deduction",
    "rank_based",
    "all_or_nothing",
    "judgment",
    "bonus",
    "veto",
]
ROLES = ["lead", "support", "responsible", "assessor", "collective"]
SEVERITIES = ["info", "warning", "error"]
DATA_ISSUE_KINDS = [
    "recovered_cell",
    "lost_cell",
    "total_mismatch",
    "bonus_in_total",
    "repeated_header",
    "header_variant",
    "merged_cells",
    "filled_down",
    "missing_numbering",
    "numbering_mismatch",
    "duplicate_title",
    "label_mismatch",
    "unexpected_value",
    "unparsed_text",
    "unknown_department",
    "unparsed_rule",
    "rule_points_mismatch",
    "private_use_removed",
    "year_not_stated",
]
RAW_REF = r"^[a-z][a-z0-9_]*\.txt:L\d+(-L\d+)?$"


def _objects(column: pd.Series) -> list[Any]:
    """A column's values as a list of Python objects.  Iterating a pandas string
    column itself goes value by value through its array's ``__getitem__``,
    several times slower."""
    return column.to_numpy(dtype=object).tolist()


def _distinct(column: pd.Series) -> set[Any]:
    """The distinct non-missing values of a column, as a set."""
    return set(_objects(column.dropna()))


def _text(nullable: bool = False, **kwargs: Any) -> pa.Column:
    return pa.Column(STRING, nullable=nullable, **kwargs)


def _choice(values: list[str], nullable: bool = False, **kwargs: Any) -> pa.Column:
    return pa.Column(STRING, pa.Check.isin(values), nullable=nullable, **kwargs)


def _raw_ref() -> pa.Column:
    return pa.Column(STRING, pa.Check.str_matches(RAW_REF), description="file and line range in data/raw")


def _points(**kwargs: Any) -> pa.Column:
    return pa.Column(float, pa.Check.ge(0), nullable=True, **kwargs)


SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "schemes": pa.DataFrameSchema(
        {
            "scheme_id": _text(unique=True, description="stable slug"),
            "document_id": _text(description="the raw document (data/raw/MANIFEST.csv)"),
            "city": _text(),
            "district": _text(nullable=True),
            "admin_level": _choice(ADMIN_LEVELS),
            "year": pa.Column("Int64", nullable=True, description="empty where the document names no year"),
            "title": _text(),
            "kind": _choice(KINDS),
            "assessee": _choice(ASSESSEES),
            "department_role": _choice(DEPARTMENT_ROLES, nullable=True),
            "total_points": _points(description="base points, bonus excluded"),
            "total_points_status": _choice(POINTS_STATUS),
            "bonus_cap": _points(),
            "has_bonus": pa.Column(bool),
            "has_veto": pa.Column(bool),
            "level_labels": _text(nullable=True),
            "source_columns": _text(nullable=True),
            "notes": _text(nullable=True),
            "raw_ref": _raw_ref(),
        },
        strict=True,
        ordered=True,
        name="schemes",
    ),
    "nodes": pa.DataFrameSchema(
        {
            "scheme_id": _text(),
            "node_id": _text(unique=True),
            "parent_id": _text(nullable=True),
            "position": pa.Column(int, pa.Check.ge(1)),
            "level": pa.Column(int, pa.Check.in_range(1, 6)),
            "level_label": _text(),
            "code": _text(nullable=True),
            "title": _text(nullable=True),
            "text": _text(nullable=True),
            "text_raw": _text(nullable=True),
            "points": _points(),
            "points_status": _choice(POINTS_STATUS),
            "is_bonus": pa.Column(bool),
            "is_veto": pa.Column(bool),
            "verification": _text(nullable=True),
            "deadline": _text(nullable=True),
            "raw_ref": _raw_ref(),
        },
        checks=[
            pa.Check(
                lambda df: df["points"].isna() == (df["points_status"] == "none"),
                element_wise=False,
                error="points are empty exactly when points_status is 'none'",
            ),
            pa.Check(
                lambda df: pd.Series(
                    [
                        n.startswith(f"{s}:")
                        for n, s in zip(_objects(df["node_id"]), _objects(df["scheme_id"]), strict=True)
                    ],
                    index=df.index,
                ),
                element_wise=False,
                error="node_id starts with its scheme_id and ':'",
            ),
        ],
        strict=True,
        ordered=True,
        name="nodes",
    ),
    "rules": pa.DataFrameSchema(
        {
            "scheme_id": _text(),
            "node_id": _text(),
            "position": pa.Column(int, pa.Check.ge(1)),
            "rule_text": _text(),
            "rule_type": _choice(RULE_TYPES, nullable=True),
            "max_points": _points(),
            "machine": _text(nullable=True, description="JSON form of the rule (later stage)"),
            "raw_ref": _raw_ref(),
        },
        strict=True,
        ordered=True,
        name="rules",
    ),
    "targets": pa.DataFrameSchema(
        {
            "scheme_id": _text(),
            "node_id": _text(),
            "position": pa.Column(int, pa.Check.ge(1)),
            "metric": _text(nullable=True),
            "comparator": _text(nullable=True),
            "value": pa.Column(float, nullable=True),
            "unit": _text(nullable=True),
            "raw": _text(),
            "source": _choice(["target list", "goal text", "scoring rule"]),
            "raw_ref": _raw_ref(),
        },
        strict=True,
        ordered=True,
        name="targets",
    ),
    "assignments": pa.DataFrameSchema(
        {
            "scheme_id": _text(),
            "node_id": _text(),
            "position": pa.Column(int, pa.Check.ge(1)),
            "department_raw": _text(description="the name as printed"),
            "department_name": _text(
                nullable=True, description="the name with the 市/区 prefix carried over from earlier in its list"
            ),
            "department_id": _text(nullable=True, description="canonical id (data/reference/departments.csv)"),
            "role": _choice(ROLES),
            "qualifier": _text(nullable=True, description="牵头 / 等 / 分工负责 as printed"),
            "inherited": pa.Column(bool, description="taken from a merged cell above"),
            "raw_ref": _raw_ref(),
        },
        unique=["node_id", "position"],
        strict=True,
        ordered=True,
        name="assignments",
    ),
    "departments": pa.DataFrameSchema(
        {
            "department_id": _text(unique=True, description="a kind of body by its function"),
            "name_zh": _text(),
            "name_en": _text(),
            "family": _text(),
            "aliases": _text(nullable=True, description="names printed in the sources for this body, '|'-separated"),
            "successor_2018": _text(description="the body holding the function after the 2018 reform"),
            "successor_id": _text(),
            "successor_note": _text(nullable=True),
            "mentions": pa.Column(int, pa.Check.ge(0), description="assignments naming it"),
        },
        strict=True,
        ordered=True,
        name="departments",
    ),
    "categories": pa.DataFrameSchema(
        {
            "scheme_id": _text(),
            "node_id": _text(),
            "facet": _choice(["nature", "lever", "domain"]),
            "category": _choice(sorted(set(NATURES + LEVERS + DOMAINS))),
            "method": _choice(["rule", "model", "manual"]),
            "evidence": _text(description="matched keywords, or the nearest labelled neighbours"),
            "confidence": pa.Column(float, pa.Check.in_range(0, 1)),
        },
        checks=[
            pa.Check(
                lambda df: (
                    ~df[df["facet"] != "domain"].duplicated(["node_id", "facet"]).reindex(df.index, fill_value=False)
                ),
                element_wise=False,
                error="one nature and one lever per node",
            )
        ],
        unique=["node_id", "facet", "category"],
        strict=True,
        ordered=True,
        name="categories",
    ),
    "crosswalk": pa.DataFrameSchema(
        {
            "concept_id": _text(),
            "scheme_id": _text(),
            "node_id": _text(unique=True),
            "unit_id": _text(description="the matchable unit the node belongs to"),
            "similarity": pa.Column(float, pa.Check.in_range(0, 1), nullable=True),
            "method": _choice(["matched", "unique", "via_parent"]),
            "concept_size": pa.Column(int, pa.Check.ge(1), description="units in the concept"),
        },
        strict=True,
        ordered=True,
        name="crosswalk",
    ),
    "mappings": pa.DataFrameSchema(
        {
            "subject_id": _text(),
            "subject_label": _text(nullable=True),
            "subject_source": _text(),
            "predicate_id": _choice(["skos:exactMatch", "skos:closeMatch", "skos:relatedMatch"]),
            "object_id": _text(),
            "object_label": _text(nullable=True),
            "object_source": _text(),
            "mapping_justification": _text(),
            "confidence": pa.Column(float, pa.Check.in_range(0, 1)),
            "comment": _text(),
        },
        unique=["subject_id", "object_id"],
        strict=True,
        ordered=True,
        name="mappings",
    ),
    "data_issues": pa.DataFrameSchema(
        {
            "scheme_id": _text(),
            "node_id": _text(nullable=True),
            "kind": _choice(DATA_ISSUE_KINDS),
            "severity": _choice(SEVERITIES),
            "message": _text(),
            "evidence": _text(nullable=True),
            "raw_ref": _raw_ref(),
        },
        strict=True,
        ordered=True,
        name="data_issues",
    ),
}


#: How pandera names :data:`STRING` (``string[python]``, the name ``schema.json`` records).
_STRING_TYPE = pa.Column(STRING).dtype


class TableValidationError(ValueError):
    """The tables break their schema; the message lists every failure."""


def _cross_table_failures(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    failures: list[str] = []
    schemes = _distinct(tables["schemes"]["scheme_id"])
    nodes = tables["nodes"]
    node_ids = _distinct(nodes["node_id"])
    for name, frame in tables.items():
        if name in ("schemes", "departments", "mappings"):
            continue
        unknown = sorted(_distinct(frame["scheme_id"]) - schemes)
        if unknown:
            failures.append(f"{name}: scheme_id not in schemes: {unknown}")
        if "node_id" in frame and name != "nodes":
            missing = sorted(_distinct(frame["node_id"]) - node_ids)
            if missing:
                failures.append(f"{name}: node_id not in nodes: {missing[:5]}")
    if "mappings" in tables:
        ends = _distinct(tables["mappings"]["subject_id"]) | _distinct(tables["mappings"]["object_id"])
        missing_ends = sorted(ends - node_ids)
        if missing_ends:
            failures.append(f"mappings: ids not in nodes: {missing_ends[:5]}")
    if "departments" in tables:
        known = _distinct(tables["departments"]["department_id"])
        unknown_ids = sorted(_distinct(tables["assignments"]["department_id"]) - known)
        if unknown_ids:
            failures.append(f"assignments: department_id not in departments: {unknown_ids[:5]}")
    orphans = sorted(_distinct(nodes["parent_id"]) - node_ids)
    if orphans:
        failures.append(f"nodes: parent_id not in nodes: {orphans[:5]}")
    return failures


def pin_string_storage(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables with every text column of their schema stored as :data:`STRING`.

    A string column held in another storage (pyarrow's, which pandas 3
    picks by default when pyarrow is installed) is converted; the values
    are unchanged, and columns of any other dtype are left for the schema
    to judge.  Tables without a schema pass through.

    >>> frame = pd.DataFrame({"scheme_id": pd.array(["ezhou"], dtype="string")})  # another string dtype
    >>> pin_string_storage({"schemes": frame})["schemes"]["scheme_id"].dtype == STRING
    True
    """
    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        schema = SCHEMAS.get(name)
        if schema is not None:
            convert = [
                column
                for column, spec in schema.columns.items()
                if column in frame.columns
                and str(spec.dtype) == str(_STRING_TYPE)
                and isinstance(frame[column].dtype, pd.StringDtype)
                and frame[column].dtype != STRING
            ]
            if convert:
                frame = frame.astype(dict.fromkeys(convert, STRING))
        out[name] = frame
    return out


#: pandas 3 is always copy-on-write: a shallow copy of a frame is a new frame that no change to
#: the original (or to the copy) reaches, so validation need not copy the data.
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3

_MADE_BY_VALIDATE = object()


class ValidatedTables(Mapping[str, pd.DataFrame]):
    """Tables that :func:`validate_tables` has checked: every table of :data:`SCHEMAS`, read-only.

    Only :func:`validate_tables` makes one.  Each writer
    (:func:`qcompare.tables.write_tables`, :func:`qcompare.columnar.write_parquet`)
    validates the tables it is given unless they are a ``ValidatedTables``, so
    tables validated once are written as CSV and as Parquet without being
    checked twice.  Looking a table up gives a new (copy-on-write) frame, so
    changing it leaves the validated table as it was.

    >>> ValidatedTables({})
    Traceback (most recent call last):
    ...
    TypeError: only validate_tables(tables) makes ValidatedTables
    """

    __slots__ = ("_frames",)

    def __init__(self, frames: Mapping[str, pd.DataFrame], *, _key: object = None) -> None:
        if _key is not _MADE_BY_VALIDATE:
            raise TypeError("only validate_tables(tables) makes ValidatedTables")
        self._frames = dict(frames)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self._frames[name].copy(deep=not _COPY_ON_WRITE)

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    def __repr__(self) -> str:
        return f"ValidatedTables({', '.join(f'{name}: {len(frame)} rows' for name, frame in self._frames.items())})"


def validate_tables(tables: Mapping[str, pd.DataFrame]) -> ValidatedTables:
    """Validate every table and the links between them.

    Text columns are first stored as :data:`STRING` (:func:`pin_string_storage`).
    Returns the validated tables (:class:`ValidatedTables`); raises
    :class:`TableValidationError` naming each failed table, column and check.
    Tables already validated are validated again (see :func:`validated`).
    """
    failures: list[str] = []
    checked: dict[str, pd.DataFrame] = {}
    tables = pin_string_storage(tables)
    for name, schema in SCHEMAS.items():
        if name not in tables:
            failures.append(f"{name}: table missing")
            continue
        frame = tables[name]
        try:
            # pandera copies the frame unless told to work in place; a shallow copy does under copy-on-write
            if _COPY_ON_WRITE:
                checked[name] = schema.validate(frame.copy(deep=False), lazy=True, inplace=True)
            else:
                checked[name] = schema.validate(frame, lazy=True)
        except SchemaErrors as err:
            cases = err.failure_cases
            for _, case in cases.head(20).iterrows():
                failures.append(
                    f"{name}: column {case['column']!s}, check {case['check']!s}, "
                    f"row {case['index']!s}: {case['failure_case']!s}"
                )
    if not failures:
        failures.extend(_cross_table_failures(checked))
    if failures:
        raise TableValidationError("the normalized tables fail their schema:\n  " + "\n  ".join(failures))
    return ValidatedTables(checked, _key=_MADE_BY_VALIDATE)


def validated(tables: Mapping[str, pd.DataFrame]) -> ValidatedTables:
    """The tables, validated: as they are if they are :class:`ValidatedTables`
    already, else :func:`validate_tables` of them.  What the writers call first.

    >>> from qcompare.tables import load_tables
    >>> checked = validate_tables(load_tables())
    >>> validated(checked) is checked
    True
    """
    return tables if isinstance(tables, ValidatedTables) else validate_tables(tables)


def schema_document() -> str:
    """The schemas as deterministic JSON (``data/normalized/schema.json``)."""
    doc: dict[str, Any] = {}
    for name, schema in SCHEMAS.items():
        columns = {}
        for col_name, col in schema.columns.items():
            entry: dict[str, Any] = {"dtype": str(col.dtype), "nullable": col.nullable}
            if col.unique:
                entry["unique"] = True
            if col.description:
                entry["description"] = col.description
            for check in col.checks:
                stats = getattr(check, "statistics", None) or {}
                if "allowed_values" in stats:
                    entry["allowed"] = sorted(str(v) for v in stats["allowed_values"])
                elif stats:
                    entry.setdefault("checks", []).append(
                        {"name": check.name, **{k: str(v) for k, v in sorted(stats.items())}}
                    )
            columns[col_name] = entry
        doc[name] = {
            "columns": columns,
            "table_checks": sorted(str(c.error) for c in schema.checks if c.error),
        }
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
