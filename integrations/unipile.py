"""The one place that talks HTTP to Unipile (or to the built-in sandbox, which speaks the same API).

Reads (GET) are retried on 429/5xx/timeouts with exponential backoff and jitter. Writes (POST,
DELETE) are never retried here: a retried invitation or message can reach a person twice, so the
engine decides what to do after checking with the provider.
"""

import datetime as dt
import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

logger = logging.getLogger("outreach.unipile")

INVITE_NOTE_LIMIT = 300
DEFAULT_TIMEOUT = (5, 30)  # connect, read


# --- Errors ---------------------------------------------------------------------------------


class UnipileError(Exception):
    """An error answer from Unipile, or no usable answer at all."""

    def __init__(
        self,
        detail: str = "",
        *,
        status: int | None = None,
        type: str = "",
        title: str = "",
        retry_after: float | None = None,
    ):
        self.status, self.type, self.title, self.detail, self.retry_after = status, type, title, detail, retry_after
        super().__init__(self.describe())

    def describe(self) -> str:
        parts = [str(self.status) if self.status else "", self.type, self.detail or self.title]
        return " ".join(p for p in parts if p) or self.__class__.__name__


class RateLimited(UnipileError):
    """429: slow down; retry_after (seconds) when the provider said."""


class ProviderUnavailable(UnipileError):
    """5xx, timeouts and connection errors: the call may or may not have taken effect."""


class AccountProblem(UnipileError):
    """The sender account cannot act: disconnected, checkpoint, restricted, missing credentials."""


class LimitReached(UnipileError):
    """The account hit a LinkedIn limit for now."""


class RecipientProblem(UnipileError):
    """This person cannot be reached this way: permanent for the lead."""


class AlreadyDone(UnipileError):
    """The action was already performed (e.g. invited recently): count it as done."""


class BadRequest(UnipileError):
    """Our request was wrong (400s); fix the input, do not retry."""


class NotFound(BadRequest):
    """404: the object (invitation, chat) does not exist there."""


class InvalidResponse(UnipileError):
    """A 2xx answer that is not JSON or lacks the fields we need."""


class NotSupported(UnipileError):
    """An unconfirmed call (UNIPILE.md) answered 400 or 404: the provider does not do this here."""


ERROR_TYPES: dict[str, type[UnipileError]] = {
    "too_many_requests": RateLimited,
    "provider_error": ProviderUnavailable,
    "unexpected_error": ProviderUnavailable,
    "disconnected_account": AccountProblem,
    "missing_credentials": AccountProblem,
    "checkpoint_error": AccountProblem,
    "account_restricted": AccountProblem,
    "feature_not_subscribed": AccountProblem,
    "invalid_account": AccountProblem,
    "insufficient_credits": LimitReached,
    "limit_exceeded": LimitReached,
    "cannot_resend_yet": LimitReached,
    "cannot_resend_within_24hrs": LimitReached,
    "invalid_recipient": RecipientProblem,
    "no_connection_with_recipient": RecipientProblem,
    "blocked_recipient": RecipientProblem,
    "user_unreachable": RecipientProblem,
    "cannot_invite_attendee": RecipientProblem,
    "not_allowed_inmail": RecipientProblem,
    "cant_send_message": RecipientProblem,
    "already_invited_recently": AlreadyDone,
    "action_already_performed": AlreadyDone,
    "already_connected": AlreadyDone,
    "invalid_parameters": BadRequest,
    "too_many_characters": BadRequest,
    "limit_too_high": BadRequest,
}


