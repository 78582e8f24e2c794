"""PDF documents rendered from Jinja templates with WeasyPrint (conventions, statements, attestations)."""

from __future__ import annotations

from flask import current_app, render_template


class DocumentError(Exception):
    """A document could not be produced; the message says why, in French."""


def render_pdf(template: str, **context) -> bytes:
    from weasyprint import HTML  # imported lazily: heavy, and only workers need it

    try:
        html = render_template(template, **context)
        return HTML(string=html, base_url=current_app.root_path).write_pdf()
    except Exception as exc:  # noqa: BLE001 - WeasyPrint and Jinja raise many kinds of errors
        raise DocumentError(f"Le document PDF « {template} » n'a pas pu être produit : {exc}") from exc
