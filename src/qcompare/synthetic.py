"""A seeded synthetic corpus: N schemes perturbed from the real ones.

A national study would hold thousands of county schemes; we have nine. To
measure how the pipeline scales, and whether the crosswalk still finds the
same criterion across schemes, :func:`generate_corpus` makes N schemes the
way real schemes differ from each other, starting each from one of the
committed schemes (``data/normalized``):

* **reorder** — the children of a node are shuffled (probability
  ``reorder``);
* **renumber** — items are written without their source numbering, so the
  importer numbers them by position;
* **drop and add** — each leaf is dropped with probability ``drop`` (a
  parent keeps at least one), and each parent borrows a leaf from another
  scheme with probability ``add``;
* **reword** — a term of the crosswalk's synonym list
  (``data/reference/synonyms.csv``) is replaced by another term of its group
  with probability ``reword``;
* **respell departments** — each named body is printed under another alias
  of its registry entry, with a 县/市/区 prefix or none;
* **points and thresholds** — points are scaled by 0.5, 1, 1.5 or 2, and a
  percentage in the text moves by up to 3 points;
* **lost cells** — a scoring rule or supporting-body cell is left empty with
  probability ``lose``.

Each scheme is rendered as a tab-text table in the seeds' format with an
:class:`~qcompare.parsers.table.ImportSpec`, so the corpus goes through the
same parser as an imported scheme (:func:`parse_corpus`).  ``truth`` records
which source node each synthetic leaf came from: two synthetic leaves from
the same source node are a true crosswalk pair.

Everything is drawn from ``numpy.random.default_rng([seed, index])``, so a
scheme depends only on the seed and its index: the same seed gives the same
bytes, and the first 100 schemes of a 1,000-scheme corpus are the 100 of a
100-scheme corpus.

>>> corpus = generate_corpus(3, seed=7)
>>> [d.scheme_id for d in corpus.documents]
['syn00000', 'syn00001', 'syn00002']
>>> corpus.documents[0].text == generate_corpus(1, seed=7).documents[0].text
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from qcompare.departments import load_registry
from qcompare.model import DocumentResult, parse_raw_ref
from qcompare.parallel import ordered_map, worker_count
from qcompare.parsers.common import format_points
from qcompare.parsers.table import ImportSpec, parse_table
from qcompare.paths import project_root
from qcompare.tables import load_tables

__all__ = ["Perturbation", "SyntheticCorpus", "SyntheticDocument", "generate_corpus", "parse_corpus", "score_crosswalk"]

_HIERARCHY = ["一级指标", "二级指标", "三级指标", "考核要点"]
_ROLES = ["level1", "level2", "level3", "point"]
_VALUE_COLUMNS = ["分值", "评分标准", "牵头单位", "配合单位"]
_PERCENT = re.compile(r"(\d{2,3}(?:\.\d)?)%")


@dataclass(frozen=True)
class Perturbation:
    """How far a synthetic scheme strays from its source (probabilities)."""

    reorder: float = 0.3
    drop: float = 0.1
    add: float = 0.05
    reword: float = 0.5
    lose: float = 0.05


@dataclass
class SyntheticDocument:
    """One synthetic scheme: its text, its import record, where its leaves came from."""

    scheme_id: str
    source_scheme: str
    text: str
    spec: ImportSpec
    #: line of the leaf's hierarchy cell → source node_id
    leaf_lines: dict[int, str] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return f"{self.scheme_id}.txt"


@dataclass
class SyntheticCorpus:
    """N synthetic documents and the generator's ground truth."""

    documents: list[SyntheticDocument]
    seed: int
    perturbation: Perturbation

    def truth(self, results: list[DocumentResult]) -> pd.DataFrame:
        """synthetic node_id → source node_id, for the leaves of parsed documents."""
        rows = []
        by_id = {d.scheme_id: d for d in self.documents}
        for result in results:
            document = by_id[result.document_id]
            for node in result.schemes[0].nodes:
                _, first, _ = parse_raw_ref(node["raw_ref"])
                source = document.leaf_lines.get(first)
                if source is not None:
                    rows.append({"node_id": node["node_id"], "source_node_id": source})
        return pd.DataFrame(rows, columns=["node_id", "source_node_id"])


@dataclass
class _Source:
    """What the generator needs from the committed data."""

    nodes: pd.DataFrame
    points: dict[str, float]
    children: dict[str, list[str]]
    roots: dict[str, list[str]]
    rules: dict[str, str]
    leads: dict[str, list[str]]
    supports: dict[str, list[str]]
    aliases: dict[str, list[str]]
    synonyms: list[list[str]]
    leaves: list[str]


