"""The real client against the sandbox provider over real HTTP: every method, every error mapping."""

import datetime as dt
import random

import pytest
import requests
import responses
from django.utils import timezone

from integrations.sandbox import engine
from integrations.sandbox.models import (
    SandboxAccount,
    SandboxDelivery,
    SandboxInvitation,
    SandboxMessage,
    SandboxSettings,
    SandboxWebhook,
)
from integrations.unipile import (
    AccountProblem,
    AlreadyDone,
    LimitReached,
    NotFound,
    ProviderUnavailable,
    RateLimited,
    RecipientProblem,
    UnipileClient,
    parse_timestamp,
)

pytestmark = pytest.mark.django_db(transaction=True)
ACC = "acc-sandbox"


def later(minutes=10_000):
    return timezone.now() + dt.timedelta(minutes=minutes)


def test_profile_by_slug_then_by_provider_id(sandbox_client):
    profile = sandbox_client.get_profile(account_id=ACC, identifier="ann-lee")
    assert (
        profile.public_identifier == "ann-lee"
        and profile.first_name == "Ann"
        and profile.provider_id.startswith("ACoAA")
    )
    assert (
        profile.network_distance == "SECOND_DEGREE" and not profile.is_connected and not profile.has_pending_invitation
    )
    again = sandbox_client.get_profile(account_id=ACC, identifier=profile.provider_id, visit=True)
    assert again == profile


def test_invitation_life_cycle(sandbox_client):
    provider_id = sandbox_client.get_profile(account_id=ACC, identifier="ann-lee").provider_id
    sent = sandbox_client.send_invitation(account_id=ACC, provider_id=provider_id, message="Hi Ann")
    assert sent.invitation_id.startswith("inv_")
    assert sandbox_client.get_profile(account_id=ACC, identifier="ann-lee").has_pending_invitation
    pending = list(sandbox_client.list_sent_invitations(account_id=ACC))
    assert [(p.id, p.invited_user_id, p.invited_user_public_id, p.text) for p in pending] == [
        (sent.invitation_id, provider_id, "ann-lee", "Hi Ann")
    ]
    with pytest.raises(AlreadyDone) as exc:
        sandbox_client.send_invitation(account_id=ACC, provider_id=provider_id)
    assert exc.value.type == "already_invited_recently"

    sandbox_client.withdraw_invitation(account_id=ACC, invitation_id=sent.invitation_id)
    assert list(sandbox_client.list_sent_invitations(account_id=ACC)) == []
    with pytest.raises(NotFound):
        sandbox_client.withdraw_invitation(account_id=ACC, invitation_id=sent.invitation_id)
    with pytest.raises(LimitReached) as exc:
        sandbox_client.send_invitation(account_id=ACC, provider_id=provider_id)
    assert exc.value.type == "cannot_resend_yet"


def test_acceptance_makes_a_relation_and_a_first_degree_profile(sandbox_client):
    provider_id = sandbox_client.get_profile(account_id=ACC, identifier="bob-ray").provider_id
    sandbox_client.send_invitation(account_id=ACC, provider_id=provider_id)
    assert engine.simulate(later())["accepted"] == 1
    relations = list(sandbox_client.list_relations(account_id=ACC))
    assert [(r.member_id, r.public_identifier) for r in relations] == [(provider_id, "bob-ray")]
    assert sandbox_client.get_profile(account_id=ACC, identifier="bob-ray").is_connected
    with pytest.raises(AlreadyDone) as exc:
        sandbox_client.send_invitation(account_id=ACC, provider_id=provider_id)
    assert exc.value.type == "already_connected"


def test_chat_message_reply_and_listings(sandbox_client):
    provider_id = sandbox_client.get_profile(account_id=ACC, identifier="cleo-kim").provider_id
    with pytest.raises(RecipientProblem) as exc:
        sandbox_client.start_chat(account_id=ACC, attendee_provider_id=provider_id, text="Hello")
    assert exc.value.type == "no_connection_with_recipient"
    sandbox_client.send_invitation(account_id=ACC, provider_id=provider_id)
    engine.simulate(later())

    started = sandbox_client.start_chat(account_id=ACC, attendee_provider_id=provider_id, text="Hello Cleo")
    follow_up = sandbox_client.send_message(account_id=ACC, chat_id=started.chat_id, text="Any news?")
    assert follow_up.message_id != started.message_id
    assert engine.simulate(later())["replied"] == 1

    chats = list(sandbox_client.list_chats(account_id=ACC))
    assert [(c.id, c.attendee_provider_id) for c in chats] == [(started.chat_id, provider_id)]
    thread = list(sandbox_client.list_chat_messages(chat_id=started.chat_id))
    assert [m.is_sender for m in thread] == [False, True, True]  # newest first
    assert thread[0].sender_id == provider_id and thread[1].text == "Any news?"
    since = list(sandbox_client.list_messages(account_id=ACC, after=timezone.now() - dt.timedelta(hours=1)))
    assert [m.text for m in since][:2] == ["Hello Cleo", "Any news?"] and len(since) == 3
    assert list(sandbox_client.list_messages(account_id=ACC, after=later())) == []


