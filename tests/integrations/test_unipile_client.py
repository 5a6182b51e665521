"""The client against a fake transport: error mapping, retries, multipart, pagination, logging."""

import json
import logging

import pytest
import requests
import responses
from responses import matchers

from integrations import unipile
from integrations.unipile import (
    AccountProblem,
    BadRequest,
    InvalidResponse,
    NotFound,
    ProviderUnavailable,
    RateLimited,
    RecipientProblem,
    UnipileClient,
)

BASE = "https://api9.unipile.test:1234/api/v1"


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    return UnipileClient(base_url=BASE, api_key="secret-key-123", sleep=sleeps.append, read_retries=3)


def error(status, type_, detail="nope"):
    return {"status": status, "type": f"errors/{type_}", "title": "t", "detail": detail, "instance": ""}


@pytest.mark.parametrize(("type_", "cls"), sorted(unipile.ERROR_TYPES.items()))
@responses.activate
def test_every_known_error_type_maps_to_its_class(client, type_, cls):
    status = {"too_many_requests": 429, "provider_error": 500, "unexpected_error": 500}.get(type_, 422)
    responses.post(f"{BASE}/users/invite", json=error(status, type_), status=status)
    with pytest.raises(cls) as exc:
        client.send_invitation(account_id="a", provider_id="ACoAAx")
    assert exc.value.type == type_ and exc.value.status == status and exc.value.detail == "nope"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, AccountProblem),
        (403, AccountProblem),
        (404, NotFound),
        (422, RecipientProblem),
        (429, RateLimited),
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
        (504, ProviderUnavailable),
        (418, BadRequest),
    ],
)
@responses.activate
def test_unknown_types_fall_into_their_status_class(client, status, cls):
    responses.post(f"{BASE}/users/invite", json=error(status, "something_new"), status=status)
    with pytest.raises(cls):
        client.send_invitation(account_id="a", provider_id="ACoAAx")


@responses.activate
def test_error_body_that_is_not_json_still_maps(client):
    responses.post(f"{BASE}/users/invite", body="<html>Bad gateway</html>", status=502)
    with pytest.raises(ProviderUnavailable) as exc:
        client.send_invitation(account_id="a", provider_id="ACoAAx")
    assert exc.value.status == 502


@responses.activate
def test_success_body_that_is_not_json_or_lacks_fields_is_typed(client):
    responses.post(f"{BASE}/users/invite", body="ok", status=200)
    with pytest.raises(InvalidResponse):
        client.send_invitation(account_id="a", provider_id="ACoAAx")
    responses.post(f"{BASE}/users/invite", json={"object": "UserInvitationSent"}, status=200)
    with pytest.raises(InvalidResponse, match="invitation_id"):
        client.send_invitation(account_id="a", provider_id="ACoAAx")
    responses.get(f"{BASE}/users/relations", json={"object": "x", "items": "nope"})
    with pytest.raises(InvalidResponse, match="items"):
        list(client.list_relations(account_id="a"))


@responses.activate
def test_reads_are_retried_with_backoff_honouring_retry_after(client, sleeps):
    url = f"{BASE}/users/ann-lee"
    responses.get(url, json=error(429, "too_many_requests"), status=429, headers={"Retry-After": "7"})
    responses.get(url, json=error(503, "unexpected_error"), status=503)
    responses.get(url, body=requests.Timeout("slow"))
    responses.get(
        url, json={"provider_id": "ACoAAann", "public_identifier": "ann-lee", "network_distance": "SECOND_DEGREE"}
    )
    profile = client.get_profile(account_id="a", identifier="ann-lee")
    assert profile.provider_id == "ACoAAann" and not profile.is_connected
    assert len(responses.calls) == 4
    assert sleeps[0] == 7 and all(0 <= s <= 30 for s in sleeps) and len(sleeps) == 3


@responses.activate
def test_reads_give_up_after_a_bounded_number_of_tries(client, sleeps):
    responses.get(f"{BASE}/users/ann-lee", json=error(500, "provider_error"), status=500)
    with pytest.raises(ProviderUnavailable):
        client.get_profile(account_id="a", identifier="ann-lee")
    assert len(responses.calls) == 4 and len(sleeps) == 3


@responses.activate
def test_writes_are_never_retried(client, sleeps):
    responses.post(f"{BASE}/users/invite", json=error(503, "unexpected_error"), status=503)
    responses.post(f"{BASE}/chats", body=requests.ConnectionError("reset"))
    responses.delete(f"{BASE}/users/invite/sent/inv1", json=error(429, "too_many_requests"), status=429)
    with pytest.raises(ProviderUnavailable):
        client.send_invitation(account_id="a", provider_id="ACoAAx")
    with pytest.raises(ProviderUnavailable, match="connection failed"):
        client.start_chat(account_id="a", attendee_provider_id="ACoAAx", text="Hi")
    with pytest.raises(RateLimited):
        client.withdraw_invitation(account_id="a", invitation_id="inv1")
    assert len(responses.calls) == 3 and sleeps == []


