"""The ``qcompare`` command line.

``qcompare build``   rebuild data/normalized from data/raw (``--parquet DIR``: also as Parquet)
``qcompare report``  execute every notebook into reports/ (ipynb + HTML)
``qcompare check``   verify raw checksums, the schema, raw-line accounting,
                     and that the committed data is current
``qcompare load``    print the load table (who carries how much)
``qcompare graph``   export the responsibility graph as GraphML and GEXF
``qcompare draft``   draft a county scheme, check it, write .xlsx / .docx
``qcompare check-draft``  check a (hand-edited) draft workbook
``qcompare import``  add your own scheme (.docx, .xlsx or tab-text) to the data

Errors in the input (a changed raw file, a row of the wrong shape) end
with a one-line message naming the file, the line and what was expected,
and exit status 2, never a traceback.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qcompare.errors import InputError
from qcompare.schema import TableValidationError

if TYPE_CHECKING:
    from qcompare.draft import CheckResult

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Compare quality-work assessment schemes.")

#: What a user can cause (qcompare.errors.InputError covers ParseError and RawFileError).
_INPUT_ERRORS = (InputError, TableValidationError, FileNotFoundError)


def _fail(err: Exception) -> None:
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
def build(
    raw: Annotated[Path | None, typer.Option(help="folder with the raw files and MANIFEST.csv")] = None,
    out: Annotated[Path | None, typer.Option(help="folder to write the normalized tables to")] = None,
    parquet: Annotated[
        Path | None, typer.Option(help="also write every table as <table>.parquet into this folder (needs pyarrow)")
    ] = None,
) -> None:
    """Rebuild the normalized tables from the raw documents."""
    from qcompare.build import build as run_build

    try:
        run_build(raw, out, progress=typer.echo, parquet=parquet)
    except _INPUT_ERRORS as err:
        _fail(err)


@app.command()
def report(
    notebooks: Annotated[Path | None, typer.Option(help="folder of notebooks to execute")] = None,
    out: Annotated[Path | None, typer.Option(help="folder for executed notebooks and HTML")] = None,
) -> None:
    """Execute every notebook with papermill into reports/."""
    from qcompare.report import run_notebooks

    try:
        run_notebooks(notebooks, out, progress=typer.echo)
    except _INPUT_ERRORS as err:
        _fail(err)


@app.command()
def load(
    by: Annotated[
        str, typer.Option(help="'department' or 'successor' (the body after the 2018 reform)")
    ] = "department",
    scheme: Annotated[str | None, typer.Option(help="one scheme_id, or ALL for the overall rows")] = None,
    top: Annotated[int, typer.Option(help="rows per scheme and role")] = 10,
) -> None:
    """Print who carries the load: task load, points at stake, shares."""
    import pandas as pd

    from qcompare.graph import department_load
    from qcompare.tables import load_tables

    if by not in ("department", "successor"):
        _fail(ValueError(f"--by must be 'department' or 'successor', not {by!r}"))
    table = department_load(load_tables(), by=by)
    if scheme is not None:
        if scheme not in set(table["scheme_id"]):
            _fail(ValueError(f"no scheme {scheme!r}; choose from {', '.join(sorted(set(table['scheme_id'])))}"))
        table = table[table["scheme_id"] == scheme]
    table = table.groupby(["scheme_id", "department_role"], sort=False).head(top)
    with pd.option_context("display.width", 200, "display.max_rows", None, "display.float_format", "{:.3f}".format):
        typer.echo(table.drop(columns=["betweenness"]).to_string(index=False))


@app.command()
def graph(
    out: Annotated[Path, typer.Option(help="folder for responsibility.graphml/.gexf")] = Path("reports"),
) -> None:
    """Export the department × node graph and its projection for Gephi."""
    from qcompare.graph import co_assignment_graph, export_graph, responsibility_graph
    from qcompare.tables import load_tables

    G = responsibility_graph(load_tables())
    written = export_graph(G, out / "responsibility") + export_graph(co_assignment_graph(G), out / "co_assignment")
    for path in written:
        typer.echo(f"wrote {path}")


@app.command()
def draft(
    county: Annotated[str, typer.Option(help="the county's name, e.g. 某县")] = "某县",
    out: Annotated[Path, typer.Option(help="the workbook to write (.xlsx)")] = Path("draft.xlsx"),
    docx: Annotated[Path | None, typer.Option(help="also write a Word table (.docx)")] = None,
    total_points: Annotated[int, typer.Option(help="base points of the scheme")] = 100,
    min_schemes: Annotated[int, typer.Option(help="a criterion must appear in at least this many schemes")] = 3,
    max_lead_share: Annotated[float, typer.Option(help="most of the points one body may lead")] = 0.4,
    strictness: Annotated[str, typer.Option(help="lenient, median or strict scoring rules")] = "median",
    bonus_cap: Annotated[int, typer.Option(help="cap of the bonus points")] = 5,
    lever: Annotated[list[str] | None, typer.Option(help="levers to cover (repeat); default all")] = None,
) -> None:
    """Draft a county scheme, check it, and write it as .xlsx (and .docx)."""
    from qcompare.draft import DraftParameters, build_draft, check_draft, export_docx, export_xlsx
    from qcompare.tables import load_tables

    try:
        parameters = DraftParameters(
            county=county,
            total_points=total_points,
            levers=lever or None,
            min_schemes=min_schemes,
            max_lead_share=max_lead_share,
            strictness=strictness,
            bonus_cap=bonus_cap,
        )
        result = build_draft(load_tables(), parameters)
    except ValueError as err:
        _fail(err)
        return
    for note in result.notes:
        typer.echo(f"note: {note}")
    passed = _print_checks(check_draft(result))
    typer.echo(f"wrote {export_xlsx(result, out)}")
    if docx is not None:
        typer.echo(f"wrote {export_docx(result, docx)}")
    if not passed:
        raise typer.Exit(code=1)


@app.command("check-draft")
def check_draft_command(
    workbook: Annotated[Path, typer.Argument(help="a workbook written by 'qcompare draft', edited or not")],
) -> None:
    """Check a (hand-edited) draft workbook; exit status 1 if a check fails."""
    from openpyxl.utils.exceptions import InvalidFileException

    from qcompare.draft import check_draft, read_xlsx

    try:
        result = read_xlsx(workbook)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as err:
        _fail(ValueError(f"{workbook}: cannot read it as a qcompare draft workbook ({err})"))
        return
    if not _print_checks(check_draft(result)):
        raise typer.Exit(code=1)


def _print_checks(results: list[CheckResult]) -> bool:
    """Print one line per check; whether all passed."""
    for result in results:
        typer.echo(f"{'ok  ' if result.passed else 'FAIL'} {result.name}: {result.message}")
    return all(result.passed for result in results)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="the scheme: a .docx, an .xlsx, or a tab-text export like the seeds")],
    scheme_id: Annotated[str, typer.Option("--id", help="a new scheme id: lower-case letters, digits, _")],
    mapping: Annotated[
        Path | None, typer.Option(help="a TOML or YAML mapping file (table, header_row, columns, scheme)")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="force a text encoding (default: UTF-8, else GB18030)")] = None,
    city: Annotated[str | None, typer.Option(help="the city, e.g. 苏州市")] = None,
    district: Annotated[str | None, typer.Option(help="the district or county, if any")] = None,
    admin_level: Annotated[str | None, typer.Option(help="prefecture, district, county or province")] = None,
    year: Annotated[int | None, typer.Option(help="the year the scheme applies to")] = None,
    title: Annotated[str | None, typer.Option(help="the scheme's title, if the file does not give it")] = None,
    replace: Annotated[bool, typer.Option(help="re-import a scheme imported before under the same id")] = False,
    dry_run: Annotated[bool, typer.Option(help="read and parse the file, show what it holds, write nothing")] = False,
) -> None:
    """Add your own scheme to data/raw and data/normalized (all or nothing)."""
    import pandas as pd
    from pydantic import ValidationError

    from qcompare.importing import import_scheme, import_summary, plan_import
    from qcompare.mapping import Mapping, SchemeInfo, load_mapping

    try:
        loaded = load_mapping(mapping) if mapping else Mapping()
        given = {"city": city, "district": district, "admin_level": admin_level, "year": year, "title": title}
        overrides = {key: value for key, value in given.items() if value is not None}
        if overrides:
            info = SchemeInfo.model_validate({**loaded.scheme.model_dump(exclude_none=True), **overrides})
            loaded = loaded.model_copy(update={"scheme": info})
        if dry_run:
            plan = plan_import(file, scheme_id, loaded, encoding=encoding, replace=replace)
            for warning in plan.warnings:
                typer.echo(f"warning: {warning}")
            from qcompare.tables import records_to_tables

            tables = records_to_tables([plan.document])
            summary = import_summary(tables, scheme_id)
            typer.echo(f"{plan.spec.source_table}, columns: {plan.spec.columns}")
        else:
            summary = import_scheme(
                file, scheme_id, loaded, encoding=encoding, replace=replace, progress=typer.echo
            ).summary()
    except _INPUT_ERRORS as err:
        _fail(err)
        return
    except ValidationError as err:  # an option such as --admin-level outside its choices
        first = err.errors()[0]
        option = "--" + "-".join(str(part) for part in first["loc"]).replace("_", "-")
        _fail(InputError(option, repr(first.get("input")), first["msg"], "see 'qcompare import --help'"))
        return
    with pd.option_context("display.width", 200):
        typer.echo(summary.to_string(index=False))
    if dry_run:
        typer.echo("dry run: nothing written")


@app.command()
def check() -> None:
    """Verify raw checksums, schemas, raw-line accounting and data freshness."""
    from qcompare.accounting import unaccounted_lines
    from qcompare.build import build_tables
    from qcompare.paths import normalized_dir
    from qcompare.tables import write_tables

    try:
        tables = build_tables(progress=typer.echo)
        missing = unaccounted_lines(tables)
        with tempfile.TemporaryDirectory() as tmp:
            write_tables(tables, Path(tmp))
            stale = [
                p.name
                for p in sorted(Path(tmp).iterdir())
                if not (normalized_dir() / p.name).exists()
                or (normalized_dir() / p.name).read_bytes() != p.read_bytes()
            ]
    except _INPUT_ERRORS as err:
        _fail(err)
        return
    problems = 0
    if len(missing):
        problems += 1
        typer.echo(f"{len(missing)} raw line(s) land in no table:")
        typer.echo(missing.to_string(index=False))
    if stale:
        problems += 1
        typer.echo(f"data/normalized is stale ({', '.join(stale)}): run 'qcompare build' and commit the result")
    if problems:
        raise typer.Exit(code=1)
    typer.echo("ok: checksums hold, schemas pass, every raw line is accounted for, data/normalized is current")


def main() -> None:
    """Entry point of the ``qcompare`` script."""
    app()