def _class_for_status(status: int) -> type[UnipileError]:
    if status == 429:
        return RateLimited
    if status >= 500:
        return ProviderUnavailable
    if status in (401, 403):
        return AccountProblem
    if status == 404:
        return NotFound
    if status == 422:
        return RecipientProblem
    return BadRequest


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_from_response(response: requests.Response) -> UnipileError:
    """Map an error answer to its typed exception; an unknown type falls into its status class."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    error_type = str(body.get("type") or "").removeprefix("errors/")
    cls = ERROR_TYPES.get(error_type) or _class_for_status(response.status_code)
    if response.status_code == 429:
        cls = RateLimited
    elif response.status_code >= 500 and not issubclass(cls, ProviderUnavailable):
        cls = ProviderUnavailable
    return cls(
        str(body.get("detail") or body.get("message") or response.reason or ""),
        status=response.status_code,
        type=error_type,
        title=str(body.get("title") or ""),
        retry_after=_retry_after(response),
    )


# --- Results --------------------------------------------------------------------------------


def _field(data: dict, name: str, kind=str, *, required=True, default=None):
    value = data.get(name, default)
    if value is None:
        if required:
            raise InvalidResponse(f"answer lacks {name!r}")
        return default
    if kind is str:
        return str(value)
    if kind is bool:
        return bool(value) if not isinstance(value, str) else value.lower() in ("1", "true")
    if kind is int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InvalidResponse(f"{name!r} is not a number: {value!r}") from None
    return value


def parse_timestamp(value) -> dt.datetime | None:
    """Unipile sends ISO 8601 strings or epoch milliseconds depending on the endpoint."""
    if value in (None, "") or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
            return dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):  # not a time, or one outside the calendar
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Profile:
    provider_id: str
    public_identifier: str
    first_name: str
    last_name: str
    headline: str
    location: str
    network_distance: str
    is_relationship: bool
    invitation_type: str  # SENT / RECEIVED / ""
    invitation_status: str  # PENDING / IGNORED / WITHDRAWN / ""
    can_send_inmail: bool

    @property
    def is_connected(self) -> bool:
        return self.is_relationship or self.network_distance == "FIRST_DEGREE"

    @property
    def has_pending_invitation(self) -> bool:
        return self.invitation_type == "SENT" and self.invitation_status == "PENDING"

    @classmethod
    def parse(cls, data: dict) -> "Profile":
        invitation = data.get("invitation") or {}
        if not isinstance(invitation, dict):
            invitation = {}
        return cls(
            provider_id=_field(data, "provider_id"),
            public_identifier=_field(data, "public_identifier", required=False, default=""),
            first_name=_field(data, "first_name", required=False, default=""),
            last_name=_field(data, "last_name", required=False, default=""),
            headline=_field(data, "headline", required=False, default=""),
            location=_field(data, "location", required=False, default=""),
            network_distance=_field(data, "network_distance", required=False, default=""),
            is_relationship=_field(data, "is_relationship", bool, required=False, default=False),
            invitation_type=str(invitation.get("type") or ""),
            invitation_status=str(invitation.get("status") or ""),
            can_send_inmail=_field(data, "can_send_inmail", bool, required=False, default=False),
        )


@dataclass(frozen=True)
class Skill:
    name: str
    endorsement_id: str


def endorsable_skill(data: dict) -> Skill | None:
    """The first listed skill we have not endorsed yet, from a profile read with its skills section."""
    skills = data.get("skills")
    if not isinstance(skills, list):
        return None
    for item in skills:
        if not isinstance(item, dict) or item.get("endorsed") is True:
            continue
        endorsement_id = str(item.get("endorsement_id") or item.get("id") or "")
        if endorsement_id:
            return Skill(name=str(item.get("name") or ""), endorsement_id=endorsement_id)
    return None


@dataclass(frozen=True)
class InvitationSent:
    invitation_id: str
    usage: int | None

    @classmethod
    def parse(cls, data: dict) -> "InvitationSent":
        return cls(invitation_id=_field(data, "invitation_id"), usage=_field(data, "usage", int, required=False))


@dataclass(frozen=True)
class SentInvitation:
    id: str
    invited_user_id: str
    invited_user_public_id: str
    sent_at: dt.datetime | None
    text: str

    @classmethod
    def parse(cls, data: dict) -> "SentInvitation":
        return cls(
            id=_field(data, "id"),
            invited_user_id=_field(data, "invited_user_id", required=False, default=""),
            invited_user_public_id=_field(data, "invited_user_public_id", required=False, default=""),
            sent_at=parse_timestamp(data.get("parsed_datetime")),
            text=_field(data, "invitation_text", required=False, default=""),
        )


@dataclass(frozen=True)
class Relation:
    member_id: str
    public_identifier: str
    first_name: str
    last_name: str
    headline: str
    created_at: dt.datetime | None

    @classmethod
    def parse(cls, data: dict) -> "Relation":
        return cls(
            member_id=_field(data, "member_id"),
            public_identifier=_field(data, "public_identifier", required=False, default=""),
            first_name=_field(data, "first_name", required=False, default=""),
            last_name=_field(data, "last_name", required=False, default=""),
            headline=_field(data, "headline", required=False, default=""),
            created_at=parse_timestamp(data.get("created_at")),
        )


@dataclass(frozen=True)
class ChatStarted:
    chat_id: str
    message_id: str

    @classmethod
    def parse(cls, data: dict) -> "ChatStarted":
        return cls(chat_id=_field(data, "chat_id"), message_id=_field(data, "message_id", required=False, default=""))


@dataclass(frozen=True)
class MessageSent:
    message_id: str

    @classmethod
    def parse(cls, data: dict) -> "MessageSent":
        return cls(message_id=_field(data, "message_id"))


@dataclass(frozen=True)
class Chat:
    id: str
    attendee_provider_id: str
    unread_count: int
    timestamp: dt.datetime | None

    @classmethod
    def parse(cls, data: dict) -> "Chat":
        return cls(
            id=_field(data, "id"),
            attendee_provider_id=_field(data, "attendee_provider_id", required=False, default=""),
            unread_count=_field(data, "unread_count", int, required=False, default=0),
            timestamp=parse_timestamp(data.get("timestamp")),
        )


@dataclass(frozen=True)
class ChatMessage:
    id: str
    chat_id: str
    text: str
    is_sender: bool
    sender_id: str
    message_type: str
    timestamp: dt.datetime | None

    @classmethod
    def parse(cls, data: dict) -> "ChatMessage":
        return cls(
            id=_field(data, "id"),
            chat_id=_field(data, "chat_id", required=False, default=""),
            text=_field(data, "text", required=False, default=""),
            is_sender=_field(data, "is_sender", bool, required=False, default=False),
            sender_id=_field(data, "sender_id", required=False, default=""),
            message_type=_field(data, "message_type", required=False, default="MESSAGE"),
            timestamp=parse_timestamp(data.get("timestamp")),
        )


def _premium_features(im: dict) -> list[str] | None:
    """Unipile's premium features of a LinkedIn account (premiumFeatures; unconfirmed spelling variants read
    too). None when the answer says nothing about it."""
    for key in ("premiumFeatures", "premium_features"):
        value = im.get(key)
        if isinstance(value, list):
            return [str(v).lower() for v in value]
    return None


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    type: str
    status: str
    own_provider_id: str
    kind: str = ""  # classic / sales_navigator / recruiter; "" when Unipile did not say
    is_premium: bool | None = None

    @classmethod
    def parse(cls, data: dict) -> "Account":
        params = data.get("connection_params") or {}
        im = params.get("im") if isinstance(params, dict) else {}
        im = im if isinstance(im, dict) else {}
        sources = data.get("sources") or []
        status = ""
        if isinstance(sources, list) and sources and isinstance(sources[0], dict):
            status = str(sources[0].get("status") or "")
        features = _premium_features(im)
        kind, premium = "", None
        if features is not None:
            kind = (
                "recruiter"
                if "recruiter" in features
                else "sales_navigator"
                if "sales_navigator" in features
                else "classic"
            )
            premium = bool(features) or bool(im.get("premiumId"))
        elif "premiumId" in im:
            premium = bool(im.get("premiumId"))
        return cls(
            id=_field(data, "id"),
            name=_field(data, "name", required=False, default=""),
            type=_field(data, "type", required=False, default=""),
            status=status or str(data.get("status") or ""),
            own_provider_id=str(im.get("id") or ""),
            kind=kind,
            is_premium=premium,
        )


@dataclass(frozen=True)
class Person:
    """A person in a search, a lead list or a post's engagers (field names vary by endpoint: read defensively)."""

    provider_id: str
    public_identifier: str
    first_name: str
    last_name: str
    headline: str
    location: str
    network_distance: str  # FIRST_DEGREE, SECOND_DEGREE, THIRD_DEGREE, OUT_OF_NETWORK or ""
    company: str
    title: str

    @property
    def is_first_degree(self) -> bool:
        return self.network_distance in ("FIRST_DEGREE", "DISTANCE_1")

    @classmethod
    def parse(cls, data: dict) -> "Person":
        author = data.get("author") if isinstance(data.get("author"), dict) else None
        if author:  # comments and reactions carry the person under "author"
            data = author
        name = str(data.get("name") or "").strip()
        first, _, last = name.partition(" ")
        provider_id = str(data.get("provider_id") or data.get("member_id") or data.get("id") or "")
        if not provider_id:
            raise InvalidResponse("a person without an id")
        position = data.get("current_positions") or []
        current = position[0] if isinstance(position, list) and position and isinstance(position[0], dict) else {}
        return cls(
            provider_id=provider_id,
            public_identifier=str(data.get("public_identifier") or ""),
            first_name=str(data.get("first_name") or first),
            last_name=str(data.get("last_name") or last),
            headline=str(data.get("headline") or ""),
            location=str(data.get("location") or ""),
            network_distance=str(data.get("network_distance") or ""),
            company=str(current.get("company") or ""),
            title=str(current.get("role") or ""),
        )


