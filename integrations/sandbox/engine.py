"""What the sandbox does: the fake provider's rules, the simulated people, and webhook delivery."""

import datetime as dt
import hashlib
import logging
import random
import re
import secrets

import requests
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import (
    SandboxAccount,
    SandboxChat,
    SandboxDelivery,
    SandboxEngagement,
    SandboxInvitation,
    SandboxMember,
    SandboxMessage,
    SandboxRateLimit,
    SandboxRelation,
    SandboxSettings,
    SandboxWebhook,
)

logger = logging.getLogger("outreach.sandbox")

FIRST_NAMES = [
    "Ava",
    "Ben",
    "Chiara",
    "Diego",
    "Emma",
    "Felix",
    "Gita",
    "Hugo",
    "Isla",
    "Jules",
    "Kenji",
    "Lena",
    "Mateo",
    "Nina",
    "Omar",
    "Priya",
]
LAST_NAMES = [
    "Andersen",
    "Bauer",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "García",
    "Hansen",
    "Ito",
    "Jansen",
    "Kowalski",
    "Larsen",
]
COMPANIES = [
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella Labs",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Cyberdyne",
    "Tyrell",
    "Wonka",
]
TITLES = ["CEO", "CTO", "VP Sales", "Head of Growth", "Founder", "Marketing Director", "Head of Operations", "CFO"]
CITIES = ["Paris", "Berlin", "London", "Madrid", "Amsterdam", "Lisbon", "Stockholm", "Milan"]
REPLIES = [
    "Thanks for reaching out! Happy to chat next week.",
    "Not interested at the moment, thanks.",
    "Can you send me more details by email?",
    "Sounds interesting, what does it cost?",
    "Please remove me from your list.",
]
RESEND_BLOCK_DAYS = 21  # LinkedIn refuses a new invitation to someone whose invitation was withdrawn recently
RETRY_DELAYS_SECONDS = [30, 120, 600, 1800, 3600]  # Unipile retries 5 times with growing delays
INVITE_NOTE_LIMIT = 300


class ProviderError(Exception):
    """Answered as Unipile's error body."""

    def __init__(self, status: int, type: str, detail: str = ""):
        self.status, self.type, self.detail = status, type, detail
        super().__init__(f"{status} {type}")


class LateAnswer(Exception):
    """The call took effect but the answer comes after the client's timeout."""


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def _simulated(config: SandboxSettings, minutes: float) -> dt.timedelta:
    return dt.timedelta(seconds=minutes * 60 / max(config.speed_factor, 0.001))


def call_rng(config: SandboxSettings) -> random.Random:
    """A generator per write call, numbered in the database: the same seed and calls replay the same run."""
    SandboxSettings.objects.filter(pk=config.pk).update(calls=F("calls") + 1)
    number = SandboxSettings.objects.values_list("calls", flat=True).get(pk=config.pk)
    return random.Random(f"{config.seed}:{number}")


def _rate_limited(account: SandboxAccount, config: SandboxSettings) -> ProviderError:
    now = timezone.now()
    SandboxRateLimit.objects.create(account=account, at=now)
    if config.rate_limit_burst_seconds and not (account.rate_limited_until and account.rate_limited_until > now):
        until = now + dt.timedelta(seconds=config.rate_limit_burst_seconds)
        SandboxAccount.objects.filter(pk=account.pk).update(rate_limited_until=until)
    return ProviderError(429, "too_many_requests", "Too many requests, slow down.")


def inject_faults(config: SandboxSettings, rng: random.Random, account: SandboxAccount) -> str:
    """Before acting: maybe refuse like an overloaded provider. Returns what to do after acting ('', '500', 'timeout').

    A 429 is about the account: during a burst every write call from it is refused too."""
    roll = rng.random()
    if account.rate_limited_until and account.rate_limited_until > timezone.now():
        raise _rate_limited(account, config)
    if roll < config.rate_429:
        raise _rate_limited(account, config)
    roll -= config.rate_429
    if roll < config.rate_500:
        raise ProviderError(500, "provider_error", "The provider failed to answer.")
    roll -= config.rate_500
    if roll < config.rate_500_after_effect:
        return "500"
    roll -= config.rate_500_after_effect
    if roll < config.rate_timeout:
        return "timeout"
    return ""


