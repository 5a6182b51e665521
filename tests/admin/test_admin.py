import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import quote
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, OutboundAction
from integrations.models import LinkedInAccount, RateUsage, SyncState, WebhookDelivery
from leads.models import DoNotContact, Event, Lead
from outreach.api.tokens import api_token_issue
from outreach.models import Heartbeat
from tests.factories import (
    AccountFactory,
    CampaignFactory,
    DoNotContactFactory,
    EventFactory,
    LeadFactory,
    MembershipFactory,
    OutboundActionFactory,
    RateUsageFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(campaign, account, sandbox):
    from integrations.sandbox import engine
    from integrations.sandbox.models import SandboxWebhook

    lead = LeadFactory(campaign=campaign, email="=cmd@evil.com", company='=HYPERLINK("x")')
    MembershipFactory(client=campaign.client)
    RateUsageFactory(account=account, day=account.today(), invites=3)
    EventFactory(lead=lead, account=account)
    OutboundActionFactory(lead=lead, account=account)
    DoNotContactFactory(client=campaign.client)
    WebhookDelivery.objects.create(source="messaging", event="message_received", body='{"a": 1}', headers={"x": "y"})
    Heartbeat.objects.create(name="worker", last_seen=timezone.now())
    SyncState.objects.create(account=account, job="replies", last_result="3 message(s)")
    api_token_issue(user=MembershipFactory().user)
    from axes.models import AccessAttempt, AccessFailureLog

    AccessAttempt.objects.create(
        username="guess", ip_address="10.0.0.1", user_agent="x", path_info="/login/", failures_since_start=2,
        get_data="", post_data="",
    )  # fmt: skip
    AccessFailureLog.objects.create(username="guess", ip_address="10.0.0.1", user_agent="x", path_info="/login/")
    SandboxWebhook.objects.create(id="wh_1", source="messaging", request_url="http://127.0.0.1:9/x")
    engine.invite(account_id="acc-sandbox", provider_id="ann-lee", message="")
    engine.start_chat(account_id="acc-sandbox", attendee_ids=["bob-ray"], text="Hi", inmail=True)
    from inbox.services import conversation_upsert, message_record

    conversation = conversation_upsert(
        account=account, chat_id="chat-admin", lead=lead, person_name="Ann Lee", person_provider_id="ACoAAAnn"
    )
    message_record(
        conversation=conversation, inbound=True, text="=1+1 hello", provider_message_id="m-1", sent_at=timezone.now()
    )
    from inbox.services import label_save, saved_reply_save

    label_save(client=campaign.client, name="Hot")
    from outreach.models import Brand

    Brand.objects.create(name="Northwind Growth")
    saved_reply_save(client=campaign.client, name="Pricing", text="Hi {first_name|there}, our pricing is attached.")
    from reports.models import ReportDelivery, ReportOptOut

    ReportDelivery.objects.create(
        client=campaign.client,
        kind="weekly",
        period="2026-W46",
        status="stored",
        html="<p>=1+1 report</p>",
        recipients=["a@b.example"],
    )
    ReportOptOut.objects.create(client=campaign.client, email="gone@b.example", reason="bounced")
    from integrations.models import AccountNotice, AccountStatusChange, HostedAuthLink
    from integrations.sandbox.models import SandboxHostedLink

    AccountStatusChange.objects.create(account=account, status="CREDENTIALS", previous="OK", source="webhook")
    AccountNotice.objects.create(account=account, kind="disconnected", period_start=timezone.now(), status="stored")
    HostedAuthLink.objects.create(
        public_id="abc123", secret_digest="0" * 64, kind="create", client=campaign.client,
        url="https://example.com/link", expires_at=timezone.now(),
    )  # fmt: skip
    from integrations.models import WebhookEndpoint
    from integrations.outbound import emit, new_secret

    WebhookEndpoint.objects.create(client=campaign.client, url="https://hooks.example.com/in", secret=new_secret())
    emit(client_id=campaign.client_id, type="ping", data={"message": "=1+1"})
    from campaigns.models import LeadSource, LeadSourcePerson

    source = LeadSource.objects.create(
        campaign=campaign,
        account=account,
        kind="search",
        url="https://www.linkedin.com/search/results/people/?k=x",
        key="search:k=x",
        status="finished",
        found=1,
        skipped={"duplicate": 1},
    )
    LeadSourcePerson.objects.create(source=source, provider_id="ACoAAX", name="=1+1", outcome="duplicate")
    SandboxHostedLink.objects.create(id="hl_1", name="x", notify_url="http://127.0.0.1:9/n", expires_at=timezone.now())
    return lead


def _models():
    return [model for model in admin.site._registry if model._meta.app_label not in {"auth", "django_celery_beat"}]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m._meta.label)