@dataclass(frozen=True)
class PeoplePage:
    people: list[Person]
    cursor: str  # "" at the end


@dataclass(frozen=True)
class HostedLink:
    url: str

    @classmethod
    def parse(cls, data: dict) -> "HostedLink":
        url = _field(data, "url")
        if not url.startswith(("https://", "http://")):
            raise InvalidResponse(f"the hosted-auth link is not a web address: {url[:80]!r}")
        return cls(url=url)


def parse_inmail_credits(data: dict) -> int | None:
    """InMail credits from an answer whose shape is not confirmed: the first whole number under a known name,
    at the top or one level down (premium / sales_navigator / recruiter balances). None: the answer does not say."""
    names = ("credits", "balance", "remaining", "inmail_credits", "premium", "sales_navigator", "recruiter")
    for scope in (data, *(v for v in data.values() if isinstance(v, dict))):
        for name in names:
            value = scope.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(value, 0)
    return None


@dataclass(frozen=True)
class Webhook:
    id: str
    source: str
    request_url: str
    name: str
    headers: dict

    @classmethod
    def parse(cls, data: dict) -> "Webhook":
        headers = data.get("headers") or []
        if isinstance(headers, list):
            headers = {h.get("key"): h.get("value") for h in headers if isinstance(h, dict)}
        return cls(
            id=_field(data, "id"),
            source=_field(data, "source", required=False, default=""),
            request_url=_field(
                data, "request_url", required=False, default=_field(data, "url", required=False, default="")
            ),
            name=_field(data, "name", required=False, default=""),
            headers=headers if isinstance(headers, dict) else {},
        )


