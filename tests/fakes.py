"""A scriptable stand-in for UnipileClient: the one seam the engine talks through.

It keeps the provider's side of the story (pending invitations, connections, chats and their
messages) so the engine's reconciliation can ask it what really happened, and it counts every
write that reached a person, which is what "never send twice" is judged on.
"""

import itertools
import threading
from collections import defaultdict

from django.utils import timezone

from integrations.unipile import (
    Account,
    Chat,
    ChatMessage,
    ChatStarted,
    HostedLink,
    InvitationSent,
    MessageSent,
    NotFound,
    Profile,
    SentInvitation,
    Skill,
)


class FakeUnipile:
    def __init__(self):
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.calls: list[tuple[str, dict]] = []
        self.fail: dict[str, list[tuple[Exception, bool]]] = defaultdict(list)
        self.connected: set[str] = set()
        self.pending: dict[str, str] = {}  # provider id -> invitation id
        self.chats: dict[str, str] = {}  # provider id -> chat id
        self.messages: dict[str, list[ChatMessage]] = defaultdict(list)
        self.delivered: list[tuple[str, str, str]] = []  # (kind, provider id, text): what reached people
        self.accounts: dict[str, Account] = {}  # Unipile's accounts (get_account, list_accounts)
        self.accept_any_account = False  # get_account answers for any id (tests that only add accounts)
        self.inmail_balance: dict[str, int | None] = {}  # account id -> credits (missing: the call says nothing)
        self.links: list[dict] = []  # hosted-auth links asked for
        self.posts: dict[str, list[str]] = {}  # provider id -> post ids, newest first (missing: one post)
        self.skills: dict[str, list[str]] = {}  # provider id -> skills not endorsed yet (missing: one skill)

    def fail_next(self, method: str, error: Exception, *, after_acting: bool = False, times: int = 1):
        """The next call(s) of method raise error; after_acting: the effect happens first (the ambiguous case)."""
        self.fail[method].extend([(error, after_acting)] * times)

    def _enter(self, method: str, **kwargs):
        self.calls.append((method, kwargs))
        if self.fail[method] and not self.fail[method][0][1]:
            raise self.fail[method].pop(0)[0]

    def _leave(self, method: str):
        if self.fail[method] and self.fail[method][0][1]:
            raise self.fail[method].pop(0)[0]

    def add_account(
        self, account_id, *, name="Sofia Sender", status="OK", kind="classic", premium=True, own="ACoAAOwn"
    ):
        self.accounts[account_id] = Account(
            id=account_id, name=name, type="LINKEDIN", status=status, own_provider_id=own, kind=kind, is_premium=premium
        )
        return self.accounts[account_id]

    def calls_of(self, method: str) -> list[dict]:
        return [kwargs for name, kwargs in self.calls if name == method]

    @staticmethod
    def provider_id_for(identifier: str) -> str:
        return identifier if identifier.startswith("ACo") else f"ACoAA{identifier.replace('-', '')}"

    # --- the client's methods ---

    def get_profile(self, *, account_id, identifier, visit=False):
        with self.lock:
            self._enter("get_profile", account_id=account_id, identifier=identifier, visit=visit)
            pid = self.provider_id_for(identifier)
            if visit:
                self.delivered.append(("visit", pid, ""))
            connected = pid in self.connected
            pending = pid in self.pending
            self._leave("get_profile")
            return Profile(
                provider_id=pid,
                public_identifier=identifier if not identifier.startswith("ACo") else "",
                first_name="",
                last_name="",
                headline="",
                location="",
                network_distance="FIRST_DEGREE" if connected else "SECOND_DEGREE",
                is_relationship=connected,
                invitation_type="SENT" if pending else "",
                invitation_status="PENDING" if pending else "",
                can_send_inmail=True,
            )

    def send_invitation(self, *, account_id, provider_id, message=""):
        with self.lock:
            self._enter("send_invitation", account_id=account_id, provider_id=provider_id, message=message)
            invitation_id = f"inv{next(self.ids)}"
            self.pending[provider_id] = invitation_id
            self.delivered.append(("invite", provider_id, message))
            self._leave("send_invitation")
            return InvitationSent(invitation_id=invitation_id, usage=None)

    def list_sent_invitations(self, *, account_id, page_size=100):
        with self.lock:
            self._enter("list_sent_invitations", account_id=account_id)
            return [
                SentInvitation(id=i, invited_user_id=p, invited_user_public_id="", sent_at=None, text="")
                for p, i in self.pending.items()
            ]

    def withdraw_invitation(self, *, account_id, invitation_id):
        with self.lock:
            self._enter("withdraw_invitation", account_id=account_id, invitation_id=invitation_id)
            self.pending = {p: i for p, i in self.pending.items() if i != invitation_id}

    def _message(self, chat_id, provider_id, text):
        message = ChatMessage(
            id=f"msg{next(self.ids)}",
            chat_id=chat_id,
            text=text,
            is_sender=True,
            sender_id="own",
            message_type="MESSAGE",
            timestamp=timezone.now(),
        )
        self.messages[chat_id].append(message)
        self.delivered.append(("message", provider_id, text))
        return message

    def start_chat(self, *, account_id, attendee_provider_id, text, api="classic", inmail=False):
        with self.lock:
            self._enter(
                "start_chat", account_id=account_id, attendee_provider_id=attendee_provider_id, text=text, inmail=inmail
            )
            chat_id = self.chats.setdefault(attendee_provider_id, f"chat{next(self.ids)}")
            message = self._message(chat_id, attendee_provider_id, text)
            self._leave("start_chat")
            return ChatStarted(chat_id=chat_id, message_id=message.id)

    def send_message(self, *, account_id, chat_id, text):
        with self.lock:
            self._enter("send_message", account_id=account_id, chat_id=chat_id, text=text)
            provider_id = next((p for p, c in self.chats.items() if c == chat_id), "")
            message = self._message(chat_id, provider_id, text)
            self._leave("send_message")
            return MessageSent(message_id=message.id)

    def list_chats(self, *, account_id, after=None, page_size=100):
        with self.lock:
            self._enter("list_chats", account_id=account_id)
            return [Chat(id=c, attendee_provider_id=p, unread_count=0, timestamp=None) for p, c in self.chats.items()]

    def list_chat_messages(self, *, chat_id, after=None, page_size=100, account_id=""):
        with self.lock:
            self._enter("list_chat_messages", chat_id=chat_id)
            return [m for m in self.messages[chat_id] if after is None or m.timestamp > after]

    # --- accounts, hosted auth, InMail credits ---

    def get_account(self, *, account_id):
        with self.lock:
            self._enter("get_account", account_id=account_id)
            if account_id not in self.accounts:
                if not self.accept_any_account:
                    raise NotFound(f"No account {account_id!r}.", status=404, type="resource_not_found")
                return Account(id=account_id, name="", type="LINKEDIN", status="OK", own_provider_id="")
            return self.accounts[account_id]

    def list_accounts(self):
        with self.lock:
            self._enter("list_accounts")
            return list(self.accounts.values())

    def request_hosted_link(self, **kwargs):
        with self.lock:
            self._enter("request_hosted_link", **kwargs)
            self.links.append(kwargs)
            return HostedLink(url=f"https://hosted.unipile.example/link/{len(self.links)}")

    def follow(self, *, account_id, provider_id):
        with self.lock:
            self._enter("follow", account_id=account_id, provider_id=provider_id)
            self.delivered.append(("follow", provider_id, ""))
            self._leave("follow")

    def latest_post(self, *, account_id, identifier):
        with self.lock:
            self._enter("latest_post", account_id=account_id, identifier=identifier)
            posts = self.posts.get(identifier, [f"post-{identifier}"])
            return posts[0] if posts else None

    def react_to_post(self, *, account_id, post_id, reaction="like"):
        with self.lock:
            self._enter("react_to_post", account_id=account_id, post_id=post_id)
            self.delivered.append(("like", post_id, ""))
            self._leave("react_to_post")

    def endorsable_skill(self, *, account_id, identifier):
        with self.lock:
            self._enter("endorsable_skill", account_id=account_id, identifier=identifier)
            skills = self.skills.get(identifier, ["Sales"])
            return Skill(name=skills[0], endorsement_id=f"{identifier}-{skills[0]}") if skills else None

    def endorse(self, *, account_id, provider_id, skill):
        with self.lock:
            self._enter("endorse", account_id=account_id, provider_id=provider_id)
            self.delivered.append(("endorse", provider_id, skill.name))
            self._leave("endorse")

    def inmail_credits(self, *, account_id):
        with self.lock:
            self._enter("inmail_credits", account_id=account_id)
            return self.inmail_balance.get(account_id)
