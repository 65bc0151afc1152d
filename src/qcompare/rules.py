"""Scoring rules as something you can run.

:func:`parse_rule` reads a scoring text into a machine form (a dict, stored
as JSON in ``rules.machine``) made of components:

``parts``        additive sub-criteria ``…(10分);…(5分)`` / ``…2分;`` / ``各得2分``
``tiers``        alternative outcomes ``得20分 / 得10分 / 得0分``
``bands``        deductions by shortfall against a target, in percentage points
                 (``低于目标值1-3个百分点以内的扣2分``) or as a completion ratio
                 (``完成目标值90-100%的扣2分``), with a level beyond which nothing is kept
``linear``       ``每下降0.5%减1分,直至0分`` / ``每少5%扣1分,扣完为止``
``rank``         ``前10名的得20分,排名每下降一名减1分,20名以外的得0分``
``incidents``    per-incident deductions ``有一个不合格扣2分`` / ``缺一次扣5分``, optionally capped
``deductions``   fixed deductions for a failed condition ``工作职责不明确扣5分``
``zero_if``      conditions that cost every point ``…的不得分``
``bonus``        additions ``新增1只省名牌加2分``, capped (``不超过10分``) or not (``上不封顶``)
``veto``         ``一票否决`` / ``考核结果一律为D级``

Clauses that mention points but match no pattern are kept in
``unparsed``: reported, never guessed.  The rule type is the most specific
component present (veto, bonus, rank_based, band_deduction,
linear_deduction, tiered, additive, all_or_nothing, judgment).

:func:`points_kept` runs a rule: the points a node keeps for an attainment.
:func:`points_kept_table` runs many rules at many attainments at once with
numpy, rule kind by rule kind, and gives exactly the numbers of
:func:`points_kept`.

>>> rule = parse_rule("达到100%的得20分,未达到100%者每下降0.5%减1分,直至0分。", 20)
>>> rule["type"], rule["linear"]
('linear_deduction', {'per': 0.5, 'deduct': 1.0, 'floor': 0.0})
>>> points_kept(rule, {"shortfall_pp": 1.2})
18.0
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

import numpy as np
import pandas as pd

from qcompare.text import clean_text

__all__ = [
    "ATTAINMENT_DEFAULTS",
    "RULE_TYPES_BY_PRECEDENCE",
    "parse_rule",
    "parse_rules_table",
    "points_kept",
    "points_kept_many",
    "points_kept_table",
    "stated_maximum",
]

RULE_TYPES_BY_PRECEDENCE = (
    "veto",
    "bonus",
    "rank_based",
    "band_deduction",
    "linear_deduction",
    "tiered",
    "additive",
    "all_or_nothing",
    "judgment",
)

#: What "fully attained" means for each attainment field.
ATTAINMENT_DEFAULTS: dict[str, Any] = {
    "met": 1.0,  # share of the listed requirements met (parts, judgment)
    "tier": 0,  # index of the tier reached, 0 = the best
    "shortfall_pp": 0.0,  # percentage points below target
    "completion": 1.0,  # share of the target reached (bands by completion)
    "rank": 1,  # rank among peer cities
    "incidents": 0,  # count of incidents: one number for every incident clause, or a list, one per clause
    "failed_deductions": 0.0,  # share of fixed-deduction conditions failed
    "zero": False,  # a condition that costs every point happened
    "bonus_units": 0,  # units of each bonus earned
    "bonus_points": 0.0,  # points claimed under a bonus clause with no per-unit rate (before its cap)
    "veto": False,  # the veto event happened
}

_NUM = r"(\d+(?:\.\d+)?)"
_VETO = re.compile(r"实行[“\"]?一票否决|一律为D级|一律为未完成|考核结果一律")
_PAREN_PART = re.compile(r"\(" + _NUM + r"分\)")
_TRAILING_PART = re.compile(r"(?<![加扣减得\d.—-])" + _NUM + r"分[;;。]?$")
_EACH = re.compile(r"各得" + _NUM + r"分")
_TIER = re.compile(r"(?:得|是|为)" + _NUM + r"分|得0分|不得分")
_TIER_LIST = re.compile(r"分别是" + _NUM + r"分(?:、" + _NUM + r"分)?(?:、" + _NUM + r"分)?")
_RANK_TOP = re.compile(r"前" + _NUM + r"名的得" + _NUM + r"分")
_RANK_STEP = re.compile(r"排名每下降一名(?:减|扣)" + _NUM + r"分")
_RANK_OUT = re.compile(_NUM + r"名以外的得0分")
_BAND_PP = re.compile(
    r"低于目标值(?:" + _NUM + r"-)?" + _NUM + r"个百分点[^扣]*?以内的扣" + _NUM + r"(?:[—-]" + _NUM + r")?分"
)
_BAND_PP_OUT = re.compile(r"低于目标值超过" + _NUM + r"个百分点不得分")
_BAND_RATIO = re.compile(r"完成(?:目标值)?" + _NUM + r"-" + _NUM + r"%的扣" + _NUM + r"分")
_BAND_RATIO_OUT = re.compile(r"低于目标值" + _NUM + r"%以下的不得分")
_LINEAR = re.compile(r"每(?:下降|少)" + _NUM + r"%(?:减|扣)" + _NUM + r"分")
_LINEAR_PP = re.compile(r"每项指标降一个百分点扣" + _NUM + r"分")
_INCIDENT = re.compile(
    r"(有一个[^,;。]*?|缺一次|有一次|发生1起[^,;。]*?|每少上报1条信息|少完成一项|事故未及时上报)扣" + _NUM + r"分"
    r"(?:\(最多扣" + _NUM + r"分\))?"
)
_DEDUCT = re.compile(r"扣" + _NUM + r"分")
_BONUS = re.compile(r"加" + _NUM + r"分")
_BONUS_CAP = re.compile(r"不超过" + _NUM + r"分")
_ZERO = re.compile(r"不得分|得0分")
_SCORING_WORDS = re.compile(r"\d+(?:\.\d+)?分|不得分|否决|D级|未完成")


def _clauses(text: str) -> list[str]:
    parts = re.split(r"[;;。\n]|(?<=分),(?=\D)", clean_text(text))
    return [p.strip(" ,") for p in parts if p.strip(" ,")]


def _count_items(clause: str) -> int:
    head = clause.split("达标")[0].split("各得")[0]
    return len([x for x in re.split(r"、|和", head) if x.strip()])


def parse_rule(text: str, max_points: float | None, is_bonus: bool = False, is_veto: bool = False) -> dict[str, Any]:
    """Read one scoring text into its machine form (see the module docstring).

    >>> parse_rule("出台的得20分;正在制定的得10分;未制定的得0分。", 20)["tiers"]
    [20.0, 10.0, 0.0]
    >>> r = parse_rule("1.网络健全4分。\\n2.使用登记率、定期检验率和作业人员持证率达标各得2分,"
    ...                "每项指标降一个百分点扣1分。", 10)
    >>> [p["points"] for p in r["parts"]], r["linear"]
    ([4.0, 2.0, 2.0, 2.0], {'per': 1.0, 'deduct': 1.0, 'floor': 0.0, 'unit': 'pp', 'cap': 6.0})
    """
    cleaned = clean_text(text)
    rule: dict[str, Any] = {"max": max_points}
    unparsed: list[str] = []
    veto = _VETO.search(cleaned)
    if is_veto or veto:
        rule["veto"] = veto.group(0) if veto else cleaned[:40]
    rank_top, rank_step, rank_out = _RANK_TOP.search(cleaned), _RANK_STEP.search(cleaned), _RANK_OUT.search(cleaned)
    if rank_top:
        rule["rank"] = {
            "top": float(rank_top.group(1)),
            "points": float(rank_top.group(2)),
            "step": float(rank_step.group(1)) if rank_step else 0.0,
            "zero_beyond": float(rank_out.group(1)) if rank_out else None,
        }
    bands = []
    for m in _BAND_PP.finditer(cleaned):
        lo = float(m.group(1)) if m.group(1) else 0.0
        deduct = [float(m.group(3))] + ([float(m.group(4))] if m.group(4) else [])
        bands.append({"lo": lo, "hi": float(m.group(2)), "deduct": sum(deduct) / len(deduct), "deduct_range": deduct})
    if bands:
        out = _BAND_PP_OUT.search(cleaned)
        rule["bands"] = {"measure": "shortfall_pp", "bands": bands, "zero_beyond": float(out.group(1)) if out else None}
    ratio_bands = [
        {"lo": float(m.group(1)) / 100, "hi": float(m.group(2)) / 100, "deduct": float(m.group(3))}
        for m in _BAND_RATIO.finditer(cleaned)
    ]
    if ratio_bands:
        out = _BAND_RATIO_OUT.search(cleaned)
        rule["bands"] = {
            "measure": "completion",
            "bands": ratio_bands,
            "zero_below": float(out.group(1)) / 100 if out else None,
        }
    linear = _LINEAR.search(cleaned)
    if linear:
        rule["linear"] = {"per": float(linear.group(1)), "deduct": float(linear.group(2)), "floor": 0.0}
    linear_pp = _LINEAR_PP.search(cleaned)
    if linear_pp:
        rule["linear"] = {"per": 1.0, "deduct": float(linear_pp.group(1)), "floor": 0.0, "unit": "pp"}

    parts: list[dict[str, Any]] = []
    tiers: list[float] = []
    incidents: list[dict[str, Any]] = []
    deductions: list[dict[str, Any]] = []
    zero_if: list[str] = []
    bonus: list[dict[str, Any]] = []
    tier_list = _TIER_LIST.search(cleaned)
    if tier_list:
        tiers = [float(x) for x in tier_list.groups() if x]
    previous_parts: list[float] = []
    for clause in _clauses(cleaned):
        understood = False
        parts_before = len(parts)
        if _VETO.search(clause) or (rule.get("veto") and not _SCORING_WORDS.search(clause)):
            understood = True
        if rank_top and (_RANK_TOP.search(clause) or _RANK_STEP.search(clause) or _RANK_OUT.search(clause)):
            understood = True
        if (
            _BAND_PP.search(clause)
            or _BAND_PP_OUT.search(clause)
            or _BAND_RATIO.search(clause)
            or _BAND_RATIO_OUT.search(clause)
        ):
            understood = True
        if _LINEAR.search(clause) or _LINEAR_PP.search(clause):
            understood = True
            linear_clause = True
        else:
            linear_clause = False
        full = re.search(r"得" + _NUM + r"分", clause)
        if (
            full
            and max_points is not None
            and float(full.group(1)) == max_points
            and (rank_top or "bands" in rule or linear or linear_pp)
        ):
            understood = True  # 达到目标值…得10分: the full score the deductions start from
        if _BONUS_CAP.search(clause) and is_bonus:
            understood = True
        for m in _INCIDENT.finditer(clause):
            incidents.append(
                {"text": m.group(1), "deduct": float(m.group(2)), "cap": float(m.group(3)) if m.group(3) else None}
            )
            understood = True
        for m in _BONUS.finditer(clause):
            bonus.append({"text": clause, "points": float(m.group(1))})
            understood = True
        each = _EACH.search(clause)
        if each:
            parts.extend({"text": clause, "points": float(each.group(1))} for _ in range(_count_items(clause)))
            understood = True
        paren = _PAREN_PART.findall(clause)
        if paren and not each:
            parts.extend({"text": clause, "points": float(p)} for p in paren)
            understood = True
        trailing = _TRAILING_PART.search(clause)
        listed = re.match(r"^\d+\.", clause) and re.search(r"得" + _NUM + r"分$", clause)
        if listed and not paren and not each:
            parts.append({"text": clause, "points": float(listed.group(1))})
            understood = True
        elif trailing and not paren and not each and not _TIER.search(clause) and "加" not in clause:
            parts.append({"text": clause, "points": float(trailing.group(1))})
            understood = True
        if not tier_list and not (rank_top or "bands" in rule or linear) and not listed:
            for m in _TIER.finditer(clause):
                value = 0.0 if m.group(0) in ("得0分", "不得分") else float(m.group(1))
                if m.group(0) == "不得分" and re.search(r"均不得分|的不得分|不得分$", clause) and not tiers:
                    continue
                tiers.append(value)
                understood = True
        if (re.search(r"的不得分|均不得分|不得分\(", clause) and not tiers) or (
            _ZERO.search(clause) and not understood
        ):
            zero_if.append(clause)
            understood = True
        own_parts = [p["points"] for p in parts[parts_before:]]
        if linear_clause and "linear" in rule and (own_parts or previous_parts):
            rule["linear"]["cap"] = sum(own_parts or previous_parts)
        previous_parts = own_parts
        if (not understood and _DEDUCT.search(clause) and not incidents) or (not understood and _DEDUCT.search(clause)):
            deductions.extend({"text": clause, "deduct": float(m.group(1))} for m in _DEDUCT.finditer(clause))
            understood = True
        if not understood and _SCORING_WORDS.search(clause) and not tier_list:
            unparsed.append(clause)
    if tier_list:
        unparsed = []
    cap = _BONUS_CAP.search(cleaned)
    if is_bonus and cap:
        rule["bonus_cap"] = float(cap.group(1))
    if "上不封顶" in cleaned:
        rule["bonus_cap"] = None
    if tiers and len(set(tiers)) > 1:
        rule["tiers"] = sorted(set(tiers), reverse=True)
    elif tiers and tiers[0] > 0 and not parts:
        rule["tiers"] = [tiers[0], 0.0]
    parts = [p for p in parts if p["points"] > 0]
    if parts:
        total = sum(p["points"] for p in parts)
        if max_points is not None and total > max_points + 1e-9 and max(p["points"] for p in parts) == max_points:
            # 已经…(10分);正在探索…(5分): alternatives, not parts
            rule["tiers"] = sorted({p["points"] for p in parts} | {0.0}, reverse=True)
        else:
            rule["parts"] = parts
    components: tuple[tuple[str, list[Any]], ...] = (
        ("incidents", incidents),
        ("deductions", deductions),
        ("zero_if", zero_if),
    )
    for key, items in components:
        if items:
            rule[key] = items
    if bonus and (is_bonus or any("加" in b["text"] for b in bonus)):
        rule["bonus"] = bonus
    if unparsed:
        rule["unparsed"] = unparsed
    rule["type"] = _rule_type(rule, is_bonus)
    return rule


def _rule_type(rule: Mapping[str, Any], is_bonus: bool) -> str:
    if "veto" in rule:
        return "veto"
    if is_bonus or ("bonus" in rule and not any(k in rule for k in ("parts", "tiers", "rank", "bands", "linear"))):
        return "bonus"
    if "rank" in rule:
        return "rank_based"
    if "bands" in rule:
        return "band_deduction"
    if "linear" in rule:
        return "linear_deduction"
    if "tiers" in rule:
        return "tiered"
    if "parts" in rule:
        return "additive"
    if "zero_if" in rule or "deductions" in rule or "incidents" in rule:
        return "all_or_nothing" if "zero_if" in rule and "deductions" not in rule else "additive"
    return "judgment"


def _attainment(values: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = dict(ATTAINMENT_DEFAULTS)
    for key, value in (values or {}).items():
        if key not in ATTAINMENT_DEFAULTS:
            raise ValueError(f"unknown attainment field {key!r}; use one of {', '.join(ATTAINMENT_DEFAULTS)}")
        merged[key] = value
    return merged


def _band_points(bands: Mapping[str, Any], top: float, a: Mapping[str, Any]) -> float:
    if bands["measure"] == "shortfall_pp":
        shortfall = float(a["shortfall_pp"])
        if shortfall <= 0:
            return top
        beyond = bands.get("zero_beyond")
        if beyond is not None and shortfall > beyond:
            return 0.0
        for band in bands["bands"]:
            if band["lo"] < shortfall <= band["hi"] or (band["lo"] == 0 and shortfall <= band["hi"]):
                return max(0.0, top - band["deduct"])
        return 0.0
    completion = float(a["completion"])
    if completion >= 1:
        return top
    below = bands.get("zero_below")
    if below is not None and completion < below:
        return 0.0
    for band in bands["bands"]:
        if band["lo"] <= completion < band["hi"]:
            return max(0.0, top - band["deduct"])
    return 0.0


def points_kept(machine: Mapping[str, Any] | str, attainment: Mapping[str, Any] | None = None) -> float:
    """The points a node keeps under a rule (``machine``: its machine form or JSON)
    for an ``attainment`` (fields and defaults in :data:`ATTAINMENT_DEFAULTS`;
    a missing field means fully attained).

    Examples from the seeds (see ``tests/test_rules.py`` for the hand checks):

    >>> ezhou_1_1 = parse_rule("达到当年目标值(全市平均值),得10分。未达到目标值时,低于目标值1个百分点"
    ...     "(含1个百分点,下同)以内的扣1分。低于目标值1-3个百分点以内的扣2分;低于目标值3-10个百分点以内的扣5分。"
    ...     "低于目标值10-20个百分点以内的扣6—9分;低于目标值超过20个百分点不得分。", 10)
    >>> [points_kept(ezhou_1_1, {"shortfall_pp": s}) for s in (0, 1, 2, 5, 15, 25)]
    [10.0, 9.0, 8.0, 5.0, 2.5, 0.0]
    >>> changzhou_40 = parse_rule("服务业满意度得分位居全国同等城市前10名的得20分,排名10至20位的,"
    ...     "排名每下降一名减1分,排名20名以外的得0分。", 20)
    >>> [points_kept(changzhou_40, {"rank": r}) for r in (3, 10, 13, 20, 21)]
    [20.0, 20.0, 17.0, 10.0, 0.0]
    """
    rule: Mapping[str, Any] = json.loads(machine) if isinstance(machine, str) else machine
    a = _attainment(attainment)
    top = float(rule.get("max") or 0.0)
    kind = rule.get("type", "judgment")
    if kind == "veto":
        return 0.0
    if kind == "bonus":
        earned = sum(b["points"] for b in rule.get("bonus", [])) * float(a["bonus_units"]) + float(a["bonus_points"])
        cap = rule.get("bonus_cap")
        return float(min(earned, cap)) if cap is not None else float(earned)
    if a["zero"] and ("zero_if" in rule or kind == "all_or_nothing"):
        return 0.0
    if "rank" in rule:
        rank, spec = float(a["rank"]), rule["rank"]
        beyond = spec.get("zero_beyond")
        if beyond is not None and rank > beyond:
            kept = 0.0
        else:
            kept = spec["points"] - spec["step"] * max(0.0, rank - spec["top"])
    elif "bands" in rule:
        kept = _band_points(rule["bands"], top, a)
    elif "linear" in rule and "parts" not in rule:
        spec = rule["linear"]
        steps = math.floor(float(a["shortfall_pp"]) / spec["per"] + 1e-9)
        kept = top - spec["deduct"] * steps
    elif "tiers" in rule:
        tiers = rule["tiers"]
        kept = tiers[min(int(a["tier"]), len(tiers) - 1)]
    elif "parts" in rule:
        kept = sum(p["points"] for p in rule["parts"]) * float(a["met"])
        if "linear" in rule:
            spec = rule["linear"]
            lost = spec["deduct"] * math.floor(float(a["shortfall_pp"]) / spec["per"] + 1e-9)
            kept -= min(lost, spec.get("cap", lost))
    elif "deductions" in rule or "incidents" in rule or "zero_if" in rule:
        kept = top - sum(d["deduct"] for d in rule.get("deductions", [])) * float(a["failed_deductions"])
    else:
        kept = top * float(a["met"])
    if "deductions" in rule and "parts" in rule:
        kept -= sum(d["deduct"] for d in rule["deductions"]) * float(a["failed_deductions"])
    counts = a["incidents"]
    for k, incident in enumerate(rule.get("incidents", [])):
        count = counts[k] if isinstance(counts, list | tuple) else counts
        lost = incident["deduct"] * float(count)
        kept -= min(lost, incident["cap"]) if incident.get("cap") is not None else lost
    kept = min(max(kept, 0.0), top) if rule.get("max") is not None else max(kept, 0.0)
    if "bonus" in rule and kind != "bonus":
        kept += sum(b["points"] for b in rule["bonus"]) * float(a["bonus_units"])
    return float(kept)


def stated_maximum(machine: Mapping[str, Any] | str) -> float | None:
    """The most a rule's own text awards (its top tier, the sum of its parts,
    the points for a top rank), or ``None`` when the text states no amount.
    :func:`points_kept` caps at ``max``; this is what the text says before
    that cap, so a rule worth more than its node can be noticed.

    >>> stated_maximum(parse_rule("出台的得3分;未出台的得0分。", 2))
    3.0
    >>> stated_maximum(parse_rule("由考核组评分。", 2)) is None
    True
    """
    rule: Mapping[str, Any] = json.loads(machine) if isinstance(machine, str) else machine
    if "rank" in rule:
        return float(rule["rank"]["points"])
    if "tiers" in rule:
        return float(max(rule["tiers"]))
    if "parts" in rule:
        return float(sum(p["points"] for p in rule["parts"]))
    return None


def points_kept_many(rules: Iterable[Mapping[str, Any] | str], field: str, values: Iterable[float]) -> np.ndarray:
    """Points kept by every rule (rows) at every value of one attainment
    field (columns), through :func:`points_kept_table`.

    >>> r = parse_rule("达到100%的得20分,未达到100%者每下降0.5%减1分,直至0分。", 20)
    >>> points_kept_many([r], "shortfall_pp", [0, 1, 20]).tolist()
    [[20.0, 18.0, 0.0]]
    """
    values = list(values)
    machines = list(rules)
    if not machines:
        return np.array([], dtype=float)
    if not values:
        return np.zeros((len(machines), 0), dtype=float)
    return points_kept_table(machines, {field: values}).to_numpy(dtype=float)


# Vectorised evaluation: the same arithmetic as points_kept, in the same
# order, on arrays of shape (rules, attainments), one rule kind at a time.
# Python's min(a, b) is "b if b < a else a" and max(a, b) "b if b > a else a";
# they are written so below (np.where) rather than np.minimum/np.maximum.

_KINDS = ("veto", "bonus", "rank", "bands_pp", "bands_completion", "linear", "tiers", "parts", "conditions", "judgment")
_K = {name: code for code, name in enumerate(_KINDS)}


@dataclass(frozen=True)
class _CompiledRules:
    """Per-rule constants of :func:`points_kept`, as arrays (NaN: absent)."""

    kind: np.ndarray
    top: np.ndarray
    has_max: np.ndarray
    zero_applies: np.ndarray
    bonus_sum: np.ndarray
    add_bonus: np.ndarray
    bonus_cap: np.ndarray
    rank: np.ndarray  # (n, 4): points, step, top, zero_beyond
    band_lo: np.ndarray  # (n, bands)
    band_hi: np.ndarray
    band_deduct: np.ndarray
    band_limit: np.ndarray  # zero_beyond (shortfall) or zero_below (completion)
    lin_per: np.ndarray
    lin_deduct: np.ndarray
    lin_cap: np.ndarray
    tiers: np.ndarray  # (n, tiers)
    tier_count: np.ndarray
    parts_sum: np.ndarray
    ded_sum: np.ndarray
    ded_and_parts: np.ndarray
    inc_deduct: np.ndarray  # (n, incident clauses)
    inc_cap: np.ndarray
    inc_count: np.ndarray


def _padded(rows: Mapping[int, list[float]], n: int) -> np.ndarray:
    """Rows of different lengths (by row number; missing rows empty) as an
    ``(n, longest)`` array padded with NaN."""
    width = max((len(r) for r in rows.values()), default=0)
    out = np.full((n, width), np.nan)
    for i, row in rows.items():
        out[i, : len(row)] = row
    return out


def _compile_rules(machines: Sequence[Mapping[str, Any] | str]) -> _CompiledRules:
    strings = [m for m in machines if isinstance(m, str)]
    if strings and len(strings) == len(machines):
        # identical JSON gives identical numbers: read each distinct rule once
        codes, distinct = pd.factorize(pd.Series(strings, dtype=object))
        if len(distinct) < len(machines):
            return _take(_compile_distinct(list(distinct)), codes)
    return _compile_distinct(machines)


def _take(rules: _CompiledRules, rows: np.ndarray) -> _CompiledRules:
    return _CompiledRules(**{f.name: getattr(rules, f.name)[rows] for f in dataclass_fields(rules)})


def _compile_distinct(machines: Sequence[Mapping[str, Any] | str]) -> _CompiledRules:
    n = len(machines)
    nan = np.nan
    kind = np.full(n, _K["judgment"], dtype=np.int64)
    top, bonus_sum, bonus_cap = np.zeros(n), np.zeros(n), np.full(n, nan)
    has_max, zero_applies, add_bonus, ded_and_parts = (np.zeros(n, dtype=bool) for _ in range(4))
    rank = np.full((n, 4), nan)
    band_limit, lin_per, lin_deduct, lin_cap = np.full(n, nan), np.full(n, nan), np.full(n, nan), np.full(n, np.inf)
    parts_sum, ded_sum = np.zeros(n), np.zeros(n)
    tier_count, inc_count = np.zeros(n), np.zeros(n)
    band_lo: dict[int, list[float]] = {}
    band_hi: dict[int, list[float]] = {}
    band_deduct: dict[int, list[float]] = {}
    tiers: dict[int, list[float]] = {}
    inc_deduct: dict[int, list[float]] = {}
    inc_cap: dict[int, list[float]] = {}
    for i, machine in enumerate(machines):
        rule: Mapping[str, Any] = json.loads(machine) if isinstance(machine, str) else machine
        top[i] = float(rule.get("max") or 0.0)
        has_max[i] = rule.get("max") is not None
        rule_type = rule.get("type", "judgment")
        if rule_type == "veto":
            kind[i] = _K["veto"]
            continue
        if rule_type == "bonus":
            kind[i] = _K["bonus"]
            bonus_sum[i] = sum(b["points"] for b in rule.get("bonus", []))
            cap = rule.get("bonus_cap")
            bonus_cap[i] = nan if cap is None else float(cap)
            continue
        zero_applies[i] = "zero_if" in rule or rule_type == "all_or_nothing"
        if "rank" in rule:
            spec = rule["rank"]
            beyond = spec.get("zero_beyond")
            kind[i] = _K["rank"]
            rank[i] = (spec["points"], spec["step"], spec["top"], nan if beyond is None else beyond)
        elif "bands" in rule:
            bands = rule["bands"]
            if bands["measure"] == "shortfall_pp":
                kind[i], limit = _K["bands_pp"], bands.get("zero_beyond")
            else:
                kind[i], limit = _K["bands_completion"], bands.get("zero_below")
            band_limit[i] = nan if limit is None else limit
            band_lo[i] = [float(b["lo"]) for b in bands["bands"]]
            band_hi[i] = [float(b["hi"]) for b in bands["bands"]]
            band_deduct[i] = [float(b["deduct"]) for b in bands["bands"]]
        elif "linear" in rule and "parts" not in rule:
            kind[i] = _K["linear"]
            lin_per[i], lin_deduct[i] = rule["linear"]["per"], rule["linear"]["deduct"]
        elif "tiers" in rule:
            kind[i] = _K["tiers"]
            tiers[i] = [float(t) for t in rule["tiers"]]
            tier_count[i] = len(tiers[i])
        elif "parts" in rule:
            kind[i] = _K["parts"]
            parts_sum[i] = sum(p["points"] for p in rule["parts"])
            if "linear" in rule:
                spec = rule["linear"]
                lin_per[i], lin_deduct[i] = spec["per"], spec["deduct"]
                if "cap" in spec:
                    lin_cap[i] = float(spec["cap"])
        elif "deductions" in rule or "incidents" in rule or "zero_if" in rule:
            kind[i] = _K["conditions"]
        ded_sum[i] = sum(d["deduct"] for d in rule.get("deductions", []))
        ded_and_parts[i] = "deductions" in rule and "parts" in rule
        if "incidents" in rule:
            inc_deduct[i] = [float(incident["deduct"]) for incident in rule["incidents"]]
            inc_cap[i] = [nan if x.get("cap") is None else float(x["cap"]) for x in rule["incidents"]]
            inc_count[i] = len(inc_deduct[i])
        if "bonus" in rule:
            add_bonus[i] = True
            bonus_sum[i] = sum(b["points"] for b in rule["bonus"])
    return _CompiledRules(
        kind=kind,
        top=top,
        has_max=has_max,
        zero_applies=zero_applies,
        bonus_sum=bonus_sum,
        add_bonus=add_bonus,
        bonus_cap=bonus_cap,
        rank=rank,
        band_lo=_padded(band_lo, n),
        band_hi=_padded(band_hi, n),
        band_deduct=_padded(band_deduct, n),
        band_limit=band_limit,
        lin_per=lin_per,
        lin_deduct=lin_deduct,
        lin_cap=lin_cap,
        tiers=_padded(tiers, n),
        tier_count=tier_count,
        parts_sum=parts_sum,
        ded_sum=ded_sum,
        ded_and_parts=ded_and_parts,
        inc_deduct=_padded(inc_deduct, n),
        inc_cap=_padded(inc_cap, n),
        inc_count=inc_count,
    )


@dataclass(frozen=True)
class _AttainmentArrays:
    """Every attainment field as an array of shape (1 or rules, attainments);
    ``incidents_by_clause`` (1, attainments, clauses) when counts are given per
    clause (NaN: not given), with ``incidents`` NaN where they are."""

    fields: dict[str, np.ndarray]
    incidents_by_clause: np.ndarray | None
    columns: pd.Index


def _is_clause_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _attainment_arrays(attainment: pd.DataFrame | Mapping[str, Any] | None, n_rules: int) -> _AttainmentArrays:
    if attainment is None:
        given: dict[str, Any] = {}
        columns: pd.Index = pd.RangeIndex(1)
    elif isinstance(attainment, pd.DataFrame):
        given = {str(k): attainment[k].tolist() for k in attainment.columns}
        columns = attainment.index
    else:
        given = dict(attainment)
        columns = pd.RangeIndex(0)
    for key in given:
        if key not in ATTAINMENT_DEFAULTS:
            raise ValueError(f"unknown attainment field {key!r}; use one of {', '.join(ATTAINMENT_DEFAULTS)}")
    if not isinstance(attainment, pd.DataFrame) and attainment is not None:
        widths = {np.shape(v)[-1] for k, v in given.items() if k != "incidents" and np.ndim(v) >= 1}
        incidents = given.get("incidents")
        if incidents is not None and not np.isscalar(incidents):
            widths.add(len(incidents) if not isinstance(incidents, np.ndarray) else incidents.shape[-1])
        widths.discard(1)
        if len(widths) > 1:
            raise ValueError(f"attainment fields give different numbers of attainments: {sorted(widths)}")
        columns = pd.RangeIndex(widths.pop() if widths else 1)
    width = len(columns)
    fields: dict[str, np.ndarray] = {}
    by_clause: np.ndarray | None = None
    for key, default in ATTAINMENT_DEFAULTS.items():
        value = given.get(key, default)
        if (
            key == "incidents"
            and isinstance(value, list | tuple | pd.Series)
            and any(_is_clause_list(v) for v in value)
        ):
            lists = [list(v) if _is_clause_list(v) else [] for v in value]
            by_clause = _padded(dict(enumerate(lists)), len(lists)).reshape(1, len(lists), -1)
            if not np.isfinite(np.asarray([x for row in lists for x in row], dtype=float)).all():
                raise ValueError("attainment field 'incidents' must be finite")
            value = [np.nan if _is_clause_list(v) else v for v in value]
        array = np.asarray(value, dtype=float)
        if array.ndim <= 1:
            array = array.reshape(1, -1)
        if array.ndim != 2 or array.shape[0] not in (1, n_rules) or array.shape[1] not in (1, width):
            raise ValueError(
                f"attainment field {key!r} has shape {np.shape(value)}; give one value, one per attainment "
                f"({width}), or a (rules, attainments) array ({n_rules}, {width})"
            )
        finite = np.isfinite(array) | (np.isnan(array) if key == "incidents" and by_clause is not None else False)
        if not finite.all():
            raise ValueError(f"attainment field {key!r} must be finite")
        fields[key] = array
    return _AttainmentArrays(fields, by_clause, columns)


def _evaluate(rules: _CompiledRules, a: _AttainmentArrays) -> np.ndarray:
    n, width = len(rules.kind), len(a.columns)
    out = np.zeros((n, width))

    def field(name: str, idx: np.ndarray) -> np.ndarray:
        values = a.fields[name]
        return values if values.shape[0] == 1 else values[idx]

    def col(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return values[idx][:, None]

    def rows(name: str) -> np.ndarray:
        return np.flatnonzero(rules.kind == _K[name])

    def floor_steps(shortfall: np.ndarray, per: np.ndarray) -> np.ndarray:
        if (per == 0).any():
            raise ZeroDivisionError("float division by zero")
        return np.floor(shortfall / per + 1e-9)

    idx = rows("bonus")
    if idx.size:
        earned = col(rules.bonus_sum, idx) * field("bonus_units", idx) + field("bonus_points", idx)
        cap = col(rules.bonus_cap, idx)
        out[idx] = np.where(~np.isnan(cap) & (cap < earned), cap, earned)

    kept = np.zeros((n, width))
    idx = rows("rank")
    if idx.size:
        rank = field("rank", idx)
        points, step, first, beyond = (col(rules.rank[:, j], idx) for j in range(4))
        over = rank - first
        value = points - step * np.where(over > 0.0, over, 0.0)
        kept[idx] = np.where(~np.isnan(beyond) & (rank > beyond), 0.0, value)
    for name, measure in (("bands_pp", "shortfall_pp"), ("bands_completion", "completion")):
        idx = rows(name)
        if not idx.size:
            continue
        x, top, limit = field(measure, idx), col(rules.top, idx), col(rules.band_limit, idx)
        value = np.zeros((idx.size, width))
        for j in reversed(range(rules.band_lo.shape[1])):
            lo, hi, deduct = (
                col(rules.band_lo[:, j], idx),
                col(rules.band_hi[:, j], idx),
                col(rules.band_deduct[:, j], idx),
            )
            in_pp = ((lo < x) & (x <= hi)) | ((lo == 0) & (x <= hi))
            match = in_pp if name == "bands_pp" else (lo <= x) & (x < hi)
            left = top - deduct
            value = np.where(match, np.where(left > 0.0, left, 0.0), value)
        if name == "bands_pp":
            value = np.where(~np.isnan(limit) & (x > limit), 0.0, value)
            kept[idx] = np.where(x <= 0, top, value)
        else:
            value = np.where(~np.isnan(limit) & (x < limit), 0.0, value)
            kept[idx] = np.where(x >= 1, top, value)
    idx = rows("linear")
    if idx.size:
        steps = floor_steps(field("shortfall_pp", idx), col(rules.lin_per, idx))
        kept[idx] = col(rules.top, idx) - col(rules.lin_deduct, idx) * steps
    idx = rows("tiers")
    if idx.size:
        count = col(rules.tier_count, idx)
        reached = np.trunc(field("tier", idx))
        position = np.where(count - 1 < reached, count - 1, reached)
        position = np.where(position < 0, position + count, position)  # Python's negative indexing
        if (position < 0).any():
            raise IndexError("list index out of range")
        position = np.broadcast_to(position, (idx.size, width)).astype(np.int64)
        kept[idx] = np.take_along_axis(rules.tiers[idx], position, axis=1)
    idx = rows("parts")
    if idx.size:
        value = col(rules.parts_sum, idx) * field("met", idx)
        per = col(rules.lin_per, idx)
        linear = ~np.isnan(per)
        if linear.any():
            lost = col(rules.lin_deduct, idx) * floor_steps(field("shortfall_pp", idx), np.where(linear, per, 1.0))
            cap = col(rules.lin_cap, idx)
            value = np.where(linear, value - np.where(cap < lost, cap, lost), value)
        kept[idx] = value
    idx = rows("conditions")
    if idx.size:
        kept[idx] = col(rules.top, idx) - col(rules.ded_sum, idx) * field("failed_deductions", idx)
    idx = rows("judgment")
    if idx.size:
        kept[idx] = col(rules.top, idx) * field("met", idx)

    idx = np.flatnonzero((rules.kind != _K["veto"]) & (rules.kind != _K["bonus"]))
    if not idx.size:
        return out
    value = kept[idx]
    if rules.ded_and_parts.any():
        value = np.where(
            col(rules.ded_and_parts, idx),
            value - col(rules.ded_sum, idx) * field("failed_deductions", idx),
            value,
        )
    counts = field("incidents", idx)
    for j in range(rules.inc_deduct.shape[1]):
        has = col(rules.inc_count, idx) > j
        count = counts
        if a.incidents_by_clause is not None:
            listed = a.incidents_by_clause[..., j] if j < a.incidents_by_clause.shape[2] else np.nan
            count = np.where(np.isnan(counts), listed, counts)
            if (has & np.isnan(count)).any():
                raise IndexError("list index out of range")
        lost = col(rules.inc_deduct[:, j], idx) * count
        cap = col(rules.inc_cap[:, j], idx)
        value = np.where(has, value - np.where(~np.isnan(cap) & (cap < lost), cap, lost), value)
    value = np.where(value < 0.0, 0.0, value)
    top = col(rules.top, idx)
    value = np.where(col(rules.has_max, idx) & (top < value), top, value)
    value = np.where(col(rules.add_bonus, idx), value + col(rules.bonus_sum, idx) * field("bonus_units", idx), value)
    out[idx] = np.where(col(rules.zero_applies, idx) & (field("zero", idx) != 0), 0.0, value)
    return out


def points_kept_table(
    rules: pd.DataFrame | pd.Series | Sequence[Mapping[str, Any] | str],
    attainment: pd.DataFrame | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Points kept by many rules at many attainments at once: exactly the
    numbers of :func:`points_kept`, computed with numpy one rule kind at a time.

    Parameters
    ----------
    rules
        A rules table (its ``machine`` column; the index is kept), a Series of
        machine forms, or a sequence of machine forms (dicts or JSON).
    attainment
        The attainments, one per output column: a DataFrame with one row per
        attainment and a column per field of :data:`ATTAINMENT_DEFAULTS`
        (its index becomes the columns), or a mapping from field to one value,
        one value per attainment, or a ``(rules, attainments)`` array for
        values that differ by rule.  Missing fields are fully attained.
        Per-clause incident counts are a list or tuple in a DataFrame cell (or
        one per attainment in a mapping).  Values must be finite.

    Returns
    -------
    pandas.DataFrame
        One row per rule, one column per attainment.

    Examples
    --------
    >>> ezhou_1_1 = parse_rule("达到当年目标值(全市平均值),得10分。未达到目标值时,低于目标值1个百分点"
    ...     "(含1个百分点,下同)以内的扣1分。低于目标值1-3个百分点以内的扣2分;低于目标值3-10个百分点以内的扣5分。"
    ...     "低于目标值10-20个百分点以内的扣6—9分;低于目标值超过20个百分点不得分。", 10)
    >>> tiered = {"type": "tiered", "max": 20, "tiers": [20, 10, 0]}
    >>> table = points_kept_table([ezhou_1_1, tiered], {"shortfall_pp": [0, 2, 25], "tier": [0, 1, 2]})
    >>> table.to_numpy().tolist()
    [[10.0, 8.0, 0.0], [20.0, 10.0, 0.0]]
    >>> points_kept_table([tiered], pd.DataFrame({"tier": [1]}, index=["second tier"]))
       second tier
    0         10.0
    """
    if isinstance(rules, pd.DataFrame):
        machines, index = rules["machine"].tolist(), rules.index
    elif isinstance(rules, pd.Series):
        machines, index = rules.tolist(), rules.index
    else:
        machines = list(rules)
        index = pd.RangeIndex(len(machines))
    arrays = _attainment_arrays(attainment, len(machines))
    return pd.DataFrame(_evaluate(_compile_rules(machines), arrays), index=index, columns=arrays.columns)