def test_inmail_to_a_non_connection(sandbox_client):
    provider_id = sandbox_client.get_profile(account_id=ACC, identifier="dana-cho").provider_id
    started = sandbox_client.start_chat(
        account_id=ACC, attendee_provider_id=provider_id, text="InMail hello", api="sales_navigator", inmail=True
    )
    assert SandboxMessage.objects.get(pk=started.message_id).message_type == "INMAIL"


def test_accounts_and_webhooks(sandbox_client):
    accounts = list(sandbox_client.list_accounts())
    assert [(a.id, a.own_provider_id, a.status) for a in accounts] == [(ACC, "ACoAASandboxOwn0001", "OK")]
    hook_id = sandbox_client.create_webhook(
        source="users", request_url="http://127.0.0.1:9/webhooks/unipile/users/", name="outreach-users", secret="s3"
    )
    hooks = list(sandbox_client.list_webhooks())
    assert [(h.id, h.source, h.headers["Unipile-Auth"], h.headers["Content-Type"]) for h in hooks] == [
        (hook_id, "users", "s3", "application/json")
    ]
    sandbox_client.delete_webhook(webhook_id=hook_id)
    assert list(sandbox_client.list_webhooks()) == []
    with pytest.raises(NotFound):
        sandbox_client.delete_webhook(webhook_id=hook_id)


def test_pagination_through_the_cursor(sandbox_client):
    for i in range(7):
        provider_id = sandbox_client.get_profile(account_id=ACC, identifier=f"page-person-{i}").provider_id
        sandbox_client.send_invitation(account_id=ACC, provider_id=provider_id)
    pages = list(sandbox_client.list_sent_invitations(account_id=ACC, page_size=3))
    assert len(pages) == 7 and len({p.id for p in pages}) == 7


@pytest.mark.parametrize(
    ("setup", "call", "cls", "type_"),
    [
        (
            None,
            lambda c: c.get_profile(account_id=ACC, identifier="ghost-person"),
            RecipientProblem,
            "invalid_recipient",
        ),
        (
            None,
            lambda c: c.send_invitation(account_id=ACC, provider_id="ACoAAnobody000000000000"),
            RecipientProblem,
            "invalid_recipient",
        ),
        (
            None,
            lambda c: c.get_profile(account_id="no-such-account", identifier="x-y-z"),
            AccountProblem,
            "invalid_account",
        ),
        (
            "disconnect",
            lambda c: c.get_profile(account_id=ACC, identifier="x-y-z"),
            AccountProblem,
            "disconnected_account",
        ),
        (
            "rate_429",
            lambda c: c.send_invitation(account_id=ACC, provider_id="ann-lee"),
            RateLimited,
            "too_many_requests",
        ),
        (
            "rate_500",
            lambda c: c.send_invitation(account_id=ACC, provider_id="ann-lee"),
            ProviderUnavailable,
            "provider_error",
        ),
        (
            "rate_cannot_resend_yet",
            lambda c: c.send_invitation(account_id=ACC, provider_id="ann-lee"),
            LimitReached,
            "cannot_resend_yet",
        ),
        (
            "rate_invalid_recipient",
            lambda c: c.send_invitation(account_id=ACC, provider_id="ann-lee"),
            RecipientProblem,
            "invalid_recipient",
        ),
        (
            "daily_invite_limit",
            lambda c: c.send_invitation(account_id=ACC, provider_id="ann-lee"),
            LimitReached,
            "limit_exceeded",
        ),
        (
            "chat_not_found",
            lambda c: c.send_message(account_id=ACC, chat_id="chat_missing", text="x"),
            NotFound,
            "resource_not_found",
        ),
    ],
)
def test_error_mapping_over_http(sandbox_client, setup, call, cls, type_):
    if setup == "disconnect":
        SandboxAccount.objects.update(status="CREDENTIALS")
    elif setup == "daily_invite_limit":
        SandboxSettings.objects.update(daily_invite_limit=0)
    elif setup == "chat_not_found":
        pass
    elif setup:
        SandboxSettings.objects.update(**{setup: 1.0})
    with pytest.raises(cls) as exc:
        call(sandbox_client)
    assert exc.value.type == type_


