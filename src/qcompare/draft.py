"""Draft a county-level scheme from what the five schemes teach.

:func:`build_draft` chooses criteria from the crosswalk, weights them by the
consensus of the scored schemes, borrows a scoring rule for each, assigns
lead and support departments as county bodies after the 2018 reform, and
adds a veto and a capped bonus — every line with its provenance.
:func:`check_draft` checks any draft (also one read back from a hand-edited
workbook); :func:`export_xlsx`, :func:`read_xlsx` and :func:`export_docx`
move a draft to and from the formats designers use.

**Choosing.** A concept enters when at least ``min_schemes`` schemes have it
and its lever (and domain, if given) is among those asked for.

**Weighting.** For each scored scheme that has the concept, the concept's
share of that scheme's base points; the draft weight is the **median** of
those shares.  The median, not the mean, because one scheme's idiosyncratic
weight (Changzhou's 60 points for citizen satisfaction) should not pull the
draft, and because the schemes have different sizes, shares (not points)
are compared.  A concept no scored scheme has takes the median weight of all
chosen concepts.  Weights are scaled to ``total_points`` and rounded to whole
points by the largest-remainder method, each item at least 1 point.

**Rules.** Each item borrows one scoring rule from the concept's scored
units, rescaled to its points: the most lenient, the median or the strictest
by the share of points a city keeps at 80 % attainment
(:func:`qcompare.strictness.points_at_level`), as ``strictness`` asks.
Items with no scored source get a judgment rule.

**Departments.** Lead claims are counted over the concept's units (牵头
counts 3, 负责 or 考核 2; 配合 and collective mentions only make a body a
candidate support), by their 2018 successor body, and named as
county bodies (``县市场监督管理局``).  If one body would lead more than
``max_lead_share`` of the points, items pass their lead, one at a time, to
the body with the next strongest claim in the sources (smallest items first
among equal claims) until it does not; each change is listed in
:attr:`Draft.notes`.  The claims count how often a body is named beside a
criterion, not what it does, so a person must review these changes.

:func:`scheme_as_draft` puts one of the nine source schemes in the same
shape, so the same checks can be run on it.

**Areas.** Items are grouped by lever (一级) and domain (二级); each label
declares its points, ``一、规划与政策(6分)``, which the checks compare with
its items.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from qcompare import coverage
from qcompare.rules import parse_rule, points_kept, stated_maximum
from qcompare.strictness import points_at_level
from qcompare.weights import scored_anchors

__all__ = [
    "DOMAIN_ZH",
    "LEVER_ZH",
    "XLSX_COLUMNS",
    "CheckResult",
    "Draft",
    "DraftParameters",
    "build_draft",
    "check_draft",
    "check_schemes",
    "export_docx",
    "export_xlsx",
    "lead_shares",
    "read_xlsx",
    "rescale_rule",
    "scheme_as_draft",
    "score_curve",
]

LEVER_ZH = {
    "strategy": "规划与政策",
    "organization": "组织领导与考核",
    "funding": "经费投入",
    "culture": "质量文化与宣传教育",
    "credit": "质量诚信",
    "supervision": "监管执法与风险防控",
    "infrastructure": "质量技术基础",
    "talent": "质量人才",
    "brand": "品牌与质量奖励",
    "consumer": "消费者权益与社会参与",
    "analysis": "质量分析与信息公开",
    "innovation": "创新",
    "general": "综合",
}
DOMAIN_ZH = {
    "product": "产品质量",
    "food_agri": "食品药品与农产品",
    "engineering": "工程质量",
    "service": "服务质量",
    "environment": "环境质量",
    "special_equipment": "特种设备",
    "trade": "进出口与口岸",
    "economy": "经济发展质量",
    "general": "综合",
}
_NUMERALS = "一二三四五六七八九十"
# short, criterion-like titles first (Nantong's 三级指标, Ezhou's 考核要点), Xinbei's long items last
_TITLE_ORDER = (
    "nantong",
    "ezhou",
    "changzhou",
    "quzhou_tasks",
    "quzhou_targets",
    "xinbei_tasks",
    "xinbei_goals",
    "xinbei_towns",
    "xinbei_departments",
)
_LEAD_ROLES = {"lead": 3, "responsible": 2, "assessor": 2}
_VETO_TEXT = "发生区域性、系统性产品质量安全事件的,考核结果一律为未完成。"
_BONUS_TEXT = (
    "质量工作创新在全市、省、国家推广;获市、省、国家质量奖励;获质量强县先进地区称号等。加分项合计不超过{cap}分。"
)

#: The columns of the exported workbook, in the familiar government layout.
XLSX_COLUMNS = ["一级指标", "二级指标", "三级指标", "考核要点", "分值", "评分标准", "牵头单位", "配合单位", "来源"]


@dataclass(frozen=True)
class DraftParameters:
    """What the designer asks for."""

    county: str = "某县"
    total_points: int = 100
    levers: Sequence[str] | None = None  # None: every lever the shared concepts cover
    domains: Sequence[str] | None = None  # None: every domain
    min_schemes: int = 3
    max_lead_share: float = 0.4
    strictness: str = "median"  # lenient, median or strict
    bonus_cap: int = 5

    def __post_init__(self) -> None:
        if self.strictness not in ("lenient", "median", "strict"):
            raise ValueError(f"strictness must be lenient, median or strict, not {self.strictness!r}")
        if self.total_points <= 0:
            raise ValueError("total_points must be positive")
        if not 0 < self.max_lead_share <= 1:
            raise ValueError("max_lead_share must be in (0, 1]")


@dataclass
class Draft:
    """A drafted scheme: one row per item, plus the veto and bonus rows."""

    parameters: DraftParameters
    items: pd.DataFrame
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    message: str


def rescale_rule(machine: Mapping[str, Any], new_max: float) -> dict[str, Any]:
    """The same rule for ``new_max`` points: every point figure scaled alike.

    >>> rescale_rule({"type": "tiered", "max": 20, "tiers": [20, 10, 0]}, 5)["tiers"]
    [5.0, 2.5, 0.0]
    """
    old = float(machine.get("max") or 0) or new_max
    factor = new_max / old
    out: dict[str, Any] = json.loads(json.dumps(machine))
    out["max"] = float(new_max)
    for part in out.get("parts", []):
        part["points"] = part["points"] * factor
    if "tiers" in out:
        out["tiers"] = [t * factor for t in out["tiers"]]
    if "bands" in out:
        for band in out["bands"]["bands"]:
            band["deduct"] = band["deduct"] * factor
    if "linear" in out:
        out["linear"]["deduct"] = out["linear"]["deduct"] * factor
        if "cap" in out["linear"]:
            out["linear"]["cap"] = out["linear"]["cap"] * factor
    if "rank" in out:
        out["rank"]["points"] = out["rank"]["points"] * factor
        out["rank"]["step"] = out["rank"]["step"] * factor
    for item in out.get("incidents", []):
        item["deduct"] = item["deduct"] * factor
        if item.get("cap") is not None:
            item["cap"] = item["cap"] * factor
    for item in out.get("deductions", []):
        item["deduct"] = item["deduct"] * factor
    out.pop("bonus", None)
    return out


def _largest_remainder(weights: pd.Series, total: int) -> pd.Series:
    raw = weights / weights.sum() * total
    floor = raw.apply(math.floor).clip(lower=1)
    remainder = total - int(floor.sum())
    order = (raw - floor).sort_values(ascending=False, kind="stable").index
    points = floor.copy()
    step = 1 if remainder > 0 else -1
    k = 0
    while remainder != 0:
        label = order[k % len(order)]
        if step > 0 or points[label] > 1:
            points[label] += step
            remainder -= step
        k += 1
    return points.astype(int)


def _title_rank(scheme_id: str) -> int:
    """Where a scheme's wording ranks as a source of titles; schemes added later come last."""
    return _TITLE_ORDER.index(scheme_id) if scheme_id in _TITLE_ORDER else len(_TITLE_ORDER)


