"""The email about a disconnected account: one per disconnection period (AccountNotice's constraint), to the
client's notification recipients and the operators who are members of the client, through the one mailer."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from outreach.models import parse_email_list

from .mailer import MailError, mailer_configured, send_email
from .models import AccountNotice

logger = logging.getLogger("outreach.notices")


def notice_recipients(account) -> list[str]:
    client = account.client
    operators = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, memberships__client=client)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    seen = dict.fromkeys([*client.notification_recipient_list, *parse_email_list(",".join(operators))])
    return list(seen)


def notice_content(notice: AccountNotice) -> tuple[str, str]:
    account = notice.account
    reconnect = settings.PUBLIC_BASE_URL + reverse("admin:integrations_linkedinaccount_reconnect", args=[account.pk])
    since = timezone.localtime(notice.period_start, account.calendar_tz)
    subject = f"LinkedIn account {account.name} ({account.client}) needs to be reconnected"
    text = (
        f"The LinkedIn account of {account.name}, a sender of {account.client}, stopped working on "
        f"{since:%Y-%m-%d at %H:%M} ({account.calendar_tz}): Unipile reports {account.get_status_display()} "
        f"({account.status}).\n\n"
        "Nothing is sent from it until it is reconnected; its queued actions wait and nothing is lost.\n\n"
        f"Get a reconnect link for its owner here: {reconnect}\n"
        "When the owner has logged in again, the account resumes by itself (unless an operator paused it).\n"
    )
    return subject, text


def account_notice_send(*, notice_id: int) -> AccountNotice:
    """Send (or, without a mailer, store) the notice once; a retried task finds it done."""
    with transaction.atomic():
        notice = AccountNotice.objects.select_for_update().select_related("account__client").get(pk=notice_id)
        if notice.status in (AccountNotice.Status.SENT, AccountNotice.Status.STORED):
            return notice
        notice.subject, notice.text = notice_content(notice)
        notice.recipients = "\n".join(notice_recipients(notice.account))
        notice.save(update_fields=["subject", "text", "recipients"])
    recipients = [r for r in notice.recipients.splitlines() if r]
    if not recipients:
        status, error = AccountNotice.Status.STORED, "no recipient: the client has no notification address"
    elif not mailer_configured():
        status, error = AccountNotice.Status.STORED, ""
    else:
        status, error = AccountNotice.Status.SENT, ""
        html = "".join(f"<p>{line}</p>" for line in notice.text.split("\n\n"))
        for recipient in recipients:
            try:
                send_email(
                    to=recipient,
                    subject=notice.subject,
                    html=html,
                    text=notice.text,
                    idempotency_key=f"account-notice/{notice.pk}/{recipient}",
                    tags={"kind": "account_disconnected"},
                )
            except MailError as exc:
                logger.warning("account notice %s to %s failed: %s", notice.pk, recipient, exc)
                status, error = AccountNotice.Status.FAILED, str(exc)
                if exc.retryable:
                    AccountNotice.objects.filter(pk=notice.pk).update(status=status, error=error[:1000])
                    raise
    AccountNotice.objects.filter(pk=notice.pk).update(
        status=status, error=error[:1000], sent_at=timezone.now() if status == AccountNotice.Status.SENT else None
    )
    notice.refresh_from_db()
    return notice


def endpoint_disabled_email(*, endpoint_id: int, reason: str) -> None:
    """Tell the client's operators that an endpoint stopped receiving events (once, when it is disabled)."""
    from .models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.select_related("client").filter(pk=endpoint_id).first()
    if endpoint is None or not mailer_configured():
        return
    client = endpoint.client
    operators = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, memberships__client=client)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    recipients = list(dict.fromkeys([*client.notification_recipient_list, *operators]))
    subject = f"Webhook endpoint disabled for {client}: {endpoint.url}"
    text = (
        f"Outreach stopped sending events to {endpoint.url} ({client}): {reason}.\n\n"
        "Fix the receiver, enable the endpoint again in the admin, and replay the deliveries you need from its "
        "delivery log.\n"
    )
    for recipient in recipients:
        try:
            send_email(
                to=recipient, subject=subject, html=f"<p>{text}</p>", text=text,
                idempotency_key=f"endpoint-disabled/{endpoint.pk}/{endpoint.disabled_reason[:40]}/{recipient}",
            )  # fmt: skip
        except MailError as exc:
            logger.warning("endpoint-disabled email to %s failed: %s", recipient, exc)
