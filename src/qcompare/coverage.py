"""Which aspects of quality governance each scheme covers, and how heavily.

All counts are over the crosswalk's *units* (a scheme's criteria: see
:mod:`qcompare.crosswalk`), labelled by the ontology; a unit's points are
its own declared or recovered points, or the sum of its leaves' effective
points.

* :func:`coverage_matrix` — scheme × lever (or domain): number of units,
  and share of the scheme's points where it has points.  A unit with two
  domains counts in both (and its points are split between them).
* :func:`unique_concepts` / :func:`shared_concepts` — concepts found in one
  scheme only, and concepts found in several.
* :func:`overlap_matrix` — Jaccard overlap of the concepts of every two
  schemes.
* :func:`template_view` — the national demonstration-city template as
  Changzhou prints it (50 criteria with the national points and scoring
  methods) against Quzhou's version: kept, dropped, added.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from qcompare.weights import effective_points

__all__ = [
    "concept_membership",
    "coverage_matrix",
    "overlap_matrix",
    "shared_concepts",
    "template_view",
    "unique_concepts",
    "unit_table",
]


def unit_table(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per unit: scheme, title, points, concept, nature, lever, domains."""
    crosswalk = tables["crosswalk"]
    units = crosswalk[crosswalk["node_id"] == crosswalk["unit_id"]]
    nodes = tables["nodes"].set_index("node_id")
    points = pd.concat([effective_points(g) for _, g in tables["nodes"].groupby("scheme_id", sort=True)])
    leaf_unit = crosswalk.set_index("node_id")["unit_id"]
    unit_points = points.groupby(leaf_unit.reindex(points.index)).sum(min_count=1)
    categories = tables["categories"]
    single = categories[categories["facet"] != "domain"].pivot(index="node_id", columns="facet", values="category")
    domains = (
        categories[categories["facet"] == "domain"].groupby("node_id")["category"].agg(lambda s: "|".join(sorted(s)))
    )
    out = pd.DataFrame(
        {
            "scheme_id": units["scheme_id"].to_numpy(),
            "node_id": units["node_id"].to_numpy(),
            "title": units["node_id"].map(nodes["title"]).to_numpy(),
            "points": units["node_id"].map(unit_points).to_numpy(),
            "is_bonus": units["node_id"].map(nodes["is_bonus"]).to_numpy(),
            "concept_id": units["concept_id"].to_numpy(),
            "nature": units["node_id"].map(single["nature"]).to_numpy(),
            "lever": units["node_id"].map(single["lever"]).to_numpy(),
            "domain": units["node_id"].map(domains).to_numpy(),
        }
    )
    return out


def coverage_matrix(tables: Mapping[str, pd.DataFrame], facet: str = "lever", value: str = "count") -> pd.DataFrame:
    """Scheme × category table of unit counts (``value="count"``) or of the
    share of each scheme's base points (``value="points"``, bonus excluded;
    schemes without points are left out)."""
    if facet not in ("lever", "domain", "nature"):
        raise ValueError(f"facet must be lever, domain or nature, not {facet!r}")
    units = unit_table(tables)
    rows = units.assign(category=units[facet].str.split("|")).explode("category")
    rows["weight"] = 1.0 / rows.groupby("node_id")["category"].transform("size")
    if value == "count":
        table = rows.pivot_table(index="scheme_id", columns="category", values="node_id", aggfunc="count", fill_value=0)
    elif value == "points":
        scored = rows[rows["points"].notna() & ~rows["is_bonus"].astype(bool)].copy()
        scored["share"] = scored["points"] * scored["weight"]
        table = scored.pivot_table(index="scheme_id", columns="category", values="share", aggfunc="sum", fill_value=0.0)
        table = table.div(table.sum(axis=1), axis=0)
    else:
        raise ValueError(f"value must be 'count' or 'points', not {value!r}")
    table.columns.name = facet
    table.index.name = "scheme_id"
    return table.sort_index()


