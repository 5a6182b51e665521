"""Who may reach what: every URL pattern (pages, admin views, API operations) by every kind of user.

Roles: anonymous; staff without permissions; an operator (staff in the "Operator" group and an admin of
client A); a client admin, an agent and a viewer of A (members, not staff); and an admin of client B.
Each cell is one request against A's objects, inside a savepoint rolled back afterwards, and asserts
the status that role must get. A pattern the matrix does not know fails the test: a new view must say
who may use it.
"""

import re

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import get_resolver, reverse
from rest_framework.test import APIClient

from integrations.models import SyncState, WebhookDelivery
from outreach.api.tokens import api_token_issue
from outreach.groups import OPERATOR
from outreach.models import ApiToken, Heartbeat, Membership
from reports.models import ReportDelivery, ReportOptOut
from tests.api.conftest import world  # noqa: F401  (the fixture: two clients, data in both)
from tests.security.routes import walk

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "staff_no_perms", "operator", "client_admin", "agent", "viewer", "other_member"]
MEMBER_LEVEL = {"operator": 3, "client_admin": 3, "agent": 2, "viewer": 1}  # in client A
READ, WORK, MANAGE, SUPER = 1, 2, 3, 4
REFUSED = "refused"  # a page's action refused with a message (a redirect back), nothing written
OK = "ok"  # allowed: anything but 401, 403, 404, 405 and 5xx (a 400 for the empty body is fine)
PRODUCT_APPS = {"outreach", "integrations", "campaigns", "leads", "inbox", "reports"}


@pytest.fixture
def cast(world, fake_unipile):  # noqa: F811
    fake_unipile.accept_any_account = True  # links and account checks reach a provider
    users = world["users"]
    User = get_user_model()
    bare = User.objects.create_user("bare-staff", password="pw-for-tests-1", is_staff=True)
    operator = User.objects.create_user("operator-a", password="pw-for-tests-1", is_staff=True)
    operator.groups.add(Group.objects.get(name=OPERATOR))
    Membership.objects.create(user=operator, client=world["a"].client, role="admin")
    people = {
        "anonymous": None,
        "staff_no_perms": bare,
        "operator": operator,
        "client_admin": users["admin"],
        "agent": users["agent"],
        "viewer": users["viewer"],
        "other_member": users["outsider"],
    }
    tokens = {name: api_token_issue(user=user)[1] for name, user in people.items() if user is not None}
    return {"people": people, "tokens": tokens, "world": world}


def request(cast, role, method, path, *, api=False):
    user = cast["people"][role]
    if api:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {cast['tokens'][role]}")
        kwargs = {"format": "json", "data": {}} if method in ("post", "put", "patch") else {}
    else:
        from django.test import Client

        client = Client()
        if user is not None:
            client.force_login(user)
        kwargs = {}
    with transaction.atomic():
        response = getattr(client, method)(path, **kwargs)
        transaction.set_rollback(True)
    return response


def check(response, expected, cell):
    status = response.status_code
    if expected == OK:
        assert status < 500 and status not in (401, 403, 404, 405), (cell, status, response.content[:300])
    elif isinstance(expected, str) and expected.startswith("login:"):
        assert status == 302 and expected[6:] in response["Location"], (cell, status, response.get("Location"))
    else:
        allowed = expected if isinstance(expected, set) else {expected}
        assert status in allowed, (cell, status, response.content[:300])


# --- API operations ------------------------------------------------------------------------------


def _api_operations():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method, path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    )


API_OPERATIONS = _api_operations()


def api_level(method: str, path: str) -> int:
    """What the API promises (README): viewer reads; agent also works leads, campaigns, the inbox and the
    do-not-contact list; admin also manages clients, accounts, memberships and limits; creating and
    deleting clients is for staff superusers."""
    resource = path.removeprefix("/api/v1/")
    if resource.startswith(("memberships", "webhook-endpoints")):
        return MANAGE
    if method == "get":
        return READ
    if resource.startswith("clients"):
        return SUPER if method in ("post", "delete") else MANAGE
    if resource.startswith(("linkedin-accounts", "rate-usage")):
        return MANAGE
    return WORK


