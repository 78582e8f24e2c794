"""Files written on disk as part of a database transaction: kept if it commits, removed if it rolls back.

An uploaded document is written before its row is committed; should the transaction fail, the file would stay
behind without any row pointing to it. ``written_in_transaction(path)`` records it on a channel of the
after-commit publisher (:mod:`portal.common.after_commit`), whose rollback handler deletes it.
"""

from __future__ import annotations

from pathlib import Path

from portal.common.after_commit import channel, publish_after_commit

CHANNEL = "files-written"


def _remove(paths: list[str]) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)


@channel(CHANNEL, on_rollback=_remove)
def _keep(paths: list[str]) -> None:
    """Committed: the files are the rows' now; nothing to do."""


def written_in_transaction(path: Path | str) -> None:
    publish_after_commit(CHANNEL, str(path))
