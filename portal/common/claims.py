"""One way to take a row that several workers or requests may want at the same time: a guarded UPDATE.

``claim_row(Model, conditions…, column=value…)`` writes the values only where the row still satisfies the conditions
(pending, not sent yet, still held by this token…) and says whether it did. The database serialises the writers:
of two callers, exactly one sees its UPDATE change the row, the other finds the condition no longer true — no
read-then-write race, no lock held by the application. The session's copies of the row are not refreshed
(``synchronize_session=False``): a caller that keeps using the object refreshes what it needs.
"""

from __future__ import annotations

from sqlalchemy import update

from portal.extensions import db


def claim_row(model: type, *conditions, **values) -> bool:
    """Set ``values`` on the one row of ``model`` that matches ``conditions``, if it still does; True when taken."""
    result = db.session.execute(
        update(model).where(*conditions).values(**values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
