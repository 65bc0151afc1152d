"""Nothing is dropped: every non-blank raw line lands in some table."""

from __future__ import annotations

from qcompare.accounting import unaccounted_lines


def test_every_raw_line_of_all_five_files_is_accounted_for(tables):
    missing = unaccounted_lines(tables)
    assert missing.empty, missing.to_string()


def test_accounting_notices_a_dropped_record(tables):
    # drop Changzhou's orphaned scoring text for item 18 (L662) from the rules
    thinned = dict(tables)
    rules = tables["rules"]
    thinned["rules"] = rules[rules["raw_ref"] != "changzhou.txt:L662"]
    issues = tables["data_issues"]
    thinned["data_issues"] = issues[~issues["raw_ref"].str.startswith("changzhou.txt:L662")]
    missing = unaccounted_lines(thinned)
    assert missing[["file", "line"]].values.tolist() == [["changzhou.txt", 662]]
