"""A writer process for the concurrency tests: records N events, prints each acknowledged."""

from __future__ import annotations

import sys

from cmsbot.app.auth import LOCAL_OPERATOR
from cmsbot.app.recording import ConcurrentWriteError
from cmsbot.bootstrap import bootstrap
from cmsbot.settings import Database, Settings
from domain.provenance import Source


def main() -> None:
    url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    container = bootstrap(Settings(database=Database(url)))
    for number in range(count):
        summary = f"{name}-{number}"
        try:
            container.recorder.record(LOCAL_OPERATOR, key="unep-mts", what="progress noted",
                                      fields={"summary": summary}, occurred="2016",
                                      source=Source("TEST/W", name))
        except ConcurrentWriteError:
            print(f"refused:{summary}", flush=True)  # told the user: not recorded
            continue
        print(summary, flush=True)  # acknowledged: it is in the store
    container.close()


if __name__ == "__main__":
    main()