def test_faults_on_writes_are_not_retried_and_reads_are(sandbox, live_server):
    from integrations.unipile import sandbox_api_key

    sleeps = []
    client = UnipileClient(
        base_url=f"{live_server.url}/sandbox/unipile/api/v1", api_key=sandbox_api_key(), sleep=sleeps.append
    )
    SandboxSettings.objects.update(rate_429=1.0)
    with pytest.raises(RateLimited):
        client.send_invitation(account_id=ACC, provider_id="ann-lee")
    assert sleeps == [] and SandboxInvitation.objects.count() == 0


def test_ambiguous_500_after_acting_leaves_the_invitation_sent(sandbox_client):
    SandboxSettings.objects.update(rate_500_after_effect=1.0)
    with pytest.raises(ProviderUnavailable):
        sandbox_client.send_invitation(account_id=ACC, provider_id="ann-lee")
    assert SandboxInvitation.objects.filter(member__public_identifier="ann-lee", status="PENDING").count() == 1


def test_same_seed_same_run(sandbox):
    def run():
        SandboxInvitation.objects.all().delete()
        SandboxSettings.objects.update(calls=0, accept_probability=0.5)
        for i in range(20):
            engine.invite(account_id=ACC, provider_id=f"seed-person-{i}", message="")
        return [inv.decide_at is not None for inv in SandboxInvitation.objects.order_by("member__public_identifier")]

    assert run() == run()


def test_wrong_api_key_is_refused(sandbox, live_server):
    client = UnipileClient(base_url=f"{live_server.url}/sandbox/unipile/api/v1", api_key="wrong", sleep=lambda s: None)
    with pytest.raises(AccountProblem) as exc:
        list(client.list_accounts())
    assert exc.value.type == "missing_credentials"


def test_sandbox_is_404_when_off(sandbox, live_server, settings):
    settings.UNIPILE_SANDBOX = False
    response = requests.get(f"{live_server.url}/sandbox/unipile/api/v1/accounts", timeout=5)
    assert response.status_code == 404 and response.json()["type"] == "errors/resource_not_found"


def test_sandbox_refuses_long_notes_and_non_multipart_itself(sandbox, live_server):
    from integrations.unipile import sandbox_api_key

    headers = {"X-API-KEY": sandbox_api_key()}
    base = f"{live_server.url}/sandbox/unipile/api/v1"
    long_note = requests.post(
        f"{base}/users/invite",
        json={"account_id": ACC, "provider_id": "ann-lee", "message": "x" * 301},
        headers=headers,
        timeout=5,
    )
    assert long_note.status_code == 400 and long_note.json()["type"] == "errors/too_many_characters"
    as_json = requests.post(f"{base}/chats", json={"account_id": ACC, "text": "hi"}, headers=headers, timeout=5)
    assert as_json.status_code == 400
    too_many = requests.get(
        f"{base}/users/relations", params={"account_id": ACC, "limit": 5000}, headers=headers, timeout=5
    )
    assert too_many.status_code == 400 and too_many.json()["type"] == "errors/limit_too_high"
    bad_cursor = requests.get(
        f"{base}/users/relations", params={"account_id": ACC, "cursor": "@@"}, headers=headers, timeout=5
    )
    assert bad_cursor.status_code == 400
    bad_json = requests.post(
        f"{base}/users/invite", data="{not json", headers={**headers, "Content-Type": "application/json"}, timeout=5
    )
    assert bad_json.status_code == 400 and bad_json.json()["type"] == "errors/invalid_parameters"


@responses.activate
def test_webhooks_are_delivered_like_unipile_and_retried(sandbox):
    responses.add_passthru("http://localhost")
    SandboxWebhook.objects.create(
        id="wh_m",
        source="messaging",
        request_url="https://outreach.test/webhooks/unipile/messaging/",
        name="outreach-messaging",
        headers=[{"key": "Content-Type", "value": "application/json"}, {"key": "Unipile-Auth", "value": "s3"}],
    )
    SandboxWebhook.objects.create(
        id="wh_u",
        source="users",
        request_url="https://outreach.test/webhooks/unipile/users/",
        name="outreach-users",
        headers=[{"key": "Unipile-Auth", "value": "s3"}],
    )
    responses.post("https://outreach.test/webhooks/unipile/messaging/", status=500)
    responses.post("https://outreach.test/webhooks/unipile/messaging/", status=200)
    responses.post("https://outreach.test/webhooks/unipile/users/", status=200)

    engine.invite(account_id=ACC, provider_id="eve-ng", message="")
    engine.simulate(later())
    message, _ = engine.start_chat(account_id=ACC, attendee_ids=["eve-ng"], text="Hi Eve", inmail=False)

    now = timezone.now()
    first = engine.deliver_webhooks(now)
    assert first == {"delivered": 1, "failed": 1}
    retry = SandboxDelivery.objects.get(webhook_id="wh_m")
    assert retry.attempts == 1 and retry.next_attempt_at == now + dt.timedelta(seconds=30)
    assert engine.deliver_webhooks(now + dt.timedelta(seconds=31)) == {"delivered": 1, "failed": 0}

    relation_call, message_call = responses.calls[0], responses.calls[2]
    assert relation_call.request.headers["Unipile-Auth"] == "s3"
    import json

    relation = json.loads(relation_call.request.body)
    assert (
        relation["event"] == "new_relation"
        and relation["user_public_identifier"] == "eve-ng"
        and relation["webhook_name"] == "outreach-users"
    )
    outbound = json.loads(message_call.request.body)
    assert outbound["event"] == "message_received" and outbound["is_sender"] is True
    assert outbound["sender"]["attendee_provider_id"] == outbound["account_info"]["user_id"] == "ACoAASandboxOwn0001"
    assert outbound["message_id"] == message.id and outbound["message"] == "Hi Eve"


