"""qcompare: compare Chinese local governments' quality-work assessment schemes.

The pipeline, one module per stage:

``errors``      InputError: the one exception for a user's bad input (file, location, fix)
``reader``      tab/blank-line table export → rows and cells with line numbers
``sources``     a user's .docx / .xlsx / text file → grids with merges resolved
``mapping``     header detection; TOML/YAML mapping files
``parsers``     one parser per source document → scheme records (``table``: imported schemes)
``importing``   ``qcompare import``: a new scheme joins the data, all or nothing
``examples``    a small hand-written county scheme as Word, Excel or text
``model``       the records and the builder the parsers fill
``departments`` department cells → mentions → canonical departments (registry)
``weights``     effective points of every leaf
``graph``       responsibility graph, load and concentration metrics
``ontology``    labels on the three facets (rules, model, manual overrides)
``crosswalk``   the same criterion across schemes; SSSOM-style mappings
``coverage``    scheme × lever/domain, unique and shared concepts, the template
``rules``       scoring texts → runnable rules; ``points_kept``
``targets``     thresholds under one metric name across schemes
``strictness``  all-or-nothing share, shortfall losses, vetoes, verification, simulation
``draft``       a county draft from the five; checks; Excel and Word in and out
``tables``      records → typed, sorted tables; CSV in and out
``columnar``    the tables as Parquet for large corpora (DuckDB, pandas, Dask, Spark)
``schema``      pandera schemas, checked before anything is written
``build``       raw files → validated ``data/normalized``
``parallel``    parsing many documents on every CPU core, results in input order
``accounting``  proof that every raw line landed in some table
``plotting``    figures with Chinese labels (Noto Sans CJK SC)
``report``      tables for the notebooks; papermill execution
``cli``         ``qcompare build | report | check | load | graph | draft | check-draft | import``

Most users need only :func:`load_tables` (the committed normalized data)
and the functions re-exported below.  To add a public function, define it
in its stage module, list it in that module's ``__all__``, and re-export
it here.
"""

from __future__ import annotations

from qcompare.accounting import unaccounted_lines
from qcompare.build import build, build_tables
from qcompare.columnar import read_parquet, write_parquet
from qcompare.departments import split_departments
from qcompare.draft import DraftParameters, build_draft, check_draft
from qcompare.graph import concentration, department_load, responsibility_graph
from qcompare.importing import import_scheme, plan_import
from qcompare.plotting import (
    plot_co_assignment,
    plot_heatmap,
    plot_hierarchies,
    plot_hierarchy,
    plot_load_bars,
    plot_lorenz,
    plot_score_curves,
    plot_share_comparison,
    plot_stacked_shares,
    plot_upset,
    use_cjk_font,
)
from qcompare.reader import read_blocks
from qcompare.report import quality_findings, scheme_overview
from qcompare.rules import parse_rule, points_kept, points_kept_many, points_kept_table
from qcompare.tables import load_tables, select_schemes

__all__ = [
    "DraftParameters",
    "build",
    "build_draft",
    "build_tables",
    "check_draft",
    "concentration",
    "department_load",
    "import_scheme",
    "load_tables",
    "parse_rule",
    "plan_import",
    "plot_co_assignment",
    "plot_heatmap",
    "plot_hierarchies",
    "plot_hierarchy",
    "plot_load_bars",
    "plot_lorenz",
    "plot_score_curves",
    "plot_share_comparison",
    "plot_stacked_shares",
    "plot_upset",
    "points_kept",
    "points_kept_many",
    "points_kept_table",
    "quality_findings",
    "read_blocks",
    "read_parquet",
    "responsibility_graph",
    "scheme_overview",
    "select_schemes",
    "split_departments",
    "unaccounted_lines",
    "use_cjk_font",
    "write_parquet",
]

__version__ = "0.6.0"
