"""The vectorised evaluator gives exactly the numbers of ``points_kept``: every
committed rule on a grid of attainments, random attainments, random rules, and
the strictness measures that run through it."""

from __future__ import annotations

import itertools
import json
import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcompare import strictness
from qcompare.rules import ATTAINMENT_DEFAULTS, parse_rule, points_kept, points_kept_many, points_kept_table
from qcompare.tables import records

SHORTFALLS = [-1, 0, 0.3, 0.5, 1, 1.2, 2, 3, 3.5, 5, 9.99, 10, 12, 15, 20, 20.5, 25, 40, 100]
COMPLETIONS = [0, 0.5, 0.69, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.999, 1, 1.1]
RANKS = [0, 1, 3, 9.5, 10, 10.5, 13, 15, 20, 20.5, 21, 30, 31]
TIERS = [-2, -1, 0, 0.5, 1, 1.7, 2, 3, 5, 40]
METS = [0, 0.25, 0.5, 0.9, 1, 1.5]
INCIDENTS: list[float | tuple[int, ...]] = [0, 1, 2, 3, 5, 10, (1, 0, 0), (0, 2, 0), (2, 1, 3), (5, 5, 5)]
FAILED = [0, 0.3, 0.5, 1]
BONUS_UNITS = [0, 1, 2, 3.5]
BONUS_POINTS = [0, 3, 9.5, 14]
FIELD_VALUES: dict[str, list] = {
    "shortfall_pp": SHORTFALLS,
    "completion": COMPLETIONS,
    "rank": RANKS,
    "tier": TIERS,
    "met": METS,
    "incidents": INCIDENTS,
    "failed_deductions": FAILED,
    "zero": [False, True],
    "bonus_units": BONUS_UNITS,
    "bonus_points": BONUS_POINTS,
    "veto": [False, True],
}


def _grid() -> list[dict]:
    """Every value of each field on its own, every pair of the quantitative
    fields, and 400 seeded random combinations of all of them."""
    scenarios = [dict(ATTAINMENT_DEFAULTS)]
    for field, values in FIELD_VALUES.items():
        scenarios += [{**ATTAINMENT_DEFAULTS, field: v} for v in values]
    for s, c in itertools.product(SHORTFALLS, COMPLETIONS):
        scenarios.append({**ATTAINMENT_DEFAULTS, "shortfall_pp": s, "completion": c})
    rng = random.Random(8)
    for _ in range(400):
        scenarios.append({field: rng.choice(values) for field, values in FIELD_VALUES.items()})
    return scenarios


def _scalar(machines: list, scenarios: list[dict]) -> np.ndarray:
    def clean(attainment: dict) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in attainment.items()}

    return np.array([[points_kept(m, clean(a)) for a in scenarios] for m in machines], dtype=float)


def _assert_identical(vectorised: np.ndarray, scalar: np.ndarray) -> None:
    assert vectorised.shape == scalar.shape
    assert np.array_equal(vectorised, scalar), np.argwhere(vectorised != scalar)[:10]
    assert np.array_equal(np.signbit(vectorised), np.signbit(scalar))


@pytest.fixture(scope="module")
def machines(committed) -> list[str]:
    return committed["rules"]["machine"].tolist()


def test_every_committed_rule_on_a_grid_of_attainments(committed, machines):
    scenarios = _grid()
    table = points_kept_table(committed["rules"], pd.DataFrame(scenarios))
    assert table.shape == (len(machines), len(scenarios))
    assert table.index.equals(committed["rules"].index)
    _assert_identical(table.to_numpy(), _scalar(machines, scenarios))
    # every kind of rule the data holds took part
    assert set(committed["rules"]["rule_type"]) >= {"tiered", "band_deduction", "rank_based", "bonus", "veto"}


