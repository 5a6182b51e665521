"""The operator's dashboard on the admin home: today per client and account, and what needs a person."""

import datetime as dt

from django.db.models import Count, Prefetch
from django.utils import timezone

from campaigns.models import OutboundAction
from inbox.models import Conversation
from integrations.models import ActionKind, LinkedInAccount, RateUsage
from leads.models import Lead, LeadStatus
from outreach.models import Client
from outreach.tenancy import clients_for


def _grouped(queryset, key: str) -> dict:
    return dict(queryset.values(key).annotate(n=Count("id")).values_list(key, "n").order_by())


def dashboard(user, *, now: dt.datetime | None = None) -> list[dict]:
    """One block per client the user sees: totals and one row per sender account. A fixed number of queries."""
    now = now or timezone.now()
    clients = (
        list(clients_for(user).order_by("name")) if not user.is_superuser else list(Client.objects.order_by("name"))
    )
    ids = [c.pk for c in clients]
    utc_today = now.date()
    recent = RateUsage.objects.filter(day__range=(utc_today - dt.timedelta(days=1), utc_today + dt.timedelta(days=1)))
    accounts = (
        LinkedInAccount.objects.filter(client_id__in=ids)
        .select_related("client")
        .prefetch_related(Prefetch("rate_usages", queryset=recent, to_attr="recent_usages"))
        .order_by("name")
    )
    errors = _grouped(Lead.objects.filter(campaign__client_id__in=ids, status=LeadStatus.ERROR), "campaign__client")
    dead = _grouped(OutboundAction.objects.filter(account__client_id__in=ids, status="dead"), "account__client")
    unread = _grouped(Conversation.objects.filter(client_id__in=ids, unread=True, status="open"), "client")
    by_client: dict[int, list[dict]] = {pk: [] for pk in ids}
    for account in accounts:
        today = account.today(now)
        usage = next((u for u in account.recent_usages if u.day == today), None)
        row = {
            "account": account,
            "paused": account.paused,
            "reason": account.paused_reason,
            "working": account.can_work,
            "reconnect": account.needs_reconnect,
        }
        for kind, counter in (("invites", ActionKind.INVITE), ("messages", ActionKind.MESSAGE)):
            row[kind] = (getattr(usage, kind, 0) if usage else 0, account.cap_of_day(counter, today))
        by_client[account.client_id].append(row)
    blocks = []
    for client in clients:
        # Accounts that need their owner first, then paused ones: what a person must act on leads the table.
        rows = sorted(by_client[client.pk], key=lambda r: (not r["reconnect"], not r["paused"], r["account"].name))
        blocks.append(
            {
                "client": client,
                "accounts": rows,
                "invites": (sum(r["invites"][0] for r in rows), sum(r["invites"][1] for r in rows)),
                "messages": (sum(r["messages"][0] for r in rows), sum(r["messages"][1] for r in rows)),
                "paused": sum(1 for r in rows if r["paused"]),
                "to_reconnect": [r["account"] for r in rows if r["reconnect"]],
                "not_working": sum(1 for r in rows if not r["working"]),
                "lead_errors": errors.get(client.pk, 0),
                "dead_actions": dead.get(client.pk, 0),
                "unread": unread.get(client.pk, 0),
            }
        )
    return blocks
