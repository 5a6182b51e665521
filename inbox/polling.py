"""Reply polling: the backstop for missed message webhooks, through the very same ingestion."""

import datetime as dt
import logging

from django.utils import timezone

from integrations.models import LinkedInAccount, SyncState
from integrations.services import sync_cursor, sync_state_record
from integrations.unipile import UnipileClient, UnipileError

from .ingest import from_polled, ingest

logger = logging.getLogger("outreach.inbox")
FIRST_POLL_LOOKBACK = dt.timedelta(days=1)
MAX_MESSAGES_PER_RUN = 2000
CURSOR_OVERLAP = dt.timedelta(seconds=5)


def poll_replies(
    *, account: LinkedInAccount, client: UnipileClient | None = None, now: dt.datetime | None = None
) -> dict:
    client = client or UnipileClient.from_settings()
    now = now or timezone.now()
    cursor = sync_cursor(account, SyncState.Job.REPLIES)
    # A small overlap: ingestion is idempotent, a message stamped in the same second is not skipped.
    since = cursor - CURSOR_OVERLAP if cursor else now - FIRST_POLL_LOOKBACK
    counts = {"messages": 0, "replies": 0}
    try:
        messages = []
        for message in client.list_messages(account_id=account.unipile_account_id, after=since, page_size=100):
            messages.append(message)
            if len(messages) >= MAX_MESSAGES_PER_RUN:
                break
    except UnipileError as exc:
        sync_state_record(account=account, job=SyncState.Job.REPLIES, result=f"failed: {exc}", ok=False)
        raise
    newest = None
    for message in sorted(messages, key=lambda m: (m.timestamp or now, m.id)):
        incoming = from_polled(account, message)
        counts["messages"] += 1
        counts["replies"] += ingest(incoming, source="polling").new_reply
        newest = max(newest or incoming.sent_at, incoming.sent_at)
    # The cursor moves only after everything before it went through ingestion.
    result = f"{counts['messages']} message(s), {counts['replies']} new repl(ies) from leads"
    sync_state_record(account=account, job=SyncState.Job.REPLIES, result=result, cursor=newest)
    logger.info("poll_replies account=%s %s", account.pk, result)
    return counts