def after_effect(outcome: str) -> None:
    """Called by the view once the action is committed."""
    if outcome == "500":
        raise ProviderError(500, "unexpected_error", "Something went wrong after the action.")
    if outcome == "timeout":
        raise LateAnswer()


# --- Population -----------------------------------------------------------------------------


def _provider_id_for(slug: str) -> str:
    return "ACoAA" + hashlib.sha256(slug.encode()).hexdigest()[:22].upper()


def member_for_slug(slug: str, config: SandboxSettings) -> SandboxMember:
    """Everyone exists in the sandbox, except slugs starting with 'ghost': those are not on LinkedIn."""
    slug = slug.lower()
    if slug.startswith("ghost"):
        raise ProviderError(422, "invalid_recipient", f"No member {slug!r}.")
    member = SandboxMember.objects.filter(public_identifier=slug).first()
    if member:
        return member
    rng = random.Random(f"{config.seed}:{slug}")
    parts = [p for p in slug.replace("_", "-").split("-") if p.isalpha()]
    first = parts[0].capitalize() if parts else rng.choice(FIRST_NAMES)
    last = parts[1].capitalize() if len(parts) > 1 else rng.choice(LAST_NAMES)
    try:
        with transaction.atomic():
            return SandboxMember.objects.create(
                provider_id=_provider_id_for(slug),
                public_identifier=slug,
                first_name=first,
                last_name=last,
                headline=f"{rng.choice(TITLES)} at {rng.choice(COMPANIES)}",
                location=rng.choice(CITIES),
            )
    except IntegrityError:  # created by a concurrent call
        return SandboxMember.objects.get(public_identifier=slug)


def people_of(key: str, config: SandboxSettings) -> int:
    """How many people a search, list or post has in the sandbox: from the key, the same every time. A URL
    with "noresults" has none; count=N (a sandbox convention) asks for N."""
    if "noresults" in key:
        return 0
    if match := re.search(r"count=(\d{1,5})", key):
        return int(match.group(1))
    return 60 + int(hashlib.sha256(f"{config.seed}:{key}".encode()).hexdigest()[:6], 16) % 240


def person_at(key: str, n: int, account: SandboxAccount, config: SandboxSettings) -> dict:
    """The n-th person of a search, list or post, as Unipile's search items look (every 10th a connection)."""
    rng = random.Random(f"{config.seed}:{key}:{n}")
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    slug = f"{first}-{last}-s{hashlib.sha256(f'{key}:{n}'.encode()).hexdigest()[:8]}".lower().replace("í", "i")
    member = member_for_slug(slug, config)
    connected = n % 10 == 0
    if connected:
        SandboxRelation.objects.get_or_create(account=account, member=member)
    title, _, company = member.headline.partition(" at ")
    return {
        "object": "SearchResult",
        "type": "PEOPLE",
        "id": member.provider_id,
        "provider_id": member.provider_id,
        "public_identifier": member.public_identifier,
        "name": f"{member.first_name} {member.last_name}",
        "first_name": member.first_name,
        "last_name": member.last_name,
        "headline": member.headline,
        "location": member.location,
        "network_distance": "FIRST_DEGREE" if connected else "SECOND_DEGREE",
        "current_positions": [{"company": company, "role": title}],
    }


def populate(count: int, *, seed: int) -> int:
    rng = random.Random(seed)
    created = 0
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        slug = f"{first}-{last}-{i:05d}".lower().replace("í", "i")
        _, made = SandboxMember.objects.get_or_create(
            public_identifier=slug,
            defaults={
                "provider_id": _provider_id_for(slug),
                "first_name": first,
                "last_name": last,
                "headline": f"{rng.choice(TITLES)} at {rng.choice(COMPANIES)}",
                "location": rng.choice(CITIES),
            },
        )
        created += made
    return created


