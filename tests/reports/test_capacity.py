"""Capacity counts only the days an account existed, each at its warm-up cap (issue 22: "2 / 600" after a day)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from integrations.models import RateUsage
from reports.selectors import Period, account_utilization
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


def test_capacity_counts_the_days_the_account_existed_at_their_warm_up_cap(client_org, settings):
    settings.WARMUP_START_PER_DAY, settings.WARMUP_INCREASE_PER_DAY = 5, 3
    client_org.timezone = "UTC"
    client_org.save()
    last = dt.date(2026, 12, 3)
    added = dt.datetime.combine(last - dt.timedelta(days=1), dt.time(10), tzinfo=UTC)
    account = AccountFactory(client=client_org, created_at=added, warmup_started_on=added.date(),
                             daily_invite_limit=20, daily_message_limit=100)  # fmt: skip
    old = AccountFactory(client=client_org, created_at=added - dt.timedelta(days=400), warmup_started_on=None,
                         daily_invite_limit=20, daily_message_limit=100)  # fmt: skip
    RateUsage.objects.create(account=account, day=last, invites=2, messages=3)
    period = Period(last - dt.timedelta(days=29), last, UTC)
    rows = {
        row["account"].pk: row for row in account_utilization(type(account).objects.filter(client=client_org), period)
    }
    new = rows[account.pk]
    # Two days: the warm-up's first day (5) and second day (8), not 30 days x 20.
    assert (new["invite_capacity"], new["message_capacity"]) == (5 + 8, 5 + 8)
    assert new["utilization"] == round(5 / 26, 4)  # 5 actions of 26 allowed
    assert (rows[old.pk]["invite_capacity"], rows[old.pk]["message_capacity"]) == (30 * 20, 30 * 100)
