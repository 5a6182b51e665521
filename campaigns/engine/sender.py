"""The sender: per account and tick, at most one action.

Claim (one transaction, under the account's row lock): check spacing and caps, reserve the cap in
RateUsage, mark the action claimed. Then call the provider outside any transaction. Then record
the outcome. An action whose call may have taken effect (timeout, 5xx, a worker that died) is
checked against the provider before anything else is sent from that account: a POST is never
retried blind.
"""

import datetime as dt
import logging
import random
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone

from integrations.models import AccountStatusChange, LinkedInAccount
from integrations.services import (
    STATUS_FOR_ERROR_TYPE,
    account_cool_down,
    account_pause,
    account_record_status,
    account_resume,
)
from integrations.unipile import (
    AccountProblem,
    AlreadyDone,
    BadRequest,
    InvalidResponse,
    LimitReached,
    NotFound,
    NotSupported,
    ProviderUnavailable,
    RateLimited,
    RecipientProblem,
    UnipileClient,
    UnipileError,
)
from leads.linkedin import is_resolved_member_id
from leads.models import ACTIVE_STATUSES, FINAL_STATUSES, Event, EventType, Lead, LeadStatus
from leads.services import InvalidTransition, lead_transition

from ..models import Campaign, OutboundAction, Step
from ..sequence import Sequence
from ..signals import action_sent
from . import limits
from .calendar import WorkCalendar

logger = logging.getLogger("outreach.engine")

EVENT_FOR_ACTION = {
    Step.Action.INVITE: EventType.INVITE_SENT,
    Step.Action.MESSAGE: EventType.MESSAGE_SENT,
    Step.Action.INMAIL: EventType.INMAIL_SENT,
    Step.Action.VISIT: EventType.PROFILE_VISITED,
    Step.Action.FOLLOW: EventType.FOLLOWED,
    Step.Action.LIKE: EventType.POST_LIKED,
    Step.Action.ENDORSE: EventType.SKILL_ENDORSED,
    Step.Action.WITHDRAW: EventType.INVITE_WITHDRAWN,
}
STATUS_AFTER_ACTION = {
    Step.Action.INVITE: LeadStatus.INVITED,
    Step.Action.MESSAGE: LeadStatus.MESSAGED,
    Step.Action.INMAIL: LeadStatus.MESSAGED,
}
# Doing these twice is harmless (a visit, a follow, a like, an endorsement): after a timeout they are retried
# rather than checked with the provider.
REPEATABLE = frozenset({Step.Action.VISIT, Step.Action.FOLLOW, Step.Action.LIKE, Step.Action.ENDORSE})
CANDIDATES_PER_TICK = 25
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 3600
RECONCILE_LOOKBACK = dt.timedelta(minutes=5)
SLOW_CALL = dt.timedelta(seconds=1)  # a send that took longer moves the account's spacing by its duration
Status = OutboundAction.Status


@dataclass
class Refs:
    """What the provider gave back for a done action."""

    invitation_id: str = ""
    chat_id: str = ""
    message_id: str = ""
    data: dict = field(default_factory=dict)


class SendOutcome(StrEnum):
    """What one tick did for an account."""

    SENT = "sent"
    IDLE = "idle"  # nothing due
    BLOCKED = "blocked"  # something due, but not now (hours, caps, spacing)
    NOT_READY = "not_ready"  # the account cannot work (status, pause)
    COOLING_DOWN = "cooling_down"  # after a 429
    RETRY = "retry"
    DEAD = "dead"
    LEAD_ERROR = "lead_error"
    ACCOUNT_PAUSED = "account_paused"
    UNKNOWN = "unknown"  # the call may have taken effect: checked with the provider before anything else
    SKIPPED = "skipped"
    SETTLED_ELSEWHERE = "settled_elsewhere"  # another worker recorded the action first


class FailureKind(StrEnum):
    """Why an attempt did not end as sent; written on each send_failed event."""

    RETRY = "retry"  # retryable provider fault: backed off
    DEAD = "dead"  # retryable fault, but out of attempts
    UNKNOWN = "unknown"  # the call may have landed: to be checked with the provider
    NOT_FOUND = "not_found"  # checked with the provider: it did not land
    RATE_LIMITED = "rate_limited"  # 429: the account cools down
    ACCOUNT = "account"  # the account cannot act (disconnected, restricted, LinkedIn's own limit)
    LEAD_ERROR = "lead_error"  # permanent for this person
    NOT_YET_CONNECTED = "not_yet_connected"  # accepted, but the provider's profile still lags


@dataclass(frozen=True)
class NotClaimed:
    """Why claim_next claimed nothing."""

    reason: str
    nothing_due: bool = False


class AwaitingConnection(Exception):
    """We recorded the acceptance but the provider's profile does not show the connection yet: ask again later."""