def concept_membership(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Concept × scheme: the number of units each scheme has in the concept."""
    units = unit_table(tables)
    table = units.pivot_table(index="concept_id", columns="scheme_id", values="node_id", aggfunc="count", fill_value=0)
    table.columns.name = None
    return table.sort_index()


def _concept_labels(tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    units = unit_table(tables)
    titled = units.dropna(subset=["title"])
    return titled.groupby("concept_id")["title"].first()


def unique_concepts(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Concepts that only one scheme assesses, with the scheme and its wording."""
    membership = concept_membership(tables)
    alone = membership[(membership > 0).sum(axis=1) == 1]
    units = unit_table(tables).set_index("concept_id")
    out = units.loc[alone.index, ["scheme_id", "node_id", "title", "lever", "domain"]].reset_index()
    return out.sort_values(["scheme_id", "node_id"]).reset_index(drop=True)


def shared_concepts(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Concepts found in two or more schemes, with the schemes and a label."""
    membership = concept_membership(tables)
    shared = membership[(membership > 0).sum(axis=1) > 1]
    labels = _concept_labels(tables)
    schemes = shared.apply(lambda row: ", ".join(row.index[row > 0]), axis=1)
    out = pd.DataFrame(
        {
            "concept_id": shared.index,
            "label": [labels.get(c) for c in shared.index],
            "schemes": schemes.to_numpy(),
            "scheme_count": (shared > 0).sum(axis=1).to_numpy(),
        }
    )
    return out.sort_values(["scheme_count", "concept_id"], ascending=[False, True]).reset_index(drop=True)


def overlap_matrix(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Jaccard overlap of every two schemes' sets of concepts."""
    membership = concept_membership(tables) > 0
    schemes = list(membership.columns)
    values = {
        a: {b: float((membership[a] & membership[b]).sum() / (membership[a] | membership[b]).sum()) for b in schemes}
        for a in schemes
    }
    return pd.DataFrame(values).loc[schemes, schemes]


def template_view(
    tables: Mapping[str, pd.DataFrame],
    reference: str = "changzhou",
    other: str = "quzhou_tasks",
    also: tuple[str, ...] = ("quzhou_targets",),
) -> pd.DataFrame:
    """The 50 demonstration-city criteria as ``reference`` prints them,
    against ``other``, read from the mapping set's exact and close pairs.

    A criterion is ``kept`` when it maps to one unit of the other scheme,
    ``split`` when it maps to several, and ``dropped`` when it maps to none;
    a unit of the other scheme that maps to no criterion is ``added``.
    ``also`` lists the units of further schemes a criterion maps to (a
    criterion Quzhou moved from its task table to its target list).

    Changzhou serves as the reference because it keeps the national template
    whole: 50 numbered criteria with the national points (1,000 + 60 bonus)
    and scoring methods.  The national text itself is not among the sources.
    """
    units = unit_table(tables).set_index("node_id")
    mappings = tables["mappings"]
    strong = mappings[mappings["predicate_id"].isin(["skos:exactMatch", "skos:closeMatch"])]
    partners: dict[str, set[str]] = {}
    for a, b in zip(strong["subject_id"], strong["object_id"], strict=True):
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)

    def in_scheme(node_id: str, scheme: str) -> list[str]:
        return sorted(p for p in partners.get(node_id, set()) if p.split(":")[0] == scheme)

    reference_ids = units.index[units["scheme_id"] == reference].tolist()
    rows = []
    for node_id in reference_ids:
        matched = in_scheme(node_id, other)
        record = {
            "criterion": node_id.split(":")[1],
            f"{reference}_node": node_id,
            "title": units.at[node_id, "title"],
            "points": units.at[node_id, "points"],
            "status": "dropped" if not matched else ("kept" if len(matched) == 1 else "split"),
            f"{other}_nodes": ", ".join(matched),
        }
        for scheme in also:
            record[f"{scheme}_nodes"] = ", ".join(in_scheme(node_id, scheme))
        rows.append(record)
    for node_id in units.index[units["scheme_id"] == other]:
        if in_scheme(node_id, reference):
            continue
        record = {
            "criterion": "",
            f"{reference}_node": "",
            "title": units.at[node_id, "title"],
            "points": float("nan"),
            "status": "added",
            f"{other}_nodes": node_id,
        }
        for scheme in also:
            record[f"{scheme}_nodes"] = ""
        rows.append(record)
    return pd.DataFrame(rows)
