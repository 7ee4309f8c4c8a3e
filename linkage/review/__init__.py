"""Human review of uncertain pairs: a durable decision store, a session, and its CLI.

    store.py     review.db: queue, append-only decisions, leases, audit log; the two calls the
                 pipeline makes (load_human_decisions, publish_queue)
    session.py   the review session as a pure state machine (keys in, screens out)
    screen.py    the terminal edge: rich rendering, single-key input
    mask.py      masked identifiers and how two hidden values relate
    stats.py     reviewer/engine agreement by score band
    commands.py  `linkage review` (click group ``review_group``)
"""

from linkage.review.store import load_human_decisions, publish_queue

__all__ = ["load_human_decisions", "publish_queue"]
