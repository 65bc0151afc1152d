"""Label every node on the three facets of the common ontology.

The facets and their codes are ``shared/design/ONTOLOGY.md``: ``nature``
(process / outcome), ``lever`` (the governance instrument, one value) and
``domain`` (whose quality is meant, one or more values).  Labels are decided
in this order, and each carries its method, evidence and confidence:

1. **manual** — ``data/reference/ontology_overrides.csv`` wins over
   everything.
2. **rule** — the keyword dictionaries in
   ``data/reference/ontology_keywords.csv`` (data, not code).  A keyword
   scores its length in characters times its weight, so specific phrases
   (监督抽查合格率) outweigh general ones (监督).  The node's own words decide;
   the parent's heading is added at half weight only to break a tie.  Nature
   counts a numeric threshold (≥90%, 前10位, 3家以上) as outcome evidence, since
   ONTOLOGY.md makes a rate or count to be reached an outcome even when a lever
   owns it.
3. **model** — where the rules are silent or tied: a character n-gram
   TF-IDF (Chinese has no spaces) with a logistic regression, trained only on
   rule-labelled and hand-labelled nodes; its evidence names the nearest
   labelled neighbours.

:func:`label_nodes` returns the ``categories`` table; :func:`evaluate`
cross-validates the whole pipeline against a hand-labelled set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import KFold
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from qcompare.paths import project_root
from qcompare.schema import DOMAINS, LEVERS, NATURES
from qcompare.tables import records
from qcompare.text import clean_text

__all__ = [
    "DOMAINS",
    "FACETS",
    "LEVERS",
    "MAX_REFERENCE",
    "NATURES",
    "Evaluation",
    "evaluate",
    "label_nodes",
    "load_evaluation_set",
    "load_keywords",
    "load_overrides",
    "node_evidence_text",
    "rule_scores",
]

FACETS = {"nature": NATURES, "lever": LEVERS, "domain": DOMAINS}

_THRESHOLD = re.compile(r"(\d+(\.\d+)?\s*[%‰])|前\s*\d+|[≥≤]|\d+\s*(个|家|只|件|次|批次|张)以上|达到\d|大于\d|不低于")
_REFERENCE = project_root() / "data" / "reference"
_MARGIN = 1.25
_CHUNK = 500
MAX_REFERENCE = 5000


def load_keywords(path: Path | None = None) -> pd.DataFrame:
    """The keyword dictionaries: facet, code, keyword, weight."""
    frame = pd.read_csv(path or _REFERENCE / "ontology_keywords.csv", dtype={"weight": float}, keep_default_na=False)
    for facet, code in zip(frame["facet"], frame["code"], strict=True):
        if code not in FACETS.get(facet, []):
            raise ValueError(f"ontology_keywords.csv: {code!r} is not a code of facet {facet!r} (see ONTOLOGY.md)")
    return frame


def load_overrides(path: Path | None = None) -> pd.DataFrame:
    """Manual labels that win: node_id, facet, code, note."""
    return pd.read_csv(path or _REFERENCE / "ontology_overrides.csv", dtype=str, keep_default_na=False)


def load_evaluation_set(path: Path | None = None) -> pd.DataFrame:
    """The hand-labelled evaluation set: node_id, nature, lever, domain, note."""
    return pd.read_csv(path or _REFERENCE / "ontology_eval.csv", dtype=str, keep_default_na=False)


def node_evidence_text(tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    """The words that describe each node: its title and text, and, for a
    node whose title the export lost, its scoring text and its children."""
    nodes = tables["nodes"]
    rules = tables["rules"].groupby("node_id")["rule_text"].agg(" ".join).to_dict()
    printed = tables["targets"]
    if "source" in printed:  # the printed targets, not the thresholds extracted from them or from rules
        printed = printed[
            (printed["source"] == "target list") | (printed["source"] == "goal text") & printed["metric"].isna()
        ]
    targets = printed.groupby("node_id")["raw"].agg(" ".join).to_dict()
    children: dict[str, list[str]] = {}  # each parent's children's texts, in table order
    for parent, text in zip(nodes["parent_id"], nodes["text"], strict=True):
        if not pd.isna(parent):
            kept = children.setdefault(str(parent), [])
            if not pd.isna(text):
                kept.append(text)
    cleaned: dict[str, str] = {}  # national-template copies repeat the same words
    out = {}
    for row in nodes.itertuples(index=False):
        own = " ".join(str(v) for v in (row.title, row.text) if isinstance(v, str))
        if not isinstance(row.title, str) or not row.title:
            own = " ".join([own, str(rules.get(row.node_id, "")), " ".join(children.get(str(row.node_id), []))])
        own = " ".join([own, str(targets.get(row.node_id, ""))])
        if own not in cleaned:
            cleaned[own] = clean_text(own)
        out[row.node_id] = cleaned[own]
    return pd.Series(out, name="evidence_text")


def rule_scores(text: str, keywords: pd.DataFrame, facet: str) -> dict[str, tuple[float, list[str]]]:
    """Score of each code of a facet in a text, with the keywords that matched.

    >>> kw = pd.DataFrame({"facet": ["lever"] * 2, "code": ["brand", "supervision"],
    ...                    "keyword": ["名牌", "监督抽查"], "weight": [1.0, 1.0]})
    >>> rule_scores("开展监督抽查", kw, "lever")
    {'supervision': (4.0, ['监督抽查'])}
    """
    rows = keywords[keywords["facet"] == facet]
    return _score(text, list(zip(rows["code"], rows["keyword"], rows["weight"], strict=True)), facet)


Keyword = tuple[str, str, float]


def _score(text: str, rows: list[Keyword], facet: str) -> dict[str, tuple[float, list[str]]]:
    scores: dict[str, tuple[float, list[str]]] = {}
    for code, keyword, weight in rows:
        if keyword and keyword in text:
            score, hits = scores.get(code, (0.0, []))
            scores[code] = (score + weight * len(keyword), [*hits, keyword])
    if facet == "nature" and _THRESHOLD.search(text):
        score, hits = scores.get("outcome", (0.0, []))
        scores["outcome"] = (score + 6.0, [*hits, "numeric threshold"])
    return scores


class _KeywordScorer:
    """:func:`rule_scores` with the keyword table split by facet once, and each
    (text, facet) scored once: a parent's title is scored for every child.
    The dicts it returns are shared; callers must not change them."""

    def __init__(self, keywords: pd.DataFrame) -> None:
        self.rows: dict[str, list[Keyword]] = {
            str(facet): list(zip(group["code"], group["keyword"], group["weight"], strict=True))
            for facet, group in keywords.groupby("facet", sort=False)
        }
        self.cache: dict[tuple[str, str], dict[str, tuple[float, list[str]]]] = {}

    def __call__(self, text: str, facet: str) -> dict[str, tuple[float, list[str]]]:
        key = (text, facet)
        if key not in self.cache:
            self.cache[key] = _score(text, self.rows.get(facet, []), facet)
        return self.cache[key]


def _decide(scores: dict[str, tuple[float, list[str]]]) -> tuple[str, float] | None:
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: (-item[1][0], item[0]))
    top = ranked[0][1][0]
    second = ranked[1][1][0] if len(ranked) > 1 else 0.0
    if top > 0 and top >= _MARGIN * second and top > second:
        return ranked[0][0], top / sum(s for s, _ in scores.values())
    return None


@dataclass
class _Decision:
    code: str
    method: str
    evidence: str
    confidence: float


def _rule_label(text: str, parent_text: str, score: _KeywordScorer, facet: str) -> _Decision | None:
    own = score(text, facet)
    decided = _decide(own)
    if decided:
        code, confidence = decided
        return _Decision(code, "rule", "keywords: " + "、".join(own[code][1]), round(confidence, 3))
    if not parent_text:
        return None
    merged = dict(own)
    for code, (value, hits) in score(parent_text, facet).items():
        base, own_hits = merged.get(code, (0.0, []))
        merged[code] = (base + value / 2, [*own_hits, *(f"parent:{h}" for h in hits)])
    decided = _decide(merged)
    if decided and own:
        code, confidence = decided
        return _Decision(code, "rule", "keywords: " + "、".join(merged[code][1]), round(confidence * 0.8, 3))
    return None


def _domain_label(text: str, parent_text: str, score: _KeywordScorer) -> list[_Decision]:
    own = score(text, "domain")
    source = "keywords"
    if not own and parent_text:
        own = score(parent_text, "domain")
        source = "parent keywords"
    if not own:
        return [_Decision("general", "rule", "no domain keyword in the node or its parent", 0.5)]
    top = max(score for score, _ in own.values())
    chosen = {code: v for code, v in own.items() if v[0] >= top / 3}
    return [
        _Decision(code, "rule", f"{source}: " + "、".join(hits), round(score / sum(s for s, _ in own.values()), 3))
        for code, (score, hits) in sorted(chosen.items())
    ]


def _tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """``TfidfTransformer(sublinear_tf=True).transform`` with a given idf, the
    same operations in the same order (so the same floats)."""
    np.log(counts.data, counts.data)
    counts.data += 1.0
    counts.data *= idf[counts.indices]
    return normalize(counts, norm="l2", copy=False)


def _model_labels(
    texts: Mapping[str, str], known: Mapping[str, str], unknown_ids: list[str], facet: str
) -> dict[str, _Decision]:
    """Train on the labelled nodes and label the others.

    The result is that of a char n-gram ``TfidfVectorizer`` fitted on every
    labelled node's text and a logistic regression trained on every labelled
    node, but each distinct text is vectorised once (the idf still counts every
    node), each distinct (text, label) is one training row weighted by how many
    nodes share it, and each distinct unlabelled text is decided once.

    The logistic regression runs on one BLAS thread: L-BFGS makes many small
    vector operations, which several BLAS threads make many times slower on a
    busy machine, and one thread gives the same floats on every machine.
    """
    if not unknown_ids:
        return {}
    train_ids = list(known)
    labels = np.array([known[node_id] for node_id in train_ids], dtype=object)
    text_index: dict[str, int] = {}
    train_text = np.array([text_index.setdefault(texts[n], len(text_index)) for n in train_ids], dtype=np.intp)
    members = _members(train_text, len(text_index))  # the labelled nodes of each distinct text, in order
    # unique texts in order of first use: the vocabulary grows in the same order as over all nodes
    counter = CountVectorizer(analyzer="char_wb", ngram_range=(1, 3), dtype=np.float64)
    counts = counter.fit_transform(list(text_index))
    multiplicity = np.bincount(train_text, minlength=len(text_index)).astype(np.float64)
    weights = np.repeat(multiplicity, np.diff(counts.indptr))  # each row's text counts for its nodes
    df = np.asarray(np.bincount(counts.indices, weights=weights, minlength=counts.shape[1]), dtype=np.float64)
    df += 1.0  # TfidfTransformer.fit with smooth_idf
    idf = np.full_like(df, fill_value=len(train_ids) + 1, dtype=np.float64)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    X_text = _tfidf(counts, idf)
    new_index: dict[str, int] = {}
    new_text = [new_index.setdefault(texts[n], len(new_index)) for n in unknown_ids]
    X_new = _tfidf(counter.transform(list(new_index)), idf)
    decided: list[_Decision] = []
    if len(set(labels)) == 1:
        decided = [_Decision(str(labels[0]), "model", "only one class among labelled nodes", 0.5)] * len(new_index)
    else:
        pair_index: dict[tuple[int, str], int] = {}
        pair_of = [
            pair_index.setdefault((int(t), str(label)), len(pair_index))
            for t, label in zip(train_text, labels, strict=True)
        ]
        pairs = list(pair_index)
        weight = np.bincount(np.array(pair_of, dtype=np.intp), minlength=len(pairs)).astype(np.float64)
        model = LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced", random_state=0)
        with threadpool_limits(limits=1, user_api="blas"):  # see _model_labels' docstring
            model.fit(
                X_text[np.array([t for t, _ in pairs], dtype=np.intp)],
                np.array([label for _, label in pairs], dtype=object),
                sample_weight=weight,
            )
        probabilities = model.predict_proba(X_new)
        best = np.argmax(probabilities, axis=1)
        for start in range(0, len(new_index), _CHUNK):  # the dense similarity block of a chunk, not of all rows
            similarity = (X_new[start : start + _CHUNK] @ X_text.T).toarray()
            for offset, nearest in enumerate(_top3(similarity, members)):
                row = start + offset
                evidence = "nearest labelled: " + ", ".join(f"{train_ids[i]} ({labels[i]})" for i in nearest)
                decided.append(
                    _Decision(
                        str(model.classes_[best[row]]),
                        "model",
                        evidence,
                        round(float(probabilities[row][best[row]]), 3),
                    )
                )
    return {node_id: decided[t] for node_id, t in zip(unknown_ids, new_text, strict=True)}


def _members(groups: np.ndarray, count: int) -> list[np.ndarray]:
    """The positions of each group's members, in order.

    >>> [m.tolist() for m in _members(np.array([1, 0, 1, 1]), 3)]
    [[1], [0, 2, 3], []]
    """
    order = np.argsort(groups, kind="stable")
    return np.split(order, np.cumsum(np.bincount(groups, minlength=count))[:-1])


def _top3(similarity: np.ndarray, members: list[np.ndarray] | None = None) -> list[list[int]]:
    """Per row, the columns of the three highest values, ties to the lower
    column: ``np.argsort(-row, kind="stable")[:3]`` without sorting the row.

    With ``members``, column ``j`` stands for the items ``members[j]`` (in
    increasing order), all with that column's value, and the result names
    items: the same as on the matrix with one column per item.

    >>> _top3(np.array([[0.1, 0.9, 0.5, 0.9, 0.2], [1.0, 1.0, 1.0, 1.0, 0.0]]))
    [[1, 3, 2], [0, 1, 2]]
    >>> _top3(np.array([[0.5, 0.9], [0.9, 0.5]]), [np.array([0, 1, 3]), np.array([2])])
    [[2, 0, 1], [0, 1, 3]]
    """
    k = min(3, similarity.shape[1])
    if k == 0:
        return [[] for _ in range(similarity.shape[0])]
    third = -np.partition(-similarity, k - 1, axis=1)[:, k - 1]
    out = []
    for row, cut in zip(similarity, third, strict=True):
        candidates = np.flatnonzero(row >= cut)
        if members is None:
            items, values = candidates, row[candidates]
        else:  # three items of a column at most can be among the first three
            chosen = [members[c][:3] for c in candidates]
            items = np.concatenate(chosen)
            values = np.repeat(row[candidates], [len(m) for m in chosen])
        order = np.lexsort((items, -values))
        out.append([int(i) for i in items[order][:3]])
    return out


def _reference(
    texts: Mapping[str, str], known: dict[str, str], first: Mapping[str, str], limit: int | None
) -> dict[str, str]:
    """The labelled nodes the model learns from and names as evidence: of each
    class, the nodes of its first ``limit`` distinct texts, counting the nodes
    in ``first`` (the hand labels) first and then the others in ``known``'s
    order; every node that shares a chosen text and its class is kept.  The
    result keeps ``known``'s order, so it is ``known`` itself when no class
    has more than ``limit`` distinct texts.

    >>> texts = {"a": "x", "b": "y", "c": "x", "d": "z"}
    >>> _reference(texts, {"a": "p", "b": "p", "c": "p", "d": "q"}, {"b": "p"}, 1)
    {'b': 'p', 'd': 'q'}
    >>> _reference(texts, {"a": "p", "b": "p", "c": "p", "d": "q"}, {"a": "p"}, 1)
    {'a': 'p', 'c': 'p', 'd': 'q'}
    """
    if limit is None:
        return known
    chosen: dict[str, set[str]] = {}
    for node_id in [*first, *(n for n in known if n not in first)]:
        of_class = chosen.setdefault(known[node_id], set())
        if len(of_class) < limit:
            of_class.add(texts[node_id])
    return {node_id: code for node_id, code in known.items() if texts[node_id] in chosen[code]}


def label_nodes(
    tables: Mapping[str, pd.DataFrame],
    keywords: pd.DataFrame | None = None,
    overrides: pd.DataFrame | None = None,
    manual: pd.DataFrame | None = None,
    exclude_manual: set[str] | None = None,
    max_reference: int | None = MAX_REFERENCE,
) -> pd.DataFrame:
    """The ``categories`` table: one row per node and facet (several for domain).

    ``manual`` is a hand-labelled set (columns node_id, nature, lever,
    domain) used as training data for the model; ``exclude_manual`` hides some
    of its nodes (cross-validation).  ``overrides`` win over everything.

    ``max_reference`` bounds the model's reference set, per facet: of each
    class, only the labelled nodes of its first ``max_reference`` distinct
    evidence texts train the model and can be named as its nearest labelled
    neighbours (hand-labelled nodes are counted first, then rule-labelled ones
    in table order; copies of a chosen text all stay).  The cost of the model
    then stops growing with the corpus, but its evidence names the nearest node
    of that set, not of every labelled node.  The default changes nothing on
    the committed data (at most 332 distinct texts in a class) nor on a
    synthetic corpus of 1,000 schemes (3,311); ``None`` uses every labelled
    node.

    The rules depend only on a node's evidence text and its parent's title,
    so each distinct pair is decided once (copies of a national template
    repeat them).
    """
    keywords = load_keywords() if keywords is None else keywords
    overrides = load_overrides() if overrides is None else overrides
    nodes = tables["nodes"]
    texts = node_evidence_text(tables)
    titles = dict(zip(nodes["node_id"], nodes["title"], strict=True))
    node_ids = nodes["node_id"].tolist()
    text_of = {str(node_id): str(text) for node_id, text in texts.items()}

    cleaned_titles: dict[str, str] = {}

    def parent_text(parent: object) -> str:
        if not isinstance(parent, str) or not isinstance(titles[parent], str):
            return ""
        if parent not in cleaned_titles:
            cleaned_titles[parent] = clean_text(titles[parent])
        return cleaned_titles[parent]

    parents = [parent_text(parent) for parent in nodes["parent_id"]]
    score = _KeywordScorer(keywords)
    decided: dict[tuple[str, str], dict[str, list[_Decision]]] = {}
    decisions: dict[str, dict[str, list[_Decision]]] = {facet: {} for facet in FACETS}
    for node_id, parent in zip(node_ids, parents, strict=True):
        key = (text_of[node_id], parent)
        if key not in decided:
            decided[key] = {facet: [d] for facet in ("nature", "lever") if (d := _rule_label(*key, score, facet))}
            decided[key]["domain"] = _domain_label(*key, score)
        for facet, labels in decided[key].items():
            decisions[facet][node_id] = labels

    manual_labels: dict[str, dict[str, str]] = {"nature": {}, "lever": {}}
    if manual is not None:
        hidden = exclude_manual or set()
        for row in records(manual):
            node_id = str(row["node_id"])
            if node_id in hidden or node_id not in texts.index:
                continue
            manual_labels["nature"][node_id] = str(row["nature"])
            manual_labels["lever"][node_id] = str(row["lever"])
    for facet in ("nature", "lever"):
        known = {node_id: d[0].code for node_id, d in decisions[facet].items()}
        known.update(manual_labels[facet])
        known = _reference(text_of, known, manual_labels[facet], max_reference)
        unknown = [n for n in node_ids if n not in decisions[facet]]
        predicted = _model_labels(text_of, known, unknown, facet)
        for node_id, decision in predicted.items():
            decisions[facet][node_id] = [decision]

    for row in records(overrides):
        node_id, facet, code = str(row["node_id"]), str(row["facet"]), str(row["code"])
        if facet not in FACETS or code not in FACETS[facet]:
            raise ValueError(f"ontology_overrides.csv: {code!r} is not a code of facet {facet!r}")
        manual_decision = _Decision(code, "manual", f"override: {row['note']}", 1.0)
        if facet == "domain":
            previous = decisions["domain"].get(node_id, [])
            kept = [d for d in previous if d.method == "manual"]
            decisions["domain"][node_id] = [*kept, manual_decision]
        else:
            decisions[facet][node_id] = [manual_decision]

    scheme_of = dict(zip(nodes["node_id"], nodes["scheme_id"], strict=True))
    columns: dict[str, list[object]] = {
        name: [] for name in ("scheme_id", "node_id", "facet", "category", "method", "evidence", "confidence")
    }
    for facet in FACETS:
        for node_id in node_ids:
            for d in decisions[facet][node_id]:
                columns["scheme_id"].append(scheme_of[node_id])
                columns["node_id"].append(node_id)
                columns["facet"].append(facet)
                columns["category"].append(d.code)
                columns["method"].append(d.method)
                columns["evidence"].append(d.evidence)
                columns["confidence"].append(d.confidence)
    return pd.DataFrame(columns)


@dataclass
class Evaluation:
    """Cross-validated agreement of the pipeline with the hand labels."""

    accuracy: dict[str, float]
    per_fold: pd.DataFrame
    predictions: pd.DataFrame
    confusion: dict[str, pd.DataFrame]


def evaluate(
    tables: Mapping[str, pd.DataFrame],
    gold: pd.DataFrame | None = None,
    folds: int = 5,
    seed: int = 0,
) -> Evaluation:
    """K-fold cross-validation of :func:`label_nodes` against hand labels.

    In each fold the held-out nodes' hand labels are hidden from the model
    (the other folds' labels train it), overrides are not applied, and the
    held-out nodes are labelled as any unlabelled node would be.  Nature and
    lever are scored by accuracy; domain by exact set match and by mean
    Jaccard overlap.
    """
    gold = load_evaluation_set() if gold is None else gold
    keywords = load_keywords()
    no_overrides = pd.DataFrame(columns=["node_id", "facet", "code", "note"])
    splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    predictions = []
    for fold, (_, test_index) in enumerate(splitter.split(gold)):
        held_out = set(gold.iloc[test_index]["node_id"])
        labels = label_nodes(tables, keywords, no_overrides, manual=gold, exclude_manual=held_out)
        labels = labels[labels["node_id"].isin(held_out)]
        for node_id in sorted(held_out):
            mine = labels[labels["node_id"] == node_id]
            by_facet = mine.groupby("facet")["category"].agg(lambda s: "|".join(sorted(s)))
            methods = mine.groupby("facet")["method"].first()
            predictions.append(
                {
                    "fold": fold,
                    "node_id": node_id,
                    **{f"{f}_predicted": by_facet.get(f, "") for f in FACETS},
                    **{f"{f}_method": methods.get(f, "") for f in FACETS},
                }
            )
    predicted = pd.DataFrame(predictions).merge(gold, on="node_id")
    predicted["nature_ok"] = predicted["nature_predicted"] == predicted["nature"]
    predicted["lever_ok"] = predicted["lever_predicted"] == predicted["lever"]
    predicted["domain_exact"] = predicted["domain_predicted"] == predicted["domain"].map(
        lambda d: "|".join(sorted(d.split("|")))
    )
    predicted["domain_jaccard"] = [
        len(set(a.split("|")) & set(b.split("|"))) / len(set(a.split("|")) | set(b.split("|")))
        for a, b in zip(predicted["domain_predicted"], predicted["domain"], strict=True)
    ]
    per_fold = predicted.groupby("fold")[["nature_ok", "lever_ok", "domain_exact", "domain_jaccard"]].mean()
    accuracy = {
        "nature": float(predicted["nature_ok"].mean()),
        "lever": float(predicted["lever_ok"].mean()),
        "domain_exact": float(predicted["domain_exact"].mean()),
        "domain_jaccard": float(predicted["domain_jaccard"].mean()),
    }
    confusion = {}
    for facet, codes in (("nature", NATURES), ("lever", LEVERS)):
        present = [c for c in codes if c in set(predicted[facet]) | set(predicted[f"{facet}_predicted"])]
        matrix = confusion_matrix(predicted[facet], predicted[f"{facet}_predicted"], labels=present)
        confusion[facet] = pd.DataFrame(matrix, index=present, columns=present).rename_axis(
            index="hand label", columns="predicted"
        )
    return Evaluation(accuracy, per_fold, predicted.sort_values("node_id").reset_index(drop=True), confusion)