def parse_rules_table(tables: Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Fill ``rule_type``, ``max_points`` and ``machine`` of the rules table;
    return it with one ``unparsed_rule`` data issue per clause not understood."""
    rules = tables["rules"].copy()
    nodes = tables["nodes"].set_index("node_id")
    issues: list[dict[str, Any]] = []
    types, maxima, machines = [], [], []
    for row in rules.to_dict("records"):
        node = nodes.loc[row["node_id"]]
        points = None if pd.isna(node["points"]) else float(node["points"])
        machine = parse_rule(row["rule_text"], points, bool(node["is_bonus"]), bool(node["is_veto"]))
        types.append(machine["type"])
        maxima.append(machine.get("bonus_cap") if machine["type"] == "bonus" else points)
        machines.append(json.dumps(machine, ensure_ascii=False, sort_keys=True))
        if points is not None and machine["type"] not in ("veto", "bonus"):
            full = points_kept(machine)
            if abs(full - points) > 1e-9:
                issues.append(
                    {
                        "scheme_id": row["scheme_id"],
                        "node_id": row["node_id"],
                        "kind": "rule_points_mismatch",
                        "severity": "warning",
                        "message": f"fully attained, the rule gives {full:g} points, but the node declares {points:g}",
                        "evidence": json.dumps(machine, ensure_ascii=False)[:300],
                        "raw_ref": row["raw_ref"],
                    }
                )
        for clause in machine.get("unparsed", []):
            issues.append(
                {
                    "scheme_id": row["scheme_id"],
                    "node_id": row["node_id"],
                    "kind": "unparsed_rule",
                    "severity": "warning",
                    "message": "a scoring clause matches no rule pattern; it is kept, not guessed",
                    "evidence": clause,
                    "raw_ref": row["raw_ref"],
                }
            )
    rules["rule_type"] = types
    rules["max_points"] = pd.Series(maxima, index=rules.index, dtype=float)
    rules["machine"] = machines
    return rules, issues


def parse_report(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Per scheme: scoring texts, how many parsed completely, and the share."""
    rules = tables["rules"]
    unparsed = set(tables["data_issues"].query("kind == 'unparsed_rule'")["node_id"])
    frame = rules.assign(parsed=~rules["node_id"].isin(unparsed))
    out = frame.groupby("scheme_id").agg(texts=("node_id", "size"), parsed=("parsed", "sum"))
    out["share_parsed"] = out["parsed"] / out["texts"]
    return out
