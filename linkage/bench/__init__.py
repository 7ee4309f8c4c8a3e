"""Benchmark: synthetic populations with truth, the engine beside its alternatives.

    runner     run_benchmark(): generate/reuse populations, run each system in a worker
               process, score, write results.json and RESULTS.md
    worker     the child process: one generation or one system run, facts only
    baselines  id_only (group by valid ID) and splink_plain (Splink as documented)
    metrics    pairwise, B-cubed, per-tag recall, hard negatives, review, target county
    report     machine facts, scaling summary, Markdown tables
"""

from linkage.bench.runner import DEFAULT_TIME_LIMITS, SYSTEMS, BenchError, run_benchmark

__all__ = ["BenchError", "DEFAULT_TIME_LIMITS", "SYSTEMS", "run_benchmark"]
