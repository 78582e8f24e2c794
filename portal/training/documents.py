"""Training documents: the attestation of attendance and the printable sign-in sheet (PDF, WeasyPrint)."""

from __future__ import annotations

from portal.common import cdg
from portal.common.clock import PARIS, paris_today
from portal.common.formatting import period_fr
from portal.common.pdf import render_pdf
from portal.training.models import Registration, TrainingSession


def attestation_pdf(registration: Registration) -> tuple[str, str, bytes]:
    session = registration.session
    data = render_pdf(
        "training/pdf/attestation.html",
        registration=registration,
        session=session,
        training=session.training,
        elu=registration.mandate.person,
        mandate=registration.mandate,
        starts=session.starts_at.astimezone(PARIS),
        ends=session.ends_at.astimezone(PARIS),
        when=period_fr(session.starts_at.astimezone(PARIS), session.ends_at.astimezone(PARIS)),
        today=paris_today(),
        cdg_name=cdg.name(),
    )
    return f"attestation-formation-{registration.id}.pdf", "application/pdf", data


def sign_in_sheet_pdf(session: TrainingSession, registrations: list[Registration]) -> bytes:
    return render_pdf(
        "training/pdf/sign_in_sheet.html",
        session=session,
        training=session.training,
        registrations=registrations,
        starts=session.starts_at.astimezone(PARIS),
        ends=session.ends_at.astimezone(PARIS),
        when=period_fr(session.starts_at.astimezone(PARIS), session.ends_at.astimezone(PARIS)),
        cdg_name=cdg.name(),
    )