@responses.activate
def test_note_over_300_characters_is_refused_before_any_call(client):
    with pytest.raises(BadRequest, match="301 characters"):
        client.send_invitation(account_id="a", provider_id="ACoAAx", message="x" * 301)
    with pytest.raises(BadRequest, match="provider id"):
        client.send_invitation(account_id="a", provider_id="", message="hi")
    assert len(responses.calls) == 0


@responses.activate
def test_invitation_sends_json_with_key_header(client):
    responses.post(
        f"{BASE}/users/invite",
        json={"object": "UserInvitationSent", "invitation_id": "inv9", "usage": 75},
        match=[
            matchers.json_params_matcher({"account_id": "a", "provider_id": "ACoAAx", "message": "Hello"}),
            matchers.header_matcher({"X-API-KEY": "secret-key-123", "accept": "application/json"}),
        ],
    )
    result = client.send_invitation(account_id="a", provider_id="ACoAAx", message="Hello")
    assert result.invitation_id == "inv9" and result.usage == 75


@responses.activate
def test_start_chat_is_multipart_with_repeated_fields(client):
    responses.post(f"{BASE}/chats", json={"object": "ChatStarted", "chat_id": "c1", "message_id": "m1"}, status=201)
    result = client.start_chat(
        account_id="a", attendee_provider_id="ACoAAx", text="Hi there", api="sales_navigator", inmail=True
    )
    assert (result.chat_id, result.message_id) == ("c1", "m1")
    request = responses.calls[0].request
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    body = request.body.decode()
    for name, value in [
        ("account_id", "a"),
        ("attendees_ids", "ACoAAx"),
        ("text", "Hi there"),
        ("linkedin[api]", "sales_navigator"),
        ("linkedin[inmail]", "true"),
    ]:
        assert f'name="{name}"\r\n\r\n{value}\r\n' in body


@responses.activate
def test_lists_follow_the_cursor_until_it_is_null(client):
    responses.get(
        f"{BASE}/users/invite/sent",
        json={"object": "L", "items": [{"id": "i1", "invited_user_id": "ACo1"}], "cursor": "c2"},
        match=[matchers.query_param_matcher({"account_id": "a", "limit": "100"})],
    )
    responses.get(
        f"{BASE}/users/invite/sent",
        json={"object": "L", "items": [{"id": "i2", "parsed_datetime": "2026-07-02T10:15:00.000Z"}], "cursor": None},
        match=[matchers.query_param_matcher({"account_id": "a", "limit": "100", "cursor": "c2"})],
    )
    items = list(client.list_sent_invitations(account_id="a"))
    assert [i.id for i in items] == ["i1", "i2"]
    assert items[1].sent_at.isoformat() == "2026-07-02T10:15:00+00:00"


@responses.activate
def test_relations_and_messages_parse_provider_quirks(client):
    responses.get(
        f"{BASE}/users/relations", json={"items": [{"member_id": "ACoM", "created_at": 1751451300000}], "cursor": None}
    )
    responses.get(
        f"{BASE}/messages",
        json={
            "items": [{"id": "m", "chat_id": "c", "text": "hey", "is_sender": 0, "timestamp": "2026-07-02T10:15:00Z"}]
        },
    )
    relation = next(client.list_relations(account_id="a"))
    assert relation.member_id == "ACoM" and relation.created_at.year == 2025
    message = next(client.list_messages(account_id="a"))
    assert message.is_sender is False and message.text == "hey"


@responses.activate
def test_accounts_give_own_provider_id(client):
    responses.get(
        f"{BASE}/accounts",
        json={
            "items": [
                {
                    "id": "acc1",
                    "name": "Sofia",
                    "type": "LINKEDIN",
                    "connection_params": {"im": {"id": "ACoOwn"}},
                    "sources": [{"status": "OK"}],
                }
            ]
        },
    )
    account = next(client.list_accounts())
    assert (account.id, account.own_provider_id, account.status) == ("acc1", "ACoOwn", "OK")


@responses.activate
def test_logs_name_endpoint_and_status_never_key_or_text(client, caplog):
    responses.post(f"{BASE}/chats/c1/messages", json={"object": "MessageSent", "message_id": "m2"}, status=201)
    with caplog.at_level(logging.INFO, logger="outreach.unipile"):
        client.send_message(account_id="a", chat_id="c1", text="Very private words")
    record = caplog.records[-1]
    assert record.endpoint == "chats.messages.send" and record.status == 201 and record.account_id == "a"
    logged = caplog.text + json.dumps(record.__dict__, default=str)
    assert "secret-key-123" not in logged and "Very private words" not in logged


def test_client_without_configuration_says_so(settings):
    settings.UNIPILE_SANDBOX = False
    settings.UNIPILE_DSN = ""
    with pytest.raises(ValueError, match="UNIPILE_DSN"):
        UnipileClient.from_settings()


def test_client_from_settings_builds_the_base_url(settings):
    settings.UNIPILE_SANDBOX = False
    settings.UNIPILE_DSN = "api27.unipile.com:15744"
    settings.UNIPILE_API_KEY = "k"
    assert UnipileClient.from_settings().base_url == "https://api27.unipile.com:15744/api/v1"
    settings.UNIPILE_SANDBOX = True
    assert UnipileClient.from_settings().base_url.endswith("/sandbox/unipile/api/v1")
