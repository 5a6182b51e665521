"""Schemathesis against the published schema, in-process, as an authenticated client admin with data.

Every operation is fuzzed with valid and invalid data, both with generated ids and with the ids of
objects that exist, and every response is checked: no 5xx, and status, content type, headers and
body as the schema describes them. The example budget is small so the suite stays quick; set
SCHEMATHESIS_MAX_EXAMPLES for a deeper run.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from outreach.wsgi import application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))


def _existing_ids(world) -> dict[str, str]:
    a = world["a"]
    return {
        "clients": a.client.pk,
        "memberships": a.membership.pk,
        "linkedin-accounts": a.account.pk,
        "rate-usage": a.usage.pk,
        "campaigns": a.campaign.pk,
        "leads": a.lead.pk,
        "do-not-contact": a.dnc.pk,
        "events": a.event.pk,
        "inbox/conversations": a.conversation.pk,
        "reports/campaigns": a.campaign.pk,
        "reports/accounts": a.account.pk,
        "reports/clients": a.client.pk,
        "webhook-endpoints": a.endpoint.pk,
        "lead-sources": a.source.pk,
    }


def _run(operation, headers, failures, modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE), **strategy_kwargs):
    for mode in modes:
        strategy = operation.as_strategy(generation_mode=mode, **strategy_kwargs)

        @given(case=strategy)
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label} ({mode.value}, {strategy_kwargs or 'generated ids'}):\n{exc}")


@pytest.fixture(autouse=True)
def _no_background_dispatch(monkeypatch):
    """Outbound webhooks written by the fuzzed calls stay queued: a dispatch kicked at most once a second
    would make later answers depend on the clock, which hypothesis takes for flaky data generation."""
    monkeypatch.setattr("integrations.tasks.kick_outbound", lambda: None)


@pytest.fixture
def keep_test_connection():
    """The real WSGI handler closes database connections around each request; the test's transaction must live."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.slow
@pytest.mark.usefixtures("keep_test_connection")
def test_api_matches_its_schema(world, settings, fake_unipile):
    settings.API_THROTTLE_RATE = "1000000/min"
    fake_unipile.accept_any_account = True  # account creation, reconnect links and tests reach a provider
    headers = {"Authorization": f"Token {world['tokens']['admin']}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application, headers=headers)
    ids = _existing_ids(world)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        _run(operation, headers, failures)
        if "{id}" in operation.path:
            resource = operation.path.removeprefix("/api/v1/").split("/{id}")[0]
            # Invalid data for an existing object; invalid ids were covered by the generated run.
            _run(
                operation,
                headers,
                failures,
                modes=(GenerationMode.POSITIVE,),
                path_parameters={"id": str(ids[resource])},
            )
    summary = "\n".join(failure.splitlines()[0] for failure in failures)
    assert not failures, f"{len(failures)} failing run(s):\n{summary}\n\n" + "\n\n".join(failures[:6])


@pytest.mark.slow
@pytest.mark.usefixtures("keep_test_connection")
def test_api_call_sequences_follow_their_links(world, settings, fake_unipile):
    """Stateful: schemathesis chains operations through the links it infers (a created object's id fed to
    the operations on that object), so later calls act on real objects rather than on 404s."""
    fake_unipile.accept_any_account = True
    settings.API_THROTTLE_RATE = "1000000/min"
    headers = {"Authorization": f"Token {world['tokens']['admin']}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application, headers=headers)
    machine = schema.as_state_machine()
    # Rules are named after the link they follow: "GET_api_v1_leads___200_GetLead__GET_api_v1_leads_id_".
    links = [name for name in dir(machine) if "_200_" in name or "_201_" in name]
    calls: list[tuple[str, int]] = []

    class Sequences(machine):
        # Each sequence starts from the same data: what one deleted or created is rolled back before the next,
        # so a sequence replayed by hypothesis meets the same answers (else it reports flaky data generation).
        def __init__(self):
            super().__init__()
            self._savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self._savepoint)
            super().teardown()

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def after_call(self, response, case):
            calls.append((f"{case.method} {case.path}", response.status_code))

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=headers)

    Sequences.run(settings=settings_for_sequences())
    assert len(links) > 40, "schemathesis inferred too few links between operations"
    assert calls and all(status < 500 for _call, status in calls)
    # An id taken from an earlier response reaches a real object: an answer other than 404 (or a 400 refusing
    # the generated body) shows the link was followed.
    on_real_objects = {call for call, status in calls if "{id}" in call and status not in (400, 404)}
    assert len(on_real_objects) >= 3, f"the sequences hardly reached existing objects: {sorted(set(calls))}"


def settings_for_sequences():
    return settings(
        max_examples=MAX_EXAMPLES * 8,
        stateful_step_count=8,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
