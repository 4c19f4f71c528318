//! A site's opening hours: shifts (days, `HH:MM` to `HH:MM`) in one time zone, read with the
//! same time handling as the rules' `business_hours` condition. The edge turns them into the
//! open windows of the coming week, by its clock, for the widget's page; the widget only asks
//! whether it is inside one and when the next begins ([`closed_until`]: no zone rules in the
//! app).

#[cfg(test)]
use super::business_hours_open;
use super::{hhmm, tz, Weekday};
use crate::proto::v1::ErrorCode;
use serde::{Deserialize, Serialize};

/// At most this many shifts (two a day).
pub const MAX_SHIFTS: usize = 14;

/// How far ahead the widget's page says when the site opens.
pub const WINDOW_DAYS: i64 = 7;

/// `"hours"` of a site: when someone is there to answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct OpenHours {
    /// An IANA name (`Europe/Berlin`) or a POSIX TZ string, as for the rules.
    pub tz: String,
    pub shifts: Vec<Shift>,
}

/// Open on each of `days` from `open` until `close` (`HH:MM`, close exclusive; a close before
/// the open runs past midnight; the same time for both is the whole day).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    pub days: Vec<Weekday>,
    pub open: String,
    pub close: String,
}

impl OpenHours {
    /// Checks the zone, the times and the number of shifts; or says what is wrong.
    pub fn validated(self) -> Result<OpenHours, (ErrorCode, String)> {
        let bad = |m: String| Err((ErrorCode::BadRequest, m));
        if let Err(e) = tz::check(&self.tz) {
            return bad(format!("hours: {e}"));
        }
        if self.shifts.is_empty() || self.shifts.len() > MAX_SHIFTS {
            return bad(format!("hours: between 1 and {MAX_SHIFTS} shifts"));
        }
        for (i, s) in self.shifts.iter().enumerate() {
            if s.days.is_empty() {
                return bad(format!("hours.shifts[{i}]: name at least one day"));
            }
            if hhmm(&s.open).is_none() || hhmm(&s.close).is_none() {
                return bad(format!(
                    "hours.shifts[{i}]: open and close are times like 09:00 and 17:30"
                ));
            }
        }
        Ok(self)
    }

    /// When the site is open in the [`WINDOW_DAYS`] days from `now_ms`, for the widget's page:
    /// `[from, until, from, until, …]` in seconds after `now_ms` — the current window (if open)
    /// from 0, then those that follow; overlapping and touching shifts joined.
    pub fn windows(&self, now_ms: i64) -> Vec<u32> {
        let mut open = Vec::new();
        if let Some(zone) = tz::Zone::parse(&self.tz) {
            let now = now_ms.div_euclid(1000);
            let today = (now + zone.offset_at(now)).div_euclid(86_400);
            // From yesterday: a shift past midnight may still be open.
            for day in today - 1..=today + WINDOW_DAYS {
                let weekday = Weekday::of_day(day);
                for s in self.shifts.iter().filter(|s| s.days.contains(&weekday)) {
                    let (Some(from), Some(to)) = (hhmm(&s.open), hhmm(&s.close)) else {
                        continue;
                    };
                    let (start, end) = match from.cmp(&to) {
                        std::cmp::Ordering::Less => (
                            day * 86_400 + i64::from(from) * 60,
                            day * 86_400 + i64::from(to) * 60,
                        ),
                        // The same time to open and close: the whole day.
                        std::cmp::Ordering::Equal => (day * 86_400, (day + 1) * 86_400),
                        std::cmp::Ordering::Greater => (
                            day * 86_400 + i64::from(from) * 60,
                            (day + 1) * 86_400 + i64::from(to) * 60,
                        ),
                    };
                    open.push((zone.utc_of_local(start) - now, zone.utc_of_local(end) - now));
                }
            }
        }
        open.sort_unstable();
        let horizon = WINDOW_DAYS * 86_400;
        let mut joined: Vec<(i64, i64)> = Vec::new();
        for (start, end) in open {
            if end <= 0 || start >= horizon {
                continue;
            }
            match joined.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => joined.push((start.max(0), end)),
            }
        }
        // Within a few weeks of now: the seconds fit.
        let secs = |s: i64| u32::try_from(s).unwrap_or(u32::MAX);
        joined
            .into_iter()
            .flat_map(|(s, e)| [secs(s), secs(e)])
            .collect()
    }
}

/// With the [`OpenHours::windows`] of a page served `secs` seconds ago: `None` while open;
/// else when it opens next, in seconds after the page was served (`Some(None)`: not within
/// the week).
pub fn closed_until(windows: &[u32], secs: u32) -> Option<Option<u32>> {
    let mut next = None;
    for w in windows.chunks_exact(2).rev() {
        if w[0] <= secs && secs < w[1] {
            return None;
        }
        if w[0] > secs {
            next = Some(w[0]);
        }
    }
    Some(next)
}