def _load_source(tables: Mapping[str, pd.DataFrame]) -> _Source:
    nodes = tables["nodes"].set_index("node_id")
    children: dict[str, list[str]] = {}
    roots: dict[str, list[str]] = {}
    for node_id, parent, scheme in zip(nodes.index, nodes["parent_id"], nodes["scheme_id"], strict=True):
        if isinstance(parent, str):
            children.setdefault(parent, []).append(str(node_id))
        else:
            roots.setdefault(str(scheme), []).append(str(node_id))
    rules = tables["rules"].groupby("node_id")["rule_text"].first().to_dict()
    assignments = tables["assignments"].dropna(subset=["department_id"])
    leads = assignments[assignments["role"].isin(["lead", "responsible", "assessor"])]
    supports = assignments[assignments["role"] == "support"]
    registry = load_registry()
    aliases = {
        str(r.department_id): sorted({str(r.name_zh), *str(r.aliases or "").split("|")} - {""})
        for r in registry.itertuples()
    }
    synonyms = pd.read_csv(project_root() / "data" / "reference" / "synonyms.csv", dtype=str)
    groups = [sorted(group["term"]) for _, group in synonyms.groupby("group", sort=True) if len(group) > 1]
    leaves = sorted(set(nodes.index) - set(children))
    points = {str(k): float(v) for k, v in nodes["points"].dropna().items()}
    return _Source(
        nodes=nodes,
        points=points,
        children=children,
        roots=roots,
        rules={str(k): str(v) for k, v in rules.items()},
        leads=_by_node(leads),
        supports=_by_node(supports),
        aliases=aliases,
        synonyms=groups,
        leaves=leaves,
    )


def _by_node(assignments: pd.DataFrame) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for node_id, department_id in zip(assignments["node_id"], assignments["department_id"], strict=True):
        out.setdefault(str(node_id), []).append(str(department_id))
    return out


def _reword(text: str, source: _Source, rng: np.random.Generator, p: float) -> str:
    for group in source.synonyms:
        for term in group:
            if term in text and rng.random() < p:
                other = group[int(rng.integers(len(group)))]
                text = text.replace(term, other)
                break
    return _PERCENT.sub(lambda m: f"{min(100.0, float(m.group(1)) + int(rng.integers(-3, 4))):g}%", text)


def _department(department_id: str, source: _Source, rng: np.random.Generator) -> str:
    names = source.aliases.get(department_id) or [department_id]
    name = names[int(rng.integers(len(names)))]
    prefix = ["县", "市", "区", ""][int(rng.integers(4))]
    return prefix + name if not name.startswith(("县", "市", "区")) else name


def _tree_rows(
    node_id: str, depth: int, source: _Source, rng: np.random.Generator, p: Perturbation, borrowed: list[str]
) -> list[list[str]]:
    """Rows (hierarchy path of node ids, leaf last) under one node, perturbed."""
    kids = list(source.children.get(node_id, []))
    if not kids:
        return [[node_id]]
    if rng.random() < p.reorder:
        kids = [kids[i] for i in rng.permutation(len(kids))]
    kept = [k for k in kids if source.children.get(k) or rng.random() >= p.drop] or kids[:1]
    if rng.random() < p.add:
        extra = source.leaves[int(rng.integers(len(source.leaves)))]
        kept.append(extra)
        borrowed.append(extra)
    rows = []
    for kid in kept:
        for row in _tree_rows(kid, depth + 1, source, rng, p, borrowed):
            rows.append([node_id, *row])
    return rows


def _render(scheme_id: str, base: str, source: _Source, rng: np.random.Generator, p: Perturbation) -> SyntheticDocument:
    borrowed: list[str] = []
    paths: list[list[str]] = []
    for root in source.roots[base]:
        paths.extend(_tree_rows(root, 0, source, rng, p, borrowed))
    depth = min(max(len(path) for path in paths), len(_HIERARCHY))
    paths = [[*path[: depth - 1], path[-1]] if len(path) > depth else path for path in paths]
    header = _HIERARCHY[:depth] + _VALUE_COLUMNS
    scale = float([0.5, 1.0, 1.5, 2.0][int(rng.integers(4))])
    title = f"合成方案{scheme_id[3:]}（源自{base}）"
    lines = [title, "", ""] + ["\t" + h for h in header]
    leaf_lines: dict[int, str] = {}
    previous: list[str] = []
    for path in paths:
        lines.append("")
        cells: list[str] = []
        for level in range(depth):
            node = path[level] if level < len(path) else None
            if node is None or (level < len(path) - 1 and level < len(previous) and previous[level] == node):
                cells.append("")
                continue
            wording = str(source.nodes.at[node, "text"] or source.nodes.at[node, "title"] or "")
            text = _reword(wording, source, rng, p.reword)
            if level == len(path) - 1:
                leaf_lines[len(lines) + 1 + level] = node
            cells.append(" ".join(text.split()))
        leaf = path[-1]
        points: float | None = source.points.get(leaf)
        rule = source.rules.get(leaf, "")
        leads = [_department(d, source, rng) for d in source.leads.get(leaf, [])]
        supports = [_department(d, source, rng) for d in source.supports.get(leaf, [])]
        if rng.random() < p.lose:
            rule = ""
        if rng.random() < p.lose:
            supports = []
        cells += [
            format_points(points * scale) if points is not None else "",
            " ".join(_reword(rule, source, rng, p.reword).split()),
            "、".join(leads),
            "、".join(supports),
        ]
        lines.extend("\t" + cell for cell in cells)
        previous = path
    spec = ImportSpec(
        original=f"synthetic/{scheme_id}.txt",
        original_sha256="",
        source_format="synthetic",
        source_table=f"from {base}",
        header_row=0,
        columns=[*_ROLES[: depth - 1], "point", "points", "rule", "lead", "support"],
    )
    return SyntheticDocument(scheme_id, base, "\n".join(lines) + "\n", spec, leaf_lines)


