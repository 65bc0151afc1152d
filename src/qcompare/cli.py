"""The ``qcompare`` command line.

``qcompare build``   rebuild data/normalized from data/raw
``qcompare report``  execute every notebook into reports/ (ipynb + HTML)
``qcompare check``   verify raw checksums, the schema, raw-line accounting,
                     and that the committed data is current

Errors in the input (a changed raw file, a row of the wrong shape) end
with a one-line message naming the file, the line and what was expected,
and exit status 2, never a traceback.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from qcompare.parsers import ParseError
from qcompare.raw import RawFileError
from qcompare.schema import TableValidationError

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Compare quality-work assessment schemes.")

_INPUT_ERRORS = (ParseError, RawFileError, TableValidationError, FileNotFoundError)


def _fail(err: Exception) -> None:
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
def build(
    raw: Annotated[Path | None, typer.Option(help="folder with the raw files and MANIFEST.csv")] = None,
    out: Annotated[Path | None, typer.Option(help="folder to write the normalized tables to")] = None,
) -> None:
    """Rebuild the normalized tables from the raw documents."""
    from qcompare.build import build as run_build

    try:
        run_build(raw, out, progress=typer.echo)
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