def account_by_id(account_id: str) -> SandboxAccount:
    if not account_id:
        raise ProviderError(400, "invalid_parameters", "account_id is required.")
    account = SandboxAccount.objects.filter(account_id=account_id).first()
    if account is None:
        raise ProviderError(422, "invalid_account", f"No account {account_id!r}.")
    if account.status not in ("OK", "RECONNECTED", "SYNC_SUCCESS", "CREATION_SUCCESS"):
        raise ProviderError(401, "disconnected_account", f"The account is {account.status}.")
    return account


def member_by_identifier(identifier: str, config: SandboxSettings) -> SandboxMember:
    if identifier.startswith("AC"):
        member = SandboxMember.objects.filter(provider_id=identifier).first()
        if member is None:
            raise ProviderError(422, "invalid_recipient", f"No member {identifier!r}.")
        return member
    return member_for_slug(identifier, config)


def is_connected(account: SandboxAccount, member: SandboxMember) -> bool:
    return SandboxRelation.objects.filter(account=account, member=member).exists()


def _today_start(now: dt.datetime) -> dt.datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


# --- Webhooks -------------------------------------------------------------------------------


def enqueue_webhooks(source: str, event: str, payload: dict, *, account: SandboxAccount | None = None) -> int:
    queued = 0
    for hook in SandboxWebhook.objects.filter(source=source):
        if hook.events and event not in hook.events:
            continue
        body = {**payload, "webhook_name": hook.name} if "AccountStatus" not in payload else payload
        config = SandboxSettings.load()
        copies = 2 if random.random() < config.rate_duplicate_webhook else 1
        for _ in range(copies):
            delay = dt.timedelta(seconds=random.uniform(0, config.webhook_jitter_seconds))
            SandboxDelivery.objects.create(webhook=hook, payload=body, next_attempt_at=timezone.now() + delay)
            queued += 1
    return queued


def message_payload(message: SandboxMessage) -> dict:
    chat, account, member = message.chat, message.chat.account, message.chat.member
    if message.is_sender:
        sender = {
            "attendee_id": f"att_{account.provider_id}",
            "attendee_name": account.name,
            "attendee_provider_id": account.provider_id,
            "attendee_profile_url": "",
            "attendee_specifics": {"member_urn": f"urn:li:member:{account.pk}"},
        }
    else:
        sender = {
            "attendee_id": f"att_{member.provider_id}",
            "attendee_name": str(member),
            "attendee_provider_id": member.provider_id,
            "attendee_profile_url": f"https://www.linkedin.com/in/{member.public_identifier}/",
            "attendee_specifics": {"member_urn": f"urn:li:member:{member.pk}"},
        }
    return {
        "event": "message_received",
        "account_id": account.account_id,
        "account_type": "LINKEDIN",
        "account_info": {"type": "LINKEDIN", "feature": account.feature, "user_id": account.provider_id},
        "chat_id": chat.id,
        "message_id": message.id,
        "message": message.text,
        "timestamp": message.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "sender": sender,
        "attendees": [{"attendee_provider_id": member.provider_id, "attendee_name": str(member)}],
        "attachments": [],
        "is_sender": message.is_sender,
        "provider_chat_id": f"prov-{chat.id}",
        "provider_message_id": f"prov-{message.id}",
        "message_type": message.message_type,
        "is_group": False,
        "subject": None,
    }


def relation_payload(account: SandboxAccount, member: SandboxMember) -> dict:
    return {
        "event": "new_relation",
        "account_id": account.account_id,
        "account_type": "LINKEDIN",
        "user_full_name": str(member),
        "user_provider_id": member.provider_id,
        "user_public_identifier": member.public_identifier,
        "user_profile_url": f"https://www.linkedin.com/in/{member.public_identifier}/",
        "user_picture_url": "",
    }


