"""Rendering an outbox row into a MIME message and sending it over SMTP."""

from __future__ import annotations

import smtplib
import ssl
from email import charset, encoders
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr, unquote

from flask import current_app, render_template
from jinja2 import TemplateError

from portal.common.i18n import gettext as _
from portal.notifications.models import OutboxEmail

_UTF8_QP = charset.Charset("utf-8")
_UTF8_QP.body_encoding = charset.QP  # readable bodies (the default for UTF-8 is base64)


class PermanentEmailError(Exception):
    """Retrying will not help: bad address, refused recipient, template error."""


class TransientEmailError(Exception):
    """The server or the network failed: retry later."""


def _address(display_name: str | None, addr_spec: str) -> Address:
    local, at, domain = addr_spec.rpartition("@")
    if not at or not local or not domain or "@" in local or "." not in domain:
        raise PermanentEmailError(_("Adresse électronique invalide : %(address)s", address=repr(addr_spec)))
    try:
        return Address(display_name=display_name or "", addr_spec=addr_spec)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise PermanentEmailError(_("Adresse électronique invalide : %(address)s", address=repr(addr_spec))) from exc


def build_message(email: OutboxEmail) -> Message:
    """Render ``templates/emails/<template>.{subject.txt,txt,html}`` into a multipart message."""
    context = dict(email.context or {})
    try:
        subject = render_template(f"emails/{email.template}.subject.txt", **context).strip()
        text = render_template(f"emails/{email.template}.txt", **context)
        html = render_template(f"emails/{email.template}.html", **context)
    except TemplateError as exc:
        raise PermanentEmailError(
            _("Erreur dans le gabarit « %(template)s » : %(error)s", template=email.template, error=exc)
        ) from exc

    if "@" not in email.to_address or any(c in email.to_address for c in "\r\n <>"):
        raise PermanentEmailError(_("Adresse électronique invalide : %(address)s", address=repr(email.to_address)))
    address = _address(email.to_name, email.to_address)  # validates it
    # Built with the compat32 classes (email.mime): 4x cheaper than EmailMessage's header objects, same bytes
    # on the wire for the receiving server (RFC 2047 headers, UTF-8 quoted-printable bodies).
    message = alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText(text, "plain", _UTF8_QP))
    alternative.attach(MIMEText(html, "html", _UTF8_QP))
    if email.attachments:
        message = MIMEMultipart("mixed")
        message.attach(alternative)
        for attachment in email.attachments:
            part = _attachment_part(attachment.content_type)
            part.set_payload(attachment.data)
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", attachment.filename))
            message.attach(part)
    sender_name, sender_address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    message["From"] = formataddr((sender_name, sender_address), charset="utf-8")
    message["To"] = formataddr((address.display_name, address.addr_spec), charset="utf-8")
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8", header_name="Subject")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = email.message_id
    message["Auto-Submitted"] = "auto-generated"
    return message


def _attachment_part(content_type: str) -> MIMEBase:
    """A MIME part for ``type/subtype; param=value…`` (an .ics invitation carries ``method=REQUEST``)."""
    media, *raw_params = (piece.strip() for piece in content_type.split(";"))
    maintype, _, subtype = media.partition("/")
    params = dict(p.partition("=")[::2] for p in raw_params if "=" in p)
    # unquote: ``charset="UTF-8"`` must not become ``charset="\"UTF-8\""``.
    return MIMEBase(maintype, subtype or "octet-stream", **{k.strip(): unquote(v.strip()) for k, v in params.items()})


# One SMTP connection per worker process (prefork children each open their own), reused from one
# email to the next: no TCP handshake, greeting, EHLO, STARTTLS, AUTH and QUIT per email.
_connection: smtplib.SMTP | None = None


def _connect(config) -> smtplib.SMTP:
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT_SECONDS"]
    if config["MAIL_USE_SSL"]:
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            client.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            client.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    except BaseException:
        client.close()
        raise
    return client


def _still_open(client: smtplib.SMTP) -> bool:
    """The server may have closed an idle connection: NOOP first, so that a message is never sent twice."""
    try:
        return client.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _drop_connection() -> None:
    global _connection
    if _connection is not None:
        _connection.close()
        _connection = None


def send(message: Message) -> None:
    global _connection
    config = current_app.config
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    try:
        if _connection is not None and not _still_open(_connection):
            _drop_connection()
        if _connection is None:
            _connection = _connect(config)
        _connection.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:  # the connection stays usable: smtplib sent RSET
        codes = [code for code, _message in exc.recipients.values()]
        text = _("Destinataire refusé par le serveur : %(recipients)s", recipients=exc.recipients)
        if codes and all(400 <= code < 500 for code in codes):
            # Greylisting and full mailboxes answer 4xx: temporary by definition, retry later.
            raise TransientEmailError(text) from exc
        raise PermanentEmailError(text) from exc
    except smtplib.SMTPResponseException as exc:
        _drop_connection()
        text = _("Le serveur SMTP a répondu %(code)s : %(error)s", code=exc.smtp_code, error=repr(exc.smtp_error))
        if 400 <= exc.smtp_code < 500:
            raise TransientEmailError(text) from exc
        raise PermanentEmailError(text) from exc
    except (smtplib.SMTPException, OSError) as exc:
        _drop_connection()
        raise TransientEmailError(
            _("Serveur SMTP injoignable (%(host)s:%(port)s) : %(error)s", host=host, port=port, error=exc)
        ) from exc
