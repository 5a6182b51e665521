import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from campaigns.engine.calendar import WorkCalendar

UTC = dt.UTC


def cal(tz="Europe/London", start=(9, 0), end=(17, 0), days=(0, 1, 2, 3, 4), country="", subdivision=""):
    return WorkCalendar(
        tz=ZoneInfo(tz),
        start=dt.time(*start),
        end=dt.time(*end),
        days=frozenset(days),
        country=country,
        subdivision=subdivision,
    )


def at(tz, *args):
    return dt.datetime(*args, tzinfo=ZoneInfo(tz))


NEXT_WORKING = [
    # (calendar kwargs, moment, expected local result)
    (
        {},
        at("Europe/London", 2026, 11, 18, 10, 30),
        at("Europe/London", 2026, 11, 18, 10, 30),
    ),  # Wednesday inside hours
    ({}, at("Europe/London", 2026, 11, 18, 7, 0), at("Europe/London", 2026, 11, 18, 9, 0)),  # before hours
    ({}, at("Europe/London", 2026, 11, 18, 17, 0), at("Europe/London", 2026, 11, 19, 9, 0)),  # end is exclusive
    ({}, at("Europe/London", 2026, 11, 20, 18, 0), at("Europe/London", 2026, 11, 23, 9, 0)),  # Friday evening -> Monday
    ({}, at("Europe/London", 2026, 11, 21, 12, 0), at("Europe/London", 2026, 11, 23, 9, 0)),  # Saturday
    ({}, at("Europe/London", 2026, 11, 18, 23, 59), at("Europe/London", 2026, 11, 19, 9, 0)),  # midnight boundary
    (
        {"country": "GB", "subdivision": "ENG"},
        at("Europe/London", 2026, 12, 24, 18, 0),
        at("Europe/London", 2026, 12, 29, 9, 0),
    ),  # Christmas, Boxing Day (28th substitute)
    (
        {"country": "US"},
        at("America/New_York", 2026, 12, 31, 17, 30),
        at("America/New_York", 2027, 1, 4, 9, 0),
    ),  # year boundary, New Year
    (
        {"tz": "Asia/Dubai", "days": (6, 0, 1, 2, 3)},
        at("Asia/Dubai", 2026, 11, 19, 18, 0),
        at("Asia/Dubai", 2026, 11, 22, 9, 0),
    ),  # Fri-Sat weekend
    ({}, dt.datetime(2026, 11, 18, 8, 30, tzinfo=UTC), at("Europe/London", 2026, 11, 18, 9, 0)),  # a UTC moment
]


@pytest.mark.parametrize(("kwargs", "moment", "expected"), NEXT_WORKING)
def test_next_working_moment(kwargs, moment, expected):
    tz = kwargs.get("tz", "Europe/London" if moment.tzinfo == UTC else str(moment.tzinfo))
    result = cal(**{**kwargs, "tz": tz}).next_working_moment(moment)
    assert result == expected and result.utcoffset() == expected.utcoffset()


ADD_DAYS = [
    ({}, at("Europe/London", 2026, 11, 18, 10, 0), 1, 0, at("Europe/London", 2026, 11, 19, 10, 0)),
    ({}, at("Europe/London", 2026, 11, 20, 10, 0), 1, 0, at("Europe/London", 2026, 11, 23, 10, 0)),  # over the weekend
    ({}, at("Europe/London", 2026, 11, 18, 10, 0), 5, 0, at("Europe/London", 2026, 11, 25, 10, 0)),
    (
        {},
        at("Europe/London", 2026, 11, 18, 16, 0),
        1,
        3,
        at("Europe/London", 2026, 11, 20, 9, 0),
    ),  # hours push past close
    ({}, at("Europe/London", 2026, 11, 18, 10, 0), 0, 2, at("Europe/London", 2026, 11, 18, 12, 0)),
    ({}, at("Europe/London", 2026, 11, 21, 11, 0), 0, 0, at("Europe/London", 2026, 11, 23, 9, 0)),  # weekend start
    # DST: London springs forward on Sunday 29 March 2026 and falls back on Sunday 25 October 2026.
    ({}, at("Europe/London", 2026, 3, 27, 10, 0), 1, 0, at("Europe/London", 2026, 3, 30, 10, 0)),
    ({}, at("Europe/London", 2026, 10, 23, 10, 0), 1, 0, at("Europe/London", 2026, 10, 26, 10, 0)),
    # New York springs forward on 8 March 2026 and falls back on 1 November 2026.
    (
        {"tz": "America/New_York"},
        at("America/New_York", 2026, 3, 6, 9, 30),
        1,
        0,
        at("America/New_York", 2026, 3, 9, 9, 30),
    ),
    (
        {"tz": "America/New_York"},
        at("America/New_York", 2026, 10, 30, 16, 0),
        1,
        0,
        at("America/New_York", 2026, 11, 2, 16, 0),
    ),
    # Holidays are skipped like weekends: 25 Dec and 28 Dec (substitute Boxing Day) 2026 in England.
    (
        {"country": "GB", "subdivision": "ENG"},
        at("Europe/London", 2026, 12, 24, 10, 0),
        1,
        0,
        at("Europe/London", 2026, 12, 29, 10, 0),
    ),
    (
        {"country": "US", "tz": "America/New_York"},
        at("America/New_York", 2026, 12, 31, 10, 0),
        1,
        0,
        at("America/New_York", 2027, 1, 4, 10, 0),
    ),
    # Friday-Saturday weekend
    (
        {"tz": "Asia/Dubai", "days": (6, 0, 1, 2, 3)},
        at("Asia/Dubai", 2026, 11, 19, 10, 0),
        1,
        0,
        at("Asia/Dubai", 2026, 11, 22, 10, 0),
    ),
]


@pytest.mark.parametrize(("kwargs", "moment", "days", "hours", "expected"), ADD_DAYS)
def test_add_working_days(kwargs, moment, days, hours, expected):
    tz = kwargs.get("tz", "Europe/London")
    result = cal(**{**kwargs, "tz": tz}).add_working_days(moment, days, hours)
    assert result == expected
    assert result.utcoffset() == expected.utcoffset()  # the wall clock time, not a shifted one


def test_dst_keeps_wall_clock_time_in_utc_terms():
    london = cal()
    before = at("Europe/London", 2026, 3, 27, 10, 0)  # UTC+0
    after = london.add_working_days(before, 1)
    assert after.astimezone(UTC).hour == 9  # 10:00 BST is 09:00 UTC


def test_a_wall_time_inside_the_spring_gap_moves_after_it():
    night = cal(start=(0, 0), end=(23, 59), days=range(7))
    result = night.next_working_moment(dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    assert result.astimezone(UTC) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    gap = night.add_working_days(at("Europe/London", 2026, 3, 28, 1, 30), 1)
    assert gap.astimezone(UTC) >= dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_working_time():
    london = cal(country="GB", subdivision="ENG")
    assert london.is_working_time(at("Europe/London", 2026, 11, 18, 9, 0))
    assert not london.is_working_time(at("Europe/London", 2026, 11, 18, 17, 0))
    assert not london.is_working_time(at("Europe/London", 2026, 12, 25, 12, 0))
    assert not london.is_working_time(at("Europe/London", 2026, 11, 22, 12, 0))


def test_calendar_without_working_days_fails_clearly():
    with pytest.raises(ValueError, match="no working day"):
        cal(days=()).next_working_moment(at("Europe/London", 2026, 11, 18, 10, 0))