class Skipped(Exception):
    """The action turned out to be unnecessary or impossible before any write call.

    done: count it as sent; advance: the lead moves on to its next step without it (a step_skipped event)."""

    def __init__(
        self, reason: str, *, lead_status: str = "", refs: Refs | None = None, done: bool = False, advance: bool = False
    ):
        super().__init__(reason)
        self.reason, self.lead_status, self.refs, self.done = reason, lead_status, refs or Refs(), done
        self.advance = advance


@dataclass
class SendResult:
    account_id: int
    outcome: SendOutcome
    action_id: int | None = None
    detail: str = ""


class _Provider:
    """Creates the Unipile client on first use: dry-run campaigns and idle ticks need none."""

    def __init__(self, client: UnipileClient | None):
        self._client = client

    def __call__(self) -> UnipileClient:
        if self._client is None:
            self._client = UnipileClient.from_settings()
        return self._client


# --- Claiming ---------------------------------------------------------------------------------


def _calendar(campaign: Campaign) -> WorkCalendar:
    return WorkCalendar.for_campaign(campaign)


def _lead_ready(action: OutboundAction) -> str:
    """'' when the lead may receive this action now, else why not."""
    lead = action.lead
    if lead is None or not action.step_id:
        return ""  # a reply typed by staff goes out whatever the state of the sequence
    if lead.status not in ACTIVE_STATUSES:
        return f"lead is {lead.get_status_display().lower()}"
    if action.step_id and lead.campaign.status != Campaign.Status.ACTIVE:
        return f"campaign is {lead.campaign.get_status_display().lower()}"
    return ""