def account_status_changed(account: SandboxAccount) -> None:
    # The time of the change rides along (our reading; not in Unipile's public material), so that delayed and
    # duplicated deliveries can be put back in order and told apart from a real second change.
    payload = {
        "AccountStatus": {
            "account_id": account.account_id,
            "account_type": "LINKEDIN",
            "message": account.status,
            "timestamp": timezone.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        }
    }
    enqueue_webhooks("account_status", "account_status", payload, account=account)


def hosted_login(*, link, account: SandboxAccount | None, name: str, feature: str, premium: bool):
    """A person logs in on a hosted-auth page: a new account, or the same one working again. Returns the account
    and the status for the notify call."""
    now = timezone.now()
    with transaction.atomic():
        if account is None:
            account_id = new_id("acc")
            account = SandboxAccount.objects.create(
                account_id=account_id,
                name=name,
                provider_id=_provider_id_for(f"account:{account_id}"),
                feature=feature if feature in ("classic", "sales_navigator", "recruiter") else "classic",
                premium=premium,
            )
            status = "CREATION_SUCCESS"
        else:
            SandboxAccount.objects.filter(pk=account.pk).update(status="OK")
            account.status = "OK"
            account_status_changed(account)
            status = "RECONNECTED"
        link.used_at = now
        link.save(update_fields=["used_at"])
    return account, status


# --- Actions --------------------------------------------------------------------------------


def invite(*, account_id: str, provider_id: str, message: str) -> tuple[SandboxInvitation, str]:
    """Returns the invitation and what to answer after acting ('' for success, see inject_faults)."""
    config = SandboxSettings.load()
    account = account_by_id(account_id)
    if not provider_id:
        raise ProviderError(400, "invalid_parameters", "provider_id is required.")
    if len(message) > INVITE_NOTE_LIMIT:
        raise ProviderError(400, "too_many_characters", f"The message is {len(message)} characters; 300 at most.")
    rng = call_rng(config)
    outcome = inject_faults(config, rng, account)
    if rng.random() < config.rate_invalid_recipient:
        raise ProviderError(422, "invalid_recipient", "The recipient cannot be reached.")
    member = member_by_identifier(provider_id, config)
    if is_connected(account, member):
        raise ProviderError(422, "already_connected", "You are already connected.")
    if SandboxInvitation.objects.filter(account=account, member=member, status="PENDING").exists():
        raise ProviderError(422, "already_invited_recently", "An invitation is already pending.")
    now = timezone.now()
    recently_withdrawn = SandboxInvitation.objects.filter(
        account=account,
        member=member,
        status="WITHDRAWN",
        closed_at__gte=now - _simulated(config, RESEND_BLOCK_DAYS * 24 * 60),
    )
    if recently_withdrawn.exists() or rng.random() < config.rate_cannot_resend_yet:
        raise ProviderError(422, "cannot_resend_yet", "You cannot invite this person again yet.")
    sent = SandboxInvitation.objects.filter(account=account)
    if (
        sent.filter(created_at__gte=_today_start(now)).count() >= config.daily_invite_limit
        or sent.filter(created_at__gte=now - dt.timedelta(days=7)).count() >= config.weekly_invite_limit
    ):
        raise ProviderError(422, "limit_exceeded", "The invitation limit is reached.")
    decide_at = None
    if rng.random() < config.accept_probability:
        minutes = rng.uniform(
            config.accept_delay_min_minutes, max(config.accept_delay_min_minutes, config.accept_delay_max_minutes)
        )
        decide_at = now + _simulated(config, minutes)
    invitation = SandboxInvitation.objects.create(
        id=new_id("inv"), account=account, member=member, message=message, decide_at=decide_at
    )
    return invitation, outcome


@transaction.atomic
def withdraw(*, account_id: str, invitation_id: str) -> None:
    account = account_by_id(account_id)
    updated = SandboxInvitation.objects.filter(pk=invitation_id, account=account, status="PENDING").update(
        status="WITHDRAWN", closed_at=timezone.now()
    )
    if not updated:
        raise ProviderError(404, "resource_not_found", f"No pending invitation {invitation_id!r}.")


