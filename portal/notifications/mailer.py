"""Rendering an outbox row into a MIME message and sending it over SMTP."""

from __future__ import annotations

import smtplib
import ssl
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app, render_template
from jinja2 import TemplateError

from portal.notifications.models import OutboxEmail


class PermanentEmailError(Exception):
    """Retrying will not help: bad address, refused recipient, template error."""


class TransientEmailError(Exception):
    """The server or the network failed: retry later."""


def _address(display_name: str | None, addr_spec: str) -> Address:
    local, at, domain = addr_spec.rpartition("@")
    if not at or not local or not domain or "@" in local or "." not in domain:
        raise PermanentEmailError(f"Adresse électronique invalide : {addr_spec!r}")
    try:
        return Address(display_name=display_name or "", addr_spec=addr_spec)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise PermanentEmailError(f"Adresse électronique invalide : {addr_spec!r}") from exc


def build_message(email: OutboxEmail) -> EmailMessage:
    """Render ``templates/emails/<template>.{subject.txt,txt,html}`` into a multipart message."""
    context = dict(email.context or {})
    try:
        subject = render_template(f"emails/{email.template}.subject.txt", **context).strip()
        text = render_template(f"emails/{email.template}.txt", **context)
        html = render_template(f"emails/{email.template}.html", **context)
    except TemplateError as exc:
        raise PermanentEmailError(f"Erreur dans le gabarit « {email.template} » : {exc}") from exc

    if "@" not in email.to_address or any(c in email.to_address for c in "\r\n <>"):
        raise PermanentEmailError(f"Adresse électronique invalide : {email.to_address!r}")
    message = EmailMessage()
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    message["From"] = sender
    message["To"] = _address(email.to_name, email.to_address)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = email.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype or "octet-stream", filename=attachment.filename
        )
    return message


def send(message: EmailMessage) -> None:
    config = current_app.config
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT_SECONDS"]
    try:
        if config["MAIL_USE_SSL"]:
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                client.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                client.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _message in exc.recipients.values()]
        text = f"Destinataire refusé par le serveur : {exc.recipients}"
        if codes and all(400 <= code < 500 for code in codes):
            # Greylisting and full mailboxes answer 4xx: temporary by definition, retry later.
            raise TransientEmailError(text) from exc
        raise PermanentEmailError(text) from exc
    except smtplib.SMTPResponseException as exc:
        text = f"Le serveur SMTP a répondu {exc.smtp_code} : {exc.smtp_error!r}"
        if 400 <= exc.smtp_code < 500:
            raise TransientEmailError(text) from exc
        raise PermanentEmailError(text) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientEmailError(f"Serveur SMTP injoignable ({host}:{port}) : {exc}") from exc
