"""Bulk onboarding of secretaries: a dry run of a CSV/XLSX file, then, once staff confirm, a job that applies it.

The dry run (:func:`preview`) reads the file and decides every line against the portal (two queries), writing
nothing. Confirming (:func:`start_import`) checks that the import would still do what the dry run showed, then
records a job (:class:`AccountImport`) holding the lines to apply; the lines shown in error are recorded as such
and skipped. The job runs in a Celery worker (``portal.accounts.tasks.run_account_import``).

Transactions: **one line, one transaction.** Each line is decided again against the accounts as they are when it
runs, applied (account created and invited through the outbox, or collectivités added, each audited) and
committed together with its result and the job's progress — so the progress bar is true, an invitation leaves as
soon as its account exists, and a line is never half-written. A file that cannot be read, or a confirmation
that no longer matches its dry run, writes nothing at all. Lines with errors are skipped only after staff saw
them in the dry run and confirmed. If the worker dies, the job is taken up again (beat's sweep) from the first
line without a result: every line has at most one result (unique per job and line), written by the one worker
holding the job's claim, and a line already applied is decided *unchanged* when run again — running a job twice,
or the same file twice, creates nothing and sends nothing twice.

Services only flush; the task, the view or the command commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from flask import current_app
from sqlalchemy import and_, exists, or_, select

from portal.accounts import import_rules as rules
from portal.accounts import services as accounts
from portal.accounts.import_models import AccountImport, AccountImportResult, ImportStatus
from portal.accounts.import_rules import AccountRef, CollectiviteRef, Decision, ImportLine, Outcome
from portal.accounts.models import User, secretary_collectivite
from portal.audit import services as audit
from portal.common.claims import claim_row
from portal.common.clock import utcnow
from portal.common.errors import DomainError
from portal.common.files import clean_upload_name
from portal.common.jobs import enqueue_after_commit
from portal.extensions import db
from portal.registry.kinds import Kind
from portal.registry.models import Collectivite

RUN_TASK = "accounts.run_account_import"
_CHUNK = 500  # codes or addresses per IN (...) list


class PlanChanged(DomainError):
    """The import would no longer do what the dry run showed: the new dry run is to be shown instead."""

    def __init__(self, preview: Preview):
        super().__init__(
            "Le fichier, le registre ou les comptes ont changé depuis la simulation : vérifiez la nouvelle "
            "simulation ci-dessous avant de confirmer. Rien n'a été enregistré."
        )
        self.preview = preview


@dataclass
class Preview:
    decisions: list[Decision]
    digest: str

    @property
    def counts(self) -> rules.Counts:
        return rules.Counts.of(d.outcome for d in self.decisions)

    def summary(self) -> str:
        return rules.summary_text(self.counts, planned=True)


def max_upload_bytes() -> int:
    return current_app.config["IMPORT_MAX_UPLOAD_MB"] * 1024 * 1024


def read_upload(stream: BinaryIO) -> rules.Table:
    """The table of an uploaded file, read at most one byte past the limit (then refused)."""
    limit = max_upload_bytes()
    return rules.read_table(stream.read(limit + 1), max_bytes=limit)


def _chunks(values: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def find_collectivites(codes: Iterable[str]) -> dict[str, CollectiviteRef]:
    """``{code: collectivité}`` for INSEE codes (the commune first, when others share the code) and SIRENs."""
    codes = set(codes)
    sirens = sorted(c for c in codes if len(c) == 9)
    insees = sorted(codes - set(sirens))
    found: dict[str, CollectiviteRef] = {}
    columns = (Collectivite.id, Collectivite.name, Collectivite.insee_code, Collectivite.siren)
    columns += (Collectivite.departement_code, Collectivite.kind)
    for chunk in _chunks(sirens):
        for row in db.session.execute(select(*columns).where(Collectivite.siren.in_(chunk))):
            found[row.siren] = CollectiviteRef(row.id, row.name, row.insee_code or row.siren, row.departement_code)
    for chunk in _chunks(insees):
        statement = (
            select(*columns)
            .where(Collectivite.insee_code.in_(chunk))
            .order_by(Collectivite.kind != Kind.COMMUNE, Collectivite.id)
        )
        for row in db.session.execute(statement):
            found.setdefault(row.insee_code, CollectiviteRef(row.id, row.name, row.insee_code, row.departement_code))
    return found


def find_accounts(emails: Iterable[str]) -> dict[str, AccountRef]:
    """``{email: account}`` with the collectivités each is attached to."""
    accounts_by_email: dict[str, AccountRef] = {}
    for chunk in _chunks(sorted(set(emails))):
        users = db.session.execute(select(User.id, User.email, User.role, User.active).where(User.email.in_(chunk)))
        users = list(users)
        attached: dict[int, set[int]] = {}
        links = select(secretary_collectivite.c.user_id, secretary_collectivite.c.collectivite_id).where(
            secretary_collectivite.c.user_id.in_([u.id for u in users])
        )
        for user_id, collectivite_id in db.session.execute(links):
            attached.setdefault(user_id, set()).add(collectivite_id)
        for user in users:
            accounts_by_email[user.email] = AccountRef(
                user.id, user.role, user.active, frozenset(attached.get(user.id, ()))
            )
    return accounts_by_email


def preview(table: rules.Table, departements: list[str]) -> Preview:
    """What importing ``table`` would do, line by line. Reads only; raises ``ImportFileError`` for a bad file."""
    items = rules.parse_lines(table)
    lines = [item for item in items if isinstance(item, ImportLine)]
    found = find_collectivites(code for line in lines for code in line.codes)
    known = find_accounts(line.email for line in lines)
    decisions = [rules.decide(item, found, known.get(item.email), departements) for item in items]
    return Preview(decisions, rules.plan_digest(decisions))


def new_upload_token() -> str:
    return secrets.token_urlsafe(24)


def start_import(
    table: rules.Table,
    *,
    filename: str,
    upload_token: str,
    expected_digest: str | None,
    departements: list[str],
    actor: User | None,
    publish: bool = True,
) -> AccountImport:
    """Record the job of a confirmed dry run and publish it after commit.

    Raises :class:`PlanChanged` (nothing written) when the import would now differ from the dry run the user
    confirmed (``expected_digest``; None from the command line, which shows the plan just before). The same
    dry run confirmed twice gives the same job. ``publish=False``: the caller runs the job itself."""
    existing = db.session.scalar(select(AccountImport).where(AccountImport.upload_token == upload_token))
    if existing is not None:
        return existing
    plan = preview(table, departements)
    if expected_digest is not None and plan.digest != expected_digest:
        raise PlanChanged(plan)
    to_apply = [d for d in plan.decisions if d.outcome != Outcome.ERROR]
    job = AccountImport(
        filename=clean_upload_name(filename) or "fichier",
        upload_token=upload_token,
        created_by_id=getattr(actor, "id", None),
        status=ImportStatus.PENDING,
        lines=[
            {"line": d.line, "email": d.email, "full_name": d.full_name, "codes": [c.code for c in d.collectivites]}
            for d in to_apply
        ],
        total=len(to_apply),
        done=0,
    )
    db.session.add(job)
    for decision in plan.decisions:
        if decision.outcome == Outcome.ERROR:
            job.results.append(_result(decision))
    db.session.flush()
    counts = plan.counts
    audit.record(
        "accounts.import_start",
        f"Import de secrétaires « {job.filename} » confirmé : {plan.summary()}",
        actor=actor,
        obj=job,
        details={
            "created": counts.created,
            "added": counts.added,
            "unchanged": counts.unchanged,
            "errors": counts.errors,
        },
    )
    if publish:
        enqueue_after_commit(RUN_TASK, job.id)
    return job


def _result(decision: Decision, user_id: int | None = None) -> AccountImportResult:
    return AccountImportResult(
        line=decision.line,
        outcome=decision.outcome,
        email=decision.email[:254],
        full_name=decision.full_name[:200],
        detail=decision.detail,
        user_id=user_id,
    )


# The job ----------------------------------------------------------------------------------------------------------


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])


def claim(import_id: int) -> str | None:
    """Take the job (pending, or running with a heartbeat older than the lease: its worker died). Returns the
    claim token, or None if the job is finished or another worker holds it. One guarded UPDATE: of two workers,
    one wins."""
    now = utcnow()
    token = secrets.token_urlsafe(24)
    taken = claim_row(
        AccountImport,
        AccountImport.id == import_id,
        or_(
            AccountImport.status == ImportStatus.PENDING,
            and_(AccountImport.status == ImportStatus.RUNNING, AccountImport.heartbeat_at < now - _lease()),
        ),
        status=ImportStatus.RUNNING,
        claim_token=token,
        heartbeat_at=now,
    )
    return token if taken else None


def remaining_lines(import_id: int) -> list[dict]:
    """The lines of the job that have no result yet, in file order."""
    job = db.session.get(AccountImport, import_id)
    done = set(db.session.scalars(select(AccountImportResult.line).where(AccountImportResult.import_id == import_id)))
    return [entry for entry in job.lines if entry["line"] not in done]


def _hold(import_id: int, token: str, **values) -> bool:
    """Renew the heartbeat (and set ``values``) if the job is still this worker's; on PostgreSQL the row stays
    locked until the commit, so that another worker waits, then finds the claim gone."""
    return claim_row(
        AccountImport,
        AccountImport.id == import_id,
        AccountImport.claim_token == token,
        AccountImport.status == ImportStatus.RUNNING,
        heartbeat_at=utcnow(),
        **values,
    )


def apply_line(import_id: int, token: str, entry: dict, departements: list[str]) -> bool:
    """Apply one line of the job, decided against the accounts as they are now; record its result and the
    progress. False (the caller rolls back) if the job is no longer this worker's."""
    if not _hold(import_id, token):
        return False
    already = db.session.scalar(
        select(exists().where(AccountImportResult.import_id == import_id, AccountImportResult.line == entry["line"]))
    )
    if already:
        return True
    job = db.session.get(AccountImport, import_id)
    item = ImportLine(entry["line"], entry["email"], entry["full_name"], tuple(entry["codes"]))
    found = find_collectivites(item.codes)
    account = find_accounts([item.email]).get(item.email)
    decision = rules.decide(item, found, account, departements)
    actor = job.created_by
    user_id = account.id if account is not None else None
    if decision.outcome == Outcome.CREATED:
        try:
            user = accounts.create_user(
                email=item.email,
                role="secretary",
                full_name=item.full_name,
                collectivites=_collectivites(decision.collectivites),
                actor=actor,
            )
            user_id = user.id
        except DomainError as exc:  # raised before anything is written for this line
            decision = Decision(item.line, Outcome.ERROR, item.email, item.full_name, reason=exc.message)
    elif decision.outcome == Outcome.ADDED:
        # An import only adds: the collectivités she has are kept.
        user = db.session.get(User, account.id)
        accounts.set_collectivites(
            user, [*user.collectivites, *_collectivites(decision.added)], actor=actor, context={"import_id": job.id}
        )
    db.session.add(AccountImportResult(import_id=import_id, **_result_values(decision, user_id)))
    _hold(import_id, token, done=AccountImport.done + 1)
    db.session.flush()
    return True


