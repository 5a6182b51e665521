import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from outreach.models import Membership
from tests import factories


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The suite builds its tables without migrations; the database cache's table comes from here."""
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


@pytest.fixture(autouse=True)
def _isolated_var(settings, tmp_path):
    """Uploads and broker folders of a test live in its own temporary directory."""
    settings.IMPORT_DIR = tmp_path / "imports"
    # Real hashing costs a second per user; tests never need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def client_org(db):
    return factories.ClientFactory()


@pytest.fixture
def account(client_org):
    return factories.AccountFactory(client=client_org)


@pytest.fixture
def campaign(client_org, account):
    campaign = factories.CampaignFactory(client=client_org)
    campaign.senders.add(account)
    factories.StepFactory(campaign=campaign, position=1, action="invite", template="Hi {first_name}!")
    factories.StepFactory(
        campaign=campaign, position=2, action="message", delay_days=2, template="Thanks {first_name|there}"
    )
    return campaign


def requires_postgres():
    return pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (row locks); runs in CI's PostgreSQL pass"
    )


@pytest.fixture
def sandbox(settings, db):
    """The sandbox provider switched on, with a fixed seed, no injected faults and one account."""
    from integrations.sandbox.models import SandboxAccount, SandboxSettings

    settings.UNIPILE_SANDBOX = True
    SandboxSettings.objects.update_or_create(
        pk=1, defaults={"seed": 7, "accept_probability": 1.0, "reply_probability": 1.0}
    )
    SandboxAccount.objects.create(account_id="acc-sandbox", name="Sofia Sender", provider_id="ACoAASandboxOwn0001")
    return SandboxSettings.load()


@pytest.fixture
def sandbox_client(sandbox, live_server):
    from integrations.unipile import UnipileClient, sandbox_api_key

    return UnipileClient(
        base_url=f"{live_server.url}/sandbox/unipile/api/v1",
        api_key=sandbox_api_key(),
        timeout=(3, 10),
        sleep=lambda s: None,
    )


@pytest.fixture
def fake_unipile(monkeypatch):
    """The one seam (UnipileClient.from_settings) answered by the scriptable fake: for services called from the
    API, the admin and commands, which make their own client."""
    from integrations.unipile import UnipileClient
    from tests.fakes import FakeUnipile

    fake = FakeUnipile()
    monkeypatch.setattr(UnipileClient, "from_settings", classmethod(lambda cls, **kwargs: fake))
    return fake


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run in-process in tests; what they queue after commit runs when the test's commit hooks do."""
    from outreach.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def inbox_world(db):
    """Two clients; an agent and a viewer of the first, an agent of the second; a lead in conversation in each."""
    a = factories.ClientFactory(name="Acme")
    b = factories.ClientFactory(name="Bravo")
    users = {}
    for name, client, role in (("agent", a, "agent"), ("viewer", a, "viewer"), ("other", b, "agent")):
        user = factories.UserFactory(username=name)
        user.save()
        Membership.objects.create(user=user, client=client, role=role)
        users[name] = user
    acc_a = factories.AccountFactory(client=a, name="Sofia Sender")
    acc_b = factories.AccountFactory(client=b, name="Bruno Sender")
    camp_a = factories.CampaignFactory(client=a, status="active", name="Founders")
    camp_a.senders.add(acc_a)
    factories.StepFactory(campaign=camp_a, position=1, action="message", template="Hi {first_name}")
    camp_b = factories.CampaignFactory(client=b, status="active", name="Bravo campaign")
    lead_a = factories.LeadFactory(
        campaign=camp_a,
        first_name="Ann",
        last_name="Lee",
        provider_id="ACoAAPerson01",
        status="messaged",
        sender=acc_a,
        chat_id="chat-1",
        current_step=1,
    )
    lead_b = factories.LeadFactory(
        campaign=camp_b,
        first_name="Bob",
        last_name="Ray",
        provider_id="ACoAAPerson02",
        status="messaged",
        sender=acc_b,
        chat_id="chat-b",
    )
    return {
        "a": a,
        "b": b,
        "users": users,
        "acc_a": acc_a,
        "acc_b": acc_b,
        "lead_a": lead_a,
        "lead_b": lead_b,
        "camp_a": camp_a,
        "when": timezone.now() - dt.timedelta(minutes=5),
    }


@pytest.fixture
def browser_page(monkeypatch):
    """A page of headless Chromium (tests/browser.py: the marks that skip when it is missing)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        yield page
        browser.close()
