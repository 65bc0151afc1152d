"""The crosswalk: which items of different schemes assess the same thing.

**Units.** Each scheme is matched at the grain of its criteria: the deepest
scored level where a scheme has points (Nantong's 三级指标, Changzhou's
考核内容, Ezhou's 考核要点, Xinbei's scored items, bonus items included);
every other leaf (a veto clause, an unscored scheme's items) is a unit too,
lifted to its parent where the leaves are a breakdown of one criterion
(工作任务, 创建任务, several 目标值 rows of one indicator).  Nodes below a
unit share its concept (method ``via_parent``).

**Evidence.** A unit is described by its whole evidence — title, wording,
scoring text, target and the texts of its children — because some units
lost their titles in the export (Changzhou's 14 recovered items are matched
through their tasks and scoring text).

**Matching.** A supervised matcher scores every pair of units from
different schemes: gradient-boosted trees over lexical evidence (character
n-gram TF-IDF cosine of the whole evidence, of titles and of the best pair of
segments — title, tasks, scoring sentences), its rank among the other
scheme's units in both directions (one-to-one preference), the parents'
headings, shared terms of a curated synonym list
(``data/reference/synonyms.csv``: 经费 ~ 投入, 名牌 ~ 品牌 …) and agreement of
the ontology labels; a second stage adds each pair's best path through a
third scheme.  Synonym groups are appended to the texts as shared tokens
before the TF-IDF, so 经费 and 投入 count as one word.  It is trained on the hand-checked pairs of
``data/reference/crosswalk_gold.csv``; :func:`cross_validate` measures it
with held-out anchors.  Grades follow SSSOM/SKOS by probability: ``exact``
for mutual best partners ≥ 0.9, ``close`` for other pairs ≥ 0.5, and
``related`` for a best partner between 0.25 and 0.5.  A unit may match
several units of one scheme (one splits what the other joins): every such
pair is in the mapping set.  Concepts are built by average-linkage
clustering of the matched units, at most one unit per scheme, so a concept
is one criterion as each scheme words it; a unit matched to nothing is its
own concept, ``unique``.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import normalize
from sklearn.random_projection import SparseRandomProjection

from qcompare.blocking import cosine_of_pairs, distinct_keys, lsh_pairs, minhash_signatures, top_k_pairs, unique_pairs
from qcompare.ontology import node_evidence_text
from qcompare.paths import project_root
from qcompare.text import clean_text
from qcompare.weights import leaves

__all__ = [
    "BLOCKING",
    "THRESHOLDS",
    "Blocking",
    "Thresholds",
    "UnitEvidence",
    "UnscoredEstimate",
    "blocked_crosswalk",
    "build_crosswalk",
    "candidate_pairs",
    "cross_validate",
    "decide_pairs",
    "decide_sparse_pairs",
    "group_concepts",
    "group_sparse_concepts",
    "load_gold",
    "load_synonyms",
    "match_probabilities",
    "pair_features",
    "score_against_gold",
    "sssom_table",
    "unit_evidence",
    "unit_nodes",
]

_BREAKDOWN_LABELS = {"工作任务", "创建任务", "目标值"}
SKOS = {"exact": "skos:exactMatch", "close": "skos:closeMatch", "related": "skos:relatedMatch"}


def unit_nodes(nodes: pd.DataFrame) -> pd.DataFrame:
    """The matchable units of every scheme, with ``unit_id`` for every node
    at or below a unit (nodes above units get none); rows by scheme, in table
    order within each."""
    out = nodes.iloc[np.argsort(nodes["scheme_id"].to_numpy(dtype=str), kind="stable")]
    ids = out["node_id"].tolist()  # plain lists: iterating string columns value by value is slow
    parents = [p if isinstance(p, str) else None for p in out["parent_id"].tolist()]
    is_leaf = dict(zip(nodes["node_id"].tolist(), leaves(nodes).tolist(), strict=True))
    scored = out[out["points_status"].isin(["declared", "recovered"])]
    grain = scored.groupby("scheme_id")["level"].max().to_dict()  # the deepest scored level of each scheme
    units = {
        node_id
        for node_id, scheme_id, level, points in zip(
            ids, out["scheme_id"].tolist(), out["level"].tolist(), out["points"].notna().tolist(), strict=True
        )
        if points and level == grain.get(scheme_id)
    }
    covered = set(units)
    for node_id, parent in zip(ids, parents, strict=True):  # descendants of units are covered (parents come first)
        if parent in covered:
            covered.add(node_id)
    for node_id, parent, label in zip(ids, parents, out["level_label"].tolist(), strict=True):
        if not is_leaf[node_id] or node_id in covered:
            continue
        units.add(parent if label in _BREAKDOWN_LABELS and parent is not None else node_id)
    parent_of = dict(zip(ids, parents, strict=True))
    unit_of: dict[str, str | None] = {}
    for node_id in ids:
        current: str | None = node_id
        while current is not None and current not in units:
            current = parent_of[current]
        unit_of[node_id] = current
    return out.assign(is_unit=out["node_id"].isin(units), unit_id=out["node_id"].map(unit_of))


# --- evidence and features ---------------------------------------------------

_REFERENCE = project_root() / "data" / "reference"
_SENTENCE = re.compile(r"[;；。\n]")


@dataclass
class UnitEvidence:
    """Everything the matcher reads about the units, in one fixed order."""

    ids: list[str]
    scheme: np.ndarray
    full: list[str]
    title: list[str]
    parent_title: list[str]
    segments: list[list[str]]


def unit_evidence(tables: Mapping[str, pd.DataFrame], units: pd.DataFrame | None = None) -> UnitEvidence:
    """Title, whole evidence, parent heading and segments of every unit
    (``units``: :func:`unit_nodes` of the tables' nodes, if already known)."""
    nodes = tables["nodes"]
    units = unit_nodes(nodes) if units is None else units
    evidence = node_evidence_text(tables).to_dict()
    below = units.dropna(subset=["unit_id"])
    below = below[below["node_id"] != below["unit_id"]]
    children: dict[str, list[str]] = {}
    for node_id, unit_id in zip(below["node_id"].tolist(), below["unit_id"].tolist(), strict=True):
        children.setdefault(unit_id, []).append(node_id)
    rules = tables["rules"].groupby("node_id")["rule_text"].agg(" ".join).to_dict()
    node_ids = nodes["node_id"].tolist()
    titles = dict(zip(node_ids, nodes["title"].tolist(), strict=True))
    parent_of = dict(zip(node_ids, nodes["parent_id"].tolist(), strict=True))
    scheme_of = dict(zip(node_ids, nodes["scheme_id"].tolist(), strict=True))
    ids = sorted(units.loc[units["is_unit"], "node_id"].tolist())
    cleaned: dict[str, str] = {}  # template copies repeat their titles and headings

    def clean(text: object) -> str:
        if not isinstance(text, str):
            return ""
        if text not in cleaned:
            cleaned[text] = clean_text(text)
        return cleaned[text]

    full, title, parent_title, segments = [], [], [], []
    for unit_id in ids:
        kids = [evidence[c] for c in children.get(unit_id, [])]
        own_title = clean(titles[unit_id])
        parent = parent_of[unit_id]
        full.append(" ".join([evidence[unit_id], *kids]))
        title.append(own_title)
        parent_title.append(clean(titles[parent]) if isinstance(parent, str) else "")
        sentences = [x for x in _SENTENCE.split(str(rules.get(unit_id, ""))) if len(x) >= 6]
        segments.append([x for x in [own_title, evidence[unit_id], *kids, *sentences] if len(x) >= 2])
    scheme = np.array([scheme_of[u] for u in ids])
    return UnitEvidence(ids, scheme, full, title, parent_title, segments)


def _cosine(texts: list[str], **options: object) -> np.ndarray:
    vectorizer = TfidfVectorizer(analyzer="char_wb", sublinear_tf=True, **options)
    matrix = vectorizer.fit_transform(texts)
    return np.asarray((matrix @ matrix.T).toarray())


def _segment_max(ev: UnitEvidence) -> np.ndarray:
    owner = np.array([i for i, segs in enumerate(ev.segments) for _ in segs])
    flat = [seg for segs in ev.segments for seg in segs]
    sims = _cosine(flat, ngram_range=(2, 3))
    n = len(ev.ids)
    out = np.zeros((n, n))
    for i in range(n):
        best = np.zeros(n)
        np.maximum.at(best, owner, sims[owner == i].max(axis=0))
        out[i] = best
    return out


def _with_synonyms(texts: list[str], synonyms: pd.DataFrame) -> list[str]:
    """Append one token per synonym group found in each text.

    >>> syn = pd.DataFrame({"group": ["funding", "funding"], "term": ["经费", "投入"]})
    >>> _with_synonyms(["提供经费保障", "投入机制"], syn)
    ['提供经费保障 ⟨funding⟩', '投入机制 ⟨funding⟩']
    """
    terms = list(zip(synonyms["group"], synonyms["term"], strict=True))
    marked: dict[str, str] = {}  # each distinct text once
    for text in texts:
        if text not in marked:
            groups = sorted({g for g, term in terms if term in text})
            marked[text] = " ".join([text, *(f"⟨{g}⟩" for g in groups)])
    return [marked[text] for text in texts]


def _jaccard(sets: list[set[str]], i: np.ndarray, j: np.ndarray, empty: float = 0.0) -> np.ndarray:
    """Jaccard similarity of ``sets[i]`` and ``sets[j]`` for each pair, on
    bitmasks of the (few) distinct members.

    >>> _jaccard([{"a", "b"}, {"b"}, set()], np.array([0, 0, 2]), np.array([1, 2, 2])).tolist()
    [0.5, 0.0, 0.0]
    """
    codes = {m: k for k, m in enumerate(sorted(set().union(*sets)))}
    if len(codes) > 62:
        raise ValueError("more than 62 distinct members do not fit a bitmask")
    masks = np.array([sum(1 << codes[m] for m in s) for s in sets], dtype=np.int64)
    both, either = masks[i] & masks[j], masks[i] | masks[j]
    ones = np.array([bin(k).count("1") for k in range(256)], dtype=np.int64)

    def popcount(x: np.ndarray) -> np.ndarray:
        return sum(ones[(x >> shift) & 255] for shift in range(0, 64, 8))

    union = popcount(either)
    return np.where(union > 0, popcount(both) / np.maximum(union, 1), empty)


def _rank_features(
    values: np.ndarray, i: np.ndarray, j: np.ndarray, scheme: np.ndarray, name: str
) -> dict[str, np.ndarray]:
    """Rank (capped at 5) and ratio to the best of each pair's similarity among
    the pairs of its unit with the other's scheme, in both directions."""
    frame = pd.DataFrame({"i": i, "j": j, "s": values, "sj": scheme[j], "si": scheme[i]})
    by_row = frame.groupby(["i", "sj"])["s"]
    by_col = frame.groupby(["j", "si"])["s"]
    return {
        f"{name}_rank": np.minimum(by_row.rank(ascending=False, method="min").to_numpy(), 5),
        f"{name}_ratio": (frame["s"] / by_row.transform("max").replace(0, np.nan)).fillna(0).to_numpy(),
        f"{name}_rank_back": np.minimum(by_col.rank(ascending=False, method="min").to_numpy(), 5),
        f"{name}_ratio_back": (frame["s"] / by_col.transform("max").replace(0, np.nan)).fillna(0).to_numpy(),
    }


def pair_features(
    tables: Mapping[str, pd.DataFrame], synonyms: pd.DataFrame | None = None, ev: UnitEvidence | None = None
) -> tuple[UnitEvidence, pd.DataFrame]:
    """One row per ordered pair of units from different schemes, with the
    lexical, structural and ontology features the matcher reads."""
    synonyms = load_synonyms() if synonyms is None else synonyms
    ev = unit_evidence(tables) if ev is None else ev
    n = len(ev.ids)
    i, j = np.nonzero(ev.scheme[:, None] != ev.scheme[None, :])
    # synonyms become shared tokens, so 经费 and 投入 count as the same word
    full = _with_synonyms(ev.full, synonyms)
    titles = _with_synonyms(_titles(ev), synonyms)
    sims = {
        "evidence": _cosine(full, ngram_range=(2, 3)),
        "evidence_rare": _cosine(full, ngram_range=(2, 4), max_df=0.2),
        "title": _cosine(titles, ngram_range=(1, 3)),
        "segment": _segment_max(ev),
    }
    parent = _cosine(ev.parent_title, ngram_range=(1, 2))
    values = {name: sim[i, j] for name, sim in sims.items()}
    features = _pair_columns(ev, _unit_labels(tables, ev), i, j, values, parent[i, j])
    assert len(features) == n * n - sum(int((ev.scheme == s).sum()) ** 2 for s in set(ev.scheme))
    return ev, features


def load_synonyms(path: Path | None = None) -> pd.DataFrame:
    """The curated synonym list: group, term."""
    return pd.read_csv(path or _REFERENCE / "synonyms.csv", dtype=str)


def _titles(ev: UnitEvidence) -> list[str]:
    """Each unit's title, or the start of its evidence where the export lost it."""
    return [t or f[:40] for t, f in zip(ev.title, ev.full, strict=True)]


def _unit_labels(tables: Mapping[str, pd.DataFrame], ev: UnitEvidence) -> tuple[np.ndarray, list[set[str]]]:
    """Each unit's ontology lever and set of domains (the matcher's agreement features)."""
    categories = tables["categories"]
    wanted = set(ev.ids)
    lever: dict[str, str] = {}
    domains: dict[str, set[str]] = {}
    for node_id, facet, category in zip(
        categories["node_id"].tolist(), categories["facet"].tolist(), categories["category"].tolist(), strict=True
    ):
        if node_id not in wanted:
            continue
        if facet == "lever":
            lever.setdefault(node_id, category)
        elif facet == "domain":
            domains.setdefault(node_id, set()).add(category)
    return np.array([lever.get(u, "") for u in ev.ids]), [domains.get(u, set()) for u in ev.ids]


def _pair_columns(
    ev: UnitEvidence,
    labels: tuple[np.ndarray, list[set[str]]],
    i: np.ndarray,
    j: np.ndarray,
    values: Mapping[str, np.ndarray],
    parent: np.ndarray,
) -> pd.DataFrame:
    """The matcher's feature table for the ordered pairs ``(i, j)``, from their
    similarities and the units' labels (:func:`_unit_labels`); ranks are taken
    among the pairs given."""
    columns: dict[str, np.ndarray] = {"i": i, "j": j}
    for name in _SIMILARITIES:
        columns[name] = values[name]
        if name != "evidence_rare":
            columns.update(_rank_features(values[name], i, j, ev.scheme, name))
    columns["parent"] = parent
    unit_lever, unit_domains = labels
    columns["same_lever"] = (unit_lever[i] == unit_lever[j]).astype(float)
    columns["same_domain"] = _jaccard(unit_domains, i, j)
    return pd.DataFrame(columns)


_SIMILARITIES = ("evidence", "evidence_rare", "title", "segment")


# --- the matcher -----------------------------------------------------------


def load_gold(path: Path | None = None) -> pd.DataFrame:
    """The hand-checked pairs: anchor_id, subject_id, object_id, predicate, justification."""
    return pd.read_csv(path or _REFERENCE / "crosswalk_gold.csv", dtype=str, keep_default_na=False)


def _gold_schemes(gold: pd.DataFrame) -> set[str]:
    """The schemes the gold set covers: among them it lists every partner of an anchor.

    >>> sorted(_gold_schemes(pd.DataFrame({"subject_id": ["a:1"], "object_id": ["b:2.1"]})))
    ['a', 'b']
    """
    return {str(u).split(":")[0] for u in pd.concat([gold["subject_id"], gold["object_id"]])}


def _gold_labels(features: pd.DataFrame, ev: UnitEvidence, gold: pd.DataFrame) -> np.ndarray:
    """1 for gold exact/close, 0 for other pairs of an anchor, -1 for gold related
    and for pairs that touch no anchor.

    The gold set lists every true partner of an anchor among the schemes it
    covers, so a pair with a unit of another scheme (an imported or synthetic
    one) is unknown (-1), not a negative: an anchor's near-copy is no
    counter-example.
    """
    positive = {(r.subject_id, r.object_id) for r in gold.itertuples() if r.predicate in ("exact", "close")}
    related = {(r.subject_id, r.object_id) for r in gold.itertuples() if r.predicate == "related"}
    anchors = set(gold["anchor_id"])
    covered = _gold_schemes(gold)
    ids = ev.ids
    labels = np.full(len(features), -1)
    i, j = features["i"].to_numpy(), features["j"].to_numpy()
    anchored = np.isin(np.asarray(ids, dtype=object)[i], list(anchors))
    rows = np.flatnonzero(anchored & np.isin(ev.scheme[j], list(covered)))
    for row in rows:
        pair = (ids[i[row]], ids[j[row]])
        labels[row] = -1 if pair in related else (1 if pair in positive else 0)
    return labels


def _classifier() -> HistGradientBoostingClassifier:
    """Gradient-boosted trees with a fixed seed (monotone constraints were
    tried and scored lower in cross-validation: F1 0.80 against 0.85)."""
    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, random_state=0)


