"""Process-level tuning applied once a server process has started."""

from __future__ import annotations

import gc

# A request allocates thousands of short-lived objects (rows, views, GraphQL results). With
# the default gen-0 threshold of 700 the collector ran several times per request and swept
# the whole startup heap every few requests: ~40% of CPU on the GraphQL roadmap page.
GEN0_THRESHOLD = 20_000


def tune_gc() -> None:
    """Freeze what startup allocated (never garbage) and collect young objects less often."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