def test_changelist_change_and_add_pages(admin_client, data, model):
    opts = model._meta
    changelist = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    search = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?q=a")
    assert search.status_code == 200
    obj = model.objects.first()
    assert obj is not None, f"no {opts.label} in the fixture"
    # quote(): the admin escapes primary keys in its URLs ("inv_5f…" would otherwise unquote to "inv__…").
    change = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)]))
    assert change.status_code == 200
    add = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    assert add.status_code in (200, 403)


def test_admin_requires_login(client, data):
    response = client.get(reverse("admin:leads_lead_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def post_action(admin_client, model, action, objects, **extra):
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return admin_client.post(url, {"action": action, "_selected_action": [o.pk for o in objects], **extra}, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- LinkedIn accounts ---


def test_account_changelist_shows_todays_usage_against_limits(admin_client, data, account):
    response = admin_client.get(reverse("admin:integrations_linkedinaccount_changelist"))
    assert "3 / 25" in response.content.decode()


def test_account_pause_asks_for_a_reason_then_pauses_and_resume(admin_client, account):
    page = post_action(admin_client, LinkedInAccount, "pause_accounts", [account])
    assert "Pause LinkedIn accounts" in page.content.decode()
    account.refresh_from_db()
    assert not account.paused
    empty = post_action(admin_client, LinkedInAccount, "pause_accounts", [account], apply="Pause", reason="")
    assert "This field is required" in empty.content.decode()
    done = post_action(
        admin_client, LinkedInAccount, "pause_accounts", [account], apply="Pause", reason="Client holiday"
    )
    account.refresh_from_db()
    assert account.paused and account.paused_reason == "Client holiday" and account.pause_source == "operator"
    assert "1 account(s) paused." in messages_of(done)
    resumed = post_action(admin_client, LinkedInAccount, "resume_accounts", [account])
    account.refresh_from_db()
    assert not account.paused and "1 account(s) resumed." in messages_of(resumed)
    again = post_action(admin_client, LinkedInAccount, "resume_accounts", [account])
    assert any("is not paused" in m for m in messages_of(again))


# --- Rate usage ---


def test_reset_counters_records_the_reason_in_the_admin_log(admin_client, account):
    usage = RateUsageFactory(account=account, invites=20, messages=7)
    confirm = post_action(admin_client, RateUsage, "reset_counters", [usage])
    assert "Reset usage counters" in confirm.content.decode()
    done = post_action(
        admin_client, RateUsage, "reset_counters", [usage], apply="Reset", reason="Counted twice by mistake"
    )
    usage.refresh_from_db()
    assert (usage.invites, usage.messages) == (0, 0)
    assert "1 row(s) reset." in messages_of(done)
    entry = LogEntry.objects.get(object_id=str(usage.pk))
    assert "Counted twice by mistake" in entry.change_message and "invites=20" in entry.change_message


def test_recount_rebuilds_counters_from_events(admin_client, account, campaign):
    lead = LeadFactory(campaign=campaign)
    day = account.today()
    usage = RateUsageFactory(account=account, day=day, invites=9, messages=0)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=account.calendar_tz)
    EventFactory(lead=lead, account=account, type="invite_sent", occurred_at=noon)
    EventFactory(lead=lead, account=account, type="invite_sent", occurred_at=noon)
    EventFactory(lead=lead, account=account, type="message_sent", occurred_at=noon)
    EventFactory(lead=lead, account=account, type="invite_sent", occurred_at=noon - dt.timedelta(days=1))
    response = post_action(admin_client, RateUsage, "recount_from_events", [usage])
    usage.refresh_from_db()
    assert (usage.invites, usage.messages) == (2, 1)
    assert any("invites 9→2" in m for m in messages_of(response))
    again = post_action(admin_client, RateUsage, "recount_from_events", [usage])
    assert any("all matched" in m for m in messages_of(again))


def test_rate_usage_export_is_csv(admin_client, account):
    usage = RateUsageFactory(account=account, invites=4)
    response = post_action(admin_client, RateUsage, "export_csv", [usage])
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert f"{account.client.name},{account.name},{usage.day.isoformat()},4,25" in body


# --- Campaigns ---


def test_campaign_changelist_counts_leads_per_status(admin_client, campaign, django_assert_max_num_queries):
    LeadFactory.create_batch(3, campaign=campaign)
    LeadFactory(campaign=campaign, status="replied")
    for _ in range(5):
        CampaignFactory(client=campaign.client)
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:campaigns_campaign_changelist"))
    row = response.context["cl"].result_list.get(pk=campaign.pk)
    assert (row.n_total, row.n_pending, row.n_replied) == (4, 3, 1)


def test_activate_action_reports_problems_then_succeeds(admin_client, campaign):
    blank = LeadFactory(campaign=campaign, first_name="")
    refused = post_action(admin_client, Campaign, "activate", [campaign])
    text = " ".join(messages_of(refused))
    assert "cannot be activated" in text and str(blank.pk) in text and "no value" in text
    campaign.refresh_from_db()
    assert campaign.status == "draft"
    blank.first_name = "Bea"
    blank.save()
    ok = post_action(admin_client, Campaign, "activate", [campaign])
    campaign.refresh_from_db()
    assert campaign.status == "active" and f"{campaign} is active." in messages_of(ok)


def test_pause_resume_duplicate_archive_actions(admin_client, campaign):
    LeadFactory(campaign=campaign)
    post_action(admin_client, Campaign, "activate", [campaign])
    post_action(admin_client, Campaign, "pause", [campaign])
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    post_action(admin_client, Campaign, "resume", [campaign])
    campaign.refresh_from_db()
    assert campaign.status == "active"
    post_action(admin_client, Campaign, "duplicate", [campaign])
    copy = Campaign.objects.get(name=f"{campaign.name} (copy)")
    assert copy.steps.count() == 2 and copy.status == "draft"
    post_action(admin_client, Campaign, "archive", [campaign])
    campaign.refresh_from_db()
    assert campaign.status == "archived"
    refused = post_action(admin_client, Campaign, "pause", [campaign])
    assert any("cannot be paused" in m for m in messages_of(refused))


def test_campaign_form_refuses_senders_of_another_client(admin_client, campaign):
    foreign = AccountFactory()
    url = reverse("admin:campaigns_campaign_add")
    response = admin_client.post(
        url,
        {
            "client": campaign.client.pk,
            "name": "X",
            "kind": "connector",
            "senders": [foreign.pk],
            "timezone": "Europe/Paris",
            "work_start": "09:00",
            "work_end": "17:00",
            "working_days": ["0", "1"],
            "one_conversation_per_person": "on",
            "steps-TOTAL_FORMS": "0",
            "steps-INITIAL_FORMS": "0",
            "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert "belong to another client" in response.content.decode()


def test_campaign_form_saves_working_days_and_steps(admin_client, client_org, account):
    url = reverse("admin:campaigns_campaign_add")
    response = admin_client.post(
        url,
        {
            "client": client_org.pk,
            "name": "Gulf",
            "kind": "connector",
            "senders": [account.pk],
            "timezone": "Asia/Dubai",
            "work_start": "09:00",
            "work_end": "17:00",
            "working_days": ["6", "0", "1", "2", "3"],
            "holiday_country": "AE",
            "steps-TOTAL_FORMS": "2",
            "steps-INITIAL_FORMS": "0",
            "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "1000",
            "steps-0-position": "1",
            "steps-0-action": "invite",
            "steps-0-delay_days": "0",
            "steps-0-delay_hours": "0",
            "steps-0-template": "",
            "steps-0-template_b": "",
            "steps-1-position": "2",
            "steps-1-action": "message",
            "steps-1-delay_days": "2",
            "steps-1-delay_hours": "0",
            "steps-1-template": "",
            "steps-1-template_b": "",
        },
    )
    assert response.status_code == 200 and "A message needs a text." in response.content.decode()
    assert not Campaign.objects.filter(name="Gulf").exists()


def test_campaign_with_bad_holiday_country_is_a_form_error(admin_client, client_org):
    response = admin_client.post(
        reverse("admin:campaigns_campaign_add"),
        {
            "client": client_org.pk,
            "name": "X",
            "kind": "connector",
            "timezone": "UTC",
            "work_start": "17:00",
            "work_end": "09:00",
            "working_days": ["0"],
            "holiday_country": "ZZ",
            "steps-TOTAL_FORMS": "0",
            "steps-INITIAL_FORMS": "0",
            "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "1000",
        },
    )
    content = response.content.decode()
    assert "&#x27;ZZ&#x27; is not a country" in content and "Working hours must end after they start." in content


def test_preview_page_renders_steps_for_leads(admin_client, campaign):
    good = LeadFactory(campaign=campaign, first_name="Ann")
    LeadFactory(campaign=campaign, first_name="")
    response = admin_client.get(reverse("admin:campaigns_campaign_preview", args=[campaign.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Hi Ann!" in content and "no value for this lead" in content and "1 message cannot be sent" in content
    only = admin_client.get(reverse("admin:campaigns_campaign_preview", args=[campaign.pk]) + f"?leads={good.pk}")
    assert "cannot be sent" not in only.content.decode()


def test_preview_empty_states(admin_client, client_org):
    empty = CampaignFactory(client=client_org)
    response = admin_client.get(reverse("admin:campaigns_campaign_preview", args=[empty.pk]))
    assert "no steps yet" in response.content.decode()
    StepFactory(campaign=empty)
    response = admin_client.get(reverse("admin:campaigns_campaign_preview", args=[empty.pk]))
    assert "no leads yet" in response.content.decode()


def test_outbound_action_retry_and_cancel(admin_client, data):
    dead = OutboundActionFactory(status="dead", attempts=5)
    queued = OutboundActionFactory(status="queued")
    post_action(admin_client, OutboundAction, "retry_dead", [dead])
    dead.refresh_from_db()
    assert dead.status == "queued"
    response = post_action(admin_client, OutboundAction, "cancel", [queued])
    queued.refresh_from_db()
    assert queued.status == "cancelled" and "1 action(s) cancelled." in messages_of(response)


# --- Leads ---


def test_lead_actions(admin_client, campaign):
    lead = LeadFactory(campaign=campaign, status="connected")
    post_action(admin_client, Lead, "pause_leads", [lead])
    lead.refresh_from_db()
    assert lead.status == "paused"
    post_action(admin_client, Lead, "resume_leads", [lead])
    lead.refresh_from_db()
    assert lead.status == "connected" and lead.next_action_at is not None
    refused = post_action(admin_client, Lead, "requeue_errored", [lead])
    assert any("not in error" in m for m in messages_of(refused))
    lead.status, lead.resume_status, lead.last_error = "error", "connected", "boom"
    lead.save()
    post_action(admin_client, Lead, "requeue_errored", [lead])
    lead.refresh_from_db()
    assert lead.status == "connected" and lead.last_error == ""
    post_action(admin_client, Lead, "mark_replied", [lead])
    lead.refresh_from_db()
    assert lead.status == "replied"


def test_move_leads_through_intermediate_page(admin_client, campaign):
    lead = LeadFactory(campaign=campaign, status="pending")
    target = CampaignFactory(client=campaign.client, name="Target")
    page = post_action(admin_client, Lead, "move_leads", [lead])
    assert "Move leads to another campaign" in page.content.decode()
    done = post_action(admin_client, Lead, "move_leads", [lead], apply="Move", campaign=target.pk)
    lead.refresh_from_db()
    assert lead.campaign == target and "1 lead(s) moved to Target." in messages_of(done)
    assert Event.objects.filter(lead=lead, type="lead_moved").exists()
    foreign = CampaignFactory(name="Foreign")
    refused = post_action(admin_client, Lead, "move_leads", [lead], apply="Move", campaign=foreign.pk)
    assert any("another client" in m for m in messages_of(refused))


def test_add_leads_to_do_not_contact(admin_client, campaign):
    lead = LeadFactory(campaign=campaign, email="Ann@Acme.com", provider_id="ACoAAAnnLee000001")
    post_action(admin_client, Lead, "add_to_do_not_contact", [lead], apply="Add", reason="asked us to stop")
    lead.refresh_from_db()
    assert lead.status == "do_not_contact"
    values = set(DoNotContact.objects.filter(client=campaign.client).values_list("kind", "value"))
    assert values == {
        ("email", "ann@acme.com"),
        ("provider_id", "ACoAAAnnLee000001"),
        ("public_identifier", lead.public_identifier),
    }


def test_lead_export_neutralizes_formulas(admin_client, data):
    response = post_action(admin_client, Lead, "export_csv", [data])
    body = b"".join(response.streaming_content).decode()
    assert "'=cmd@evil.com" in body and "'=HYPERLINK" in body
    assert ",=" not in body


def test_import_flow_upload_map_preview_confirm(admin_client, campaign):
    LeadFactory(campaign=campaign, public_identifier="already")
    csv = (
        "Profile URL,Given name,Organisation,City\n"
        "https://www.linkedin.com/in/ann-lee/,Ann,Acme,Paris\n"
        "https://www.linkedin.com/in/already/,Al,Ready,Rome\n"
        "not a url,X,Y,Z\n"
    )
    upload = admin_client.post(
        reverse("admin:leads_lead_import"),
        {"campaign": campaign.pk, "file": SimpleUploadedFile("leads.csv", csv.encode())},
    )
    assert upload.status_code == 302
    map_url = upload["Location"]
    preview = admin_client.get(map_url)
    content = preview.content.decode()
    assert "New lead" in content and "Already in this campaign" in content and "Invalid row" in content
    assert "Import 1 new lead" in content
    assert Lead.objects.filter(campaign=campaign).count() == 1

    fields = {
        "linkedin": "Profile URL",
        "first_name": "Given name",
        "last_name": "",
        "company": "Organisation",
        "title": "",
        "email": "",
        "custom": ["City"],
    }
    done = admin_client.post(map_url, {**fields, "confirm": "1"}, follow=True)
    assert any("Imported 1 new lead(s)" in m for m in messages_of(done))
    ann = Lead.objects.get(campaign=campaign, public_identifier="ann-lee")
    assert ann.first_name == "Ann" and ann.company == "Acme" and ann.custom_fields == {"City": "Paris"}
    gone = admin_client.get(map_url, follow=True)
    assert any("no longer available" in m for m in messages_of(gone))


def test_import_mapping_errors_are_form_errors(admin_client, campaign):
    upload = admin_client.post(
        reverse("admin:leads_lead_import"),
        {"campaign": campaign.pk, "file": SimpleUploadedFile("leads.csv", b"col a,col b\nx,y\n")},
    )
    page = admin_client.get(upload["Location"])
    assert "Import" in page.content.decode() and "What the import will do" not in page.content.decode()
    twice = admin_client.post(upload["Location"], {"linkedin": "col a", "first_name": "col a"})
    assert "used twice: col a" in twice.content.decode()


def test_import_rejects_empty_files_on_upload(admin_client, campaign):
    response = admin_client.post(
        reverse("admin:leads_lead_import"), {"campaign": campaign.pk, "file": SimpleUploadedFile("e.csv", b"\n")}
    )
    assert response.status_code == 200 and "The file is empty." in response.content.decode()


def test_import_tokens_cannot_escape_the_import_folder(admin_client, campaign):
    response = admin_client.get(
        reverse("admin:leads_lead_import_map", args=["..%2F..%2Fetc"]) + f"?campaign={campaign.pk}"
    )
    assert response.status_code == 404


# --- Do not contact ---


def test_bulk_add_validates_every_line_and_stops_matching_leads(admin_client, campaign):
    lead = LeadFactory(campaign=campaign, public_identifier="ann-lee", status="invited")
    other = LeadFactory(campaign=campaign, email="bob@rival.com")
    url = reverse("admin:leads_donotcontact_bulk_add")
    bad = admin_client.post(
        url, {"client": campaign.client.pk, "entries": "ann-lee\nhttps://example.com/x\nnot@valid@x"}
    )
    content = bad.content.decode()
    assert "Line 2:" in content and "Line 3:" in content
    assert DoNotContact.objects.count() == 0
    ok = admin_client.post(
        url,
        {
            "client": campaign.client.pk,
            "entries": "https://www.linkedin.com/in/ann-lee/\n@rival.com\nann-lee\n",
            "reason": "GDPR",
        },
        follow=True,
    )
    assert any("2 entries added (1 already listed); 2 lead(s) stopped." in m for m in messages_of(ok))
    lead.refresh_from_db()
    other.refresh_from_db()
    assert lead.status == other.status == "do_not_contact"


def test_bulk_add_global_entries(admin_client, campaign):
    lead = LeadFactory(campaign=campaign, email="x@blocked.io")
    admin_client.post(reverse("admin:leads_donotcontact_bulk_add"), {"client": "", "entries": "x@blocked.io"})
    assert DoNotContact.objects.get().client is None
    lead.refresh_from_db()
    assert lead.status == "do_not_contact"


def test_lead_page_says_why_the_lead_is_not_moving(admin_client, campaign):
    lead = LeadFactory(campaign=campaign, status="error", last_error="invalid_recipient")
    response = admin_client.get(reverse("admin:leads_lead_change", args=[lead.pk]))
    assert "Stopped by an error: invalid_recipient" in response.content.decode()


def test_client_report_preview_and_send_now_pages(admin_client, data, campaign, settings):
    client = campaign.client
    client.report_recipients = "boss@client.example"
    client.save()
    change = admin_client.get(reverse("admin:outreach_client_change", args=[client.pk])).content.decode()
    assert "Preview in the browser" in change
    preview = admin_client.get(reverse("admin:reports_preview", args=[client.pk]))
    assert preview.status_code == 200 and b"Weekly report" in preview.content
    text = admin_client.get(reverse("admin:reports_preview", args=[client.pk]) + "?format=text")
    assert text["Content-Type"].startswith("text/plain")
    settings.RESEND_API_KEY = ""
    page = admin_client.post(
        reverse("admin:reports_send_now", args=[client.pk]), {"email": "me@agency.example", "week": "2026-W46"}
    )
    assert b"RESEND_API_KEY is not set" in page.content
    bad = admin_client.post(reverse("admin:reports_send_now", args=[client.pk]), {"email": "x", "week": "W99"})
    assert b"ISO week" in bad.content and b"valid email" in bad.content


def test_the_weekly_preview_shows_the_current_week_with_a_week_picker(admin_client, campaign):
    import time_machine

    client = campaign.client
    url = reverse("admin:reports_preview", args=[client.pk])
    with time_machine.travel(dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)):  # a Wednesday of week 49
        page = admin_client.get(url).content.decode()
    assert "Preview of week 2026-W49" in page and 'value="2026-W49"' in page
    assert "?week=2026-W48" in page and "?week=2026-W50" in page and "This week" not in page
    with time_machine.travel(dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)):
        last = admin_client.get(url, {"week": "2026-w48"}).content.decode()
    assert "Preview of week 2026-W48" in last and "This week (2026-W49)" in last
    bad = admin_client.get(url, {"week": "W99"})
    assert bad.status_code == 400 and b"ISO week" in bad.content
