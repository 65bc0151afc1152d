"""Parsing in processes: when, how, and errors as a serial loop raises them."""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time

import pytest

from qcompare import parallel
from qcompare.errors import InputError
from qcompare.model import ParseError
from qcompare.parallel import MIN_BYTES, MIN_BYTES_FRESH, named_call, ordered_map, start_method, worker_count
from qcompare.raw import RawFileError


def _parse_or_fail(text: str) -> int:
    """A stand-in parser: the number, or a ParseError naming the file, or a bug."""
    if text == "bug":
        raise KeyError(text)
    if text == "unpicklable":
        raise ValueError(lambda: None)
    if not text.isdigit():
        raise ParseError(f"{text}.txt", 3, "a number", text)
    return int(text)


def _run(texts: list[str], workers: int) -> list[int]:
    calls, names = [(t,) for t in texts], [f"{t}.txt" for t in texts]
    return list(ordered_map(_parse_or_fail, calls, names=names, sizes=[1] * len(texts), workers=workers))


@pytest.mark.parametrize("workers", [1, 2])
def test_results_keep_the_order_of_the_calls(workers):
    assert _run([str(i) for i in range(23)], workers) == list(range(23))


@pytest.mark.parametrize("workers", [1, 2])
def test_the_first_failing_document_in_order_raises_with_its_own_message(workers):
    with pytest.raises(ParseError) as err:
        _run([*map(str, range(9)), "x1", *map(str, range(9)), "x2"], workers)
    assert str(err.value) == "x1.txt, line 3: expected a number, found 'x1'"
    assert (err.value.file, err.value.line, err.value.found) == ("x1.txt", 3, "x1")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_bug_keeps_its_type_and_a_note_names_the_document(workers):
    with pytest.raises(KeyError) as err:
        _run(["1", "bug", "2"], workers)
    assert err.value.__notes__ == ["(while parsing bug.txt)"]


def test_an_exception_that_cannot_travel_back_becomes_a_runtime_error_with_its_message():
    with pytest.raises(RuntimeError, match=r"^ValueError: <function .*\n\(while parsing unpicklable.txt\)$"):
        _run(["1", "unpicklable"], 2)


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_two_children_share_the_work():
    pids = list(ordered_map(_pid_after, [(0.01,)] * 80, names=["x"] * 80, sizes=[1] * 80, workers=2))
    assert len(set(pids)) == 2
    assert os.getpid() not in pids


def test_input_errors_survive_pickling_with_their_attributes():
    for err in [ParseError("a.txt", 7, "a number", "二十", fix="type digits"), RawFileError("b.txt", "missing")]:
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err)
        assert (str(again), again.args, vars(again)) == (str(err), err.args, vars(err))
        assert isinstance(again, InputError)


def test_named_call_leaves_input_errors_alone():
    with pytest.raises(ParseError) as err:
        named_call(_parse_or_fail, ("x",), "x.txt")
    assert not hasattr(err.value, "__notes__")


def test_automatic_workers_follow_the_size_and_the_cpus(monkeypatch):
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    monkeypatch.setattr(parallel, "start_method", lambda: "fork")
    assert worker_count(None, size=MIN_BYTES - 1, items=100) == 1
    assert worker_count(None, size=MIN_BYTES, items=100) == 2
    assert worker_count(None, size=MIN_BYTES, items=1) == 1
    assert worker_count(1, size=10**9, items=100) == 1
    assert worker_count(4, size=0, items=100) == 4
    monkeypatch.setattr(parallel, "start_method", lambda: "spawn")
    assert worker_count(None, size=MIN_BYTES, items=100) == 1
    assert worker_count(None, size=MIN_BYTES_FRESH, items=100) == 2
    monkeypatch.setattr(parallel, "available_cpus", lambda: 1)
    assert worker_count(None, size=10**9, items=100) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is used on Linux only")
def test_fork_only_without_other_python_threads():
    assert start_method() == "fork"  # pytest runs the tests in its main thread alone
    done = threading.Event()
    thread = threading.Thread(target=done.wait)
    thread.start()
    try:
        assert start_method() == "spawn"
    finally:
        done.set()
        thread.join()
    assert start_method() == "fork"


def test_workers_started_fresh_give_the_same_results(monkeypatch):
    """The path of a Jupyter kernel (other threads, so no fork) and of macOS and Windows:
    the child imports qcompare and this test module afresh."""
    monkeypatch.setattr(parallel, "start_method", lambda: "spawn")
    assert _run([str(i) for i in range(7)], 2) == list(range(7))
    with pytest.raises(ParseError, match=r"^x\.txt, line 3: expected a number, found 'x'$"):
        _run(["1", "x"], 2)
