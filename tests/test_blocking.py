"""Candidate pairs by MinHash LSH: signatures estimate Jaccard, buckets stay linear, top-k keeps the best."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from qcompare.blocking import cosine_of_pairs, lsh_pairs, minhash_signatures, top_k_pairs, unique_pairs


def _rows(sets: list[set[int]], width: int = 50) -> sp.csr_matrix:
    dense = np.zeros((len(sets), width))
    for row, columns in enumerate(sets):
        dense[row, sorted(columns)] = 1.0
    return sp.csr_matrix(dense)


def test_signatures_agree_about_as_often_as_the_jaccard_similarity():
    # {0..29} and {10..39}: 20 shared of 40 columns, Jaccard 0.5
    X = _rows([set(range(30)), set(range(10, 40))])
    signatures = minhash_signatures(X, n_hashes=512, seed=3)
    agreement = float((signatures[0] == signatures[1]).mean())
    assert abs(agreement - 0.5) < 0.07


def test_the_same_seed_gives_the_same_pairs_and_another_seed_other_orders():
    X = _rows([set(range(i, i + 8)) for i in range(0, 30, 2)])
    first = lsh_pairs(minhash_signatures(X, seed=1), seed=1)
    assert np.array_equal(first, lsh_pairs(minhash_signatures(X, seed=1), seed=1))
    assert (first[:, 0] < first[:, 1]).all()


def test_a_bucket_of_copies_yields_linear_pairs_yet_stays_connected():
    # 400 identical rows share every bucket: all pairs would be 79,800; a window of 3 keeps ≤ 400·3 per band
    X = _rows([set(range(10))] * 400)
    signatures = minhash_signatures(X, n_hashes=8, seed=0)
    pairs = lsh_pairs(signatures, rows_per_band=2, window=3, seed=0)
    assert len(pairs) <= 4 * 400 * 3
    root = list(range(400))

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    for a, b in pairs:
        root[find(int(a))] = find(int(b))
    assert len({find(x) for x in range(400)}) == 1


def test_empty_rows_pair_with_nothing():
    X = _rows([set(), set(), {1, 2}, {1, 2}])
    assert lsh_pairs(minhash_signatures(X, n_hashes=8)).tolist() == [[2, 3]]


def test_cosine_of_pairs_is_the_matrix_product():
    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.random((20, 30)) * (rng.random((20, 30)) < 0.3))
    left, right = rng.integers(0, 20, 50), rng.integers(0, 20, 50)
    assert np.allclose(cosine_of_pairs(X, left, right, chunk=7), (X @ X.T).toarray()[left, right])
    assert np.array_equal(cosine_of_pairs(X, left, right, distinct=True), cosine_of_pairs(X, left, right))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), min_size=1, max_size=40), st.integers(0, 2**16))
def test_top_k_on_shared_rows_or_unsorted_pairs_is_top_k_on_every_row(raw_pairs, seed):
    rng = np.random.default_rng(seed)
    texts = rng.integers(0, 5, 12)  # twelve items, five distinct texts
    dense = rng.random((5, 6))
    X = dense / np.linalg.norm(dense, axis=1, keepdims=True)
    groups = np.array(list("aabbccddeeff"))
    pairs = np.array([p for p in raw_pairs if p[0] != p[1]] or [(1, 0)])  # any order, repeats, larger first
    expected, cosine = top_k_pairs(X[texts], pairs, 2, groups=groups)
    kept, shared = top_k_pairs(X, pairs, 2, groups=groups, rows=texts)
    assert kept.tolist() == expected.tolist() == top_k_pairs(X[texts], unique_pairs(pairs, 12), 2, groups)[0].tolist()
    assert np.array_equal(shared, cosine)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), min_size=1, max_size=40),
    st.integers(1, 4),
    st.integers(0, 2**16),
)
def test_top_k_keeps_each_rows_best_candidates_and_nothing_else(raw_pairs, k, seed):
    rng = np.random.default_rng(seed)
    dense = rng.random((12, 6))
    X = sp.csr_matrix(dense / np.linalg.norm(dense, axis=1, keepdims=True))
    groups = np.array(list("aabbccddeeff"))
    pairs = np.array(sorted({(min(a, b), max(a, b)) for a, b in raw_pairs if a != b} or {(0, 1)}))
    kept, similarity = top_k_pairs(X, pairs, k, groups=groups)
    candidates = {tuple(p) for p in pairs.tolist() if groups[p[0]] != groups[p[1]]}
    assert {tuple(p) for p in kept.tolist()} <= candidates
    assert np.allclose(similarity, (X @ X.T).toarray()[kept[:, 0], kept[:, 1]])
    cosine = (X @ X.T).toarray()
    for row in range(12):
        mine = sorted(((-cosine[a, b], b if a == row else a) for a, b in candidates if row in (a, b)))[:k]
        for _, other in mine:  # each row's k best candidates survive
            assert (min(row, other), max(row, other)) in {tuple(p) for p in kept.tolist()}
