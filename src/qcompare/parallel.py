"""Parse independent documents on every CPU core, results in input order.

Parsing is one pure function per document (:func:`qcompare.build.parse_documents`,
:func:`qcompare.synthetic.parse_corpus`), so a corpus can be split over
processes.  :func:`worker_count` decides how many; :func:`ordered_map`
runs the calls and yields the results in the order of the calls, equal to
what a loop in this process returns (results from a child process are
pickled back, which keeps every value and every dict's key order).

How many processes (``workers``):

* ``1`` — this process, no pool;
* ``None`` (the default of the parsers) — automatic: this process
  when the input is small (under :data:`MIN_BYTES` of text, where
  starting a process costs more than it saves; under
  :data:`MIN_BYTES_FRESH` when processes start fresh, see below), when
  only one CPU is available (``os.sched_getaffinity``), or inside a
  worker process; otherwise one per available CPU;
* ``n > 1`` — ``n`` whatever the size (tests use it on small inputs).

How children start: on Linux, by ``fork`` when this process runs no
other Python thread (the command line, scripts, pytest, the benchmarks):
a child inherits the imported modules and the documents, so it costs
milliseconds.  In a process with other Python threads (a Jupyter or
papermill kernel, a web server) a fork could copy a lock another thread
holds, so children ``spawn`` a fresh interpreter and import qcompare
first (about 2.5 s); so too on macOS and Windows.  As with any
``spawn``, a script there that parses a large corpus at import time
needs ``if __name__ == "__main__":``.

Errors: a call that raises in a child raises the same exception, with
the same message, in this process, when its turn in the input order
comes, so the first failing document is reported as a serial loop
reports it (later documents may have been parsed in vain).  An exception
other than an :class:`~qcompare.errors.InputError` (which names its
file) gets a note naming the document, serial or not.

>>> worker_count(1, size=10**9, items=1000)
1
>>> worker_count(None, size=MIN_BYTES - 1, items=1000)
1
>>> list(ordered_map(divmod, [(7, 2), (9, 4)], names=["a", "b"], sizes=[1, 1], workers=1))
[(3, 1), (2, 1)]
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

from qcompare.errors import InputError

__all__ = [
    "MIN_BYTES",
    "MIN_BYTES_FRESH",
    "available_cpus",
    "named_call",
    "ordered_map",
    "start_method",
    "worker_count",
]

R = TypeVar("R")

#: Text (UTF-8 bytes) under which automatic parsing stays in this process
#: when children fork.  Measured on two idle cores (parsing runs at about
#: 1.7 MB/s, a pool of two costs about 0.04 s): two processes break even
#: near 0.15 MB and save 0.1 s at 0.5 MB, 0.17 s at 0.9 MB, 2.5 s at 11 MB;
#: on a busy machine they cost about 20 % more CPU (pickling the results
#: back), so below 1 MB (some 90 synthetic schemes) the gain is not worth it.
MIN_BYTES = 1_000_000
#: The same when children spawn and import qcompare first: that costs
#: about 2.7 s, so two processes only break even near 11 MB.
MIN_BYTES_FRESH = 20_000_000
#: Bytes of text per chunk of calls (at most; smaller for small inputs, so
#: every process gets several): about 0.15 s of parsing, small enough that
#: the processes finish close together, large enough that a chunk's
#: pickling costs little beside its parsing.
CHUNK_BYTES = 250_000


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def start_method() -> str:
    """How children start here: ``fork`` on Linux in a process without
    other Python threads, else ``spawn``.

    >>> start_method() in {"fork", "spawn"}
    True
    """
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


def worker_count(workers: int | None, size: int, items: int) -> int:
    """Processes to parse ``items`` documents of ``size`` bytes in all; 1 means in this process.

    >>> worker_count(3, size=0, items=2)  # never more processes than documents
    2
    >>> worker_count(0, size=0, items=2)
    Traceback (most recent call last):
    ...
    ValueError: workers must be None (automatic) or at least 1, not 0
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be None (automatic) or at least 1, not {workers}")
    if workers is None:
        if multiprocessing.parent_process() is not None:  # already a worker: no pools within pools
            return 1
        threshold = MIN_BYTES if start_method() == "fork" else MIN_BYTES_FRESH
        workers = available_cpus() if size >= threshold else 1
    return max(1, min(workers, items))