def _county_name(successor_zh: str) -> str:
    return f"县{successor_zh}" if not successor_zh.startswith(("中国", "县")) else successor_zh


def build_draft(tables: Mapping[str, pd.DataFrame], parameters: DraftParameters | None = None) -> Draft:
    """Draft a county scheme from the normalized tables (see the module docstring)."""
    p = parameters or DraftParameters()
    nodes = tables["nodes"].set_index("node_id")
    schemes = tables["schemes"].set_index("scheme_id")
    units = coverage.unit_table(tables)
    units = units[~units["is_bonus"].astype(bool) & ~units["node_id"].map(nodes["is_veto"]).astype(bool)]
    scheme_count = units.groupby("concept_id")["scheme_id"].nunique()
    units = units[units["concept_id"].isin(scheme_count[scheme_count >= p.min_schemes].index)]

    concept_lever = units.groupby("concept_id")["lever"].agg(lambda s: Counter(s).most_common(1)[0][0])
    concept_domain = units.groupby("concept_id")["domain"].agg(
        lambda s: Counter(d for v in s for d in str(v).split("|")).most_common(1)[0][0]
    )
    levers = list(p.levers) if p.levers is not None else sorted(set(concept_lever))
    keep = list(concept_lever[concept_lever.isin(levers)].index)
    if p.domains is not None:
        keep = [c for c in keep if concept_domain[c] in set(p.domains)]
    units = units[units["concept_id"].isin(keep)]
    if units.empty:
        raise ValueError("no concept matches the levers, domains and min_schemes asked for; relax one of them")

    # weights: median share of each scored scheme's base points
    base = {str(s): float(t) for s, t in schemes["total_points"].dropna().items()}  # the scored schemes
    shares: dict[str, list[float]] = {}
    for row in _rows(units):
        if row.scheme_id in base and not pd.isna(row.points) and not row.is_bonus:
            shares.setdefault(row.concept_id, []).append(float(row.points) / base[row.scheme_id])
    concepts = sorted(set(units["concept_id"]))
    median_all = pd.Series([pd.Series(v).median() for v in shares.values()]).median()
    weight = pd.Series({c: pd.Series(shares[c]).median() if c in shares else median_all for c in concepts})
    points = _largest_remainder(weight, p.total_points)

    rules = {r.node_id: json.loads(r.machine) for r in _rows(tables["rules"])}
    rule_texts = tables["rules"].set_index("node_id")["rule_text"]
    assignments = tables["assignments"].dropna(subset=["department_id"])
    departments = tables["departments"].set_index("department_id")
    crosswalk = tables["crosswalk"].set_index("node_id")["unit_id"]
    assignments = assignments.assign(unit_id=assignments["node_id"].map(crosswalk))

    rows = []
    for concept in concepts:
        members = units[units["concept_id"] == concept]
        ordered = sorted(_rows(members), key=lambda r: _title_rank(r.scheme_id))
        titled = [r for r in ordered if isinstance(r.title, str) and 0 < len(r.title) <= 30]
        representative = titled[0] if titled else ordered[0]
        title = representative.title if isinstance(representative.title, str) else ""
        text = nodes.at[representative.node_id, "text"]
        # rule: lenient / median / strict among the scored sources
        candidates = []
        for r in ordered:
            if r.node_id in rules and rules[r.node_id]["type"] not in ("veto", "bonus"):
                machine = rules[r.node_id]
                full = float(machine.get("max") or 0)
                if full > 0:
                    candidates.append((points_at_level(machine, 0.8) / full, r.node_id))
        if candidates:
            candidates.sort()
            pick = {"strict": 0, "median": len(candidates) // 2, "lenient": len(candidates) - 1}[p.strictness]
            _, rule_source = candidates[pick]
            machine = rescale_rule(rules[rule_source], float(points[concept]))
            rule_text = f"{rule_texts[rule_source]}\n(按{points[concept]}分折算)"
        else:
            rule_source = ""
            machine = {"type": "judgment", "max": float(points[concept])}
            rule_text = "由考核组根据工作完成情况评分。"
        # departments, by 2018 successor
        leads: Counter[str] = Counter()
        named: Counter[str] = Counter()
        for a in _rows(assignments[assignments["unit_id"].isin(members["node_id"])]):
            body = str(departments.at[a.department_id, "successor_2018"])
            leads[body] += _LEAD_ROLES.get(a.role, 0)
            named[body] += 1
        ranked = [b for b, w in sorted(leads.items(), key=lambda kv: (-kv[1], -named[kv[0]], kv[0])) if w > 0]
        others = [b for b, _ in sorted(named.items(), key=lambda kv: (-kv[1], kv[0])) if b not in ranked[:1]]
        claims = {_county_name(b): float(w) for b, w in leads.items() if w > 0}
        lead = _county_name(ranked[0]) if ranked else "县市场监督管理局"
        support = [_county_name(n) for n in (ranked[1:] + [o for o in others if o not in ranked])[:2]]
        rows.append(
            {
                "concept_id": concept,
                "lever": concept_lever[concept],
                "domain": concept_domain[concept],
                "title": title,
                "checkpoint": text if isinstance(text, str) else title,
                "points": int(points[concept]),
                "rule_text": rule_text,
                "machine": json.dumps(machine, ensure_ascii=False, sort_keys=True),
                "lead": lead,
                "support": "、".join(support),
                "sources": ", ".join(sorted(members["node_id"])),
                "rule_source": rule_source,
                "claims": json.dumps(claims, ensure_ascii=False, sort_keys=True),
                "is_bonus": False,
                "is_veto": False,
            }
        )
    items = pd.DataFrame(rows)
    notes = _balance_leads(items, p)
    items = _number(items)
    extra = pd.DataFrame(
        [
            {
                "concept_id": "",
                "lever": "",
                "domain": "",
                "title": "加分项",
                "checkpoint": _BONUS_TEXT.format(cap=p.bonus_cap),
                "points": 0,
                "rule_text": _BONUS_TEXT.format(cap=p.bonus_cap),
                "machine": json.dumps({"type": "bonus", "max": None, "bonus_cap": float(p.bonus_cap)}),
                "lead": "县市场监督管理局",
                "support": "",
                "sources": "nantong:bonus, changzhou:s10",
                "rule_source": "nantong:bonus",
                "claims": "{}",
                "is_bonus": True,
                "is_veto": False,
                "level1": "加分项",
                "level2": "",
                "level3": "",
            },
            {
                "concept_id": "",
                "lever": "",
                "domain": "",
                "title": "否决项",
                "checkpoint": _VETO_TEXT,
                "points": 0,
                "rule_text": _VETO_TEXT,
                "machine": json.dumps({"type": "veto", "max": None, "veto": "一律为未完成"}, ensure_ascii=False),
                "lead": "县市场监督管理局",
                "support": "",
                "sources": "nantong:veto, ezhou:7",
                "rule_source": "nantong:veto",
                "claims": "{}",
                "is_bonus": False,
                "is_veto": True,
                "level1": "否决项",
                "level2": "",
                "level3": "",
            },
        ]
    )
    return Draft(p, pd.concat([items, extra], ignore_index=True), notes)


def _lead_shares(items: pd.DataFrame) -> pd.Series:
    """Share of the base points each named lead body leads (items without a lead count in the base only)."""
    scored = items[~items["is_bonus"] & ~items["is_veto"]]
    led = scored[scored["lead"].fillna("").str.strip() != ""]
    return led.groupby("lead")["points"].sum() / scored["points"].sum()


def _balance_leads(items: pd.DataFrame, p: DraftParameters) -> list[str]:
    """Pass leads away from a body over the cap: first the items where
    another body has the strongest claim (it led or was responsible for the
    item in the sources), smallest items first among equals."""
    notes = []
    total = items["points"].sum()
    for _ in range(len(items)):
        shares = _lead_shares(items)
        over = shares[shares > p.max_lead_share + 1e-9]
        if over.empty:
            break
        body = str(over.sort_values(ascending=False).index[0])
        options = []
        for index, row in items[items["lead"] == body].iterrows():
            claims = json.loads(row["claims"])
            supports = [s for s in str(row["support"]).split("、") if s]
            alternatives = sorted(((w, b) for b, w in claims.items() if b != body), key=lambda wb: (-wb[0], wb[1])) or [
                (0.0, s) for s in supports
            ]
            for claim, other in alternatives:
                if shares.get(other, 0) + row["points"] / total <= p.max_lead_share:
                    options.append((-claim, row["points"], str(row["concept_id"]), index, other))
                    break
        if not options:
            notes.append(f"{body} still leads {over[body]:.0%} of the points: no item can pass its lead on")
            break
        _, _, _, index, other = min(options)
        supports = [s for s in str(items.at[index, "support"]).split("、") if s and s != other]
        items.at[index, "lead"] = other
        items.at[index, "support"] = "、".join([body, *supports][:2])
        title = str(items.at[index, "title"])
        notes.append(f"{title}: lead passed from {body} to {other} to respect the load cap")
    return notes


def _chinese(n: int) -> str:
    """Chinese numerals up to 99: 1 → 一, 11 → 十一, 20 → 二十."""
    if n <= 10:
        return _NUMERALS[n - 1]
    tens, units = divmod(n, 10)
    return ("" if tens == 1 else _NUMERALS[tens - 1]) + "十" + (_NUMERALS[units - 1] if units else "")


def _rows(frame: pd.DataFrame) -> Iterator[Any]:
    """The rows of a table as named tuples (typed ``Any``: their fields are the table's columns)."""
    return frame.itertuples(index=False)


def _number(items: pd.DataFrame) -> pd.DataFrame:
    """Order by lever and domain and number them as 通知 do: 一、 / (一) restarting
    under each 一、 / 1. throughout; each area label declares its points, ``(6分)``."""
    order = {lever: k for k, lever in enumerate(LEVER_ZH)}
    items = items.assign(_o=items["lever"].map(order)).sort_values(["_o", "domain", "concept_id"], kind="stable")
    area_points = items.groupby("lever")["points"].sum()
    domain_points = items.groupby(["lever", "domain"])["points"].sum()
    level1, level2, level3 = [], [], []
    n1 = n2 = 0
    last_lever = last_domain = None
    for n3, row in enumerate(_rows(items), start=1):
        if row.lever != last_lever:
            n1, n2 = n1 + 1, 0
            last_lever, last_domain = row.lever, None
        if row.domain != last_domain:
            n2 += 1
            last_domain = row.domain
        level1.append(f"{_chinese(n1)}、{LEVER_ZH[row.lever]}({area_points[row.lever]}分)")
        domain = DOMAIN_ZH.get(row.domain, row.domain)
        level2.append(f"({_chinese(n2)}){domain}({domain_points[(row.lever, row.domain)]}分)")
        level3.append(f"{n3}.{row.title}")
    return items.drop(columns="_o").assign(level1=level1, level2=level2, level3=level3).reset_index(drop=True)


_DECLARED = re.compile(r"[(（](\d+(?:\.\d+)?)分[)）]\s*$")


def _declared_points(label: str) -> float | None:
    """The points an area label declares, if it does.

    >>> _declared_points("一、规划与政策(6分)"), _declared_points("加分项")
    (6.0, None)
    """
    match = _DECLARED.search(str(label))
    return float(match.group(1)) if match else None


def _area_mismatches(scored: pd.DataFrame) -> list[str]:
    """Areas (一级 and 二级 labels) whose declared points differ from their items' sum."""
    found = []
    for keys in (["level1"], ["level1", "level2"]):
        for key, group in scored.groupby(keys, sort=False):
            label = str(key[-1]) if isinstance(key, tuple) else str(key)
            declared = _declared_points(label)
            if declared is not None and abs(declared - group["points"].sum()) > 1e-9:
                found.append(f"{label} declares {declared:g} but its items sum to {group['points'].sum():g}")
    return found


def scheme_as_draft(tables: Mapping[str, pd.DataFrame], scheme_id: str, max_lead_share: float = 0.4) -> Draft:
    """One source scheme in the shape of a draft, so :func:`check_draft` can
    be run on it: one item per scored node (the lowest node carrying points,
    :func:`qcompare.weights.scored_anchors`), its 一级 and 二级 ancestors as
    labels with their declared points, its rule (a judgment rule where the
    source has no scoring text), and as lead the body with the strongest
    claim (牵头, 负责 or 考核) on the node, below it or, failing both, above
    it, as the source names it.

    Raises ``ValueError`` for an unknown scheme or one without points.
    """
    schemes = tables["schemes"].set_index("scheme_id")
    if scheme_id not in schemes.index:
        raise ValueError(f"no scheme {scheme_id!r}; choose one of {', '.join(sorted(schemes.index))}")
    scheme = schemes.loc[scheme_id]
    if pd.isna(scheme["total_points"]):
        raise ValueError(f"scheme {scheme_id!r} scores nothing (no total points); the checks need a scored scheme")
    nodes = tables["nodes"][tables["nodes"]["scheme_id"] == scheme_id]
    by_id = nodes.set_index("node_id")
    anchors = sorted({a for a in scored_anchors(nodes).values() if a is not None}, key=by_id["position"].get)
    rules = tables["rules"].set_index("node_id")
    # one item per bonus or veto clause: the node with its rule text (else the topmost) of each subtree
    special = nodes[nodes["is_bonus"] | nodes["is_veto"]]
    for node_id in sorted(special["node_id"], key=lambda n: (n not in rules.index, by_id.at[n, "level"], n)):
        related = {node_id, *_ancestors(by_id, node_id)}
        if not any(a == node_id or node_id in _ancestors(by_id, a) or a in related for a in anchors):
            anchors.append(node_id)
    lever = tables["categories"].query("facet == 'lever'").set_index("node_id")["category"]
    assignments = tables["assignments"][tables["assignments"]["scheme_id"] == scheme_id]
    children: dict[str, list[str]] = {}
    for row in _rows(nodes):
        if isinstance(row.parent_id, str):
            children.setdefault(row.parent_id, []).append(row.node_id)
    rows = []
    for node_id in anchors:
        node = by_id.loc[node_id]
        ancestors = _ancestors(by_id, node_id)  # nearest first
        below = [node_id, *_descendants(children, node_id)]
        claims: Counter[str] = Counter()
        named: list[str] = []
        for scope in (below, ancestors):
            for a in _rows(assignments[assignments["node_id"].isin(scope) & assignments["department_name"].notna()]):
                claims[a.department_name] += _LEAD_ROLES.get(a.role, 0)
                named.append(a.department_name)
            if any(claims.values()):
                break
        ranked = [b for b, w in sorted(claims.items(), key=lambda kv: (-kv[1], kv[0])) if w > 0]
        path = [*reversed(ancestors), node_id]
        labels = [_area_label(by_id.loc[a]) for a in path[:-1]]
        points = 0 if pd.isna(node["points"]) else float(node["points"])
        has_rule = node_id in rules.index
        rows.append(
            {
                "concept_id": "",
                "lever": str(lever.get(node_id, "")),
                "domain": "",
                "title": str(node["title"] or ""),
                "checkpoint": str(node["text"] or ""),
                "points": int(points) if points == int(points) else points,
                "rule_text": str(rules.at[node_id, "rule_text"]) if has_rule else "",
                "machine": str(rules.at[node_id, "machine"])
                if has_rule
                else json.dumps({"type": "judgment", "max": points}, sort_keys=True),
                "lead": ranked[0] if ranked else "",
                "support": "、".join(dict.fromkeys(n for n in named if n not in ranked[:1])),
                "sources": node_id,
                "rule_source": node_id if has_rule else "",
                "claims": json.dumps(dict(claims), ensure_ascii=False, sort_keys=True),
                "is_bonus": bool(node["is_bonus"]),
                "is_veto": bool(node["is_veto"]),
                "level1": labels[0] if labels else str(node["title"] or ""),
                "level2": labels[1] if len(labels) > 1 else "",
                "level3": f"{node_id.split(':', 1)[1]} {node['title'] or ''}".strip(),
            }
        )
    bonus_cap = 0 if pd.isna(scheme["bonus_cap"]) else int(scheme["bonus_cap"])
    parameters = DraftParameters(
        county=str(scheme["city"]) + ("" if pd.isna(scheme["district"]) else str(scheme["district"])),
        total_points=int(scheme["total_points"]),
        max_lead_share=max_lead_share,
        bonus_cap=bonus_cap,
    )
    return Draft(parameters, pd.DataFrame(rows))


def check_schemes(tables: Mapping[str, pd.DataFrame], max_lead_share: float = 0.4) -> pd.DataFrame:
    """:func:`check_draft` on every scheme that has points: one row per scheme
    and check (``scheme_id``, ``check``, ``passed``, ``message``)."""
    schemes = tables["schemes"]
    scored = sorted(schemes.loc[schemes["total_points"].notna(), "scheme_id"])
    rows = [
        {"scheme_id": scheme_id, "check": result.name, "passed": result.passed, "message": result.message}
        for scheme_id in scored
        for result in check_draft(scheme_as_draft(tables, scheme_id, max_lead_share))
    ]
    return pd.DataFrame(rows, columns=["scheme_id", "check", "passed", "message"])


def _ancestors(by_id: pd.DataFrame, node_id: str) -> list[str]:
    found = []
    parent = by_id.at[node_id, "parent_id"]
    while isinstance(parent, str):
        found.append(parent)
        parent = by_id.at[parent, "parent_id"]
    return found


def _descendants(children: Mapping[str, list[str]], node_id: str) -> list[str]:
    found = []
    stack = list(children.get(node_id, []))
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def _area_label(node: pd.Series) -> str:
    title = str(node["title"] or "")
    return title if pd.isna(node["points"]) else f"{title}({float(node['points']):g}分)"


def _bonus_available(machine: Mapping[str, Any]) -> float | None:
    """The most a bonus clause can add: its cap (不超过N分), else the fixed
    amounts it lists; ``None`` when it awards per occurrence without a cap.

    >>> _bonus_available({"type": "bonus", "bonus_cap": 10.0, "max": None})
    10.0
    >>> _bonus_available({"type": "bonus", "max": 5.0, "bonus": [{"points": 2.0, "text": "每项加2分"}]}) is None
    True
    """
    if machine.get("bonus_cap") is not None:
        return float(machine["bonus_cap"])
    if machine.get("bonus"):
        return None
    stated = stated_maximum(machine)
    return stated if stated is not None else (None if machine.get("max") is None else float(machine["max"]))


def check_draft(draft: Draft) -> list[CheckResult]:
    """Every check, passed or not; a failed check says what to change."""
    p = draft.parameters
    items = draft.items
    scored = items[~items["is_bonus"] & ~items["is_veto"]]
    results = []
    total = int(scored["points"].sum())
    bad_points = scored[(scored["points"] <= 0) | (scored["points"] != scored["points"].round())]
    ok = total == p.total_points and bad_points.empty
    results.append(
        CheckResult(
            "points add up",
            ok,
            "the items sum to the total"
            if ok
            else f"the items sum to {total}, not {p.total_points}; "
            + (f"items {', '.join(bad_points['level3'])} need whole positive points; " if len(bad_points) else "")
            + "adjust 分值 so that they add up",
        )
    )
    mismatches = _area_mismatches(scored)
    results.append(
        CheckResult(
            "areas add up",
            not mismatches,
            "every 一级 and 二级指标 declares the sum of its items' points"
            if not mismatches
            else "; ".join(mismatches) + ": make the label's (N分) and its items' 分值 agree",
        )
    )
    missing_lead = scored[scored["lead"].fillna("").str.strip() == ""]
    results.append(
        CheckResult(
            "every item has a lead",
            missing_lead.empty,
            "every item names a 牵头单位"
            if missing_lead.empty
            else f"name a 牵头单位 for {', '.join(missing_lead['level3'])}",
        )
    )
    shares = _lead_shares(items)
    heavy = shares[shares > p.max_lead_share + 1e-9]
    results.append(
        CheckResult(
            "load cap",
            heavy.empty,
            f"no body leads more than {p.max_lead_share:.0%} of the points"
            if heavy.empty
            else "; ".join(
                f"{body} leads {share:.0%} of the points (cap {p.max_lead_share:.0%}): "
                "pass the lead of some of its items to their 配合单位"
                for body, share in heavy.items()
            ),
        )
    )
    vetoes, bonuses = items[items["is_veto"]], items[items["is_bonus"]]
    available = [_bonus_available(json.loads(m)) for m in bonuses["machine"]]
    problems = []
    if len(vetoes) != 1:
        problems.append("add a 否决项" if vetoes.empty else f"merge the {len(vetoes)} 否决项 into one")
    if bonuses.empty:
        problems.append("add a 加分项")
    elif None in available or not 0 < sum(a for a in available if a is not None) <= 0.1 * p.total_points:
        problems.append(f"cap the 加分项 (不超过N分) at {0.1 * p.total_points:g} points or less")
    results.append(
        CheckResult(
            "veto and bonus",
            not problems,
            "one veto clause and a bonus capped at no more than 10% of the total"
            if not problems
            else "; ".join(problems),
        )
    )
    wanted = set(p.levers) if p.levers is not None else set(scored["lever"])
    covered = set(scored["lever"])
    missing = sorted(wanted - covered)
    results.append(
        CheckResult(
            "lever coverage",
            not missing,
            "every lever asked for has an item"
            if not missing
            else f"no item for {', '.join(LEVER_ZH.get(m, m) for m in missing)}: add one or drop the lever",
        )
    )
    broken = []
    for row in _rows(scored):
        try:
            kept = points_kept(row.machine)
        except (ValueError, KeyError, TypeError, json.JSONDecodeError):
            broken.append(row.level3)
            continue
        stated = stated_maximum(row.machine)
        if abs(kept - row.points) > 1e-6 or (stated is not None and abs(stated - row.points) > 1e-6):
            broken.append(row.level3)
    results.append(
        CheckResult(
            "rules run",
            not broken,
            "every rule runs and gives its item's points when fully attained, no more and no less"
            if not broken
            else f"the rules of {', '.join(broken)} give more or less than their 分值 when fully attained: "
            "fix 评分标准 or 分值",
        )
    )
    return results


# --- Excel and Word ------------------------------------------------------------


def _export_rows(draft: Draft) -> list[list[Any]]:
    rows = []
    for row in _rows(draft.items):
        rows.append(
            [
                row.level1,
                row.level2,
                row.level3,
                row.checkpoint,
                row.points if not (row.is_bonus or row.is_veto) else "",
                row.rule_text,
                row.lead,
                row.support,
                row.sources,
            ]
        )
    return rows


def _safe(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def export_xlsx(draft: Draft, path: Path) -> Path:
    """Write the draft as a workbook in the familiar layout, with merged
    hierarchy cells, widths, wrapping and print settings; a hidden sheet keeps
    what a re-import needs."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    ws = wb.active
    ws.title = "考核指标"
    title = f"{draft.parameters.county}质量工作考核指标体系(草案)"
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(XLSX_COLUMNS))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(XLSX_COLUMNS)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    rows = _export_rows(draft)
    for row in rows:
        ws.append([_safe(v) for v in row])
    thin = Side(style="thin")
    for excel_row in ws.iter_rows(min_row=2, max_row=ws.max_row, max_col=len(XLSX_COLUMNS)):
        for cell in excel_row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            if cell.row > 2:
                cell.alignment = Alignment(vertical="center", wrap_text=True)
    for column in (1, 2):  # merge runs of the same 一级 / 二级 label
        start = 3
        for r in range(4, ws.max_row + 2):
            current = ws.cell(r, column).value if r <= ws.max_row else None
            previous = ws.cell(start, column).value
            same_parent = column == 1 or ws.cell(r, 1).value == ws.cell(start, 1).value
            if r > ws.max_row or current != previous or not same_parent:
                if r - 1 > start:
                    ws.merge_cells(start_row=start, start_column=column, end_row=r - 1, end_column=column)
                start = r
    widths = [14, 16, 26, 40, 6, 48, 16, 22, 24]
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(2, index).column_letter].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "2:2"
    data = wb.create_sheet("_qcompare")
    data.sheet_state = "hidden"
    data.append(["parameters", json.dumps(draft.parameters.__dict__, ensure_ascii=False, default=list)])
    columns = list(draft.items.columns)
    data.append(columns)
    for row in _rows(draft.items):
        data.append([_safe(json.dumps(v, ensure_ascii=False)) if not isinstance(v, str) else _safe(v) for v in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _unsafe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("'") and value[1:2] in ("=", "+", "-", "@"):
        return value[1:]
    return value


def _whole_points(value: Any, sheet: str, row: int) -> int:
    """A 分值 cell as whole points (empty is 0, which the checks then flag).

    >>> _whole_points("6", "考核指标", 3), _whole_points(None, "考核指标", 3)
    (6, 0)
    """
    if value is None or str(value).strip() == "":
        return 0
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"sheet {sheet}, row {row}: 分值 {value!r} is not a number; enter whole points") from None
    if number != int(number):
        raise ValueError(
            f"sheet {sheet}, row {row}: 分值 {value!r} is not whole points; the draft scores in whole points"
        )
    return int(number)


def read_xlsx(path: Path) -> Draft:
    """Read a draft back from a workbook written by :func:`export_xlsx`
    (including one a designer edited: the 一级 and 二级 labels, 分值, 评分标准,
    牵头单位 and 配合单位 on the visible sheet win over the hidden copy, and a
    rewritten 评分标准 is parsed again)."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    if "_qcompare" not in wb.sheetnames:
        raise ValueError(f"{path}: not a qcompare draft (no _qcompare sheet); export one with 'qcompare draft'")
    data = wb["_qcompare"]
    rows = list(data.iter_rows(values_only=True))
    parameters = DraftParameters(**json.loads(rows[0][1]))
    columns = list(rows[1])
    records = []
    for values in rows[2:]:
        record: dict[Any, Any] = {}
        for column, value in zip(columns, values, strict=True):
            value = _unsafe(value)
            if column in ("points",):
                record[column] = int(json.loads(value)) if value not in (None, "") else 0
            elif column in ("is_bonus", "is_veto"):
                record[column] = bool(json.loads(value))
            else:
                record[column] = "" if value is None else value
        records.append(record)
    items = pd.DataFrame(records, columns=columns)
    visible = wb["考核指标"]
    labels = {"level1": "", "level2": ""}  # merged cells keep their value in the first row only
    for offset, excel_row in enumerate(visible.iter_rows(min_row=3, max_row=2 + len(items), values_only=True)):
        shown = dict(zip(XLSX_COLUMNS, excel_row, strict=False))
        special = bool(items.at[offset, "is_bonus"] or items.at[offset, "is_veto"])
        for column, key in (("level1", "一级指标"), ("level2", "二级指标")):
            if shown.get(key) is not None:
                labels[column] = str(_unsafe(shown[key]))
                if column == "level1":
                    labels["level2"] = ""
            items.at[offset, column] = labels[column]
        # the visible sheet wins, and a cleared cell is a cleared value
        if not special:
            items.at[offset, "points"] = _whole_points(shown["分值"], visible.title, offset + 3)
        for column, key in (("lead", "牵头单位"), ("support", "配合单位")):
            items.at[offset, column] = "" if shown.get(key) is None else str(_unsafe(shown[key]))
        text = "" if shown.get("评分标准") is None else str(_unsafe(shown["评分标准"]))
        if text != items.at[offset, "rule_text"]:
            # the designer rewrote the rule: read it again, so the checks run what the sheet says
            items.at[offset, "rule_text"] = text
            is_veto = bool(items.at[offset, "is_veto"])
            maximum = None if special else float(str(items.at[offset, "points"]))
            machine = parse_rule(text, maximum, bool(items.at[offset, "is_bonus"]), is_veto)
            items.at[offset, "machine"] = json.dumps(machine, ensure_ascii=False, sort_keys=True)
    return Draft(parameters, items)


def export_docx(draft: Draft, path: Path) -> Path:
    """Write the draft as a Word table a designer can paste into a 通知."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    document.add_heading(f"{draft.parameters.county}质量工作考核指标体系(草案)", level=1)
    columns = XLSX_COLUMNS[:-1]
    rows = _export_rows(draft)
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, columns, strict=True):
        cell.text = name
    for row in rows:  # table.cell(r, c) walks the whole grid on every call; a new row's cells do not
        for cell, value in zip(table.add_row().cells, row[: len(columns)], strict=True):
            cell.text = "" if value is None else str(value)
    for column in (0, 1):  # merge runs of the same label vertically
        start = 1
        for r in range(2, len(rows) + 2):
            same = r <= len(rows) and rows[r - 1][column] == rows[start - 1][column]
            if not same:
                if r - 1 > start:
                    label = rows[start - 1][column]
                    merged = table.cell(start, column).merge(table.cell(r - 1, column))
                    merged.text = label
                start = r
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


_LEVELS = tuple(step / 20 for step in range(20, -1, -1))


def lead_shares(draft: Draft) -> pd.Series:
    """Share of the draft's base points each body leads, largest first."""
    return _lead_shares(draft.items).sort_values(ascending=False)


def score_curve(draft: Draft, levels: Sequence[float] = _LEVELS) -> pd.DataFrame:
    """The draft scored like the schemes in :func:`qcompare.strictness.simulate`."""
    scored = draft.items[~draft.items["is_bonus"] & ~draft.items["is_veto"]]
    total = scored["points"].sum()
    rows = []
    for level in levels:
        kept = sum(points_at_level(json.loads(machine), float(level)) for machine in scored["machine"])
        rows.append(
            {
                "scheme_id": f"draft ({draft.parameters.county})",
                "level": round(float(level), 4),
                "score_share": kept / total,
            }
        )
    return pd.DataFrame(rows)