def api_sample(cast, path: str) -> str:
    a = cast["world"]["a"]
    ids = {
        "clients": a.client, "memberships": a.membership, "linkedin-accounts": a.account, "rate-usage": a.usage,
        "campaigns": a.campaign, "leads": a.lead, "do-not-contact": a.dnc, "events": a.event,
        "inbox/conversations": a.conversation, "reports/campaigns": a.campaign, "reports/accounts": a.account,
        "reports/clients": a.client, "webhook-endpoints": a.endpoint, "lead-sources": a.source,
    }  # fmt: skip
    resource = path.removeprefix("/api/v1/").split("/{id}")[0]
    return path.replace("{id}", str(ids[resource].pk))


def api_expected(role: str, method: str, path: str):
    if role == "anonymous":
        return 401
    level = api_level(method, path)
    detail = "{id}" in path
    mine = MEMBER_LEVEL.get(role, 0)  # the role's level in client A
    anywhere = max(mine, 3 if role == "other_member" else 0)  # held in some client
    if path in ("/api/v1/schema/", "/api/v1/inbox/counters"):
        return 200
    if detail:
        if mine == 0 or (path.startswith(("/api/v1/memberships", "/api/v1/webhook-endpoints")) and mine < MANAGE):
            return 404  # another client's object does not exist for them; memberships and endpoints: admins only
        return OK if mine >= level else 403
    if method == "get":
        return 200 if anywhere >= level or level == READ else 403
    if level == SUPER or anywhere < level:
        return 403
    return OK  # a creation: the empty body is a 400 naming the fields


API_CELLS = [(m, p, r) for m, p in API_OPERATIONS for r in ROLES]


@pytest.mark.parametrize(("method", "path"), API_OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in API_OPERATIONS])
def test_api_operation(cast, method, path):
    url = api_sample(cast, path) if "{id}" in path else path
    for role in ROLES:
        response = request(cast, role, method, url, api=True)
        check(response, api_expected(role, method, path), (role, method, url))
        outsider = role in ("staff_no_perms", "other_member") and method == "get" and "{id}" not in path
        if outsider and response.status_code == 200 and "results" in response.json():
            seen = {row.get("client") for row in response.json()["results"]}
            assert str(cast["world"]["a"].client.pk) not in seen, (role, path)


# --- Pages (the members' door) -------------------------------------------------------------------


def page_cases(cast):
    a = cast["world"]["a"]
    conv = a.conversation.pk
    everyone = {"staff_no_perms": 200, "operator": 200, "client_admin": 200, "agent": 200, "viewer": 200,
                "other_member": 200}  # fmt: skip
    of_a = {"staff_no_perms": 404, "operator": 200, "client_admin": 200, "agent": 200, "viewer": 200,
            "other_member": 404}  # fmt: skip
    # A viewer's action is refused on the page itself: back to the conversation with the refusal as a message.
    work_a = {"staff_no_perms": 404, "operator": 302, "client_admin": 302, "agent": 302, "viewer": REFUSED,
              "other_member": 404}  # fmt: skip
    return {
        ("get", "inbox:list"): ("/inbox/", everyone),
        ("get", "inbox:poll"): ("/inbox/poll", everyone),
        ("get", "inbox:conversation"): (f"/inbox/{conv}/", of_a),
        ("post", "inbox:reply"): (f"/inbox/{conv}/reply", work_a),
        ("post", "inbox:act"): (f"/inbox/{conv}/read", work_a),
        # Back to the list with the refusal (nothing ticked); who may label what: tests/inbox/test_triage.py.
        ("post", "inbox:bulk-label"): ("/inbox/bulk-label", {role: 302 for role in everyone}),
        ("get", "reports:index"): ("/reports/", everyone),
        # The portal: a member's home (their clients only; none: the empty state), and a campaign's leads.
        ("get", "portal:home"): ("/portal/", everyone),
        ("get", "portal:leads"): (f"/portal/leads/?campaign={a.campaign.pk}", of_a),
        # Without any membership the page is its empty state; a member of another client gets a 404.
        ("get", "reports:index?client"): (f"/reports/?client={a.client.pk}", {**of_a, "staff_no_perms": 200}),
        ("get", "password_change"): ("/password/change/", everyone),
        ("get", "password_change_done"): ("/password/change/done/", everyone),
    }


