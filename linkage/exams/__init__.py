"""Fabricated elderly-exam data (体检数据雷同): clones, copies, left/right gaps, implausible values.

Module map (one job each, in pipeline order):

    settings.py   the [exams] config section, validated (the six indicators, window, ranges)
    values.py     text -> number parser and range/unit check, Python reference + SQL twin
    read.py       the exam table into DuckDB (linkage.ingest's reader), rejects with row/field
    residents.py  exam -> resident key (archive_id, or a linkage run's person_id)
    clones.py     4-of-6 groups by blocking on the 15 four-indicator subsets (never all pairs)
    evidence.py   how unlikely each group is by chance, from value frequencies
    copied.py     a resident's exam repeating an earlier year's exactly
    gaps.py       left/right pressure gaps
    flags.py      every finding in one table (exam_flags.csv)
    summary.py    counts by county, township, village, institution (exam_summary.json)
    write.py      the three output files, atomically
    run.py        run_exams(): the steps above in order
    synth.py      synthetic exams with truth, for tests and the benchmark
"""

from linkage.exams.run import ExamRunSummary, run_exams

__all__ = ["ExamRunSummary", "run_exams"]
