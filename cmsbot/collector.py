"""How often a cmsbot process runs Python's cyclic garbage collector.

CPython frees most objects by reference counting; the cyclic collector is there for the
objects that refer to each other in a loop. By default it looks at its youngest objects
after every 700 new ones (lists, dicts, instances), and at every live object once enough
have outlived two looks. A reading that decodes many item states makes a great many: a
past week's digest at a million events reads 3,900 states, about a million objects, and
the collector then spent 0.5 s of the digest's 2 s walking every live object, in four
full collections, while finding almost nothing to free (cmsbot's values refer to each
other in trees, not loops).

So `tune()` makes the youngest look wait for `YOUNGEST` new objects. The loops that are
made are still freed, a little later; a process holds at most that many more objects
meanwhile. It is a setting of the process, made once by the composition root
(`cmsbot.bootstrap.bootstrap`), and it changes no answer. docs/performance.md has what it
saves.
"""

from __future__ import annotations

import gc

YOUNGEST = 50_000  # new objects between two looks at the youngest (CPython's default: 700)


def tune() -> None:
    """Collect the youngest objects every `YOUNGEST` new ones; the older generations'
    thresholds are left as they are."""
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST, middle, oldest)
