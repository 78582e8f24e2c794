"""Files written on disk as part of a database transaction: kept if it commits, removed if it rolls back.

An uploaded document is written before its row is committed; should the transaction fail, the file would stay
behind without any row pointing to it. ``written_in_transaction(path)`` records it in the session, and the
listeners below forget it on commit or delete it on the outermost rollback.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

_KEY = "files_written"


def written_in_transaction(path: Path | str) -> None:
    db.session.info.setdefault(_KEY, []).append(str(path))


@event.listens_for(Session, "after_commit")
def _keep_files(session):
    session.info.pop(_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _remove_files(session, previous_transaction):
    if previous_transaction.parent is None:
        for path in session.info.pop(_KEY, None) or []:
            Path(path).unlink(missing_ok=True)
