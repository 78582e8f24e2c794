"""The work queue's daily digest for CDG agents. Thin and idempotent (one email per agent and day)."""

from __future__ import annotations

from celery import shared_task

from portal.extensions import db
from portal.workqueue import digest

DIGEST_TASK = "workqueue.digest"


@shared_task(name=DIGEST_TASK, ignore_result=True)
def send_digest() -> int:
    queued = digest.send_digests()
    db.session.commit()
    return queued
