"""Outgoing email through Resend (the resend SDK). The one HTTP seam for mail: tests point it at a fake.

Without RESEND_API_KEY nothing is sent: callers store what they would have sent (see reports).
"""

import hashlib
import logging
from html import escape

import resend
from django.conf import settings
from resend.http_client_requests import RequestsClient

from outreach.branding import brand_for

logger = logging.getLogger("outreach.mailer")
TIMEOUT_SECONDS = 15


class MailError(Exception):
    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


def mailer_configured() -> bool:
    return bool(settings.RESEND_API_KEY)


def send_email(
    *, to: str, subject: str, html: str, text: str, idempotency_key: str, headers: dict | None = None, tags=None
) -> str:
    """Send one email; the provider's email id. The idempotency key makes a retried call deliver once."""
    if not mailer_configured():
        raise MailError("RESEND_API_KEY is not set", retryable=False)
    resend.api_key = settings.RESEND_API_KEY
    resend.api_url = settings.RESEND_API_URL
    resend.default_http_client = RequestsClient(timeout=TIMEOUT_SECONDS)
    params = {
        "from": brand_for().from_address(),  # the agency's sender name (admin → Agency brand)
        "to": [to],
        "subject": subject,
        "html": html,
        "text": text,
        "headers": headers or {},
    }
    if tags:
        params["tags"] = [{"name": k, "value": v} for k, v in tags.items()]
    try:
        response = resend.Emails.send(params, {"idempotency_key": idempotency_key[:256]})
    except resend.exceptions.ResendError as exc:
        code = int(exc.code) if str(exc.code).isdigit() else 500
        retryable = code >= 500 or code == 429 or exc.error_type in ("HttpClientError", "rate_limit_exceeded")
        logger.warning("resend refused %s (%s %s): %s", idempotency_key, code, exc.error_type, exc.message)
        raise MailError(f"Resend {code} {exc.error_type}: {exc.message}", retryable=retryable) from None
    email_id = response.get("id") if isinstance(response, dict) else None
    if not email_id:
        raise MailError(f"Resend answered without an email id: {str(response)[:200]}", retryable=True)
    return str(email_id)


class MailerEmailBackend:
    """Django's email backend for the account emails (password reset), through the one mailer above.

    Without RESEND_API_KEY the email is not sent (as every email of the embedded default) and the log says to
    whom it would have gone; a failed send is logged, never raised into the page (which says the same thing
    whether or not the address belongs to anyone)."""

    def __init__(self, fail_silently: bool = False, **kwargs):
        self.fail_silently = fail_silently

    def open(self):
        return False

    def close(self):
        return None

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            html = next((body for body, kind in getattr(message, "alternatives", []) if kind == "text/html"), "")
            for to in message.to:
                if not mailer_configured():
                    logger.info("account email %r to %s not sent: RESEND_API_KEY is not set", message.subject, to)
                    continue
                try:
                    send_email(
                        to=to,
                        subject=message.subject,
                        html=html or f"<pre>{escape(message.body)}</pre>",
                        text=message.body,
                        idempotency_key=f"account-email/{to}/{hashlib.sha256(message.body.encode()).hexdigest()}",
                    )
                    sent += 1
                except MailError as exc:
                    logger.warning("account email %r to %s not sent: %s", message.subject, to, exc)
        return sent
