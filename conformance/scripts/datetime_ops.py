"""datetime: arithmetic, timedelta normalisation, timezone.utc and fixed offsets, fromtimestamp(utc and local), isoformat/fromisoformat, strftime/strptime, calendar, zoneinfo availability."""
import calendar, datetime as dt
from datetime import date, datetime, time, timedelta, timezone
a = datetime(2024, 2, 28, 23, 30)
print(a + timedelta(hours=1), a + timedelta(days=1, hours=1), a - datetime(2000, 1, 1))
print(timedelta(days=-1, seconds=5), timedelta(hours=25), timedelta(microseconds=-1), timedelta(weeks=1) / timedelta(days=2), timedelta(seconds=10) * 1.5)
print(repr(timedelta(days=1, seconds=3661, microseconds=5)), timedelta(days=3).total_seconds())
u = datetime(2021, 6, 1, 12, 0, tzinfo=timezone.utc)
ist = timezone(timedelta(hours=5, minutes=30), "IST")
print(u, u.astimezone(ist), u.astimezone(ist).tzname(), u.utcoffset(), timezone(timedelta(hours=-8)))
print("fromtimestamp utc", datetime.fromtimestamp(0, timezone.utc), datetime.fromtimestamp(1234567890.5, tz=timezone.utc))
print("fromtimestamp local", datetime.fromtimestamp(1234567890), datetime.fromtimestamp(0).astimezone().tzname())
print("utcfromtimestamp-equivalent", datetime.fromtimestamp(86400 * 365, timezone.utc).replace(tzinfo=None))
print("timestamp", datetime(2000, 1, 1, tzinfo=timezone.utc).timestamp(), datetime(2000, 1, 1).timestamp())
print("iso", a.isoformat(), u.isoformat(timespec="seconds"), datetime.fromisoformat("2011-11-04T00:05:23.283+00:00"), date.fromisoformat("2024-W10-3") if hasattr(date, "fromisoformat") else "")
print("isocalendar", date(2021, 1, 3).isocalendar(), date(2024, 12, 30).isoweekday(), date(2024, 3, 1).toordinal(), date.fromordinal(738000))
print("strftime", a.strftime("%A %d %B %Y %I:%M %p %j"), u.strftime("%z %Z"))
print("strptime", datetime.strptime("03/04/21 17:05", "%d/%m/%y %H:%M"), datetime.strptime("2021-06-01T12:00:00+0530", "%Y-%m-%dT%H:%M:%S%z"))
print("comparisons", date(2020, 1, 1) < date(2020, 1, 2), u == u.astimezone(ist), datetime.max, datetime.min, time(23, 59, 59, 999999))
try:
    datetime(2023, 2, 29)
except ValueError as e:
    print("invalid date:", e)
try:
    datetime(2020, 1, 1) < u
except TypeError as e:
    print("naive vs aware:", e)
print("today sane", date.today().year >= 2024, datetime.now(timezone.utc).tzinfo)
print("calendar", calendar.isleap(2100), calendar.monthrange(2024, 2), calendar.weekday(2000, 1, 1))
print(calendar.month(2024, 2))
try:
    import zoneinfo
    print("zoneinfo available tzdata", sorted(zoneinfo.available_timezones())[:3])
    z = zoneinfo.ZoneInfo("Europe/Paris")
    print("Paris", datetime(2024, 7, 1, tzinfo=z).utcoffset())
except Exception as e:
    print("zoneinfo", type(e).__name__, e)