def test_a_mapping_a_series_and_parsed_dicts_give_the_same_table(committed, machines):
    attainment = {"shortfall_pp": [0, 2, 5], "completion": [1, 0.9, 0.8], "tier": 1}
    from_mapping = points_kept_table(machines, attainment).to_numpy()
    series = committed["rules"].set_index("node_id")["machine"]
    from_series = points_kept_table(series, attainment)
    assert list(from_series.index) == list(series.index)
    dicts = [json.loads(m) for m in machines]
    scenarios = [{"shortfall_pp": s, "completion": c, "tier": 1} for s, c in zip([0, 2, 5], [1, 0.9, 0.8], strict=True)]
    _assert_identical(from_mapping, _scalar(dicts, scenarios))
    _assert_identical(from_series.to_numpy(), from_mapping)


def test_values_that_differ_by_rule(machines):
    rng = np.random.default_rng(8)
    tiers = rng.integers(0, 4, size=(len(machines), 5))
    shortfall = rng.uniform(0, 30, size=(1, 5))
    table = points_kept_table(machines, {"tier": tiers, "shortfall_pp": shortfall}).to_numpy()
    expected = [
        [points_kept(m, {"tier": int(tiers[i, j]), "shortfall_pp": float(shortfall[0, j])}) for j in range(5)]
        for i, m in enumerate(machines)
    ]
    _assert_identical(table, np.array(expected))


def test_no_attainment_is_full_attainment(machines):
    table = points_kept_table(machines)
    assert list(table.columns) == [0]
    _assert_identical(table.to_numpy(), _scalar(machines, [{}]))


def test_points_kept_many_agrees(machines):
    values = [0, 1, 2.5, 7, 21]
    _assert_identical(
        points_kept_many(machines, "shortfall_pp", values), _scalar(machines, [{"shortfall_pp": v} for v in values])
    )


def test_bad_attainments_are_named():
    rule = {"type": "judgment", "max": 3}
    with pytest.raises(ValueError, match="unknown attainment field 'score'"):
        points_kept_table([rule], {"score": [1]})
    with pytest.raises(ValueError, match="different numbers of attainments"):
        points_kept_table([rule], {"met": [1, 0.5], "rank": [1, 2, 3]})
    with pytest.raises(ValueError, match="must be finite"):
        points_kept_table([rule], {"met": [float("nan")]})
    with pytest.raises(ValueError, match="has shape"):
        points_kept_table([rule, rule, rule], {"met": np.ones((2, 1))})


def test_incident_lists_too_short_fail_as_points_kept_does(committed):
    machine = committed["rules"].set_index("node_id").loc["xinbei_towns:9", "machine"]
    with pytest.raises(IndexError):
        points_kept(machine, {"incidents": [1]})
    with pytest.raises(IndexError):
        points_kept_table([machine], {"incidents": [[1]]})


_ATTAINMENT = st.fixed_dictionaries(
    {},
    optional={
        "met": st.floats(-1, 2),
        "tier": st.integers(-3, 6) | st.floats(-2.5, 6),
        "shortfall_pp": st.floats(-5, 120),
        "completion": st.floats(-0.2, 1.5),
        "rank": st.floats(-2, 60) | st.integers(0, 60),
        "incidents": st.integers(0, 12) | st.lists(st.integers(0, 12), min_size=3, max_size=4).map(tuple),
        "failed_deductions": st.floats(0, 1),
        "zero": st.booleans(),
        "bonus_units": st.integers(0, 5) | st.floats(0, 5),
        "bonus_points": st.floats(0, 30),
        "veto": st.booleans(),
    },
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ATTAINMENT, min_size=1, max_size=8))
def test_random_attainments_on_every_committed_rule(machines, scenarios):
    full = [{**ATTAINMENT_DEFAULTS, **a} for a in scenarios]
    frame = pd.DataFrame(full)
    _assert_identical(points_kept_table(machines, frame).to_numpy(), _scalar(machines, full))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(
                alphabet="得扣加分0123456789.%-;,。达到以上不每下降少名前排低于目标值个百点以内的完成超过", max_size=60
            ),
            st.floats(0, 100) | st.none(),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    ),
    st.lists(_ATTAINMENT, min_size=1, max_size=4),
)
def test_random_rules_at_random_attainments(texts, scenarios):
    rules = [parse_rule(text, points, is_bonus=bonus) for text, points, bonus in texts]
    full = [{**ATTAINMENT_DEFAULTS, **a} for a in scenarios]
    try:
        expected = _scalar(rules, full)
    except (ZeroDivisionError, IndexError) as error:
        with pytest.raises(type(error)):
            points_kept_table(rules, pd.DataFrame(full))
        return
    _assert_identical(points_kept_table(rules, pd.DataFrame(full)).to_numpy(), expected)


