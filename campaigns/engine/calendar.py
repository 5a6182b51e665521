"""Working time of a campaign: timezone, hours, days and public holidays.

Every next_action_at and scheduled_for is computed here. Arithmetic is done on local dates and
times and converted back through zoneinfo, so "2 working days later at 10:00" stays 10:00 across
DST changes.
"""

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

MAX_SEARCH_DAYS = 3660  # a calendar with no working day at all would loop forever


@lru_cache(maxsize=256)
def _holiday_calendar(country: str, subdivision: str):
    if not country:
        return None
    return holidays.country_holidays(country.upper(), subdiv=subdivision.upper() or None)


@dataclass(frozen=True)
class WorkCalendar:
    tz: ZoneInfo
    start: dt.time
    end: dt.time
    days: frozenset[int]
    country: str = ""
    subdivision: str = ""

    @classmethod
    def for_campaign(cls, campaign) -> "WorkCalendar":
        return cls(
            tz=ZoneInfo(str(campaign.timezone)),
            start=campaign.work_start,
            end=campaign.work_end,
            days=frozenset(campaign.working_days),
            country=campaign.holiday_country,
            subdivision=campaign.holiday_subdivision,
        )

    def is_holiday(self, day: dt.date) -> bool:
        calendar = _holiday_calendar(self.country, self.subdivision)
        return calendar is not None and day in calendar

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.days and not self.is_holiday(day)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz)

    def _at(self, day: dt.date, time: dt.time) -> dt.datetime:
        # Through UTC and back: a wall time that does not exist (spring forward) lands after the gap.
        return dt.datetime.combine(day, time, tzinfo=self.tz).astimezone(dt.UTC).astimezone(self.tz)

    def is_working_time(self, moment: dt.datetime) -> bool:
        local = self.local(moment)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end

    def _next_working_day(self, day: dt.date) -> dt.date:
        for _ in range(MAX_SEARCH_DAYS):
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError("This calendar has no working day in ten years.")

    def next_working_moment(self, moment: dt.datetime) -> dt.datetime:
        """moment itself when it is working time, else the start of the next working period."""
        local = self.local(moment)
        day = local.date()
        if self.is_working_day(day):
            if local.time() < self.start:
                return self._at(day, self.start)
            if local.time() < self.end:
                return local
        return self._at(self._next_working_day(day), self.start)

    def add_working_days(self, moment: dt.datetime, days: int, hours: int = 0) -> dt.datetime:
        """`days` working days later at the same local time (then `hours` more), moved into working time."""
        local = self.local(moment)
        day = local.date()
        for _ in range(days):
            day = self._next_working_day(day)
        candidate = self._at(day, local.time().replace(tzinfo=None)) + dt.timedelta(hours=hours)
        return self.next_working_moment(candidate)

    def working_days_between(self, moment: dt.datetime, until: dt.datetime) -> int:
        """Working days from moment's day up to until's day (0 when until is today or past)."""
        day, last = self.local(moment).date(), self.local(until).date()
        count = 0
        for _ in range(MAX_SEARCH_DAYS):
            if day >= last:
                break
            day = self._next_working_day(day)
            if day <= last:
                count += 1
        return count