def _schedule_reply(config: SandboxSettings, rng: random.Random, message: SandboxMessage) -> None:
    if message.chat.messages.filter(reply_due_at__isnull=False).exists():
        return  # one answer at a time
    if rng.random() < config.reply_probability:
        minutes = rng.uniform(
            config.reply_delay_min_minutes, max(config.reply_delay_min_minutes, config.reply_delay_max_minutes)
        )
        message.reply_due_at = message.created_at + _simulated(config, minutes)
        message.save(update_fields=["reply_due_at"])


def _sent_today(account: SandboxAccount, now: dt.datetime) -> int:
    return SandboxMessage.objects.filter(
        chat__account=account, is_sender=True, created_at__gte=_today_start(now)
    ).count()


def start_chat(*, account_id: str, attendee_ids: list[str], text: str, inmail: bool) -> tuple[SandboxMessage, str]:
    config = SandboxSettings.load()
    account = account_by_id(account_id)
    if len(attendee_ids) != 1:
        raise ProviderError(400, "invalid_parameters", "Exactly one attendees_ids is supported.")
    if not text.strip():
        raise ProviderError(400, "invalid_parameters", "text is required.")
    rng = call_rng(config)
    outcome = inject_faults(config, rng, account)
    member = member_by_identifier(attendee_ids[0], config)
    if not inmail and not is_connected(account, member):
        raise ProviderError(422, "no_connection_with_recipient", "You are not connected to this person.")
    if inmail and not member.can_send_inmail:
        raise ProviderError(422, "not_allowed_inmail", "This person does not accept InMail.")
    if _sent_today(account, timezone.now()) >= config.daily_message_limit:
        raise ProviderError(422, "limit_exceeded", "The message limit is reached.")
    with transaction.atomic():
        chat, _ = SandboxChat.objects.get_or_create(account=account, member=member, defaults={"id": new_id("chat")})
        message = SandboxMessage.objects.create(
            id=new_id("msg"), chat=chat, text=text, is_sender=True, message_type="INMAIL" if inmail else "MESSAGE"
        )
        _schedule_reply(config, rng, message)
        enqueue_webhooks("messaging", "message_received", message_payload(message), account=account)
    return message, outcome


def send_in_chat(*, chat_id: str, text: str) -> tuple[SandboxMessage, str]:
    config = SandboxSettings.load()
    chat = SandboxChat.objects.select_related("account", "member").filter(pk=chat_id).first()
    if chat is None:
        raise ProviderError(404, "resource_not_found", f"No chat {chat_id!r}.")
    account_by_id(chat.account.account_id)
    if not text.strip():
        raise ProviderError(400, "invalid_parameters", "text is required.")
    rng = call_rng(config)
    outcome = inject_faults(config, rng, chat.account)
    if _sent_today(chat.account, timezone.now()) >= config.daily_message_limit:
        raise ProviderError(422, "limit_exceeded", "The message limit is reached.")
    with transaction.atomic():
        message = SandboxMessage.objects.create(id=new_id("msg"), chat=chat, text=text, is_sender=True)
        _schedule_reply(config, rng, message)
        enqueue_webhooks("messaging", "message_received", message_payload(message), account=chat.account)
    return message, outcome


# --- Time passes ----------------------------------------------------------------------------