def _symmetric(features: pd.DataFrame, p: np.ndarray, n: int) -> np.ndarray:
    matrix = np.zeros((n, n))
    matrix[features["i"].to_numpy(), features["j"].to_numpy()] = p
    return (matrix + matrix.T) / 2


def _transitive(matrix: np.ndarray, scheme: np.ndarray) -> np.ndarray:
    """For each pair, the best path through a unit of a third scheme."""
    out = np.zeros_like(matrix)
    for k in range(len(scheme)):
        third = (scheme != scheme[k]).astype(float)
        out = np.maximum(
            out, np.minimum(matrix[:, k][:, None], matrix[k, :][None, :]) * third[:, None] * third[None, :]
        )
    return out


def match_probabilities(
    ev: UnitEvidence, features: pd.DataFrame, labels: np.ndarray, train_anchor_rows: np.ndarray
) -> np.ndarray:
    """Train on the rows of ``train_anchor_rows`` and score every pair.

    Two stages: a gradient-boosted classifier on the pair features; then the
    same classifier again with two more features, the first stage's
    probability and its best path through a third scheme (if A matches B and
    B matches C, A probably matches C).
    """
    columns = [c for c in features.columns if c not in ("i", "j")]
    X = features[columns].to_numpy()
    train = train_anchor_rows & (labels >= 0)
    first = _classifier().fit(X[train], labels[train])
    m1 = _symmetric(features, first.predict_proba(X)[:, 1], len(ev.ids))
    through = _transitive(m1, ev.scheme)
    i, j = features["i"].to_numpy(), features["j"].to_numpy()
    X2 = np.column_stack([X, m1[i, j], through[i, j]])
    second = _classifier().fit(X2[train], labels[train])
    return _symmetric(features, second.predict_proba(X2)[:, 1], len(ev.ids))