/// The next moment after `secs` (seconds after the page was served) when the site opens or
/// closes, if within the week: when to look again.
pub fn next_change(windows: &[u32], secs: u32) -> Option<u32> {
    windows.iter().copied().find(|&edge| edge > secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// ms of a UTC date and time.
    fn at(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> i64 {
        (tz::days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60) * 1000
    }

    fn hours(v: serde_json::Value) -> OpenHours {
        serde_json::from_value::<OpenHours>(v)
            .unwrap()
            .validated()
            .unwrap()
    }

    fn weekdays_9_to_5_in_berlin() -> OpenHours {
        hours(json!({"tz": "Europe/Berlin", "shifts": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "open": "09:00", "close": "17:00"},
            {"days": ["sat"], "open": "10:00", "close": "13:00"}]}))
    }

    /// Whether `h` is open at `now_ms` by the rules' `business_hours`, shift by shift.
    fn is_open(h: &OpenHours, now_ms: i64) -> bool {
        h.shifts
            .iter()
            .any(|s| business_hours_open(&h.tz, &s.days, &s.open, &s.close, now_ms))
    }

    /// `at` as seconds after `now`.
    fn after(now: i64, at: i64) -> u32 {
        ((at - now) / 1000) as u32
    }

    #[test]
    fn windows_say_when_a_closed_site_opens_next_in_its_zone() {
        let h = weekdays_9_to_5_in_berlin();
        // Sunday 2026-12-06 12:00 UTC (13:00 in Berlin, winter time): closed until Monday
        // 09:00 Berlin = 08:00 UTC.
        let sunday = at(2026, 12, 6, 12, 0);
        let w = h.windows(sunday);
        let monday_9 = after(sunday, at(2026, 12, 7, 8, 0));
        assert_eq!(closed_until(&w, 0), Some(Some(monday_9)));
        // Five weekdays and one Saturday within the week from Sunday noon.
        assert_eq!(w.len(), 12);
        assert_eq!(w[..2], [monday_9, after(sunday, at(2026, 12, 7, 16, 0))]);
        assert_eq!(
            w[10..],
            [
                after(sunday, at(2026, 12, 12, 9, 0)),
                after(sunday, at(2026, 12, 12, 12, 0))
            ]
        );
        // An hour after the page was served it is still closed; at 09:00 it is open, and it
        // changes next at 17:00.
        assert_eq!(closed_until(&w, 3600), Some(Some(monday_9)));
        assert_eq!(next_change(&w, 3600), Some(monday_9));
        assert_eq!(closed_until(&w, monday_9), None);
        assert_eq!(next_change(&w, monday_9), Some(w[1]));
        assert_eq!(next_change(&w, w[11]), None);
        // Monday 10:00 Berlin: open, the current window from 0.
        let monday = at(2026, 12, 7, 9, 0);
        let w = h.windows(monday);
        assert_eq!(closed_until(&w, 0), None);
        assert_eq!(w[..2], [0, 7 * 3600]);
        // Summer time: 09:00 Berlin is 07:00 UTC.
        let july = at(2026, 7, 5, 12, 0);
        assert_eq!(
            closed_until(&h.windows(july), 0),
            Some(Some(after(july, at(2026, 7, 6, 7, 0))))
        );
    }

    #[test]
    fn windows_agree_with_the_rules_minute_by_minute() {
        let h = hours(json!({"tz": "America/New_York", "shifts": [
            {"days": ["fri"], "open": "22:00", "close": "02:00"},
            {"days": ["sun"], "open": "09:00", "close": "09:00"},
            {"days": ["mon", "wed"], "open": "08:30", "close": "12:00"},
            {"days": ["mon"], "open": "11:00", "close": "18:15"}]}));
        // Across the autumn change (2026-11-01) and a week after.
        let start = at(2026, 10, 29, 0, 0);
        let w = h.windows(start);
        for step in 0..(7 * 24 * 4) {
            let secs = step * 15 * 60;
            let t = start + i64::from(secs) * 1000;
            assert_eq!(
                closed_until(&w, secs).is_none(),
                is_open(&h, t),
                "at {}",
                tz::iso8601(t)
            );
        }
        // Touching and overlapping shifts are one window (Monday 08:30–18:15, UTC-5).
        let monday = [
            after(start, at(2026, 11, 2, 13, 30)),
            after(start, at(2026, 11, 2, 23, 15)),
        ];
        assert!(w.chunks_exact(2).any(|p| p == monday), "{w:?}");
    }

    #[test]
    fn a_site_closed_all_week_opens_nowhere_within_it() {
        let h = hours(json!({"tz": "UTC", "shifts": [
            {"days": ["mon"], "open": "09:00", "close": "10:00"}]}));
        // Monday 10:00 exactly: closed; next Monday 09:00 is within the week.
        let monday = at(2026, 12, 7, 10, 0);
        assert_eq!(
            closed_until(&h.windows(monday), 0),
            Some(Some(after(monday, at(2026, 12, 14, 9, 0))))
        );
        assert_eq!(closed_until(&[], 0), Some(None));
    }

    #[test]
    fn bad_hours_are_refused_with_a_reason() {
        let bad = |v: serde_json::Value| {
            serde_json::from_value::<OpenHours>(v)
                .unwrap()
                .validated()
                .unwrap_err()
                .1
        };
        let e = bad(
            json!({"tz": "Mars/Base", "shifts": [{"days": ["mon"], "open": "09:00", "close": "17:00"}]}),
        );
        assert!(e.contains("unknown time zone"), "{e}");
        let e = bad(json!({"tz": "UTC", "shifts": []}));
        assert!(e.contains("between 1 and 14 shifts"), "{e}");
        let e =
            bad(json!({"tz": "UTC", "shifts": [{"days": [], "open": "09:00", "close": "17:00"}]}));
        assert!(e.contains("at least one day"), "{e}");
        let e = bad(
            json!({"tz": "UTC", "shifts": [{"days": ["mon"], "open": "9am", "close": "17:00"}]}),
        );
        assert!(e.contains("shifts[0]"), "{e}");
        assert!(
            serde_json::from_value::<OpenHours>(json!({"tz": "UTC", "shifts": [], "x": 1}))
                .is_err()
        );
    }
}