PAGE_CASES = [
    ("get", "inbox:list"), ("get", "inbox:poll"), ("get", "inbox:conversation"), ("post", "inbox:reply"),
    ("post", "inbox:act"), ("post", "inbox:bulk-label"), ("get", "reports:index"), ("get", "portal:home"),
    ("get", "portal:leads"), ("get", "reports:index?client"), ("get", "password_change"),
    ("get", "password_change_done"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "name"), PAGE_CASES, ids=[f"{m.upper()} {n}" for m, n in PAGE_CASES])
def test_page(cast, method, name):
    path, expected = page_cases(cast)[(method, name)]
    a_name = cast["world"]["a"].client.name
    for role in ROLES:
        response = request(cast, role, method, path)
        want = "login:/login/" if role == "anonymous" else expected[role]
        if want == REFUSED:
            from django.contrib.messages import get_messages

            notes = [str(m) for m in get_messages(response.wsgi_request)]
            assert response.status_code == 302 and any("read-only" in n for n in notes), (role, path, notes)
            continue
        check(response, want, (role, method, path))
        if role in ("staff_no_perms", "other_member") and response.status_code == 200:
            assert a_name not in response.content.decode(), (role, path, "shows client A")


# --- Admin ---------------------------------------------------------------------------------------


def admin_sample_objects(cast):
    """One object of client A per registered model where the model belongs to a client."""
    w = cast["world"]
    a = w["a"]
    from inbox.models import Message, Participant
    from tests.factories import OutboundActionFactory

    conversation = a.conversation
    account = a.account
    WebhookDelivery.objects.create(source="messaging", event="message_received", account_id=account.unipile_account_id)
    SyncState.objects.create(account=account, job="replies")
    Heartbeat.objects.create(name="worker", last_seen="2026-12-01T10:00:00Z")
    ReportDelivery.objects.create(client=a.client, kind="weekly", period="2026-W48", recipients="x@acme.example")
    ReportOptOut.objects.create(client=a.client, email="gone@acme.example", reason="unsubscribed")
    action = OutboundActionFactory(lead=a.lead, account=account)
    Participant.objects.get_or_create(conversation=conversation, provider_id="ACoAAAda", defaults={"name": "Ada"})
    return {
        "outreach.client": a.client, "outreach.membership": a.membership,
        "outreach.apitoken": ApiToken.objects.filter(user=w["users"]["admin"]).first(),
        "outreach.heartbeat": Heartbeat.objects.get(name="worker"),
        "integrations.linkedinaccount": account, "integrations.rateusage": a.usage,
        "integrations.webhookdelivery": WebhookDelivery.objects.get(account_id=account.unipile_account_id),
        "integrations.syncstate": SyncState.objects.get(account=account, job="replies"),
        "campaigns.campaign": a.campaign, "campaigns.outboundaction": action, "leads.lead": a.lead,
        "leads.event": a.event, "leads.donotcontact": a.dnc, "inbox.conversation": conversation,
        "inbox.message": Message.objects.filter(conversation=conversation).first(),
        "inbox.participant": Participant.objects.filter(conversation=conversation).first(),
        "reports.reportdelivery": ReportDelivery.objects.get(client=a.client),
        "integrations.webhookendpoint": a.endpoint,
        "campaigns.leadsource": a.source,
        "reports.reportoptout": ReportOptOut.objects.get(client=a.client),
    }  # fmt: skip


MODELS = sorted(model._meta.label_lower for model in django_admin.site._registry)
ADMIN_VIEWS = ["changelist", "add", "change", "delete", "history"]
ADMIN_CELLS = [(label, view) for label in MODELS for view in ADMIN_VIEWS]


def admin_expected(role: str, label: str, view: str, model_admin, operator):
    if role == "anonymous" or role in ("client_admin", "agent", "viewer", "other_member"):
        return "login:/admin/login/"  # not staff: the admin is not their door
    if role == "staff_no_perms":
        # No permission (403), or, on one object, no membership first: "does not exist" (back to the index).
        return 403 if view in ("changelist", "add") else {302, 403}
    # The operator: the product's models only (users: to look at, never to change).
    app = label.split(".")[0]
    if label == "auth.user":
        return 200 if view in ("changelist", "change", "history") else 403
    if app not in PRODUCT_APPS:
        return 403
    if view == "add":
        return 200 if model_admin.has_add_permission(_as(operator)) else 403
    if view == "delete":
        return {200, 403}
    return 200