def generate_corpus(
    n: int,
    seed: int = 0,
    perturbation: Perturbation | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    data_dir: Path | None = None,
) -> SyntheticCorpus:
    """N synthetic schemes, each perturbed from one of the committed schemes."""
    perturbation = perturbation or Perturbation()
    source = _load_source(tables if tables is not None else load_tables(data_dir))
    bases = sorted(source.roots)
    documents = []
    for index in range(n):
        rng = np.random.default_rng([seed, index])
        base = bases[int(rng.integers(len(bases)))]
        documents.append(_render(f"syn{index:05d}", base, source, rng, perturbation))
    return SyntheticCorpus(documents, seed, perturbation)


def parse_corpus(corpus: SyntheticCorpus, workers: int | None = None) -> list[DocumentResult]:
    """Parse every synthetic document with the imported-scheme parser, in order.

    ``workers`` processes share the documents (:mod:`qcompare.parallel`):
    ``None`` chooses from the corpus size and the CPUs (a corpus under
    about 1 MB of text, some 90 schemes, stays in this process), ``1``
    parses here.  The results are the same either way.

    >>> corpus = generate_corpus(2, seed=7)
    >>> parse_corpus(corpus, workers=2) == parse_corpus(corpus, workers=1)
    True
    """
    documents = corpus.documents
    sizes = [len(d.text.encode()) for d in documents]
    count = worker_count(workers, sum(sizes), len(documents))
    calls = [(d.text, d.file, d.scheme_id, d.spec) for d in documents]
    return list(ordered_map(parse_table, calls, names=[d.file for d in documents], sizes=sizes, workers=count))


def score_crosswalk(
    crosswalk: pd.DataFrame, truth: pd.DataFrame, equivalent: pd.DataFrame | None = None
) -> dict[str, float]:
    """Precision, recall and F1 of a crosswalk's same-concept pairs against
    the generator's truth: two synthetic units from the same source node are
    a true pair (units from the same scheme are never a pair).

    ``equivalent`` (columns subject_id, object_id: e.g. the exact and close
    pairs of the committed mapping set) names source nodes already judged the
    same criterion; a predicted pair of copies of two such sources is then
    counted neither way, as the gold set's ``related`` pairs are.  Without it
    every pair of different sources is a false positive.

    >>> truth = pd.DataFrame({"node_id": ["s1:1", "s2:1", "s3:1"], "source_node_id": ["a:1", "a:1", "b:1"]})
    >>> walk = pd.DataFrame({"node_id": ["s1:1", "s2:1", "s3:1"], "unit_id": ["s1:1", "s2:1", "s3:1"],
    ...                      "concept_id": ["c", "c", "c"]})
    >>> score_crosswalk(walk, truth)["precision"]
    0.3333333333333333
    >>> score_crosswalk(walk, truth, pd.DataFrame({"subject_id": ["a:1"], "object_id": ["b:1"]}))["precision"]
    1.0
    """
    units = crosswalk[crosswalk["node_id"] == crosswalk["unit_id"]]
    traced = units.merge(truth[["node_id", "source_node_id"]], on="node_id")
    traced = traced.assign(scheme=traced["node_id"].str.split(":").str[0])
    predicted = _pairs_within(traced, ["concept_id"])
    true = _pairs_within(traced, ["source_node_id"])
    hits = _pairs_within(traced, ["concept_id", "source_node_id"])
    if equivalent is not None:
        same = {tuple(sorted(p)) for p in zip(equivalent["subject_id"], equivalent["object_id"], strict=True)}
        cells = traced.groupby(["concept_id", "source_node_id", "scheme"]).size()
        for _, group in cells.groupby(level="concept_id"):
            counts = group.droplevel("concept_id")
            sources = sorted(set(counts.index.get_level_values("source_node_id")))
            for k, a in enumerate(sources):
                for b in sources[k + 1 :]:
                    if (a, b) in same:  # copies of two sources already judged the same criterion
                        left, right = counts.xs(a), counts.xs(b)
                        predicted -= int(left.sum() * right.sum() - (left * right).fillna(0).sum())
    precision = hits / predicted if predicted else 0.0
    recall = hits / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": true}


def _pairs_within(units: pd.DataFrame, keys: list[str]) -> int:
    """Pairs of units from different schemes that share ``keys``, counted
    from group sizes (not enumerated)."""
    whole = units.groupby(keys).size()
    per_scheme = units.groupby([*keys, "scheme"]).size()
    return int((whole * (whole - 1) // 2).sum() - (per_scheme * (per_scheme - 1) // 2).sum())
