"""Sending email through SMTP when ``GOVQMS_SMTP_URL`` is set (``smtp://``, ``smtp+starttls://``
or ``smtps://``, with optional ``user:password@``). Without it nothing is sent and callers show
the link to the operator instead."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from flask import current_app

log = logging.getLogger(__name__)


def mail_configured() -> bool:
    return bool(current_app.config.get("SMTP_URL"))


def message_id(*parts: object) -> str:
    """A Message-ID made of *parts* (the notifications a message carries): the same message sent again
    after an interrupted attempt has the same id, so mail systems and readers see a duplicate."""
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2].strip("> ") or "govqms.localhost"
    return f"<govqms.{'.'.join(str(part) for part in parts)}@{domain}>"


def send_mail(to: str, subject: str, body: str, *, message_id: str | None = None) -> bool:
    """Send a plain-text message; False when mail is not configured."""
    url = current_app.config.get("SMTP_URL")
    if not url:
        return False
    parts = urlsplit(url)
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    with smtp_class(parts.hostname or "localhost", port, timeout=30) as smtp:
        if parts.scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
    log.info("mail sent to %s: %s", to, subject)
    return True
