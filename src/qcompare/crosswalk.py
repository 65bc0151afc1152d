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

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GroupKFold

from qcompare.ontology import node_evidence_text
from qcompare.paths import project_root
from qcompare.tables import records
from qcompare.text import clean_text
from qcompare.weights import leaves

__all__ = [
    "THRESHOLDS",
    "Thresholds",
    "UnitEvidence",
    "build_crosswalk",
    "cross_validate",
    "decide_pairs",
    "group_concepts",
    "load_gold",
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
    at or below a unit (nodes above units get none)."""
    frames = []
    is_leaf = dict(zip(nodes["node_id"], leaves(nodes), strict=True))
    parent = dict(zip(nodes["node_id"], nodes["parent_id"], strict=True))
    for _, frame in nodes.groupby("scheme_id", sort=True):
        scored = frame[frame["points_status"].isin(["declared", "recovered"])]
        units: set[str] = set()
        if len(scored):
            level = int(scored["level"].max())
            units = set(frame.loc[(frame["level"] == level) & frame["points"].notna(), "node_id"])
        covered = set(units)
        rows = records(frame)
        for row in rows:  # descendants of units are covered
            if isinstance(row["parent_id"], str) and row["parent_id"] in covered:
                covered.add(row["node_id"])
        for row in rows:
            if not is_leaf[row["node_id"]] or row["node_id"] in covered:
                continue
            if row["level_label"] in _BREAKDOWN_LABELS and isinstance(row["parent_id"], str):
                units.add(row["parent_id"])
            else:
                units.add(row["node_id"])
        frames.append(frame.assign(is_unit=frame["node_id"].isin(units)))
    out = pd.concat(frames)
    unit_set = set(out.loc[out["is_unit"], "node_id"])
    unit_of: dict[str, str | None] = {}
    for node_id in out["node_id"]:
        current: str | None = node_id
        while current is not None and current not in unit_set:
            above = parent[current]
            current = above if isinstance(above, str) else None
        unit_of[node_id] = current
    out["unit_id"] = out["node_id"].map(unit_of)
    return out


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


def unit_evidence(tables: Mapping[str, pd.DataFrame]) -> UnitEvidence:
    """Title, whole evidence, parent heading and segments of every unit."""
    nodes = tables["nodes"]
    units = unit_nodes(nodes)
    evidence = node_evidence_text(tables)
    below = units.dropna(subset=["unit_id"])
    below = below[below["node_id"] != below["unit_id"]]
    children = below.groupby("unit_id")["node_id"].agg(list)
    rules = tables["rules"].groupby("node_id")["rule_text"].agg(" ".join)
    indexed = nodes.set_index("node_id")
    ids = sorted(units.loc[units["is_unit"], "node_id"])
    full, title, parent_title, segments = [], [], [], []
    for unit_id in ids:
        kids = [evidence[c] for c in children.get(unit_id, [])]
        own_title = indexed.at[unit_id, "title"]
        own_title = clean_text(own_title) if isinstance(own_title, str) else ""
        parent = indexed.at[unit_id, "parent_id"]
        heading = indexed.at[parent, "title"] if isinstance(parent, str) else None
        full.append(" ".join([evidence[unit_id], *kids]))
        title.append(own_title)
        parent_title.append(clean_text(heading) if isinstance(heading, str) else "")
        sentences = [x for x in _SENTENCE.split(str(rules.get(unit_id, ""))) if len(x) >= 6]
        segments.append([x for x in [own_title, evidence[unit_id], *kids, *sentences] if len(x) >= 2])
    scheme = np.array([indexed.at[u, "scheme_id"] for u in ids])
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
    out = []
    for text in texts:
        groups = sorted({g for g, term in zip(synonyms["group"], synonyms["term"], strict=True) if term in text})
        out.append(" ".join([text, *(f"⟨{g}⟩" for g in groups)]))
    return out


def _jaccard(a: list[set[str]], b: list[set[str]], i: np.ndarray, j: np.ndarray, empty: float = 0.0) -> np.ndarray:
    return np.array([len(a[x] & b[y]) / len(a[x] | b[y]) if a[x] | b[y] else empty for x, y in zip(i, j, strict=True)])


def _rank_features(
    sim: np.ndarray, i: np.ndarray, j: np.ndarray, scheme: np.ndarray, name: str
) -> dict[str, np.ndarray]:
    frame = pd.DataFrame({"i": i, "j": j, "s": sim[i, j], "sj": scheme[j], "si": scheme[i]})
    by_row = frame.groupby(["i", "sj"])["s"]
    by_col = frame.groupby(["j", "si"])["s"]
    return {
        f"{name}_rank": np.minimum(by_row.rank(ascending=False, method="min").to_numpy(), 5),
        f"{name}_ratio": (frame["s"] / by_row.transform("max").replace(0, np.nan)).fillna(0).to_numpy(),
        f"{name}_rank_back": np.minimum(by_col.rank(ascending=False, method="min").to_numpy(), 5),
        f"{name}_ratio_back": (frame["s"] / by_col.transform("max").replace(0, np.nan)).fillna(0).to_numpy(),
    }


def pair_features(
    tables: Mapping[str, pd.DataFrame], synonyms: pd.DataFrame | None = None
) -> tuple[UnitEvidence, pd.DataFrame]:
    """One row per ordered pair of units from different schemes, with the
    lexical, structural and ontology features the matcher reads."""
    synonyms = pd.read_csv(_REFERENCE / "synonyms.csv", dtype=str) if synonyms is None else synonyms
    ev = unit_evidence(tables)
    n = len(ev.ids)
    i, j = np.nonzero(ev.scheme[:, None] != ev.scheme[None, :])
    # synonyms become shared tokens, so 经费 and 投入 count as the same word
    full = _with_synonyms(ev.full, synonyms)
    titles = _with_synonyms([t or f[:40] for t, f in zip(ev.title, ev.full, strict=True)], synonyms)
    sims = {
        "evidence": _cosine(full, ngram_range=(2, 3)),
        "evidence_rare": _cosine(full, ngram_range=(2, 4), max_df=0.2),
        "title": _cosine(titles, ngram_range=(1, 3)),
        "segment": _segment_max(ev),
    }
    parent = _cosine(ev.parent_title, ngram_range=(1, 2))
    columns: dict[str, np.ndarray] = {"i": i, "j": j}
    for name, sim in sims.items():
        columns[name] = sim[i, j]
        if name != "evidence_rare":
            columns.update(_rank_features(sim, i, j, ev.scheme, name))
    columns["parent"] = parent[i, j]
    categories = tables["categories"]
    lever = categories[categories["facet"] == "lever"].set_index("node_id")["category"]
    domains = categories[categories["facet"] == "domain"].groupby("node_id")["category"].agg(set)
    unit_lever = np.array([lever.get(u, "") for u in ev.ids])
    unit_domains = [domains.get(u, set()) for u in ev.ids]
    columns["same_lever"] = (unit_lever[i] == unit_lever[j]).astype(float)
    columns["same_domain"] = _jaccard(unit_domains, unit_domains, i, j)
    features = pd.DataFrame(columns)
    assert len(features) == n * n - sum(int((ev.scheme == s).sum()) ** 2 for s in set(ev.scheme))
    return ev, features


# --- the matcher -----------------------------------------------------------


def load_gold(path: Path | None = None) -> pd.DataFrame:
    """The hand-checked pairs: anchor_id, subject_id, object_id, predicate, justification."""
    return pd.read_csv(path or _REFERENCE / "crosswalk_gold.csv", dtype=str, keep_default_na=False)


def _gold_labels(features: pd.DataFrame, ev: UnitEvidence, gold: pd.DataFrame) -> np.ndarray:
    """1 for gold exact/close, 0 for other pairs of an anchor, -1 for gold related
    and for pairs that touch no anchor."""
    positive = {(r.subject_id, r.object_id) for r in gold.itertuples() if r.predicate in ("exact", "close")}
    related = {(r.subject_id, r.object_id) for r in gold.itertuples() if r.predicate == "related"}
    anchors = set(gold["anchor_id"])
    ids = ev.ids
    labels = np.full(len(features), -1)
    for row, (a, b) in enumerate(zip(features["i"], features["j"], strict=True)):
        pair = (ids[a], ids[b])
        if ids[a] not in anchors:
            continue
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
    tables: Mapping[str, pd.DataFrame], gold: pd.DataFrame | None = None, thresholds: Thresholds = THRESHOLDS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``crosswalk`` table (concept of every node at or below a unit) and
    the pairwise mappings, with the matcher trained on the whole gold set."""
    gold = load_gold() if gold is None else gold
    ev, features = pair_features(tables)
    labels = _gold_labels(features, ev, gold)
    probability = match_probabilities(ev, features, labels, np.ones(len(features), dtype=bool))
    pairs = decide_pairs(ev, probability, thresholds)
    grouping = pairs[pairs["predicate"].isin(["exact", "close"])]
    root = group_concepts(pairs, ev, probability)
    members: dict[str, list[str]] = {}
    for unit_id in ev.ids:
        members.setdefault(root[unit_id], []).append(unit_id)
    position = dict(zip(tables["nodes"]["node_id"], tables["nodes"]["position"], strict=True))
    concept_of = {}
    for group in members.values():
        first = min(group, key=lambda u: (u.split(":")[0], position[u]))
        for unit_id in group:
            concept_of[unit_id] = f"concept:{first}"
    best: dict[str, float] = {}
    for a, b, score in zip(grouping["subject_id"], grouping["object_id"], grouping["similarity"], strict=True):
        best[a] = max(best.get(a, 0.0), score)
        best[b] = max(best.get(b, 0.0), score)
    units = unit_nodes(tables["nodes"])
    out = []
    for row in records(units.dropna(subset=["unit_id"])):
        node_id, unit_id = str(row["node_id"]), str(row["unit_id"])
        size = len(members[root[unit_id]])
        if node_id == unit_id:
            method = "matched" if size > 1 else "unique"
            similarity = best.get(node_id, float("nan"))
        else:
            method, similarity = "via_parent", float("nan")
        out.append(
            {
                "concept_id": concept_of[unit_id],
                "scheme_id": row["scheme_id"],
                "node_id": node_id,
                "unit_id": unit_id,
                "similarity": similarity,
                "method": method,
                "concept_size": size,
            }
        )
    return pd.DataFrame(out), pairs


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
