"""Durable state between nightly runs: archives, pairs, persons, decisions ever emitted.

    db.py            the state file (DuckDB, attached as ``st``): its tables, transactions
    lock.py          one process at a time (flock on ``<state>.lock``)
    signatures.py    when stored features or pairs are stale (a full rebuild is forced)
    changes.py       new / changed / vanished archives, by archive_id and raw-field fingerprint
    scoring.py       Splink predict_within / predict_between for what changed; term
                     frequencies from the whole population; refresh of stored pairs
    evidence.py      every scored pair stored once; the keep rule for clustering
    affected.py      which archives' persons can have changed tonight (re-clustered)
    person_ids.py    stable person IDs (pure): merges keep the older ID, splits the larger part
    persons.py       the person index: tonight's clusters in, stable IDs out
    decision_log.py  what a run emits (pure): new decisions and corrections, stable decision_id
    unmerge.py       ``linkage unmerge``: separate an archive (or dissolve a person) for good
    publish.py       outputs written before the state commits, published after
    commit.py        everything a night changes in the state, in one transaction
    nightly.py       the stateful run: sequences the above

Errors are :class:`linkage.errors.StateError` (or another LinkageError): the CLI prints them
and exits 1.  Nothing here logs names, ID numbers, phones or addresses.
"""
