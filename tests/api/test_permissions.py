"""The permission matrix: every endpoint x every role x an object of the user's own client or another's.

viewer reads; agent also works leads and campaigns; admin also manages clients, accounts, memberships
and limits; staff superusers act everywhere. Another client's object is a 404, never a 403.
"""

import pytest

from .conftest import client_for

RANK = {"viewer": 1, "agent": 2, "admin": 3}
NEEDS = {"read": 1, "work": 2, "manage": 3}

# (method, path with {obj} for the side's object id, level, body)
DETAIL_ENDPOINTS = [
    ("get", "/api/v1/clients/{client}", "read", None),
    ("patch", "/api/v1/clients/{client}", "manage", {"name": "Renamed"}),
    ("delete", "/api/v1/clients/{client}", "superuser", None),
    ("get", "/api/v1/memberships/{membership}", "manage", None),
    ("patch", "/api/v1/memberships/{membership}", "manage", {"role": "admin"}),
    ("get", "/api/v1/linkedin-accounts/{account}", "read", None),
    ("patch", "/api/v1/linkedin-accounts/{account}", "manage", {"daily_invite_limit": 20}),
    ("post", "/api/v1/linkedin-accounts/{account}/pause", "manage", {"reason": "check"}),
    ("post", "/api/v1/linkedin-accounts/{account}/resume", "manage", None),
    ("get", "/api/v1/rate-usage/{usage}", "read", None),
    ("post", "/api/v1/rate-usage/{usage}/reset", "manage", {"reason": "fix"}),
    ("get", "/api/v1/campaigns/{campaign}", "read", None),
    ("patch", "/api/v1/campaigns/{campaign}", "work", {"name": "Renamed"}),
    ("delete", "/api/v1/campaigns/{campaign}", "work", None),
    ("post", "/api/v1/campaigns/{campaign}/activate", "work", None),
    ("post", "/api/v1/campaigns/{campaign}/pause", "work", None),
    ("post", "/api/v1/campaigns/{campaign}/resume", "work", None),
    ("post", "/api/v1/campaigns/{campaign}/archive", "work", None),
    ("post", "/api/v1/campaigns/{campaign}/duplicate", "work", None),
    ("get", "/api/v1/campaigns/{campaign}/preview", "read", None),
    ("post", "/api/v1/campaigns/{campaign}/leads/import?dry_run=true", "work", [{"linkedin": "new-person"}]),
    ("get", "/api/v1/campaigns/{campaign}/leads/export", "read", None),
    ("get", "/api/v1/leads/{lead}", "read", None),
    ("patch", "/api/v1/leads/{lead}", "work", {"company": "New Co"}),
    ("delete", "/api/v1/leads/{lead}", "work", None),
    ("post", "/api/v1/leads/{lead}/pause", "work", None),
    ("post", "/api/v1/leads/{lead}/resume", "work", None),
    ("post", "/api/v1/leads/{lead}/requeue", "work", None),
    ("post", "/api/v1/leads/{lead}/mark-replied", "work", None),
    ("post", "/api/v1/leads/{lead}/move", "work", {"campaign": "{campaign}"}),
    ("get", "/api/v1/do-not-contact/{dnc}", "read", None),
    ("patch", "/api/v1/do-not-contact/{dnc}", "work", {"reason": "asked"}),
    ("delete", "/api/v1/do-not-contact/{dnc}", "work", None),
    ("get", "/api/v1/events/{event}", "read", None),
    ("get", "/api/v1/inbox/conversations/{conversation}", "read", None),
    ("get", "/api/v1/inbox/conversations/{conversation}/messages", "read", None),
    ("post", "/api/v1/inbox/conversations/{conversation}/reply", "work", {"text": "Thanks!"}),
    ("post", "/api/v1/inbox/conversations/{conversation}/read", "work", None),
    ("post", "/api/v1/inbox/conversations/{conversation}/unread", "work", None),
    ("post", "/api/v1/inbox/conversations/{conversation}/assign", "work", {"assignee": "me"}),
    ("post", "/api/v1/inbox/conversations/{conversation}/snooze", "work", {"until": "2099-01-01T09:00:00Z"}),
    ("post", "/api/v1/inbox/conversations/{conversation}/close", "work", None),
    ("post", "/api/v1/inbox/conversations/{conversation}/reopen", "work", None),
]
LIST_ENDPOINTS = [
    ("/api/v1/clients", "read"),
    ("/api/v1/memberships", "manage"),
    ("/api/v1/linkedin-accounts", "read"),
    ("/api/v1/rate-usage", "read"),
    ("/api/v1/campaigns", "read"),
    ("/api/v1/leads", "read"),
    ("/api/v1/do-not-contact", "read"),
    ("/api/v1/events", "read"),
    ("/api/v1/inbox/conversations", "read"),
]
# (path, level, body builder for a side): creations name their client in the body.
CREATE_ENDPOINTS = [
    ("/api/v1/clients", "superuser", lambda s: {"name": "New", "slug": "new-client"}),
    ("/api/v1/memberships", "manage", lambda s: {"client": str(s.client.pk), "user": "nobody", "role": "viewer"}),
    (
        "/api/v1/linkedin-accounts",
        "manage",
        lambda s: {"client": str(s.client.pk), "name": "New", "unipile_account_id": f"new-{s.client.pk}"},
    ),
    ("/api/v1/campaigns", "work", lambda s: {"client": str(s.client.pk), "name": "New"}),
    ("/api/v1/leads", "work", lambda s: {"campaign": str(s.campaign.pk), "linkedin": "brand-new-person"}),
    ("/api/v1/do-not-contact", "work", lambda s: {"client": str(s.client.pk), "value": "x@new.example"}),
    ("/api/v1/do-not-contact/bulk", "work", lambda s: {"client": str(s.client.pk), "values": ["y@new.example"]}),
]


