"""Reconciliation with LinkedIn for what webhooks may have missed: relations and sent invitations."""

import datetime as dt
import logging

from django.db.models import Q
from django.utils import timezone

from integrations.models import LinkedInAccount, SyncState
from integrations.services import sync_cursor, sync_state_record
from integrations.unipile import UnipileClient, UnipileError
from leads.models import Lead, LeadStatus
from leads.services import lead_transition

from ..inbound import accept_relation

logger = logging.getLogger("outreach.sync")
MAX_RELATIONS_PER_RUN = 2000
MAX_PROFILE_CHECKS_PER_RUN = 100
RECENT_INVITE_GRACE = dt.timedelta(minutes=30)


def sync_relations(*, account: LinkedInAccount, client: UnipileClient | None = None) -> dict:
    """Newest relations first, down to the ones the last run saw; invited leads among them become connected."""
    client = client or UnipileClient.from_settings()
    known_until = sync_cursor(account, SyncState.Job.RELATIONS)
    counts = {"seen": 0, "connected": 0}
    newest = None
    batch = []
    try:
        for relation in client.list_relations(account_id=account.unipile_account_id, page_size=200):
            if known_until and relation.created_at and relation.created_at <= known_until:
                break
            newest = max(newest or relation.created_at, relation.created_at) if relation.created_at else newest
            batch.append(relation)
            counts["seen"] += 1
            if counts["seen"] >= MAX_RELATIONS_PER_RUN:
                break
    except UnipileError as exc:
        sync_state_record(account=account, job=SyncState.Job.RELATIONS, result=f"failed: {exc}", ok=False)
        raise
    ids = {r.member_id for r in batch}
    slugs = {r.public_identifier.lower() for r in batch if r.public_identifier}
    invited = Lead.objects.filter(campaign__client_id=account.client_id, status=LeadStatus.INVITED).filter(
        Q(provider_id__in=ids) | Q(public_identifier__in=slugs)
    )
    matched = {(lead.provider_id, lead.public_identifier) for lead in invited}
    for relation in batch:
        if any(
            relation.member_id == pid or (relation.public_identifier.lower() == slug and slug) for pid, slug in matched
        ):
            note = accept_relation(
                account=account,
                provider_id=relation.member_id,
                public_identifier=relation.public_identifier.lower(),
                source="relations_sync",
                when=relation.created_at or timezone.now(),
            )
            counts["connected"] += note.endswith("connected")
    result = f"{counts['seen']} new relation(s), {counts['connected']} lead(s) connected"
    sync_state_record(account=account, job=SyncState.Job.RELATIONS, result=result, cursor=newest)
    logger.info("sync_relations account=%s %s", account.pk, result)
    return counts


def sync_invitations(
    *, account: LinkedInAccount, client: UnipileClient | None = None, now: dt.datetime | None = None
) -> dict:
    """Invited leads whose invitation is no longer pending: accepted (connected) or withdrawn/expired."""
    client = client or UnipileClient.from_settings()
    now = now or timezone.now()
    counts = {"pending": 0, "connected": 0, "withdrawn": 0}
    try:
        pending = list(client.list_sent_invitations(account_id=account.unipile_account_id))
        counts["pending"] = len(pending)
        pending_ids = {i.invited_user_id for i in pending} | {
            i.invited_user_public_id.lower() for i in pending if i.invited_user_public_id
        }
        invited = Lead.objects.filter(
            sender=account, status=LeadStatus.INVITED, invited_at__lt=now - RECENT_INVITE_GRACE
        ).select_related("campaign")
        checked = 0
        for lead in invited.iterator(chunk_size=500):
            if lead.provider_id in pending_ids or lead.public_identifier in pending_ids:
                continue
            if checked >= MAX_PROFILE_CHECKS_PER_RUN:
                break
            checked += 1
            profile = client.get_profile(
                account_id=account.unipile_account_id, identifier=lead.provider_id or lead.public_identifier
            )
            if profile.is_connected:
                accept_relation(
                    account=account,
                    provider_id=profile.provider_id,
                    public_identifier=lead.public_identifier,
                    source="invitations_sync",
                    when=now,
                )
                counts["connected"] += 1
            elif not profile.has_pending_invitation:
                lead_transition(
                    lead=lead,
                    to=LeadStatus.WITHDRAWN,
                    account=account,
                    when=now,
                    reason="the invitation is no longer pending on LinkedIn (withdrawn or expired)",
                )
                counts["withdrawn"] += 1
    except UnipileError as exc:
        sync_state_record(account=account, job=SyncState.Job.INVITATIONS, result=f"failed: {exc}", ok=False)
        raise
    result = f"{counts['pending']} pending, {counts['connected']} accepted, {counts['withdrawn']} withdrawn or expired"
    sync_state_record(account=account, job=SyncState.Job.INVITATIONS, result=result)
    logger.info("sync_invitations account=%s %s", account.pk, result)
    return counts