def claim_next(*, account: LinkedInAccount, now: dt.datetime) -> OutboundAction | NotClaimed:
    """The claimed action, or why nothing was claimed."""
    # Conversations first: a follow-up to someone who accepted matters more than one more invitation.
    priority = Case(
        When(action__in=[Step.Action.MESSAGE, Step.Action.INMAIL], then=Value(0)),
        When(action__in=list(REPEATABLE), then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    candidates = list(
        OutboundAction.objects.filter(
            account=account, status__in=OutboundAction.WAITING_STATUSES, scheduled_for__lte=now
        )
        .select_related("lead__campaign", "step")
        .order_by(priority, "scheduled_for", "id")[:CANDIDATES_PER_TICK]
    )
    if not candidates:
        return NotClaimed("nothing due", nothing_due=True)
    reasons: list[str] = []
    capped_kinds: set[str] = set()
    day = account.today(now)
    for candidate in candidates:
        if candidate.action in capped_kinds:
            continue
        if candidate.action == Step.Action.INVITE and (problem := limits.pending_invitations_problem(account)):
            capped_kinds.add(Step.Action.INVITE)
            reasons.append(problem)
            continue
        # Staff replies follow the lead's working hours too, unless staff chose "send now".
        if candidate.lead_id and not candidate.send_now and not _calendar(candidate.lead.campaign).is_working_time(now):
            reasons.append(f"outside working hours of {candidate.lead.campaign}")
            continue
        with transaction.atomic():
            locked = LinkedInAccount.objects.select_for_update().get(pk=account.pk)
            if not locked.can_work:
                return NotClaimed(f"{locked} cannot work: {locked.paused_reason or locked.get_status_display()}")
            if locked.is_cooling_down(now):
                return NotClaimed(f"cooling down after a rate limit until {locked.cooldown_until:%H:%M:%S}")
            if locked.next_action_after and locked.next_action_after > now:
                return NotClaimed(f"spacing: next action after {locked.next_action_after:%H:%M:%S}")
            action = (
                OutboundAction.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("lead__campaign", "step")
                .filter(pk=candidate.pk, status__in=OutboundAction.WAITING_STATUSES, scheduled_for__lte=now)
                .first()
            )
            if action is None:
                continue
            if blocked := _lead_ready(action):
                if action.lead.status in FINAL_STATUSES:
                    action.status, action.last_error = Status.CANCELLED, f"Not sent: {blocked}."
                    action.save(update_fields=["status", "last_error"])
                reasons.append(blocked)
                continue
            if problem := limits.reserve(locked, action.action, day):
                capped_kinds.add(action.action)
                reasons.append(problem)
                continue
            action.status, action.claimed_at, action.usage_day = Status.CLAIMED, now, day
            action.attempts += 1
            action.outcome_unknown = False
            action.save(update_fields=["status", "claimed_at", "usage_day", "attempts", "outcome_unknown"])
            gap = locked.min_seconds_between_actions
            LinkedInAccount.objects.filter(pk=locked.pk).update(
                last_action_at=now, next_action_after=now + dt.timedelta(seconds=gap + random.uniform(0, gap / 2))
            )
            return action
    if not reasons:
        return NotClaimed("nothing due", nothing_due=True)
    return NotClaimed("; ".join(dict.fromkeys(reasons)))


# --- Calling the provider ---------------------------------------------------------------------


def _profile_identifier(lead: Lead) -> str:
    if is_resolved_member_id(lead.provider_id):
        return lead.provider_id
    return lead.public_identifier or lead.provider_id


def _resolve(provider, action: OutboundAction):
    """Profile lookup through the sending account; stores the ACo id on the lead once."""
    lead, account = action.lead, action.account
    identifier = _profile_identifier(lead)
    if not identifier:
        raise BadRequest("the lead has no LinkedIn identifier")
    profile = provider().get_profile(account_id=account.unipile_account_id, identifier=identifier)
    if profile.provider_id and profile.provider_id != lead.provider_id:
        Lead.objects.filter(pk=lead.pk).update(provider_id=profile.provider_id)
        lead.provider_id = profile.provider_id
    return profile


def _engage(provider, action: OutboundAction) -> Refs:
    """Follow, like the latest post, endorse a skill, withdraw the invitation. Calls the provider does not confirm
    (UNIPILE.md) answer NotSupported: the step is skipped with that reason, never retried in a loop."""
    lead, account = action.lead, action.account
    account_id = account.unipile_account_id
    kind = action.action
    try:
        if kind == Step.Action.WITHDRAW:
            invitation_id = _pending_invitation_id(action)
            if not invitation_id:
                if lead.connected_at is not None:
                    raise Skipped("the invitation was accepted: nothing to withdraw", advance=True)
                raise Skipped("no pending invitation of ours to withdraw", advance=True)
            try:
                provider().withdraw_invitation(account_id=account_id, invitation_id=invitation_id)
            except NotFound:
                raise Skipped("the invitation is no longer pending at LinkedIn", advance=True) from None
            return Refs(data={"invitation_id": invitation_id})
        profile = _resolve(provider, action)
        if kind == Step.Action.FOLLOW:
            provider().follow(account_id=account_id, provider_id=profile.provider_id or lead.provider_id)
            return Refs()
        if kind == Step.Action.LIKE:
            post = provider().latest_post(account_id=account_id, identifier=profile.provider_id or lead.provider_id)
            if post is None:
                raise Skipped("the person has no recent post to like", advance=True)
            provider().react_to_post(account_id=account_id, post_id=post)
            return Refs(data={"post_id": post})
        skill = provider().endorsable_skill(account_id=account_id, identifier=profile.provider_id or lead.provider_id)
        if skill is None:
            raise Skipped("the person lists no skill left to endorse", advance=True)
        provider().endorse(account_id=account_id, provider_id=profile.provider_id or lead.provider_id, skill=skill)
        return Refs(data={"skill": skill.name})
    except NotSupported as exc:
        raise Skipped(f"not supported by the provider: {exc}", advance=True) from None


def _pending_invitation_id(action: OutboundAction) -> str:
    """The invitation this lead's withdrawal is about: our last one sent to the lead (not a dry run)."""
    invitation = (
        OutboundAction.objects.filter(lead_id=action.lead_id, action=Step.Action.INVITE, status=Status.SENT)
        .exclude(invitation_id="")
        .order_by("-sent_at", "-pk")
        .values_list("invitation_id", flat=True)
        .first()
    )
    return invitation or ""


def _perform(provider, action: OutboundAction) -> Refs:
    lead, account = action.lead, action.account
    account_id = account.unipile_account_id
    if action.action == Step.Action.VISIT:
        provider().get_profile(account_id=account_id, identifier=_profile_identifier(lead), visit=True)
        return Refs()
    if action.action in (Step.Action.FOLLOW, Step.Action.LIKE, Step.Action.ENDORSE, Step.Action.WITHDRAW):
        return _engage(provider, action)
    if action.action == Step.Action.INVITE:
        if len(action.text) > account.invite_note_limit:
            raise BadRequest(
                f"the invitation note is {len(action.text)} characters; {account} is a free LinkedIn account, which "
                f"allows {account.invite_note_limit}: shorten the note or send from a premium account",
                type="too_many_characters",
            )
        profile = _resolve(provider, action)
        if profile.is_connected:
            raise Skipped("already a 1st-degree connection: invitation skipped", lead_status=LeadStatus.CONNECTED)
        if profile.has_pending_invitation:
            raise Skipped(
                "an invitation is already pending",
                lead_status=LeadStatus.INVITED,
                done=True,
                refs=Refs(data={"already_pending": True}),
            )
        sent = provider().send_invitation(account_id=account_id, provider_id=lead.provider_id, message=action.text)
        return Refs(invitation_id=sent.invitation_id, data={"usage": sent.usage} if sent.usage else {})
    chat_id = action.chat_id or lead.chat_id
    if chat_id and action.action == Step.Action.MESSAGE:
        sent = provider().send_message(account_id=account_id, chat_id=chat_id, text=action.text)
        return Refs(chat_id=chat_id, message_id=sent.message_id)
    if action.action == Step.Action.MESSAGE:
        profile = _resolve(provider, action)
        if not profile.is_connected:
            if lead.connected_at is not None:
                raise AwaitingConnection(
                    f"LinkedIn does not show the connection accepted at {lead.connected_at:%Y-%m-%d %H:%M} UTC yet"
                )
            raise RecipientProblem(
                "not a 1st-degree connection: a message needs a connection", type="no_connection_with_recipient"
            )
    elif not is_resolved_member_id(lead.provider_id):
        _resolve(provider, action)
    inmail = action.action == Step.Action.INMAIL
    if inmail and _inmail_credits(provider, account, timezone.now()) == 0:
        raise Skipped(f"no InMail credits left on {account}: the InMail step is skipped", advance=True)
    try:
        started = provider().start_chat(
            account_id=account_id,
            attendee_provider_id=lead.provider_id,
            text=action.text,
            api=account.kind,
            inmail=inmail,
        )
    except LimitReached as exc:
        if inmail and exc.type == "insufficient_credits":
            _store_inmail_credits(account, 0, timezone.now())
            raise Skipped(
                f"LinkedIn says {account} has no InMail credits: the InMail step is skipped", advance=True
            ) from None
        raise
    if inmail:
        LinkedInAccount.objects.filter(pk=account.pk, inmail_credits__gt=0).update(
            inmail_credits=F("inmail_credits") - 1
        )
    return Refs(chat_id=started.chat_id, message_id=started.message_id)


def _store_inmail_credits(account: LinkedInAccount, credits: int | None, now: dt.datetime) -> None:
    LinkedInAccount.objects.filter(pk=account.pk).update(inmail_credits=credits, inmail_credits_checked_at=now)
    account.inmail_credits, account.inmail_credits_checked_at = credits, now


def _inmail_credits(provider, account: LinkedInAccount, now: dt.datetime) -> int | None:
    """The account's InMail credits (asked at most every INMAIL_CREDITS_TTL_MINUTES), None when unknown: an
    unknown balance means "try" (the balance call is not confirmed for every account)."""
    ttl = dt.timedelta(minutes=settings.INMAIL_CREDITS_TTL_MINUTES)
    if account.inmail_credits_checked_at and now - account.inmail_credits_checked_at < ttl:
        return account.inmail_credits
    try:
        credits = provider().inmail_credits(account_id=account.unipile_account_id)
    except (RateLimited, AccountProblem):
        raise
    except UnipileError:
        return account.inmail_credits
    _store_inmail_credits(account, credits, now)
    return credits


# --- Recording --------------------------------------------------------------------------------


def _next_step(action: OutboundAction) -> Step | None:
    """The step after the action's own (its next path)."""
    if not action.step_id:
        return None
    sequence = Sequence.of(action.lead.campaign)
    return sequence.child(sequence.by_id[action.step_id])


def _advance_lead(action: OutboundAction, now: dt.datetime, *, status_after: str | None) -> None:
    lead = Lead.objects.select_for_update().get(pk=action.lead_id)
    action.lead = lead
    if action.account_id and lead.sender_id is None:
        lead.sender_id = action.account_id
    if action.chat_id and not lead.chat_id:
        lead.chat_id = action.chat_id
    fields = ["sender", "chat_id", "updated_at"]
    moves = bool(action.step_id) and lead.status in ACTIVE_STATUSES and lead.step_id in (None, action.step_id)
    # (A lead placed by number only has no step yet: it moves on from the action's step.)
    next_step = _next_step(action)
    if moves:
        # The lead goes on from this step (unless a reply, an operator or another path moved it meanwhile).
        lead.current_step, lead.step, lead.condition_until = action.step.position, next_step, None
        fields += ["current_step", "step", "condition_until"]
    lead.save(update_fields=fields)
    if not moves:
        return  # a reply or an operator got there first; the action is recorded, the lead stays put
    calendar = _calendar(lead.campaign)
    # After an invitation, the next action waits for the acceptance; a condition or a wait decides itself.
    waiting_for_acceptance = status_after == LeadStatus.INVITED and (next_step is None or next_step.sends)
    due = None
    if next_step and not waiting_for_acceptance:
        due = calendar.add_working_days(now, next_step.delay_days, next_step.delay_hours)
    if status_after and status_after != lead.status and lead.can_transition_to(status_after):
        lead_transition(
            lead=lead,
            to=status_after,
            account=action.account,
            when=now,
            next_action_at=due,
            reason=f"step {action.step.position} ({action.step.display_label}) done",
        )
    else:
        Lead.objects.filter(pk=lead.pk).update(next_action_at=due)
        lead.next_action_at = due
    if next_step is None and not waiting_for_acceptance and lead.status in ACTIVE_STATUSES:
        lead_transition(
            lead=lead, to=LeadStatus.COMPLETED, account=action.account, when=now, reason="sequence finished"
        )


def _settle(action: OutboundAction, **fields) -> bool:
    """Move a claimed action to its outcome. False when another worker settled it first: then do nothing."""
    updated = OutboundAction.objects.filter(pk=action.pk, status=Status.CLAIMED).update(**fields)
    if updated:
        for name, value in fields.items():
            setattr(action, name, value)
    return bool(updated)


@transaction.atomic
def record_sent(action: OutboundAction, refs: Refs, now: dt.datetime, *, dry_run: bool = False) -> bool:
    settled = _settle(
        action,
        status=Status.SENT,
        sent_at=now,
        outcome_unknown=False,
        invitation_id=refs.invitation_id or action.invitation_id,
        chat_id=refs.chat_id or action.chat_id,
        message_id=refs.message_id or action.message_id,
    )
    if not settled:
        return False
    data = {
        "action_id": action.pk,
        "step": action.step.position if action.step_id else None,
        "step_id": action.step_id,
        "variant": action.variant,
        **refs.data,
    }
    if dry_run:
        data["dry_run"] = True
    Event.objects.create(
        lead_id=action.lead_id,
        account_id=action.account_id,
        type=EVENT_FOR_ACTION[action.action],
        occurred_at=now,
        data=data,
        external_id=refs.message_id or refs.invitation_id,
    )
    if action.lead_id:
        status_after = STATUS_AFTER_ACTION.get(action.action)
        if action.action == Step.Action.WITHDRAW and action.lead.status == LeadStatus.INVITED:
            status_after = LeadStatus.PENDING  # the invitation is gone: the lead goes on, unconnected
        _advance_lead(action, now, status_after=status_after)
    if not dry_run:
        action_sent.send(sender=OutboundAction, action=action, refs=refs, when=now)
    return True


def _release(action: OutboundAction) -> None:
    limits.refund(action.account_id, action.action, action.usage_day)


def _backoff(attempts: int) -> dt.timedelta:
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def _record_failure(
    action: OutboundAction,
    now: dt.datetime,
    kind: FailureKind,
    detail: str,
    *,
    error: UnipileError | None = None,
    retry_at: dt.datetime | None = None,
    attempt: int | None = None,
) -> None:
    """Every attempt that did not end as sent leaves an event: the lead's timeline keeps the fault history."""
    if not action.lead_id:
        return  # a staff reply to someone who is not a lead: its action row keeps the error
    Event.objects.create(
        lead_id=action.lead_id,
        account_id=action.account_id,
        type=EventType.SEND_FAILED,
        occurred_at=now,
        data={
            "action_id": action.pk,
            "action": action.action,
            "step": action.step.position if action.step_id else None,
            "attempt": action.attempts if attempt is None else attempt,
            "kind": kind.value,
            "provider_status": error.status if error else None,
            "provider_type": error.type if error else "",
            "detail": detail[:500],
            "retry_at": retry_at.isoformat() if retry_at else None,
        },
    )


def _retry_or_die(
    action: OutboundAction,
    now: dt.datetime,
    error: str,
    *,
    cause: UnipileError | None = None,
    kind=FailureKind.RETRY,
    may_have_happened: bool = False,
) -> SendOutcome:
    """The action did not go through: try again later, or give up after N attempts. Its cap slot is given back,
    unless it may have happened at LinkedIn after all (a timeout on a repeatable action): then it stays counted,
    so a retry can only leave the day under its cap, never over it."""
    with transaction.atomic():
        error = error[:1000]
        if action.attempts >= settings.SEND_MAX_ATTEMPTS:
            if not _settle(action, status=Status.DEAD, last_error=error, outcome_unknown=False):
                return SendOutcome.SETTLED_ELSEWHERE
            if not may_have_happened:
                _release(action)
            _record_failure(action, now, FailureKind.DEAD, error, error=cause)
            if action.lead_id:
                _lead_error(action, f"Gave up after {action.attempts} attempts: {error}")
            return SendOutcome.DEAD
        retry_at = now + max(_backoff(action.attempts), dt.timedelta(seconds=1))
        if not _settle(action, status=Status.FAILED, scheduled_for=retry_at, last_error=error, outcome_unknown=False):
            return SendOutcome.SETTLED_ELSEWHERE
        if not may_have_happened:
            _release(action)
        _record_failure(action, now, kind, error, error=cause, retry_at=retry_at)
        return SendOutcome.RETRY


def _lead_error(action: OutboundAction, reason: str) -> None:
    lead = Lead.objects.get(pk=action.lead_id)
    try:
        lead_transition(lead=lead, to=LeadStatus.ERROR, reason=reason[:1000], account=action.account)
    except InvalidTransition:
        Lead.objects.filter(pk=lead.pk).update(last_error=reason[:1000])


def _back_to_queue(action: OutboundAction, reason: str, *, until: dt.datetime | None = None) -> bool:
    """Not the action's fault (the account stopped or must cool down): it waits, its attempt is not counted."""
    fields = {"scheduled_for": until} if until else {}
    if _settle(
        action,
        status=Status.QUEUED,
        last_error=reason[:1000],
        outcome_unknown=False,
        attempts=max(action.attempts - 1, 0),
        **fields,
    ):
        _release(action)
        return True
    return False


def _pause_account(action: OutboundAction, error: UnipileError, now: dt.datetime) -> None:
    account = action.account
    if isinstance(error, LimitReached):
        tomorrow = timezone.localtime(now, account.calendar_tz).date() + dt.timedelta(days=1)
        until = dt.datetime.combine(tomorrow, dt.time.min, tzinfo=account.calendar_tz)
        account_pause(
            account=account,
            reason=f"LinkedIn limit: {error.type or error}",
            source=LinkedInAccount.PauseSource.PROVIDER,
            until=until,
        )
    elif status := STATUS_FOR_ERROR_TYPE.get(error.type):
        # The account needs its owner (logged out, checkpoint): the status says so, and Reconnect is offered.
        account_record_status(
            account=account, status=status, source=AccountStatusChange.Source.SEND, when=now, detail=str(error)
        )
    else:
        account_pause(
            account=account, reason=f"Account problem: {error.type or error}", source=LinkedInAccount.PauseSource.STATUS
        )


def _lag_checks(action: OutboundAction) -> list[str]:
    """When this action already asked the provider whether an accepted connection shows (ISO times)."""
    return [
        occurred.isoformat()
        for occurred in Event.objects.filter(
            lead_id=action.lead_id,
            type=EventType.SEND_FAILED,
            data__action_id=action.pk,
            data__kind=FailureKind.NOT_YET_CONNECTED.value,
        )
        .order_by("occurred_at")
        .values_list("occurred_at", flat=True)
    ]


def _await_connection(action: OutboundAction, now: dt.datetime, reason: str) -> SendOutcome:
    """The acceptance is ours, the provider's profile lags: ask again later, within caps, a few times over hours."""
    ladder = settings.CONNECTION_LAG_RETRY_MINUTES
    with transaction.atomic():
        earlier = _lag_checks(action)
        if len(earlier) < len(ladder):
            retry_at = now + dt.timedelta(minutes=ladder[len(earlier)])
            attempt = action.attempts
            if not _back_to_queue(action, f"{reason}; asking again at {retry_at:%H:%M} UTC", until=retry_at):
                return SendOutcome.SETTLED_ELSEWHERE
            _record_failure(action, now, FailureKind.NOT_YET_CONNECTED, reason, retry_at=retry_at, attempt=attempt)
            return SendOutcome.RETRY
        history = ", ".join([*earlier, now.isoformat()])
        message = f"{reason} after {len(earlier) + 1} checks (at {history}): a message needs a connection"
        if not _settle(action, status=Status.DEAD, last_error=message[:1000], outcome_unknown=False):
            return SendOutcome.SETTLED_ELSEWHERE
        _release(action)
        _record_failure(action, now, FailureKind.LEAD_ERROR, message)
        _lead_error(action, message)
        return SendOutcome.LEAD_ERROR


def _timed_perform(provider, action: OutboundAction, started: dt.datetime) -> Refs:
    """The spacing was counted from the claim. A slow call (the provider queueing it, a read retried first) moves
    it by the time the call took, before the action is settled (so before another worker may claim), and the
    next action is never closer to this one than the account allows."""
    try:
        return _perform(provider, action)
    finally:
        took = timezone.now() - started
        if took > SLOW_CALL:
            LinkedInAccount.objects.filter(pk=action.account_id, next_action_after__isnull=False).update(
                next_action_after=F("next_action_after") + took
            )


def _handle(action: OutboundAction, provider, now: dt.datetime, started: dt.datetime) -> SendResult:
    """Send the claimed action and settle it; started is the wall clock at the tick's start (now may be given)."""
    result = SendResult(account_id=action.account_id, outcome=SendOutcome.SENT, action_id=action.pk)
    dry_run = bool(action.lead_id and action.lead.campaign.dry_run)
    try:
        refs = Refs() if dry_run else _timed_perform(provider, action, started)
    except Skipped as skip:
        with transaction.atomic():
            if skip.done:
                if record_sent(action, skip.refs, now):
                    _release(action)
            elif skip.advance:
                if _settle(action, status=Status.CANCELLED, last_error=skip.reason):
                    _release(action)
                    Event.objects.create(
                        lead_id=action.lead_id,
                        account_id=action.account_id,
                        type=EventType.STEP_SKIPPED,
                        occurred_at=now,
                        data={
                            "action_id": action.pk,
                            "step": action.step.position,
                            "step_id": action.step_id,
                            "reason": skip.reason,
                        },
                    )
                    _advance_lead(action, now, status_after=None)
            elif _settle(action, status=Status.CANCELLED, last_error=skip.reason):
                _release(action)
                lead = Lead.objects.get(pk=action.lead_id)
                if skip.lead_status and lead.can_transition_to(skip.lead_status):
                    if action.step_id:  # on to the step after this one, due now
                        next_step = _next_step(action)
                        Lead.objects.filter(pk=lead.pk).update(
                            current_step=action.step.position, step=next_step, condition_until=None
                        )
                    lead_transition(
                        lead=lead,
                        to=skip.lead_status,
                        reason=skip.reason,
                        account=action.account,
                        next_action_at=_calendar(lead.campaign).next_working_moment(now),
                        when=now,
                    )
        result.outcome, result.detail = SendOutcome.SKIPPED, skip.reason
        return result
    except AwaitingConnection as exc:
        result.outcome, result.detail = _await_connection(action, now, str(exc)), str(exc)
        return result
    except RateLimited as exc:
        # LinkedIn's 429 is about the account: it cools down, and the action waits for it without losing a try.
        # The cool-down counts from the answer, not from the tick's start: a slow call (a queue at the provider,
        # a read retried before the write) must not shorten it.
        answered = now + (timezone.now() - started)
        with transaction.atomic():
            until = account_cool_down(account=action.account, now=answered, retry_after=exc.retry_after)
            reason = f"rate limited: {exc.describe()}; account cooling down until {until:%H:%M} UTC"
            attempt = action.attempts
            if _back_to_queue(action, reason, until=until):
                _record_failure(
                    action, now, FailureKind.RATE_LIMITED, reason, error=exc, retry_at=until, attempt=attempt
                )
        result.outcome, result.detail = SendOutcome.COOLING_DOWN, reason
        return result
    except (ProviderUnavailable, InvalidResponse) as exc:
        if action.action in REPEATABLE:
            outcome = _retry_or_die(action, now, str(exc), cause=exc, may_have_happened=True)
            result.outcome, result.detail = outcome, str(exc)
            return result
        # The write may have reached LinkedIn, or may still: it is checked with the provider after a grace
        # period, before anything else is sent from this account. Never retried blind.
        check_at = now + dt.timedelta(seconds=settings.SEND_UNKNOWN_GRACE_SECONDS)
        with transaction.atomic():
            if _settle(action, outcome_unknown=True, last_error=f"outcome unknown: {exc}"[:1000]):
                _record_failure(action, now, FailureKind.UNKNOWN, str(exc), error=exc, retry_at=check_at)
        result.outcome, result.detail = SendOutcome.UNKNOWN, str(exc)
        return result
    except AlreadyDone as exc:
        if record_sent(action, Refs(data={"already_done": exc.type}), now):
            _release(action)
        result.outcome, result.detail = SendOutcome.SKIPPED, str(exc)
        return result
    except (LimitReached, AccountProblem) as exc:
        with transaction.atomic():
            attempt = action.attempts
            if _back_to_queue(action, f"account paused: {exc}"):
                _record_failure(action, now, FailureKind.ACCOUNT, str(exc), error=exc, attempt=attempt)
                _pause_account(action, exc, now)
        result.outcome, result.detail = SendOutcome.ACCOUNT_PAUSED, str(exc)
        return result
    except (RecipientProblem, BadRequest) as exc:
        with transaction.atomic():
            if _settle(action, status=Status.DEAD, last_error=str(exc)[:1000]):
                _release(action)
                _record_failure(action, now, FailureKind.LEAD_ERROR, str(exc), error=exc)
                if action.lead_id:
                    _lead_error(action, str(exc))
        result.outcome, result.detail = SendOutcome.LEAD_ERROR, str(exc)
        return result
    record_sent(action, refs, now, dry_run=dry_run)
    return result


# --- Reconciliation of interrupted sends ------------------------------------------------------


def _find_on_provider(action: OutboundAction, provider) -> Refs | None:
    """Did an interrupted action reach LinkedIn? Refs when it did, None when it did not."""
    lead, account = action.lead, action.account
    account_id = account.unipile_account_id
    if action.action in REPEATABLE:
        return None  # visiting, following, liking or endorsing again is harmless
    if action.action == Step.Action.WITHDRAW:
        invitation_id = _pending_invitation_id(action)
        pending = {invitation.id for invitation in provider().list_sent_invitations(account_id=account_id)}
        return Refs(data={"invitation_id": invitation_id, "reconciled": True}) if invitation_id not in pending else None
    if action.action == Step.Action.INVITE:
        for invitation in provider().list_sent_invitations(account_id=account_id):
            if (lead.provider_id and invitation.invited_user_id == lead.provider_id) or (
                lead.public_identifier and invitation.invited_user_public_id.lower() == lead.public_identifier
            ):
                return Refs(invitation_id=invitation.id, data={"reconciled": True})
        if not _profile_identifier(lead):
            return None
        profile = provider().get_profile(account_id=account_id, identifier=_profile_identifier(lead))
        if profile.has_pending_invitation or profile.is_connected:
            return Refs(data={"reconciled": True})
        return None
    since = (action.claimed_at or timezone.now()) - RECONCILE_LOOKBACK
    chat_id = action.chat_id or lead.chat_id
    if not chat_id and lead.provider_id:
        chat_id = next(
            (c.id for c in provider().list_chats(account_id=account_id) if c.attendee_provider_id == lead.provider_id),
            "",
        )
    if not chat_id:
        return None
    for message in provider().list_chat_messages(chat_id=chat_id, after=since, account_id=account_id):
        if message.is_sender and message.text.strip() == action.text.strip():
            return Refs(chat_id=chat_id, message_id=message.id, data={"reconciled": True})
    return None


def reconcile_action(action: OutboundAction, provider, now: dt.datetime) -> SendOutcome:
    """SENT, RETRY or DEAD (it did not happen), or UNKNOWN when the provider could not tell us."""
    try:
        refs = _find_on_provider(action, provider)
    except UnipileError as exc:
        # Asked again on the next tick; the attempt's own event was written when it became unknown.
        _settle(action, outcome_unknown=True, last_error=f"outcome unknown, check failed: {exc}"[:1000])
        return SendOutcome.UNKNOWN
    if refs is not None:
        return SendOutcome.SENT if record_sent(action, refs, now) else SendOutcome.SETTLED_ELSEWHERE
    return _retry_or_die(action, now, "checked with LinkedIn: it did not arrive", kind=FailureKind.NOT_FOUND)


def reconcile_claimed(*, account: LinkedInAccount, now: dt.datetime, provider) -> int:
    """Settle this account's interrupted actions; returns how many are still unknown."""
    stale = now - dt.timedelta(seconds=settings.SEND_CLAIM_STALE_SECONDS)
    grace = now - dt.timedelta(seconds=settings.SEND_UNKNOWN_GRACE_SECONDS)
    orphans = (
        OutboundAction.objects.filter(account=account, status=Status.CLAIMED)
        .filter(Q(outcome_unknown=True, claimed_at__lt=grace) | Q(claimed_at__lt=stale))
        .select_related("lead__campaign", "step", "account")
    )
    unknown = 0
    for action in orphans:
        if reconcile_action(action, provider, now) == SendOutcome.UNKNOWN:
            unknown += 1
    return unknown


# --- The tick ---------------------------------------------------------------------------------


def _auto_resume(account: LinkedInAccount, now: dt.datetime) -> None:
    if (
        account.paused
        and account.pause_source == LinkedInAccount.PauseSource.PROVIDER
        and account.paused_until
        and account.paused_until <= now
    ):
        account_resume(account=account)


def send_for_account(
    *, account_id: int, now: dt.datetime | None = None, client: UnipileClient | None = None
) -> SendResult:
    started = timezone.now()
    now = now or started
    provider = _Provider(client)
    account = LinkedInAccount.objects.select_related("client").get(pk=account_id)
    _auto_resume(account, now)
    if not account.can_work:
        return SendResult(
            account_id, SendOutcome.NOT_READY, detail=account.paused_reason or account.get_status_display()
        )
    in_flight = OutboundAction.objects.filter(account=account, status=Status.CLAIMED)
    if in_flight.exists():
        reconcile_claimed(account=account, now=now, provider=provider)
        if in_flight.exists():
            return SendResult(account_id, SendOutcome.UNKNOWN, detail="an earlier action is being sent or confirmed")
    if account.is_cooling_down(now):
        detail = f"cooling down after a rate limit until {account.cooldown_until:%H:%M:%S}"
        return SendResult(account_id, SendOutcome.COOLING_DOWN, detail=detail)
    claimed = claim_next(account=account, now=now)
    if isinstance(claimed, NotClaimed):
        outcome = SendOutcome.IDLE if claimed.nothing_due else SendOutcome.BLOCKED
        return SendResult(account_id, outcome, detail=claimed.reason)
    claimed.account = account
    result = _handle(claimed, provider, now, started)
    logger.info(
        "send account=%s action=%s kind=%s outcome=%s %s",
        account_id,
        claimed.pk,
        claimed.action,
        result.outcome,
        result.detail,
    )
    return result


def accounts_with_work(now: dt.datetime) -> list[int]:
    """Accounts with a due action or an unsettled claim: one indexed query, whatever the number of leads."""
    due = OutboundAction.objects.filter(
        Q(status__in=OutboundAction.WAITING_STATUSES, scheduled_for__lte=now) | Q(status=Status.CLAIMED)
    )
    working = LinkedInAccount.objects.filter(status__in=LinkedInAccount.WORKING_STATUSES).filter(
        Q(paused=False) | Q(pause_source=LinkedInAccount.PauseSource.PROVIDER, paused_until__lte=now)
    )
    # A cooling account gets no task, unless it has a claim to settle (the check with LinkedIn is a read).
    working = working.filter(
        Q(cooldown_until__isnull=True)
        | Q(cooldown_until__lte=now)
        | Q(pk__in=OutboundAction.objects.filter(status=Status.CLAIMED).values("account_id"))
    )
    return list(working.filter(pk__in=due.values("account_id")).values_list("pk", flat=True))