def simulate(now: dt.datetime | None = None) -> dict:
    """People act: due invitations are accepted, due replies are written. Returns counts."""
    now = now or timezone.now()
    config = SandboxSettings.load()
    accepted = replied = 0
    due = SandboxInvitation.objects.filter(status="PENDING", decide_at__lte=now).select_related("account", "member")
    for invitation in due[:500]:
        with transaction.atomic():
            if not SandboxInvitation.objects.filter(pk=invitation.pk, status="PENDING").update(
                status="ACCEPTED", closed_at=now
            ):
                continue
            SandboxRelation.objects.get_or_create(
                account=invitation.account, member=invitation.member, defaults={"created_at": now}
            )
            enqueue_webhooks("users", "new_relation", relation_payload(invitation.account, invitation.member))
            accepted += 1
    for message in SandboxMessage.objects.filter(reply_due_at__lte=now).select_related("chat__account", "chat__member")[
        :500
    ]:
        with transaction.atomic():
            if not SandboxMessage.objects.filter(pk=message.pk, reply_due_at__isnull=False).update(reply_due_at=None):
                continue
            rng = random.Random(f"{config.seed}:reply:{message.pk}")
            reply = SandboxMessage.objects.create(
                id=new_id("msg"), chat=message.chat, text=rng.choice(REPLIES), is_sender=False, created_at=now
            )
            enqueue_webhooks("messaging", "message_received", message_payload(reply), account=message.chat.account)
            replied += 1
    return {"accepted": accepted, "replied": replied}


def deliver_webhooks(
    now: dt.datetime | None = None, *, session: requests.Session | None = None, limit: int = 200
) -> dict:
    """Call the registered URLs; a non-200 answer is retried later with growing delays, 5 times."""
    now = now or timezone.now()
    http = session or requests.Session()
    delivered = failed = 0
    pending = SandboxDelivery.objects.filter(delivered_at__isnull=True, gave_up=False, next_attempt_at__lte=now)
    for delivery in pending.select_related("webhook").order_by("id")[:limit]:
        headers = {h["key"]: h["value"] for h in delivery.webhook.headers if isinstance(h, dict) and "key" in h}
        headers.setdefault("Content-Type", "application/json")
        try:
            response = http.post(delivery.webhook.request_url, json=delivery.payload, headers=headers, timeout=(3, 30))
            ok, result = response.status_code == 200, f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            ok, result = False, f"{exc.__class__.__name__}"
        delivery.attempts += 1
        delivery.last_result = result
        if ok:
            delivery.delivered_at = now
            delivered += 1
        else:
            failed += 1
            retry = delivery.attempts - 1
            if retry >= len(RETRY_DELAYS_SECONDS):
                delivery.gave_up = True
            else:
                delivery.next_attempt_at = now + dt.timedelta(seconds=RETRY_DELAYS_SECONDS[retry])
        delivery.save(update_fields=["attempts", "last_result", "delivered_at", "gave_up", "next_attempt_at"])
    return {"delivered": delivered, "failed": failed}


# --- Engagement ---------------------------------------------------------------------------------

SKILLS = ("Leadership", "Strategy", "Sales", "Marketing", "Python")


def posts_of(member: SandboxMember) -> list[str]:
    """Every member has posted, except one in five (deterministic by member): a like then has nothing to like."""
    if int(member.provider_id[-2:], 36) % 5 == 0:
        return []
    return [f"urn:li:activity:{member.provider_id}-2", f"urn:li:activity:{member.provider_id}-1"]


def skills_of(account: SandboxAccount, member: SandboxMember) -> list[dict]:
    endorsed = set(
        SandboxEngagement.objects.filter(account=account, member=member, kind="endorse").values_list(
            "target", flat=True
        )
    )
    return [
        {
            "name": name,
            "endorsement_id": f"{member.provider_id}-skill-{i}",
            "endorsed": f"{member.provider_id}-skill-{i}" in endorsed,
        }
        for i, name in enumerate(SKILLS[: 1 + int(member.provider_id[-1:], 36) % len(SKILLS)])
    ]


@transaction.atomic
def engage(*, account_id: str, identifier: str, kind: str, target: str = "") -> str:
    """Record a follow, like or endorsement (idempotent); returns what to answer after acting."""
    config = SandboxSettings.load()
    account = account_by_id(account_id)
    if not identifier:
        raise ProviderError(400, "invalid_parameters", "The user is required.")
    member = member_by_identifier(identifier, config)
    outcome = inject_faults(config, call_rng(config), account)
    SandboxEngagement.objects.get_or_create(account=account, member=member, kind=kind, target=target)
    return outcome