def _as(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize("label", MODELS)
def test_admin_model(cast, label):
    model_admin = next(ma for m, ma in django_admin.site._registry.items() if m._meta.label_lower == label)
    samples = admin_sample_objects(cast)
    operator = cast["people"]["operator"]
    opts = model_admin.model._meta
    sample = samples.get(label)
    if sample is None:
        sample = model_admin.model._default_manager.first()
    for view in ADMIN_VIEWS:
        if view in ("change", "delete", "history"):
            if sample is None:
                continue  # nothing of this model exists (the sandbox's tables, beat's schedules)
            path = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[sample.pk])
        else:
            path = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}")
        for role in ROLES:
            response = request(cast, role, "get", path)
            check(response, admin_expected(role, label, view, model_admin, operator), (role, view, path))


def test_admin_objects_of_another_client_do_not_exist_for_an_operator(cast):
    b = cast["world"]["b"]
    for obj in (b.client, b.campaign, b.lead, b.account, b.conversation, b.dnc, b.event, b.usage, b.membership):
        opts = obj._meta
        path = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        response = request(cast, "operator", "get", path)
        assert response.status_code == 302 and response["Location"] == reverse("admin:index"), (
            path,
            response.status_code,
        )
        listed = request(cast, "operator", "get", reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert f"/{obj.pk}/change/" not in listed.content.decode(), path


def admin_custom_cases(cast):
    from django.utils import timezone

    from integrations.models import HostedAuthLink

    a = cast["world"]["a"]
    staff_only = {"staff_no_perms": 403, "operator": 200}
    link = HostedAuthLink.objects.get_or_create(
        public_id="matrix-link",
        defaults={"secret_digest": "0" * 64, "kind": "create", "client": a.client, "url": "https://x.example/l",
                  "expires_at": timezone.now()},
    )[0]  # fmt: skip
    b_account = cast["world"]["b"].account
    refused = {403, 404}  # the view refuses a staff member without the model permission
    return {
        "admin:index": (reverse("admin:index"), {"staff_no_perms": 200, "operator": 200}),
        "admin:leads_lead_import": (reverse("admin:leads_lead_import"), {"staff_no_perms": refused, "operator": 200}),
        "admin:leads_lead_import_map": (
            reverse("admin:leads_lead_import_map", args=["no-such-upload"]) + f"?campaign={a.campaign.pk}",
            {"staff_no_perms": refused, "operator": 404},  # an upload that is not there (the real flow: test_import)
        ),
        "admin:leads_donotcontact_bulk_add": (
            reverse("admin:leads_donotcontact_bulk_add"), {"staff_no_perms": refused, "operator": 200}
        ),
        "admin:campaigns_campaign_preview": (reverse("admin:campaigns_campaign_preview", args=[a.campaign.pk]), staff_only),
        "admin:reports_preview": (reverse("admin:reports_preview", args=[a.client.pk]), staff_only),
        "admin:reports_send_now": (reverse("admin:reports_send_now", args=[a.client.pk]), staff_only),
        "admin:reports_preview(B)": (reverse("admin:reports_preview", args=[cast["world"]["b"].client.pk]),
                                     {"staff_no_perms": 403, "operator": 403}),
        "admin:autocomplete": (
            reverse("admin:autocomplete") + "?app_label=leads&model_name=lead&field_name=campaign",
            staff_only,
        ),
        "admin:app_list": (reverse("admin:app_list", args=["campaigns"]), {"staff_no_perms": 404, "operator": 200}),
        "admin:password_change": (reverse("admin:password_change"), {"staff_no_perms": 200, "operator": 200}),
        "admin:jsi18n": (reverse("admin:jsi18n"), {"staff_no_perms": 200, "operator": 200}),
        "admin:integrations_linkedinaccount_connect": (reverse("admin:integrations_linkedinaccount_connect"), staff_only),
        "admin:integrations_linkedinaccount_link": (
            reverse("admin:integrations_linkedinaccount_link", args=[link.public_id]), staff_only
        ),
        "admin:integrations_linkedinaccount_link_status": (
            reverse("admin:integrations_linkedinaccount_link_status", args=[link.public_id]), staff_only
        ),
        "admin:integrations_linkedinaccount_reconnect": (
            reverse("admin:integrations_linkedinaccount_reconnect", args=[a.account.pk]), staff_only
        ),
        "admin:integrations_linkedinaccount_reconnect(B)": (
            reverse("admin:integrations_linkedinaccount_reconnect", args=[b_account.pk]),
            {"staff_no_perms": 403, "operator": 404},
        ),
        "admin:integrations_linkedinaccount_health": (
            reverse("admin:integrations_linkedinaccount_health", args=[a.account.pk]), staff_only
        ),
        "admin:campaigns_leadsource_progress": (
            reverse("admin:campaigns_leadsource_progress", args=[a.source.pk]), staff_only
        ),
        # Its buttons post; a GET is refused to everyone (the POST is tested with the source's page).
        "admin:campaigns_leadsource_operate": (
            reverse("admin:campaigns_leadsource_operate", args=[a.source.pk, "pause"]),
            {"staff_no_perms": 403, "operator": 403},
        ),
        # The campaign page's buttons post; a GET is refused to everyone (the POSTs: test_sequence_graph).
        "admin:campaigns_campaign_operate": (
            reverse("admin:campaigns_campaign_operate", args=[a.campaign.pk]),
            {"staff_no_perms": 403, "operator": 403},
        ),
        "admin:integrations_linkedinaccount_health(B)": (
            reverse("admin:integrations_linkedinaccount_health", args=[b_account.pk]),
            {"staff_no_perms": 403, "operator": 404},
        ),
    }  # fmt: skip


CUSTOM = [
    "admin:index", "admin:leads_lead_import", "admin:leads_lead_import_map", "admin:leads_donotcontact_bulk_add", "admin:campaigns_campaign_preview",
    "admin:reports_preview", "admin:reports_send_now", "admin:reports_preview(B)", "admin:autocomplete",
    "admin:app_list", "admin:password_change", "admin:jsi18n", "admin:integrations_linkedinaccount_connect",
    "admin:integrations_linkedinaccount_link", "admin:integrations_linkedinaccount_link_status",
    "admin:integrations_linkedinaccount_reconnect", "admin:integrations_linkedinaccount_reconnect(B)",
    "admin:integrations_linkedinaccount_health", "admin:integrations_linkedinaccount_health(B)",
    "admin:campaigns_leadsource_progress", "admin:campaigns_leadsource_operate", "admin:campaigns_campaign_operate",
]  # fmt: skip


@pytest.mark.parametrize("name", CUSTOM)
def test_admin_custom_view(cast, name):
    path, staff = admin_custom_cases(cast)[name]
    for role in ROLES:
        want = staff.get(role, "login:/admin/login/")
        check(request(cast, role, "get", path), want, (role, name, path))


# --- Every pattern is in the matrix --------------------------------------------------------------

# Reached without a login by design; tests/security/test_authentication.py checks their own locks.
PUBLIC = {
    "healthz", "admin:login", "admin:logout", "login", "logout", "password_reset", "password_reset_done",
    "password_reset_confirm", "password_reset_complete", "unipile-webhook", "resend-webhook",
    "reports:unsubscribe", "admin:view_on_site", "admin:password_change_done", "hosted-auth-notify", "connect-done",
}  # fmt: skip


def test_every_url_pattern_has_its_row_in_the_matrix():
    covered_names = {n for _m, n in PAGE_CASES} | set(CUSTOM) | PUBLIC
    admin_views = re.compile(r"^admin:(\w+?)_(\w+)_(changelist|add|change|delete|history)$")
    api_paths = {p for _m, p in API_OPERATIONS}
    missing = []
    for pattern, name in walk(get_resolver().url_patterns):
        if name in covered_names or pattern.startswith("sandbox/"):
            continue
        if admin_views.match(name) or (pattern.startswith("admin/") and name == ""):
            continue  # every registered model's five views: test_admin_model
        if pattern.startswith("api/v1/") and name.startswith("api:"):
            continue  # the router's and the reports' routes: API_OPERATIONS (from the schema)
        missing.append((pattern, name))
    assert missing == [], "URL patterns nobody decided about: " + repr(missing)
    assert len(api_paths) > 40 and len(MODELS) > 20


def test_the_matrix_size():
    """How many cells the matrix holds (printed for the issue's note)."""
    cells = len(API_CELLS) + len(PAGE_CASES) * len(ROLES) + len(ADMIN_CELLS) * len(ROLES) + len(CUSTOM) * len(ROLES)
    print(f"\naccess matrix: {cells} cells ({len(API_OPERATIONS)} API operations, {len(MODELS)} admin models)")
    assert cells > 1000