def _fill(template, side):
    ids = {
        "client": side.client.pk,
        "membership": side.membership.pk,
        "account": side.account.pk,
        "usage": side.usage.pk,
        "campaign": side.campaign.pk,
        "lead": side.lead.pk,
        "dnc": side.dnc.pk,
        "event": side.event.pk,
        "conversation": side.conversation.pk,
    }
    if isinstance(template, str):
        return template.format(**ids)
    if isinstance(template, dict):
        return {k: _fill(v, side) for k, v in template.items()}
    return template


def _allowed(role, level):
    if role == "super":
        return True
    if level == "superuser":
        return False
    return RANK[role] >= NEEDS[level]


def _call(api, method, path, body):
    return getattr(api, method)(path, body, format="json") if body is not None else getattr(api, method)(path)


@pytest.mark.parametrize(("method", "template", "level", "body"), DETAIL_ENDPOINTS)
@pytest.mark.parametrize("role", ["viewer", "agent", "admin", "super"])
def test_own_client_objects_follow_the_role(world, method, template, level, body, role):
    side = world["a"]
    response = _call(client_for(world, role), method, _fill(template, side), _fill(body, side))
    if _allowed(role, level):
        assert response.status_code not in (401, 403, 404), (role, template, response.content)
    elif template.startswith("/api/v1/memberships"):
        # A client's memberships exist only for its admins: to its agents and viewers they are a 404.
        assert response.status_code == 404, (role, template, response.content)
    else:
        assert response.status_code == 403, (role, template, response.content)
        assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(("method", "template", "level", "body"), DETAIL_ENDPOINTS)
@pytest.mark.parametrize("role", ["viewer", "agent", "admin", "nobody"])
def test_other_client_objects_are_404(world, method, template, level, body, role):
    other = world["b"]
    response = _call(client_for(world, role), method, _fill(template, other), _fill(body, other))
    assert response.status_code == 404, (role, template, response.content)
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(("path", "level"), LIST_ENDPOINTS)
@pytest.mark.parametrize("role", ["viewer", "agent", "admin", "nobody", "super"])
def test_lists_show_only_own_clients(world, path, level, role):
    response = client_for(world, role).get(path)
    if role != "super" and (role == "nobody" or RANK[role] < NEEDS[level]) and level != "read":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    b = world["b"]
    owner_field, foreign = {
        "/api/v1/clients": ("id", b.client.pk),
        "/api/v1/memberships": ("client", b.client.pk),
        "/api/v1/linkedin-accounts": ("client", b.client.pk),
        "/api/v1/rate-usage": ("account", b.account.pk),
        "/api/v1/campaigns": ("client", b.client.pk),
        "/api/v1/leads": ("campaign", b.campaign.pk),
        "/api/v1/do-not-contact": ("client", b.client.pk),
        "/api/v1/events": ("lead", b.lead.pk),
        "/api/v1/inbox/conversations": ("client", b.client.pk),
    }[path]
    owners = {row[owner_field] for row in response.json()["results"]}
    assert (str(foreign) in owners) == (role == "super"), (role, path, owners)
    if role == "nobody":
        assert owners <= {None}


@pytest.mark.parametrize(("path", "level", "body"), CREATE_ENDPOINTS)
@pytest.mark.parametrize("role", ["viewer", "agent", "admin", "super"])
def test_creations_follow_the_role_and_refuse_other_clients(world, path, level, body, role, fake_unipile):
    fake_unipile.accept_any_account = True
    api = client_for(world, role)
    response = api.post(path, body(world["a"]), format="json")
    if _allowed(role, level):
        assert response.status_code == 201, (role, path, response.content)
    else:
        assert response.status_code in (400, 403), (role, path, response.content)
    if role != "super" and level != "superuser":
        foreign = api.post(path, body(world["b"]), format="json")
        assert foreign.status_code in (400, 403), (role, path, foreign.content)
        if foreign.status_code == 400:
            assert set(foreign.json()["details"]) & {"client", "campaign"}