def ordered_map(
    func: Callable[..., R],
    calls: Sequence[tuple[Any, ...]],
    *,
    names: Sequence[str],
    sizes: Sequence[int],
    workers: int,
) -> Iterator[R]:
    """``func(*call)`` for every call, in order, in ``workers`` processes (1: here).

    ``names`` name the document of each call (for error notes), ``sizes``
    its bytes (for chunks).  ``func`` must be a module-level function and
    the calls picklable.  With ``workers > 1`` the calls go in chunks of
    about :data:`CHUNK_BYTES` to ``workers`` child processes, each taking
    the next chunk when done with one, and this process only waits, reads
    and unpickles results (it would hold up the children's results
    if it parsed too: a result comes through a pipe 64 kB at a time, and
    each read waits for this process's interpreter lock).  Results come in
    order, a chunk as soon as it and all before it are done.
    """
    if not len(names) == len(sizes) == len(calls):
        raise ValueError(f"{len(calls)} calls need as many names and sizes, not {len(names)} and {len(sizes)}")
    if workers <= 1:
        for call, name in zip(calls, names, strict=True):
            yield named_call(func, call, name)
        return
    chunks = _chunks(sizes, min(CHUNK_BYTES, max(1, sum(sizes) // (4 * workers))))
    pool = ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=_context())
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns on fork() whenever the OS reports several threads,
            # including native ones (OpenBLAS, jemalloc) that register fork handlers.
            # start_method() forks only without other Python threads, and a forked pool
            # forks every worker at the first submit, before its own threads start.
            warnings.filterwarnings("ignore", r".*multi-threaded, use of fork\(\)", DeprecationWarning)
            futures: list[Future[list[R]]] = [pool.submit(_run_chunk, func, calls[a:b], names[a:b]) for a, b in chunks]
        for future in futures:
            yield from future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _chunks(sizes: Sequence[int], target: int) -> list[tuple[int, int]]:
    """Consecutive ``(start, stop)`` ranges of about ``target`` bytes each.

    >>> _chunks([5, 5, 5, 20, 1], 10)
    [(0, 2), (2, 4), (4, 5)]
    """
    ranges, start, total = [], 0, 0
    for index, size in enumerate(sizes):
        total += size
        if total >= target:
            ranges.append((start, index + 1))
            start, total = index + 1, 0
    if start < len(sizes):
        ranges.append((start, len(sizes)))
    return ranges


def _context() -> BaseContext:
    return multiprocessing.get_context(start_method())


def named_call(func: Callable[..., R], call: tuple[Any, ...], name: str) -> R:
    """``func(*call)``; an exception other than an InputError gets a note naming the document.

    >>> named_call(int, ("12",), "a.txt")
    12
    >>> try:
    ...     named_call(int, ("十二",), "a.txt")
    ... except ValueError as err:
    ...     err.__notes__
    ['(while parsing a.txt)']
    """
    try:
        return func(*call)
    except InputError:
        raise
    except Exception as err:
        err.add_note(f"(while parsing {name})")
        raise


def _run_chunk(func: Callable[..., R], calls: Sequence[tuple[Any, ...]], names: Sequence[str]) -> list[R]:
    """One chunk in a child; an exception that would not survive the trip back
    is replaced by a RuntimeError with its type, message and notes."""
    try:
        return [named_call(func, call, name) for call, name in zip(calls, names, strict=True)]
    except Exception as err:
        try:
            pickle.loads(pickle.dumps(err))
        except Exception:
            notes = "".join(f"\n{note}" for note in getattr(err, "__notes__", []))
            raise RuntimeError(f"{type(err).__name__}: {err}{notes}") from None
        raise