# --- the strictness measures against their one-rule-at-a-time form -------------------------------


def _shortfall_losses_one_by_one(tables, shortfalls=(1, 2, 5), target_pct=95.0):
    base = strictness._base(strictness.rule_summary(tables))
    rows = []
    for rule in records(base[base["quantitative"]]):
        row = {"scheme_id": rule["scheme_id"], "node_id": rule["node_id"], "points": rule["points"]}
        for s in shortfalls:
            kept = points_kept(rule["machine"], {"shortfall_pp": s, "completion": (target_pct - s) / target_pct})
            row[f"lost_at_{s:g}pp"] = rule["points"] - kept
        rows.append(row)
    return pd.DataFrame(rows)


def _simulate_one_by_one(tables, levels, shortfall_at_zero=20.0, rank_at_zero=30.0):
    base = strictness._base(strictness.rule_summary(tables))
    rows = []
    for level in levels:
        for scheme_id, group in base.groupby("scheme_id", sort=True):
            kept = sum(
                strictness.points_at_level(r["machine"], float(level), shortfall_at_zero, rank_at_zero)
                for r in records(group)
            )
            rows.append(
                {"scheme_id": scheme_id, "level": round(float(level), 4), "score_share": kept / group["points"].sum()}
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("shortfalls", "target_pct"), [((1, 2, 5), 95.0), ((0.5, 3, 10, 25), 90.0)])
def test_shortfall_losses_are_unchanged(committed, shortfalls, target_pct):
    pd.testing.assert_frame_equal(
        strictness.shortfall_losses(committed, shortfalls, target_pct),
        _shortfall_losses_one_by_one(committed, shortfalls, target_pct),
        check_exact=True,
    )


@pytest.mark.parametrize(
    ("levels", "shortfall_at_zero", "rank_at_zero"),
    [(tuple(np.linspace(1.0, 0.0, 21)), 20.0, 30.0), ((1.0, 0.75, 0.5, 0.125, 0.0), 10.0, 15.0)],
)
def test_simulate_is_unchanged(committed, levels, shortfall_at_zero, rank_at_zero):
    pd.testing.assert_frame_equal(
        strictness.simulate(committed, levels, shortfall_at_zero, rank_at_zero),
        _simulate_one_by_one(committed, levels, shortfall_at_zero, rank_at_zero),
        check_exact=True,
    )


def test_points_at_levels_is_points_at_level(machines):
    levels = [1.0, 0.95, 0.875, 0.5, 0.25, 0.1, 0.0]
    dicts = [json.loads(m) for m in machines]
    expected = np.array([[strictness.points_at_level(m, level) for level in levels] for m in dicts])
    _assert_identical(strictness.points_at_levels(machines, levels), expected)


def test_repeated_rules_are_read_once_and_give_the_same_numbers(machines):
    repeated = machines * 3  # the JSON path reads each distinct rule once
    scenarios = _grid()[:60]
    table = points_kept_table(repeated, pd.DataFrame(scenarios)).to_numpy()
    _assert_identical(table, np.vstack([_scalar(machines, scenarios)] * 3))