# --- The client -----------------------------------------------------------------------------


class UnipileClient:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
        read_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not base_url:
            raise ValueError("Unipile is not configured: set UNIPILE_DSN and UNIPILE_API_KEY, or UNIPILE_SANDBOX=true.")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.read_retries = read_retries
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.sleep = sleep
        self.session = session or requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update({"X-API-KEY": api_key, "accept": "application/json"})

    @classmethod
    def from_settings(cls, **kwargs) -> "UnipileClient":
        if settings.UNIPILE_SANDBOX:
            return cls(
                base_url=f"{settings.PUBLIC_BASE_URL}/sandbox/unipile/api/v1", api_key=sandbox_api_key(), **kwargs
            )
        if not settings.UNIPILE_DSN:
            return cls(base_url="", api_key="")
        scheme, _, host = settings.UNIPILE_DSN.rstrip("/").rpartition("://")
        return cls(base_url=f"{scheme.lower() or 'https'}://{host}/api/v1", api_key=settings.UNIPILE_API_KEY, **kwargs)

    # -- transport --

    def _backoff(self, attempt: int, error: UnipileError) -> float:
        if error.retry_after is not None:
            return min(error.retry_after, self.backoff_cap)
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))  # full jitter

    def _send_once(
        self, method: str, path: str, *, endpoint: str, account_id: str = "", url_override: str = "", **kwargs
    ) -> dict:
        url = url_override or self.base_url + path
        started = time.monotonic()
        status: int | str = "-"
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            status = response.status_code
        except requests.Timeout as exc:
            status = "timeout"
            raise ProviderUnavailable(f"timed out: {exc.__class__.__name__}") from None
        except requests.RequestException as exc:
            status = "connection-error"
            raise ProviderUnavailable(f"connection failed: {exc.__class__.__name__}") from None
        finally:
            logger.info(
                "unipile %s %s -> %s in %d ms",
                method,
                endpoint,
                status,
                (time.monotonic() - started) * 1000,
                extra={"account_id": account_id, "endpoint": endpoint, "status": status},
            )
        if response.status_code >= 400:
            raise error_from_response(response)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            body = response.json()
        except ValueError:
            raise InvalidResponse(f"answer to {endpoint} is not JSON", status=response.status_code) from None
        if not isinstance(body, dict):
            raise InvalidResponse(f"answer to {endpoint} is not a JSON object", status=response.status_code)
        return body

    def _request(self, method: str, path: str, *, endpoint: str, account_id: str = "", **kwargs) -> dict:
        attempt = 0
        while True:
            try:
                return self._send_once(method, path, endpoint=endpoint, account_id=account_id, **kwargs)
            except (RateLimited, ProviderUnavailable) as error:
                if method != "GET" or attempt >= self.read_retries:
                    raise
                self.sleep(self._backoff(attempt, error))
                attempt += 1

    def _pages(self, path: str, *, endpoint: str, params: dict, parse, account_id: str = "") -> Iterator:
        params = {k: v for k, v in params.items() if v not in (None, "")}
        while True:
            body = self._request("GET", path, endpoint=endpoint, account_id=account_id, params=params)
            items = body.get("items")
            if not isinstance(items, list):
                raise InvalidResponse(f"answer to {endpoint} has no items list")
            for item in items:
                if not isinstance(item, dict):
                    raise InvalidResponse(f"an item of {endpoint} is not an object")
                yield parse(item)
            cursor = body.get("cursor")
            if not cursor or not items:
                return
            params = {**params, "cursor": cursor}

    # -- users --

    def get_profile(self, *, account_id: str, identifier: str, visit: bool = False) -> Profile:
        if not identifier:
            raise BadRequest("a profile lookup needs a provider id or a public identifier")
        params = {"account_id": account_id}
        if visit:
            params["notify"] = "true"
        body = self._request(
            "GET",
            f"/users/{requests.utils.quote(identifier, safe='')}",
            endpoint="users.get",
            account_id=account_id,
            params=params,
        )
        return Profile.parse(body)

    def send_invitation(self, *, account_id: str, provider_id: str, message: str = "") -> InvitationSent:
        if len(message) > INVITE_NOTE_LIMIT:
            raise BadRequest(
                f"the invitation note is {len(message)} characters; LinkedIn allows {INVITE_NOTE_LIMIT}",
                type="too_many_characters",
            )
        if not provider_id:
            raise BadRequest("an invitation needs the member's provider id (ACo…)")
        payload: dict[str, Any] = {"account_id": account_id, "provider_id": provider_id}
        if message:
            payload["message"] = message
        return InvitationSent.parse(
            self._request("POST", "/users/invite", endpoint="users.invite", account_id=account_id, json=payload)
        )

    def list_sent_invitations(self, *, account_id: str, page_size: int = 100) -> Iterator[SentInvitation]:
        return self._pages(
            "/users/invite/sent",
            endpoint="users.invite.sent",
            account_id=account_id,
            params={"account_id": account_id, "limit": min(max(page_size, 1), 250)},
            parse=SentInvitation.parse,
        )

    def withdraw_invitation(self, *, account_id: str, invitation_id: str) -> None:
        self._request(
            "DELETE",
            f"/users/invite/sent/{requests.utils.quote(invitation_id, safe='')}",
            endpoint="users.invite.withdraw",
            account_id=account_id,
            params={"account_id": account_id},
        )

    # -- engagement (UNIPILE.md "Engagement actions": unconfirmed calls, a 400 or 404 means NotSupported) --

    def _unconfirmed(self, method: str, path: str, *, endpoint: str, account_id: str, **kwargs) -> dict:
        try:
            return self._request(method, path, endpoint=endpoint, account_id=account_id, **kwargs)
        except BadRequest as exc:
            raise NotSupported(f"{endpoint} answered {exc.status or 400} ({exc.type or 'no type'})") from None

    @property
    def _v2_root(self) -> str:
        return self.base_url.removesuffix("/api/v1") + "/v2"

    def follow(self, *, account_id: str, provider_id: str) -> None:
        """v2 `POST /v2/{account}/users/me/follow/{user_id}` (no v1 call is confirmed)."""
        quote = requests.utils.quote
        url = f"{self._v2_root}/{quote(account_id, safe='')}/users/me/follow/{quote(provider_id, safe='')}"
        self._unconfirmed("POST", "", endpoint="users.follow", account_id=account_id, url_override=url)

    def latest_post(self, *, account_id: str, identifier: str) -> str | None:
        """The id of the person's most recent post, None when they have none."""
        body = self._unconfirmed(
            "GET",
            f"/users/{requests.utils.quote(identifier, safe='')}/posts",
            endpoint="users.posts",
            account_id=account_id,
            params={"account_id": account_id, "limit": 1},
        )
        items = body.get("items")
        if not isinstance(items, list):
            raise InvalidResponse("answer to users.posts has no items list")
        for item in items:
            if isinstance(item, dict) and (post_id := str(item.get("social_id") or item.get("id") or "")):
                return post_id
        return None

    def react_to_post(self, *, account_id: str, post_id: str, reaction: str = "like") -> None:
        self._unconfirmed(
            "POST",
            "/posts/reaction",
            endpoint="posts.reaction",
            account_id=account_id,
            json={"account_id": account_id, "post_id": post_id, "reaction_type": reaction},
        )

    def endorsable_skill(self, *, account_id: str, identifier: str) -> Skill | None:
        body = self._unconfirmed(
            "GET",
            f"/users/{requests.utils.quote(identifier, safe='')}",
            endpoint="users.get.skills",
            account_id=account_id,
            params={"account_id": account_id, "linkedin_sections": "skills"},
        )
        return endorsable_skill(body)

    def endorse(self, *, account_id: str, provider_id: str, skill: Skill) -> None:
        self._unconfirmed(
            "POST",
            "/linkedin/endorse",
            endpoint="linkedin.endorse",
            account_id=account_id,
            json={"account_id": account_id, "user_id": provider_id, "endorsement_id": skill.endorsement_id},
        )

    def list_relations(self, *, account_id: str, page_size: int = 200) -> Iterator[Relation]:
        return self._pages(
            "/users/relations",
            endpoint="users.relations",
            account_id=account_id,
            params={"account_id": account_id, "limit": min(max(page_size, 1), 1000)},
            parse=Relation.parse,
        )

    # -- messaging --

    def start_chat(
        self, *, account_id: str, attendee_provider_id: str, text: str, api: str = "classic", inmail: bool = False
    ) -> ChatStarted:
        if not text.strip():
            raise BadRequest("a message needs a text")
        fields = [("account_id", account_id), ("attendees_ids", attendee_provider_id), ("text", text)]
        if api != "classic" or inmail:
            fields.append(("linkedin[api]", api))
        if inmail:
            fields.append(("linkedin[inmail]", "true"))
        # files= makes requests build a multipart body with its own boundary.
        body = self._request(
            "POST", "/chats", endpoint="chats.start", account_id=account_id, files=[(k, (None, v)) for k, v in fields]
        )
        return ChatStarted.parse(body)

    def send_message(self, *, account_id: str, chat_id: str, text: str) -> MessageSent:
        if not text.strip():
            raise BadRequest("a message needs a text")
        body = self._request(
            "POST",
            f"/chats/{requests.utils.quote(chat_id, safe='')}/messages",
            endpoint="chats.messages.send",
            account_id=account_id,
            files=[("text", (None, text))],
        )
        return MessageSent.parse(body)

    def list_chats(self, *, account_id: str, after: dt.datetime | None = None, page_size: int = 100) -> Iterator[Chat]:
        return self._pages(
            "/chats",
            endpoint="chats.list",
            account_id=account_id,
            params={"account_id": account_id, "after": _iso(after), "limit": min(max(page_size, 1), 250)},
            parse=Chat.parse,
        )

    def list_chat_messages(
        self, *, chat_id: str, after: dt.datetime | None = None, page_size: int = 100, account_id: str = ""
    ) -> Iterator[ChatMessage]:
        return self._pages(
            f"/chats/{requests.utils.quote(chat_id, safe='')}/messages",
            endpoint="chats.messages.list",
            account_id=account_id,
            params={"after": _iso(after), "limit": min(max(page_size, 1), 250)},
            parse=ChatMessage.parse,
        )

    def list_messages(
        self, *, account_id: str, after: dt.datetime | None = None, page_size: int = 100
    ) -> Iterator[ChatMessage]:
        return self._pages(
            "/messages",
            endpoint="messages.list",
            account_id=account_id,
            params={"account_id": account_id, "after": _iso(after), "limit": min(max(page_size, 1), 250)},
            parse=ChatMessage.parse,
        )

    # -- accounts and webhooks --

    def get_account(self, *, account_id: str) -> Account:
        """One account as Unipile has it. NotFound when the id is not one of ours there."""
        if not account_id.strip():
            raise BadRequest("an account id is needed")
        body = self._request(
            "GET",
            f"/accounts/{requests.utils.quote(account_id, safe='')}",
            endpoint="accounts.get",
            account_id=account_id,
        )
        return Account.parse(body)

    def request_hosted_link(
        self,
        *,
        kind: str,
        name: str,
        notify_url: str,
        expires_at: dt.datetime,
        success_url: str,
        failure_url: str,
        reconnect_account_id: str = "",
    ) -> HostedLink:
        """A hosted-auth page for connecting (kind "create") or reconnecting an account. Several field names are
        unconfirmed (UNIPILE.md, "Hosted auth"): they are sent as documented there, and the answer read for `url`."""
        payload: dict[str, Any] = {
            "type": kind,
            "providers": ["LINKEDIN"],
            "api_url": self.base_url.removesuffix("/api/v1"),
            "expiresOn": _iso(expires_at),
            "name": name,
            "notify_url": notify_url,
            "success_redirect_url": success_url,
            "failure_redirect_url": failure_url,
        }
        if reconnect_account_id:
            payload["reconnect_account"] = reconnect_account_id
        body = self._request("POST", "/hosted/accounts/link", endpoint="hosted.link", json=payload)
        logger.info("hosted-auth link answer fields: %s", sorted(body))
        return HostedLink.parse(body)

    def inmail_credits(self, *, account_id: str) -> int | None:
        """The account's InMail credits, or None when the provider cannot tell (the call is unconfirmed: a 404 or
        400 on it means "unknown", never an error)."""
        try:
            body = self._request(
                "GET",
                "/linkedin/inmail_balance",
                endpoint="linkedin.inmail_balance",
                account_id=account_id,
                params={"account_id": account_id},
            )
        except BadRequest:
            return None
        return parse_inmail_credits(body)

    # -- lead sources --

    def _people_page(self, body: dict, endpoint: str) -> PeoplePage:
        items = body.get("items")
        if not isinstance(items, list):
            raise InvalidResponse(f"answer to {endpoint} has no items list")
        people = [Person.parse(item) for item in items if isinstance(item, dict)]
        return PeoplePage(people=people, cursor=str(body.get("cursor") or ""))

    def search_people(self, *, account_id: str, api: str, url: str, cursor: str = "", limit: int = 50) -> PeoplePage:
        """One page of a people search given by its LinkedIn URL (classic or Sales Navigator; a Sales Navigator
        lead list's URL too). POST /linkedin/search (UNIPILE.md: seen in client code, not on an official page)."""
        params = {"account_id": account_id, "limit": min(max(limit, 1), 100)}
        if cursor:
            params["cursor"] = cursor
        body = self._request(
            "POST",
            "/linkedin/search",
            endpoint="linkedin.search",
            account_id=account_id,
            params=params,
            json={"api": api, "category": "people", "url": url},
        )
        return self._people_page(body, "linkedin.search")

    def post_engagers(
        self, *, account_id: str, post_id: str, kind: str, cursor: str = "", limit: int = 50
    ) -> PeoplePage:
        """One page of a post's reactions or comments (kind: "reactions" or "comments")."""
        params = {"account_id": account_id, "limit": min(max(limit, 1), 100)}
        if cursor:
            params["cursor"] = cursor
        body = self._request(
            "GET",
            f"/posts/{requests.utils.quote(post_id, safe='')}/{kind}",
            endpoint=f"posts.{kind}",
            account_id=account_id,
            params=params,
        )
        return self._people_page(body, f"posts.{kind}")

    def list_accounts(self) -> Iterator[Account]:
        return self._pages("/accounts", endpoint="accounts.list", params={"limit": 100}, parse=Account.parse)

    def create_webhook(
        self, *, source: str, request_url: str, name: str, secret: str, events: list[str] | None = None
    ) -> str:
        payload: dict[str, Any] = {
            "source": source,
            "request_url": request_url,
            "name": name,
            "headers": [{"key": "Content-Type", "value": "application/json"}, {"key": "Unipile-Auth", "value": secret}],
        }
        if events:
            payload["events"] = events
        body = self._request("POST", "/webhooks", endpoint="webhooks.create", json=payload)
        return _field(body, "webhook_id", required=False) or _field(body, "id")

    def list_webhooks(self) -> Iterator[Webhook]:
        return self._pages("/webhooks", endpoint="webhooks.list", params={"limit": 100}, parse=Webhook.parse)

    def delete_webhook(self, *, webhook_id: str) -> None:
        self._request("DELETE", f"/webhooks/{requests.utils.quote(webhook_id, safe='')}", endpoint="webhooks.delete")


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sandbox_api_key() -> str:
    """The sandbox checks X-API-KEY like Unipile does; its key derives from SECRET_KEY."""
    return "sandbox-" + hashlib.sha256(("sandbox:" + settings.SECRET_KEY).encode()).hexdigest()[:32]
