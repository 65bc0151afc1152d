"""The synthetic corpus: seeded, parseable, nothing lost, truth traceable."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qcompare.accounting import unaccounted_in_text
from qcompare.model import ParseError
from qcompare.synthetic import Perturbation, generate_corpus, parse_corpus
from qcompare.tables import records_to_tables

NONE = Perturbation(reorder=0, drop=0, add=0, reword=0, lose=0)


@pytest.fixture(scope="module")
def corpus(committed):
    return generate_corpus(12, seed=3, tables=committed)


def test_same_seed_same_bytes_and_prefix_stable(committed, corpus):
    again = generate_corpus(12, seed=3, tables=committed)
    assert [d.text for d in again.documents] == [d.text for d in corpus.documents]
    assert generate_corpus(4, seed=3, tables=committed).documents[3].text == corpus.documents[3].text
    assert generate_corpus(4, seed=4, tables=committed).documents[3].text != corpus.documents[3].text


def test_every_document_parses_and_loses_no_line(corpus):
    results = parse_corpus(corpus)
    tables = records_to_tables(results)
    assert sorted(tables["schemes"]["scheme_id"]) == [f"syn{i:05d}" for i in range(12)]
    for document in corpus.documents:
        assert unaccounted_in_text(tables, document.file, document.text) == []


def test_truth_names_a_real_source_leaf_for_every_synthetic_leaf(committed, corpus):
    results = parse_corpus(corpus)
    truth = corpus.truth(results)
    nodes = records_to_tables(results)["nodes"]
    parents = set(nodes["parent_id"].dropna())
    leaves = set(nodes["node_id"]) - parents
    assert set(truth["node_id"]) == leaves
    assert set(truth["source_node_id"]) <= set(committed["nodes"]["node_id"])


def test_without_perturbation_a_scheme_keeps_its_source_leaves_in_order(committed):
    corpus = generate_corpus(6, seed=1, perturbation=NONE, tables=committed)
    results = parse_corpus(corpus)
    truth = corpus.truth(results)
    source_nodes = committed["nodes"]
    for document in corpus.documents:
        mine = truth[truth["node_id"].str.startswith(document.scheme_id + ":")]["source_node_id"].tolist()
        source = source_nodes[source_nodes["scheme_id"] == document.source_scheme]
        source_leaves = [n for n in source["node_id"] if n not in set(source["parent_id"].dropna())]
        assert mine == source_leaves, document.scheme_id


def test_dropping_everything_still_keeps_one_child_per_parent(committed):
    corpus = generate_corpus(5, seed=2, perturbation=Perturbation(drop=1.0, add=0, lose=0), tables=committed)
    for result in parse_corpus(corpus):
        nodes = result.schemes[0].nodes
        assert nodes, result.document_id
        parents = {n["parent_id"] for n in nodes if n["parent_id"]}
        assert all(any(n["parent_id"] == p for n in nodes) for p in parents)


def test_parsing_in_processes_gives_the_serial_results_in_order(corpus):
    serial = parse_corpus(corpus, workers=1)
    parallel = parse_corpus(corpus, workers=2)
    assert [r.document_id for r in parallel] == [d.scheme_id for d in corpus.documents]
    assert parallel == serial
    for table in ("nodes", "rules", "assignments", "data_issues"):
        assert records_to_tables(parallel)[table].equals(records_to_tables(serial)[table]), table


def test_a_broken_document_raises_the_same_error_in_processes(corpus):
    documents = list(corpus.documents)
    documents[5] = replace(documents[5], text="")
    documents[9] = replace(documents[9], text="\t只有一格\n")
    broken = replace(corpus, documents=documents)
    with pytest.raises(ParseError) as serial:
        parse_corpus(broken, workers=1)
    with pytest.raises(ParseError) as parallel:
        parse_corpus(broken, workers=2)
    assert (
        str(serial.value)
        == str(parallel.value)
        == "syn00005.txt, line 1: expected a header row at table row 1, found '0 table row(s)'"
    )