def _result_values(decision: Decision, user_id: int | None) -> dict:
    result = _result(decision, user_id)
    return {k: getattr(result, k) for k in ("line", "outcome", "email", "full_name", "detail", "user_id")}


def _collectivites(refs: Iterable[CollectiviteRef]) -> list[Collectivite]:
    ids = [ref.id for ref in refs]
    by_id = {c.id: c for c in db.session.scalars(select(Collectivite).where(Collectivite.id.in_(ids)))}
    return [by_id[i] for i in ids]


def finish(import_id: int, token: str) -> bool:
    """Mark the job done and audit its outcome."""
    if not _hold(import_id, token, status=ImportStatus.DONE, finished_at=utcnow()):
        return False
    job = db.session.get(AccountImport, import_id)
    db.session.refresh(job)
    counts = result_counts(import_id)
    audit.record(
        "accounts.import_done",
        f"Import de secrétaires « {job.filename} » terminé : {rules.summary_text(counts)}",
        actor=job.created_by,
        obj=job,
        details={
            "created": counts.created,
            "added": counts.added,
            "unchanged": counts.unchanged,
            "errors": counts.errors,
        },
    )
    db.session.flush()
    return True


def fail(import_id: int, token: str, line: int, reason: str) -> bool:
    """Stop the job after an unexpected error on ``line``; the lines before it stay imported."""
    message = (
        f"L'import s'est interrompu à la ligne {line} ({reason}). Les lignes précédentes sont importées ; "
        "importez à nouveau le même fichier pour terminer : les lignes déjà faites resteront inchangées."
    )
    if not _hold(import_id, token, status=ImportStatus.FAILED, finished_at=utcnow(), error=message[:4000]):
        return False
    job = db.session.get(AccountImport, import_id)
    audit.record("accounts.import_failed", message[:500], actor=job.created_by, obj=job)
    return True


def result_counts(import_id: int) -> rules.Counts:
    outcomes = db.session.scalars(select(AccountImportResult.outcome).where(AccountImportResult.import_id == import_id))
    return rules.Counts.of(outcomes)


def stale_jobs() -> list[int]:
    """Jobs whose worker died (heartbeat older than the lease) or whose publication may be lost (pending for
    over a minute): the sweep publishes them again; the claim makes a second copy harmless."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(AccountImport.id).where(
                or_(
                    and_(
                        AccountImport.status == ImportStatus.PENDING,
                        AccountImport.created_at < now - timedelta(minutes=1),
                    ),
                    and_(AccountImport.status == ImportStatus.RUNNING, AccountImport.heartbeat_at < now - _lease()),
                )
            )
        )
    )


def recent_jobs(limit: int = 10) -> list[AccountImport]:
    return list(db.session.scalars(select(AccountImport).order_by(AccountImport.id.desc()).limit(limit)))
