"""The admin home: today per client and account, with links to the filtered lists."""

from campaigns.models import OutboundAction
from inbox.models import Conversation
from reports.dashboard import dashboard
from tests import factories


def test_dashboard_counts_and_links(admin_client, inbox_world):
    w = inbox_world
    account = w["acc_a"]
    factories.RateUsageFactory(account=account, day=account.today(), invites=7, messages=3)
    account.paused, account.paused_reason = True, "LinkedIn warning"
    account.save()
    factories.LeadFactory(campaign=w["camp_a"], status="error")
    OutboundAction.objects.create(account=account, lead=w["lead_a"], action="message", status="dead")
    Conversation.objects.create(client=w["a"], account=account, chat_id="c-9", unread=True, unread_count=2)
    page = admin_client.get("/admin/").content.decode()
    assert "Acme" in page and "7 / 25" in page and "Paused: LinkedIn warning" in page
    assert f"campaign__client__id__exact={w['a'].pk}&status__exact=error" in page
    assert f"account__client__id__exact={w['a'].pk}&status__exact=dead" in page
    block = next(b for b in dashboard(_superuser()) if b["client"] == w["a"])
    assert (block["lead_errors"], block["dead_actions"], block["unread"], block["paused"]) == (1, 1, 1, 1)
    assert block["invites"] == (7, 25)


def _superuser():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_superuser=True).first()


def test_dashboard_is_scoped_to_the_users_clients(inbox_world, django_assert_max_num_queries):
    agent = inbox_world["users"]["agent"]
    with django_assert_max_num_queries(8):
        blocks = dashboard(agent)
    assert [b["client"].name for b in blocks] == ["Acme"]