@dataclass(frozen=True)
class Thresholds:
    """Probability cut-offs of the matcher's grades."""

    exact: float = 0.9
    close: float = 0.5
    related: float = 0.25


THRESHOLDS = Thresholds()


def decide_pairs(ev: UnitEvidence, probability: np.ndarray, thresholds: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """Pairs of units with their grade.

    Above ``close`` a pair matches: ``exact`` when the two are each other's
    most probable partner in the other's scheme and the probability reaches
    ``exact``, ``close`` otherwise (a unit may match several units of one
    scheme).  A unit's best partner between ``related`` and ``close`` is
    kept as ``related``.
    """
    n = len(ev.ids)
    best_in = {}
    for a in range(n):
        for scheme in set(ev.scheme):
            if scheme != ev.scheme[a]:
                row = np.where(ev.scheme == scheme, probability[a], -1.0)
                best_in[(a, scheme)] = int(row.argmax())
    records = []
    for a in range(n):
        for b in range(a + 1, n):
            if ev.scheme[a] == ev.scheme[b]:
                continue
            p = probability[a, b]
            mutual = best_in[(a, ev.scheme[b])] == b and best_in[(b, ev.scheme[a])] == a
            if p >= thresholds.close:
                grade = "exact" if mutual and p >= thresholds.exact else "close"
            elif p >= thresholds.related and (best_in[(a, ev.scheme[b])] == b or best_in[(b, ev.scheme[a])] == a):
                grade = "related"
            else:
                continue
            records.append(
                {
                    "subject_id": ev.ids[a],
                    "object_id": ev.ids[b],
                    "predicate": grade,
                    "similarity": round(float(p), 4),
                    "justification": "mutual best match" if mutual else "matcher probability",
                }
            )
    return pd.DataFrame(records, columns=["subject_id", "object_id", "predicate", "similarity", "justification"])


def group_concepts(pairs: pd.DataFrame, ev: UnitEvidence, probability: np.ndarray, link: float = 0.5) -> dict[str, str]:
    """Concepts by average-linkage clustering of exact and close pairs.

    Repeatedly merge the two groups that match best on average (mean
    pairwise probability of their units), as long as it is at least
    ``link`` and the groups hold no unit of the same scheme (a concept is
    one criterion as each scheme words it).  Averaging stops a broad item of
    a third scheme from chaining two different criteria together.  Returns
    unit → representative unit.
    """
    index = {u: k for k, u in enumerate(ev.ids)}
    root = {u: u for u in ev.ids}
    members = {u: [u] for u in ev.ids}

    def find(x: str) -> str:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    strong = pairs[pairs["predicate"].isin(["exact", "close"])]
    candidates = sorted(zip(strong["subject_id"], strong["object_id"], strict=True))
    while True:
        best: tuple[float, str, str] | None = None
        seen: set[tuple[str, str]] = set()
        for a, b in candidates:
            ra, rb = sorted((find(a), find(b)))
            if ra == rb or (ra, rb) in seen:
                continue
            seen.add((ra, rb))
            left, right = members[ra], members[rb]
            if {u.split(":")[0] for u in left} & {u.split(":")[0] for u in right}:
                continue
            mean = float(probability[np.ix_([index[u] for u in left], [index[u] for u in right])].mean())
            if mean >= link and (best is None or mean > best[0]):
                best = (mean, ra, rb)
        if best is None:
            break
        _, keep, gone = best
        root[gone] = keep
        members[keep] = members[keep] + members.pop(gone)
    return {u: find(u) for u in ev.ids}


def build_crosswalk(
    tables: Mapping[str, pd.DataFrame],
    gold: pd.DataFrame | None = None,
    thresholds: Thresholds = THRESHOLDS,
    blocking: Blocking | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``crosswalk`` table (concept of every node at or below a unit) and
    the pairwise mappings, with the matcher trained on the whole gold set.

    Up to ``blocking.exact_limit`` units every pair is scored (the exact
    path, which the committed data comes from); above it only blocked
    candidate pairs are (:func:`blocked_crosswalk`).
    """
    gold = load_gold() if gold is None else gold
    blocking = BLOCKING if blocking is None else blocking
    units = unit_nodes(tables["nodes"])
    ev = unit_evidence(tables, units)
    if len(ev.ids) > blocking.exact_limit:
        pairs, root = blocked_crosswalk(tables, ev, gold, thresholds, blocking)
    else:
        ev, features = pair_features(tables, ev=ev)
        labels = _gold_labels(features, ev, gold)
        probability = match_probabilities(ev, features, labels, np.ones(len(features), dtype=bool))
        pairs = decide_pairs(ev, probability, thresholds)
        root = group_concepts(pairs, ev, probability)
    return _concept_table(tables, ev, pairs, root, units), pairs


def _concept_table(
    tables: Mapping[str, pd.DataFrame],
    ev: UnitEvidence,
    pairs: pd.DataFrame,
    root: Mapping[str, str],
    units: pd.DataFrame,
) -> pd.DataFrame:
    """One row per node at or below a unit: its concept, named after the
    concept's first unit in scheme and table order."""
    grouping = pairs[pairs["predicate"].isin(["exact", "close"])]
    members: dict[str, list[str]] = {}
    for unit_id in ev.ids:
        members.setdefault(root[unit_id], []).append(unit_id)
    position = dict(zip(tables["nodes"]["node_id"].tolist(), tables["nodes"]["position"].tolist(), strict=True))
    concept_of = {}
    for group in members.values():
        first = min(group, key=lambda u: (u.split(":")[0], position[u]))
        for unit_id in group:
            concept_of[unit_id] = f"concept:{first}"
    best: dict[str, float] = {}
    for a, b, score in zip(
        grouping["subject_id"].tolist(), grouping["object_id"].tolist(), grouping["similarity"].tolist(), strict=True
    ):
        best[a] = max(best.get(a, 0.0), score)
        best[b] = max(best.get(b, 0.0), score)
    below = units.dropna(subset=["unit_id"])
    node_ids, unit_ids = below["node_id"].tolist(), below["unit_id"].tolist()
    size = {unit_id: len(members[root[unit_id]]) for unit_id in ev.ids}
    is_unit = [n == u for n, u in zip(node_ids, unit_ids, strict=True)]
    return pd.DataFrame(
        {
            "concept_id": [concept_of[u] for u in unit_ids],
            "scheme_id": below["scheme_id"].tolist(),
            "node_id": node_ids,
            "unit_id": unit_ids,
            "similarity": [
                best.get(n, float("nan")) if own else float("nan") for n, own in zip(node_ids, is_unit, strict=True)
            ],
            "method": [
                ("matched" if size[u] > 1 else "unique") if own else "via_parent"
                for u, own in zip(unit_ids, is_unit, strict=True)
            ],
            "concept_size": [size[u] for u in unit_ids],
        }
    )


# --- the blocked path, for corpora too large for every pair ------------------


@dataclass(frozen=True)
class Blocking:
    """How the crosswalk finds candidate pairs in a large corpus.

    Up to ``exact_limit`` units every pair of units is scored.  Above it,
    candidates come from MinHash LSH over each unit's rare character n-grams
    (:mod:`qcompare.blocking`: ``n_hashes`` hashes in bands of
    ``rows_per_band``, each unit paired with the next ``window`` units of its
    bucket), and each unit keeps its ``neighbours`` most similar candidates
    by evidence cosine; ``transitive_top`` strongest links per unit feed the
    matcher's path-through-a-third-scheme feature.
    """

    exact_limit: int = 3000
    neighbours: int = 3
    n_hashes: int = 32
    rows_per_band: int = 2
    window: int = 4
    transitive_top: int = 16
    seed: int = 0


BLOCKING = Blocking()


@dataclass
class _TextRows:
    """L2-normalised rows of the distinct texts of a field and the row of
    each unit: a corpus of template copies repeats most of its texts, so each
    distinct text is vectorised, hashed and compared once."""

    matrix: sp.csr_matrix | np.ndarray
    row: np.ndarray

    def cosine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The cosine of units ``a[p]`` and ``b[p]`` for each pair ``p``,
        each pair of distinct texts computed once.

        >>> rows = _TextRows(sp.csr_matrix(np.array([[0.6, 0.8], [1.0, 0.0]])), np.array([0, 1, 0]))
        >>> rows.cosine(np.array([0, 0, 1]), np.array([2, 1, 2])).round(2).tolist()
        [1.0, 0.6, 0.6]
        """
        return cosine_of_pairs(self.matrix, self.row[a], self.row[b], distinct=True)


@dataclass
class _UnitVectors:
    """TF-IDF rows of every unit's evidence, rare evidence, title and parent
    heading (:class:`_TextRows`, fitted on the whole corpus), and of every
    distinct segment text (``segment_text`` maps each segment to its row; a
    unit's segments are ``segment_count`` from ``segment_start``);
    ``projected`` are the evidence rows in 256 dense dimensions (a seeded
    sparse random projection, which keeps dot products in expectation), for
    ranking candidates and summing groups cheaply."""

    evidence: _TextRows
    evidence_rare: _TextRows
    title: _TextRows
    parent: _TextRows
    segments: sp.csr_matrix
    projected: _TextRows
    segment_text: np.ndarray
    segment_start: np.ndarray
    segment_count: np.ndarray


def _tfidf_rows(
    texts: list[str], ngram_range: tuple[int, int], max_df: float = 1.0
) -> tuple[sp.csr_matrix, np.ndarray]:
    """TF-IDF rows of the distinct ``texts`` and each text's row.

    The same numbers as ``TfidfVectorizer(analyzer="char_wb",
    sublinear_tf=True)`` fitted on all ``texts`` (document frequencies count
    every copy), but each distinct text is analysed once: a corpus of
    template copies repeats most of its texts.

    >>> rows, inverse = _tfidf_rows(["质量", "质量", "品牌"], ngram_range=(1, 1))
    >>> expected = TfidfVectorizer(analyzer="char_wb", sublinear_tf=True).fit_transform(["质量", "质量", "品牌"])
    >>> bool(np.allclose((rows[inverse] @ rows[inverse].T).toarray(), (expected @ expected.T).toarray()))
    True
    """
    (rows,), inverse = _tfidf_variants(texts, [(*ngram_range, max_df)])
    return rows, inverse


def _tfidf_variants(texts: list[str], variants: list[tuple[int, int, float]]) -> tuple[list[sp.csr_matrix], np.ndarray]:
    """:func:`_tfidf_rows` for several ``(shortest, longest, max_df)`` n-gram
    ranges from one analysis of the texts (a range's counts are the columns
    of its n-gram lengths)."""
    distinct, inverse, copies = np.unique(
        np.asarray(texts, dtype=object).astype(str), return_inverse=True, return_counts=True
    )
    shortest, longest = min(v[0] for v in variants), max(v[1] for v in variants)
    vectorizer = CountVectorizer(analyzer="char_wb", ngram_range=(shortest, longest))
    counts = sp.csr_matrix(vectorizer.fit_transform(list(distinct)), dtype=np.float64)
    length = np.array([len(f) for f in vectorizer.get_feature_names_out()])
    out = []
    for low, high, max_df in variants:
        chosen = sp.csr_matrix(counts[:, np.flatnonzero((length >= low) & (length <= high))])
        df = np.asarray((chosen > 0).T.astype(np.float64) @ copies).ravel()
        kept = np.flatnonzero(df <= max_df * len(texts))
        chosen, df = sp.csr_matrix(chosen[:, kept]), df[kept]
        chosen.data = 1 + np.log(chosen.data)
        weighted = sp.csr_matrix(chosen @ sp.diags(np.log((1 + len(texts)) / (1 + df)) + 1))
        out.append(sp.csr_matrix(normalize(weighted)))
    return out, inverse.ravel()


def _unit_vectors(ev: UnitEvidence, synonyms: pd.DataFrame, seed: int = 0) -> _UnitVectors:
    full = _with_synonyms(ev.full, synonyms)
    flat = [seg for segs in ev.segments for seg in segs]
    count = np.array([len(segs) for segs in ev.segments], dtype=np.int64)
    segments, segment_text = _tfidf_rows(flat or [""], ngram_range=(2, 3))
    (evidence, evidence_rare), full_row = _tfidf_variants(full, [(2, 3, 1.0), (2, 4, 0.2)])
    return _UnitVectors(
        evidence=_TextRows(evidence, full_row),
        evidence_rare=_TextRows(evidence_rare, full_row),
        # each distinct text projected once (the projection depends only on the columns and the seed)
        projected=_TextRows(_project(evidence, seed), full_row),
        title=_TextRows(*_tfidf_rows(_with_synonyms(_titles(ev), synonyms), ngram_range=(1, 3))),
        parent=_TextRows(*_tfidf_rows(ev.parent_title, ngram_range=(1, 2))),
        segments=segments,
        segment_text=segment_text,
        segment_start=np.r_[0, np.cumsum(count)[:-1]].astype(np.int64),
        segment_count=count,
    )


def _project(rows: sp.csr_matrix, seed: int, dimensions: int = 256) -> np.ndarray:
    """Rows in ``dimensions`` dense columns, dot products kept in expectation
    (Johnson–Lindenstrauss; a seeded sparse random projection)."""
    projection = SparseRandomProjection(n_components=dimensions, dense_output=True, random_state=seed)
    return np.asarray(projection.fit_transform(rows), dtype=np.float32)  # float32: half the memory traffic


def _segment_max_of_pairs(vectors: _UnitVectors, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each pair, the best cosine between a segment of one and a segment
    of the other (0 where either has none)."""
    na, nb = vectors.segment_count[a], vectors.segment_count[b]
    combos = na * nb
    out = np.zeros(len(a))
    total = int(combos.sum())
    if not total:
        return out
    pair = np.repeat(np.arange(len(a)), combos)
    offset = np.arange(total) - np.repeat(np.cumsum(combos) - combos, combos)
    left = vectors.segment_text[vectors.segment_start[a][pair] + offset // nb[pair]]
    right = vectors.segment_text[vectors.segment_start[b][pair] + offset % nb[pair]]
    cosine = cosine_of_pairs(vectors.segments, left, right, distinct=True)
    has = combos > 0
    out[has] = np.maximum.reduceat(cosine, (np.cumsum(combos) - combos)[has])
    return out


def _blocked_features(
    ev: UnitEvidence,
    labels: tuple[np.ndarray, list[set[str]]],
    vectors: _UnitVectors,
    a: np.ndarray,
    b: np.ndarray,
) -> pd.DataFrame:
    """Features of the unordered pairs ``(a, b)`` in both directions: the
    rows ``(a, b)`` first, then ``(b, a)``; ranks among the pairs given."""
    values = {
        "evidence": vectors.evidence.cosine(a, b),
        "evidence_rare": vectors.evidence_rare.cosine(a, b),
        "title": vectors.title.cosine(a, b),
        "segment": _segment_max_of_pairs(vectors, a, b),
    }
    parent = vectors.parent.cosine(a, b)
    both = {name: np.r_[v, v] for name, v in values.items()}
    return _pair_columns(ev, labels, np.r_[a, b], np.r_[b, a], both, np.r_[parent, parent])


def _sparse_transitive(a: np.ndarray, b: np.ndarray, weight: np.ndarray, n: int, top: int) -> np.ndarray:
    """For each pair ``(a, b)``, its best path through a unit of a third
    scheme, ``max_k min(w(a, k), w(k, b))``, over each unit's ``top``
    strongest links (exact where no unit has more links than that).

    >>> a, b = np.array([0, 0, 1]), np.array([1, 2, 2])
    >>> _sparse_transitive(a, b, np.array([0.9, 0.2, 0.8]), 3, top=4).tolist()
    [0.2, 0.8, 0.2]
    """
    src, dst, w = np.r_[a, b], np.r_[b, a], np.r_[weight, weight]
    order = np.lexsort((dst, -w, src))
    src, dst, w = src[order], dst[order], w[order]
    first = np.r_[True, src[1:] != src[:-1]]
    rank = np.arange(len(src)) - np.maximum.accumulate(np.where(first, np.arange(len(src)), 0))
    keep = rank < top
    src, dst, w = src[keep], dst[keep], w[keep]
    keys = a * n + b  # a < b and sorted, so the pair keys are sorted
    out = np.zeros(len(a))
    for offset in range(1, top):
        same = src[:-offset] == src[offset:]
        if not same.any():
            break
        x, y = dst[:-offset][same], dst[offset:][same]
        key = np.minimum(x, y) * n + np.maximum(x, y)
        position = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
        found = keys[position] == key
        np.maximum.at(out, position[found], np.minimum(w[:-offset][same], w[offset:][same])[found])
    return out


@dataclass
class _Matcher:
    """The two fitted stages of the matcher."""

    first: HistGradientBoostingClassifier
    second: HistGradientBoostingClassifier
    columns: list[str]


def _predict_distinct(model: HistGradientBoostingClassifier, X: np.ndarray) -> np.ndarray:
    """``model.predict_proba(X)[:, 1]``, each distinct row predicted once.

    Pairs of template copies repeat the same feature rows (six times over at
    1,000 schemes).  Rows are grouped by a 64-bit hash of their bytes and
    the grouping is checked against the rows themselves, so a hash collision
    costs time (every row is predicted), never a wrong value.

    >>> X = np.array([[0.0, 1.0], [0.5, 0.5], [0.0, 1.0]])
    >>> model = _classifier().fit(np.array([[0.0, 1.0], [1.0, 0.0]] * 10), np.array([1, 0] * 10))
    >>> bool(np.array_equal(_predict_distinct(model, X), model.predict_proba(X)[:, 1]))
    True
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    bits = X.view(np.uint64)
    key = np.zeros(len(X), dtype=np.uint64)
    for column in range(X.shape[1]):  # a polynomial hash of the row's bytes, wrapping modulo 2**64
        key = key * np.uint64(0x9E3779B97F4A7C15) + bits[:, column]
    first, inverse = distinct_keys(key.view(np.int64))
    if not np.array_equal(X[first][inverse], X, equal_nan=True):
        return np.asarray(model.predict_proba(X)[:, 1])
    return np.asarray(model.predict_proba(X[first])[:, 1][inverse])


def _apply_matcher(
    matcher: _Matcher, features: pd.DataFrame, a: np.ndarray, b: np.ndarray, n: int, top: int
) -> np.ndarray:
    """Symmetric match probability of each unordered pair ``(a, b)``, from the
    features of both directions (rows ``(a, b)``, then ``(b, a)``)."""
    X = features[matcher.columns].to_numpy()
    half = len(a)
    p1 = _predict_distinct(matcher.first, X)
    m1 = (p1[:half] + p1[half:]) / 2
    through = _sparse_transitive(a, b, m1, n, top)
    X2 = np.column_stack([X, np.r_[m1, m1], np.r_[through, through]])
    p2 = _predict_distinct(matcher.second, X2)
    return np.asarray((p2[:half] + p2[half:]) / 2)


def _fit_matcher(
    ev: UnitEvidence,
    unit_labels: tuple[np.ndarray, list[set[str]]],
    vectors: _UnitVectors,
    gold: pd.DataFrame,
    top: int,
) -> _Matcher:
    """Fit both stages on every pair of units inside the schemes the gold set
    covers (where it says which pairs match and which do not)."""
    covered = _gold_schemes(gold)
    a, b = _all_pairs(ev, np.flatnonzero(np.isin(ev.scheme, list(covered))))
    features = _blocked_features(ev, unit_labels, vectors, a, b)
    labels = _gold_labels(features, ev, gold)
    columns = [c for c in features.columns if c not in ("i", "j")]
    X, train = features[columns].to_numpy(), labels >= 0
    if not train.any() or len(set(labels[train])) < 2:
        raise ValueError("the gold set gives no positive and negative pairs among the corpus's units")
    first = _classifier().fit(X[train], labels[train])
    half = len(a)
    p1 = _predict_distinct(first, X)
    m1 = (p1[:half] + p1[half:]) / 2
    through = _sparse_transitive(a, b, m1, len(ev.ids), max(top, len(a)))
    X2 = np.column_stack([X, np.r_[m1, m1], np.r_[through, through]])
    second = _classifier().fit(X2[train], labels[train])
    return _Matcher(first, second, columns)


def _all_pairs(ev: UnitEvidence, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``a < b`` of the given units from different schemes."""
    a, b = np.triu_indices(len(members), k=1)
    a, b = members[a], members[b]
    cross = ev.scheme[a] != ev.scheme[b]
    return a[cross], b[cross]


def candidate_pairs(
    ev: UnitEvidence, vectors: _UnitVectors, blocking: Blocking, always: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs the blocked path scores: each unit's best LSH candidates by
    evidence cosine (of the projected rows), plus the pairs in ``always``
    (``(m, 2)``, smaller first)."""
    rare = vectors.evidence_rare  # each distinct text hashed once
    signatures = minhash_signatures(rare.matrix, blocking.n_hashes, blocking.seed)[rare.row]
    found = lsh_pairs(signatures, blocking.rows_per_band, blocking.window, blocking.seed)
    projected = vectors.projected
    kept, _ = top_k_pairs(projected.matrix, found, blocking.neighbours, groups=ev.scheme, rows=projected.row)
    pairs = unique_pairs(np.concatenate([kept, always.reshape(-1, 2)]), len(ev.ids))
    return pairs[:, 0], pairs[:, 1]


def blocked_crosswalk(
    tables: Mapping[str, pd.DataFrame],
    ev: UnitEvidence,
    gold: pd.DataFrame,
    thresholds: Thresholds = THRESHOLDS,
    blocking: Blocking = BLOCKING,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Pairs and concepts of a corpus too large to score every pair.

    The matcher is the exact path's, fitted on every pair inside the schemes
    the gold set covers; it then scores only candidate pairs (each unit's
    ``blocking.neighbours`` best LSH candidates, and every pair inside the
    gold-covered schemes).  Grades follow :func:`decide_pairs` among the
    scored pairs, and concepts :func:`group_concepts`, with the unscored
    pairs between two groups estimated from their evidence
    (:func:`group_sparse_concepts`, :class:`UnscoredEstimate`).
    Time and memory grow with the number of candidate pairs, about
    ``units × neighbours``.
    """
    vectors = _unit_vectors(ev, load_synonyms(), blocking.seed)
    n = len(ev.ids)
    labels = _unit_labels(tables, ev)
    matcher = _fit_matcher(ev, labels, vectors, gold, blocking.transitive_top)
    covered = _gold_schemes(gold)
    inside = np.column_stack(_all_pairs(ev, np.flatnonzero(np.isin(ev.scheme, list(covered)))))
    a, b = candidate_pairs(ev, vectors, blocking, inside)
    features = _blocked_features(ev, labels, vectors, a, b)
    probability = _apply_matcher(matcher, features, a, b, n, blocking.transitive_top)
    pairs = decide_sparse_pairs(ev, a, b, probability, thresholds)
    unscored = UnscoredEstimate.fit(vectors.projected.matrix[vectors.projected.row], a, b, probability)
    return pairs, group_sparse_concepts(pairs, ev, a, b, probability, unscored=unscored)


def decide_sparse_pairs(
    ev: UnitEvidence, a: np.ndarray, b: np.ndarray, probability: np.ndarray, thresholds: Thresholds = THRESHOLDS
) -> pd.DataFrame:
    """:func:`decide_pairs` on scored pairs ``a < b`` only: a unit's best
    partner in a scheme is its most probable scored partner there."""
    _, code = np.unique(ev.scheme, return_inverse=True)
    schemes = int(code.max()) + 1 if len(code) else 1
    src, dst, p = np.r_[a, b], np.r_[b, a], np.r_[probability, probability]
    order = np.lexsort((dst, -p, code[dst], src))
    group = src[order] * schemes + code[dst[order]]
    first = np.r_[True, group[1:] != group[:-1]]
    groups, best = group[first], dst[order][first]  # (unit, other scheme) in sorted order → best partner there
    best_ab = best[np.searchsorted(groups, a * schemes + code[b])] == b
    best_ba = best[np.searchsorted(groups, b * schemes + code[a])] == a
    mutual = best_ab & best_ba
    grade = np.where(
        probability >= thresholds.close,
        np.where(mutual & (probability >= thresholds.exact), "exact", "close"),
        np.where((probability >= thresholds.related) & (best_ab | best_ba), "related", ""),
    )
    keep = grade != ""
    ids = np.asarray(ev.ids, dtype=object)
    return pd.DataFrame(
        {
            "subject_id": ids[a[keep]],
            "object_id": ids[b[keep]],
            "predicate": grade[keep],
            "similarity": np.round(probability[keep], 4),
            "justification": np.where(mutual[keep], "mutual best match", "matcher probability"),
        }
    )


@dataclass
class UnscoredEstimate:
    """What the pairs a blocked crosswalk did not score are likely worth.

    The mean cosine over *all* pairs between two groups of units is the dot
    product of their summed evidence rows over the number of pairs, so the
    mean cosine of the pairs that were not scored follows from the sums and
    the scored pairs' cosines; ``calibration`` (the matcher's probability as a
    non-decreasing function of cosine, points ``x``, ``y`` for
    :func:`numpy.interp`, fitted on the scored pairs) turns it into a
    probability.  Summing sparse TF-IDF rows for every candidate merge is
    slow, so the rows are first projected to ``dimensions`` dense columns
    by a seeded sparse random projection, which keeps dot products in
    expectation (Johnson–Lindenstrauss): ``rows`` are the projected units and
    ``cosine`` each scored pair's cosine in that space.
    """

    rows: np.ndarray
    cosine: np.ndarray
    calibration: tuple[np.ndarray, np.ndarray]

    @classmethod
    def fit(cls, rows: np.ndarray, a: np.ndarray, b: np.ndarray, probability: np.ndarray) -> UnscoredEstimate:
        """Calibrate probability on cosine (isotonic) over the scored pairs
        ``(a, b)``, with ``rows`` the units' projected evidence rows."""
        cosine = cosine_of_pairs(rows, a, b, chunk=50_000)
        isotonic = IsotonicRegression(increasing=True, out_of_bounds="clip", y_min=0.0, y_max=1.0)
        isotonic.fit(cosine, probability)
        return cls(rows, cosine, (isotonic.X_thresholds_, isotonic.y_thresholds_))


def group_sparse_concepts(
    pairs: pd.DataFrame,
    ev: UnitEvidence,
    a: np.ndarray,
    b: np.ndarray,
    probability: np.ndarray,
    link: float = 0.5,
    unscored: UnscoredEstimate | None = None,
) -> dict[str, str]:
    """:func:`group_concepts` over scored pairs only.

    Groups joined by an exact or close pair merge, best first, while the mean
    probability over all pairs between them is at least ``link`` and they
    hold no unit of the same scheme.  The pairs that were not scored enter
    that mean through ``unscored``: at the calibrated probability of their
    mean evidence cosine (:class:`UnscoredEstimate`).  Without it they count
    as 0, which is right when every unit keeps more partners than it has
    copies, and fragments concepts when it does not.  With every pair scored
    this is :func:`group_concepts` exactly.

    Merges are taken from a heap of candidate merges (lazy greedy): a merge
    re-queues only the links it touched; an entry whose groups changed in
    some other merge since it was valued is valued again when it reaches the
    top, and taken if it is still at least the best value queued, else
    queued again at its new value.  The work grows with the scored pairs,
    not with the square of the units or of a concept's size.  A value that
    only changed through a group's size (the estimated pairs) may thus be
    taken a little out of order, and a link valued below ``link`` is not
    valued again until a merge touches it; with every pair scored, values
    change only where a merge touches them, and the order is exact.
    Returns unit → representative unit.
    """
    n = len(ev.ids)
    index = {u: k for k, u in enumerate(ev.ids)}
    strong_pairs = pairs[pairs["predicate"].isin(["exact", "close"])]
    strong = {
        (index[x], index[y])
        for x, y in zip(strong_pairs["subject_id"].tolist(), strong_pairs["object_id"].tolist(), strict=True)
    }
    cosine = unscored.cosine if unscored is not None else np.zeros(len(a))
    # between two groups: [sum of scored probabilities, scored pairs, sum of their cosines, joined by a strong
    # pair, stamp]; a heap entry is current while its link's stamp is, and it was valued at its groups' versions
    links: list[dict[int, list]] = [{} for _ in range(n)]
    heap: list[tuple[float, int, int, int, int]] = []
    for x, y, p, c in zip(a.tolist(), b.tolist(), probability.tolist(), cosine.tolist(), strict=True):
        joined = (x, y) in strong
        entry = [p, 1, c, joined, 0]
        links[x][y] = entry
        links[y][x] = entry
        if joined and p >= link:  # two single units of different schemes: their value is the pair's probability
            heap.append((-p, min(x, y), max(x, y), 0, 0))
    heapq.heapify(heap)
    members: list[list[int]] = [[k] for k in range(n)]
    # each group's schemes as a bitmask over scheme codes: disjointness in a few machine words, not a set scan
    _, scheme_code = np.unique(ev.scheme, return_inverse=True)
    schemes = [1 << int(code) for code in scheme_code.ravel().tolist()]
    version = [0] * n  # bumped whenever a group changes
    summed: list[np.ndarray] = list(unscored.rows) if unscored is not None else []  # each group's summed rows
    stamps = iter(range(1, 1 << 62))
    xs, ys = (list(map(float, v)) for v in unscored.calibration) if unscored is not None else ([0.0], [0.0])

    def interpolate(x: float) -> float:  # numpy.interp for one value, without its per-call overhead
        k = bisect.bisect_right(xs, x)
        if k == 0:
            return ys[0]
        if k == len(xs):
            return ys[-1]
        x0, x1, y0, y1 = xs[k - 1], xs[k], ys[k - 1], ys[k]
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0)

    def value(x: int, y: int, entry: list) -> float:
        """The mean probability over all pairs between two groups, the
        unscored ones estimated from their evidence."""
        size = len(members[x]) * len(members[y])
        if entry[1] == size or unscored is None:
            return float(entry[0] / size)
        rest = min(max((float(summed[x] @ summed[y]) - entry[2]) / (size - entry[1]), 0.0), 1.0)
        return float((entry[0] + (size - entry[1]) * interpolate(rest)) / size)

    while heap:
        _, x, y, stamp, seen = heapq.heappop(heap)
        queued = links[x].get(y)
        if queued is None or queued[4] != stamp or schemes[x] & schemes[y]:
            continue
        if seen != version[x] + version[y]:  # valued before one of the groups changed: value it again
            mean = value(x, y, queued)
            if mean < link:
                continue
            if heap and -heap[0][0] > mean:  # no longer the best: queue it at its new value
                heapq.heappush(heap, (-mean, x, y, stamp, version[x] + version[y]))
                continue
        keep, gone = (x, y) if len(members[x]) >= len(members[y]) else (y, x)
        version[keep] += 1
        if unscored is not None:
            summed[keep] = summed[keep] + summed[gone]
        members[keep] += members[gone]
        members[gone] = []
        schemes[keep] |= schemes[gone]
        del links[keep][gone], links[gone][keep]
        # the links the merge touched are valued now; the group's other links when they reach the top
        for other, (total, count, cosines, joined, _) in links[gone].items():
            del links[other][gone]
            mine = links[keep].get(other)
            entry = [total, count, cosines, joined, next(stamps)]
            if mine:
                entry = [total + mine[0], count + mine[1], cosines + mine[2], joined or mine[3], entry[4]]
            links[keep][other] = entry
            links[other][keep] = entry
            if entry[3] and not schemes[keep] & schemes[other]:
                mean = value(keep, other, entry)
                if mean >= link:
                    heapq.heappush(
                        heap, (-mean, min(keep, other), max(keep, other), entry[4], version[keep] + version[other])
                    )
        links[gone] = {}
    root = {}
    for keep, group in enumerate(members):
        for k in group:
            root[ev.ids[k]] = ev.ids[keep]
    return root


def sssom_table(pairs: pd.DataFrame, nodes: pd.DataFrame) -> pd.DataFrame:
    """The mappings in the spirit of an SSSOM mapping set (one row per pair)."""
    titles = nodes.set_index("node_id")["title"]
    schemes = nodes.set_index("node_id")["scheme_id"]
    return pd.DataFrame(
        {
            "subject_id": pairs["subject_id"],
            "subject_label": pairs["subject_id"].map(titles).fillna(""),
            "subject_source": pairs["subject_id"].map(schemes),
            "predicate_id": pairs["predicate"].map(SKOS),
            "object_id": pairs["object_id"],
            "object_label": pairs["object_id"].map(titles).fillna(""),
            "object_source": pairs["object_id"].map(schemes),
            "mapping_justification": "semapv:LexicalMatching",
            "confidence": pairs["similarity"],
            "comment": pairs["justification"],
        }
    )


def score_against_gold(pairs: pd.DataFrame, gold: pd.DataFrame, anchors: set[str] | None = None) -> dict[str, float]:
    """Precision, recall and F1 of exact/close pairs on the gold anchors.

    The gold set lists every true partner of each anchor, so a predicted
    partner outside it is a false positive; gold ``related`` pairs count
    neither way.

    >>> gold = pd.DataFrame({"anchor_id": ["a:1"] * 2, "subject_id": ["a:1"] * 2,
    ...                      "object_id": ["b:1", "b:2"], "predicate": ["exact", "related"]})
    >>> pairs = pd.DataFrame({"subject_id": ["a:1", "a:1", "c:1"], "object_id": ["b:1", "b:2", "a:1"],
    ...                       "predicate": ["exact", "close", "close"]})
    >>> score_against_gold(pairs, gold)["precision"]
    0.5
    """
    predicted = pairs[pairs["predicate"].isin(["exact", "close"])]
    tp = fp = fn = 0
    for anchor, rows in gold.groupby("anchor_id", sort=True):
        if anchors is not None and anchor not in anchors:
            continue
        true = set(rows.loc[rows["predicate"].isin(["exact", "close"]), "object_id"])
        ignore = set(rows.loc[rows["predicate"] == "related", "object_id"])
        mine = set(predicted.loc[predicted["subject_id"] == anchor, "object_id"]) | set(
            predicted.loc[predicted["object_id"] == anchor, "subject_id"]
        )
        mine -= ignore
        tp += len(mine & true)
        fp += len(mine - true)
        fn += len(true - mine)
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else float("nan")
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def cross_validate(
    tables: Mapping[str, pd.DataFrame], gold: pd.DataFrame | None = None, folds: int = 6
) -> tuple[dict[str, float], pd.DataFrame]:
    """Precision, recall and F1 of the matcher with anchors held out.

    The anchors are split into ``folds`` groups; each group is scored by a
    matcher trained on the others' labels only, so no anchor is judged by a
    model that saw its answer.  Returns the pooled scores and one row per fold.
    """
    gold = load_gold() if gold is None else gold
    ev, features = pair_features(tables)
    labels = _gold_labels(features, ev, gold)
    anchors = np.array(sorted(set(gold["anchor_id"])))
    anchor_rows = np.array([ev.ids[a] for a in features["i"]])
    total = {"tp": 0, "fp": 0, "fn": 0}
    rows = []
    for fold, (train, test) in enumerate(GroupKFold(n_splits=folds).split(anchors, groups=anchors)):
        train_anchors = set(anchors[train])
        mask = np.isin(anchor_rows, list(train_anchors))
        probability = match_probabilities(ev, features, np.where(mask, labels, -1), mask)
        score = score_against_gold(decide_pairs(ev, probability), gold, set(anchors[test]))
        rows.append({"fold": fold, **score})
        for key in total:
            total[key] += int(score[key])
    tp, fp, fn = total["tp"], total["fp"], total["fn"]
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    pooled = {"precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall), **total}
    return pooled, pd.DataFrame(rows)
