"""Webhook intake under hostile bodies: random, truncated, deeply nested, huge and wrongly typed.

Never a 5xx, never an unhandled exception in processing, and every delivery stored with a status.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import WebhookDelivery
from integrations.webhooks import process_pending

SECRET = "fuzz-secret"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)
shaped = st.fixed_dictionaries(
    {},
    optional={
        "event": st.sampled_from(["message_received", "new_relation", "message_read", "", 7, None]),
        "account_id": st.one_of(st.text(max_size=20), st.integers(), st.none(), st.just("acc-1")),
        "chat_id": st.one_of(st.text(max_size=20), st.integers(), st.none()),
        "message_id": st.one_of(st.text(max_size=20), st.integers(), st.none(), st.lists(st.integers())),
        "message": st.one_of(st.text(max_size=200), st.integers(), st.none(), st.dictionaries(st.text(), st.text())),
        "sender": st.one_of(
            st.none(), st.text(), json_values, st.fixed_dictionaries({"attendee_provider_id": json_values})
        ),
        "timestamp": st.one_of(st.text(max_size=30), st.integers(), st.none()),
        "user_provider_id": json_values,
        "AccountStatus": st.one_of(
            json_values, st.fixed_dictionaries({"account_id": json_values, "message": json_values})
        ),
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    shaped.map(lambda v: json.dumps(v).encode()),
    shaped.map(lambda v: json.dumps(v).encode()[: max(1, len(json.dumps(v)) // 2)]),  # truncated
    st.integers(min_value=200, max_value=3000).map(lambda depth: ("[" * depth + "]" * depth).encode()),  # deep
    st.integers(min_value=1, max_value=3).map(lambda n: json.dumps({"message": "x" * (n * 400_000)}).encode()),
)


@pytest.fixture
def intake(client, settings, db):
    settings.UNIPILE_WEBHOOK_SECRET = SECRET
    return client


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(body=bodies, source=st.sampled_from(["messaging", "users", "account_status"]))
def test_intake_never_fails_and_stores_every_delivery(intake, body, source):
    before = WebhookDelivery.objects.count()
    response = intake.post(
        f"/webhooks/unipile/{source}/", body, content_type="application/json", HTTP_UNIPILE_AUTH=SECRET
    )
    assert response.status_code < 500, response.content[:200]
    assert response.status_code in (200, 400, 413)
    assert WebhookDelivery.objects.count() == before + 1  # stored, whatever it was
    process_pending(limit=50)
    statuses = set(WebhookDelivery.objects.values_list("status", flat=True))
    assert statuses <= {"processed", "ignored", "failed"}, statuses