def test_delivery_gives_up_after_five_retries(sandbox):
    SandboxWebhook.objects.create(
        id="wh_x", source="users", request_url="http://127.0.0.1:9/nothing-listens", headers=[]
    )
    engine.invite(account_id=ACC, provider_id="fay-lu", message="")
    engine.simulate(later())
    moment = timezone.now()
    for _ in range(6):
        engine.deliver_webhooks(moment)
        moment += dt.timedelta(hours=2)
    delivery = SandboxDelivery.objects.get()
    assert delivery.attempts == 6 and delivery.gave_up and delivery.delivered_at is None


def test_account_status_change_is_announced(sandbox):
    SandboxWebhook.objects.create(id="wh_s", source="account_status", request_url="http://127.0.0.1:9/x", headers=[])
    account = SandboxAccount.objects.get()
    account.status = "CREDENTIALS"
    account.save()
    engine.account_status_changed(account)
    status = SandboxDelivery.objects.get().payload["AccountStatus"]
    assert {k: v for k, v in status.items() if k != "timestamp"} == {
        "account_id": ACC,
        "account_type": "LINKEDIN",
        "message": "CREDENTIALS",
    }
    assert parse_timestamp(status["timestamp"]) <= timezone.now()


def test_a_429_starts_a_burst_for_that_account(sandbox):
    from integrations.sandbox.models import SandboxRateLimit

    SandboxSettings.objects.update(rate_429=1.0, rate_limit_burst_seconds=60)
    config, account = SandboxSettings.load(), SandboxAccount.objects.get()
    with pytest.raises(engine.ProviderError):
        engine.inject_faults(config, random.Random(1), account)
    SandboxSettings.objects.update(rate_429=0.0)
    account.refresh_from_db()
    with pytest.raises(engine.ProviderError) as refused:  # within the burst, whatever the dice say
        engine.inject_faults(SandboxSettings.load(), random.Random(1), account)
    assert refused.value.status == 429 and SandboxRateLimit.objects.filter(account=account).count() == 2


def test_engagement_calls_follow_like_and_endorse(sandbox_client):
    """The client's engagement calls against the sandbox's reading of them (UNIPILE.md "Engagement actions"):
    recorded once however often they are made; an unknown post is "not supported", not an error loop."""
    from integrations.sandbox.models import SandboxEngagement, SandboxMember
    from integrations.unipile import NotSupported

    profile = sandbox_client.get_profile(account_id="acc-sandbox", identifier="ann-lee")
    member = SandboxMember.objects.get(provider_id=profile.provider_id)
    sandbox_client.follow(account_id="acc-sandbox", provider_id=profile.provider_id)
    sandbox_client.follow(account_id="acc-sandbox", provider_id=profile.provider_id)
    post = sandbox_client.latest_post(account_id="acc-sandbox", identifier=profile.provider_id)
    if post is not None:  # one member in five has not posted
        sandbox_client.react_to_post(account_id="acc-sandbox", post_id=post)
    skill = sandbox_client.endorsable_skill(account_id="acc-sandbox", identifier=profile.provider_id)
    sandbox_client.endorse(account_id="acc-sandbox", provider_id=profile.provider_id, skill=skill)
    kinds = sorted(SandboxEngagement.objects.filter(member=member).values_list("kind", flat=True))
    assert kinds == sorted(["follow", "endorse", *(["like"] if post else [])])
    again = sandbox_client.endorsable_skill(account_id="acc-sandbox", identifier=profile.provider_id)
    assert again is None or again.endorsement_id != skill.endorsement_id  # an endorsed skill is not offered again
    with pytest.raises(NotSupported):
        sandbox_client.react_to_post(account_id="acc-sandbox", post_id="not-a-post")
