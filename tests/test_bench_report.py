"""The bench report's reading of XLA's cost analysis: which rows do less work than
jax.jit(grad), which the same (a tie by construction), which more."""
from __future__ import annotations

from bench.report import work_summary, xla_work


def _row(title, ours, theirs, n=100):
    cost = lambda flops, moved, trans=0.0: {"flops": flops, "bytes": moved,  # noqa: E731
                                            "transcendentals": trans}
    return {"title": title, "n": n,
            "results": {"matgrad_jax": {"xla_cost": cost(*ours)},
                        "jax": {"xla_cost": cost(*theirs)}}}


def test_work_ratios_read_both_programs():
    row = _row("mlp", (50.0, 300.0), (100.0, 200.0))
    assert xla_work(row, "flops") == 0.5 and xla_work(row, "bytes") == 1.5
    assert xla_work(_row("none", (0.0, 1.0), (0.0, 1.0)), "flops") == 1.0
    assert xla_work({"title": "t", "n": 1, "results": {"jax": {}}}, "flops") is None


def test_summary_counts_less_same_and_more_work():
    rows = [_row("less", (50.0, 100.0), (100.0, 100.0)),
            _row("same", (100.0, 100.0, 4.0), (100.0, 100.5, 4.0)),
            _row("more", (100.0, 130.0), (100.0, 100.0)),
            _row("more exps", (100.0, 100.0, 8.0), (100.0, 100.0, 4.0))]
    text = work_summary(rows, "jax.jit(grad)")
    assert "worst flops 1.00 (same, n = 100)" in text
    assert "worst bytes 1.30 (more, n = 100)" in text
    assert "1 of 4 rows do less work, 1 the same work" in text and ", 2 more." in text


def test_summary_is_empty_without_a_cost_analysis():
    assert work_summary([{"title": "t", "n": 1, "results": {}}], "jax.jit(grad)") == ""
