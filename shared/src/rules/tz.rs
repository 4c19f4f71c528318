//! Time zones for business hours, without a tz database in the widget: rules name a zone in
//! POSIX `TZ` form (`CET-1CEST,M3.5.0,M10.5.0/3`), or one of the common IANA names this module
//! maps to POSIX (`Europe/Berlin`). POSIX rules encode the zone's current DST schedule, which
//! is all business hours need.

/// IANA names → POSIX TZ strings for the zones businesses most often use.
const ZONES: &[(&str, &str)] = &[
    ("UTC", "UTC0"),
    ("Etc/UTC", "UTC0"),
    ("Europe/London", "GMT0BST,M3.5.0/1,M10.5.0"),
    ("Europe/Dublin", "IST-1GMT0,M10.5.0,M3.5.0/1"),
    ("Europe/Lisbon", "WET0WEST,M3.5.0/1,M10.5.0"),
    ("Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Paris", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Madrid", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Rome", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Amsterdam", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Brussels", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Vienna", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Zurich", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Stockholm", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Warsaw", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Prague", "CET-1CEST,M3.5.0,M10.5.0/3"),
    ("Europe/Athens", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Helsinki", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Kyiv", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Europe/Istanbul", "<+03>-3"),
    ("Europe/Moscow", "MSK-3"),
    ("America/New_York", "EST5EDT,M3.2.0,M11.1.0"),
    ("America/Toronto", "EST5EDT,M3.2.0,M11.1.0"),
    ("America/Chicago", "CST6CDT,M3.2.0,M11.1.0"),
    ("America/Mexico_City", "CST6"),
    ("America/Denver", "MST7MDT,M3.2.0,M11.1.0"),
    ("America/Phoenix", "MST7"),
    ("America/Los_Angeles", "PST8PDT,M3.2.0,M11.1.0"),
    ("America/Vancouver", "PST8PDT,M3.2.0,M11.1.0"),
    ("America/Sao_Paulo", "<-03>3"),
    ("America/Buenos_Aires", "<-03>3"),
    ("Asia/Dubai", "<+04>-4"),
    ("Asia/Kolkata", "IST-5:30"),
    ("Asia/Jakarta", "WIB-7"),
    ("Asia/Singapore", "<+08>-8"),
    ("Asia/Shanghai", "CST-8"),
    ("Asia/Hong_Kong", "HKT-8"),
    ("Asia/Tokyo", "JST-9"),
    ("Asia/Seoul", "KST-9"),
    ("Australia/Brisbane", "AEST-10"),
    ("Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"),
    ("Australia/Melbourne", "AEST-10AEDT,M10.1.0,M4.1.0/3"),
    ("Pacific/Auckland", "NZST-12NZDT,M9.5.0,M4.1.0/3"),
    ("Africa/Johannesburg", "SAST-2"),
    ("Africa/Lagos", "WAT-1"),
];

/// A parsed POSIX TZ rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// Standard time's offset east of UTC, in seconds.
    std_offset: i64,
    dst: Option<Dst>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Dst {
    offset: i64,
    start: Transition,
    end: Transition,
}

/// `Mm.w.d/time`: day `d` (0 = Sunday) of week `w` (5 = last) of month `m`, at local `time`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Transition {
    month: u32,
    week: u32,
    weekday: u32,
    secs: i64,
}

impl Zone {
    /// Parses an IANA name this module knows, or a POSIX TZ string.
    pub fn parse(name: &str) -> Option<Zone> {
        let posix = ZONES
            .iter()
            .find(|(iana, _)| *iana == name)
            .map_or(name, |(_, p)| p);
        parse_posix(posix)
    }

    /// The instant (seconds since the epoch) when local clocks read `local_secs`: the offset at
    /// a first guess, corrected once (a time in the hour skipped in spring lands within an hour
    /// of the change).
    pub fn utc_of_local(&self, local_secs: i64) -> i64 {
        local_secs - self.offset_at(local_secs - self.offset_at(local_secs))
    }

    /// The offset east of UTC, in seconds, at the instant `utc_secs`.
    pub fn offset_at(&self, utc_secs: i64) -> i64 {
        let Some(dst) = &self.dst else {
            return self.std_offset;
        };
        // Which year it is locally barely matters: transitions are never near New Year.
        let (year, _, _) = civil_from_days((utc_secs + self.std_offset).div_euclid(86_400));
        // Transition times are in local time: start in standard time, end in daylight time.
        let start = transition_local_secs(year, dst.start) - self.std_offset;
        let end = transition_local_secs(year, dst.end) - dst.offset;
        let in_dst = if start < end {
            utc_secs >= start && utc_secs < end
        } else {
            utc_secs >= start || utc_secs < end
        };
        if in_dst {
            dst.offset
        } else {
            self.std_offset
        }
    }
}

/// Whether `name` is a zone rules may use.
pub fn is_known(name: &str) -> bool {
    Zone::parse(name).is_some()
}

/// `name` as a zone the rules and opening hours take, or what to use instead.
pub fn check(name: &str) -> Result<(), String> {
    match is_known(name) {
        true => Ok(()),
        false => Err(format!(
            "unknown time zone \"{name}\": use an IANA name such as Europe/Berlin or a POSIX TZ string"
        )),
    }
}

fn parse_posix(s: &str) -> Option<Zone> {
    let mut rest = s;
    let _std_name = take_name(&mut rest)?;
    let std_offset = -take_offset(&mut rest)?;
    if rest.is_empty() {
        return Some(Zone {
            std_offset,
            dst: None,
        });
    }
    let _dst_name = take_name(&mut rest)?;
    let dst_offset = if rest.starts_with(',') || rest.is_empty() {
        std_offset + 3600
    } else {
        -take_offset(&mut rest)?
    };
    let rules = rest.strip_prefix(',')?;
    let (start, end) = rules.split_once(',')?;
    Some(Zone {
        std_offset,
        dst: Some(Dst {
            offset: dst_offset,
            start: parse_transition(start)?,
            end: parse_transition(end)?,
        }),
    })
}

fn take_name<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let s = *rest;
    if let Some(quoted) = s.strip_prefix('<') {
        let close = quoted.find('>')?;
        *rest = &quoted[close + 1..];
        return Some(&quoted[..close]);
    }
    let len = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    (len >= 3).then(|| {
        *rest = &s[len..];
        &s[..len]
    })
}

/// `[+-]h[:mm[:ss]]` in POSIX sign convention (west of UTC positive); returns seconds.
fn take_offset(rest: &mut &str) -> Option<i64> {
    let s = *rest;
    let len = s
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (text, tail) = s.split_at(len);
    *rest = tail;
    let (sign, digits) = match text.strip_prefix('-') {
        Some(d) => (-1, d),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    Some(sign * parse_hms(digits)?)
}

fn parse_hms(s: &str) -> Option<i64> {
    let mut parts = s.split(':').map(|p| p.parse::<i64>().ok());
    let h = parts.next()??;
    let m = parts.next().unwrap_or(Some(0))?;
    let sec = parts.next().unwrap_or(Some(0))?;
    (h <= 167 && m < 60 && sec < 60).then_some(h * 3600 + m * 60 + sec)
}

fn parse_transition(s: &str) -> Option<Transition> {
    let (date, time) = match s.split_once('/') {
        Some((d, t)) => (d, parse_hms(t)?),
        None => (s, 2 * 3600),
    };
    let mut f = date
        .strip_prefix('M')?
        .split('.')
        .map(|p| p.parse::<u32>().ok());
    let (month, week, weekday) = (f.next()??, f.next()??, f.next()??);
    ((1..=12).contains(&month) && (1..=5).contains(&week) && weekday <= 6).then_some(Transition {
        month,
        week,
        weekday,
        secs: time,
    })
}

/// Local seconds since the epoch at which `t` happens in `year`.
fn transition_local_secs(year: i64, t: Transition) -> i64 {
    let first = days_from_civil(year, t.month, 1);
    let first_weekday = weekday(first);
    let mut day =
        1 + (t.weekday as i64 - first_weekday as i64).rem_euclid(7) + 7 * (t.week as i64 - 1);
    let month_len = days_from_civil(
        if t.month == 12 { year + 1 } else { year },
        t.month % 12 + 1,
        1,
    ) - first;
    while day > month_len {
        day -= 7;
    }
    (first + day - 1) * 86_400 + t.secs
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Milliseconds since the epoch as an ISO 8601 UTC timestamp: `2026-09-01T10:00:00.000Z`.
pub fn iso8601(ms: i64) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let s = ms_of_day / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ms_of_day % 1000
    )
}

/// 0 = Sunday … 6 = Saturday.
pub fn weekday(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix seconds of a UTC date-time.
    fn utc(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> i64 {
        days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60
    }

    #[test]
    fn iso8601_timestamps() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_674_087_231_045), "2023-01-19T00:13:51.045Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            civil_from_days(days_from_civil(2026, 11, 27)),
            (2026, 11, 27)
        );
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(weekday(days_from_civil(2026, 11, 27)), 5, "a Friday");
    }

    #[test]
    fn offsets_across_dst_changes() {
        // (zone, utc instant, expected offset in hours*60 minutes)
        let cases: &[(&str, i64, i64)] = &[
            ("Europe/Berlin", utc(2026, 1, 15, 12, 0), 60),
            ("Europe/Berlin", utc(2026, 7, 15, 12, 0), 120),
            // EU switch: last Sunday of March 2026 is the 29th, 01:00 UTC.
            ("Europe/Berlin", utc(2026, 3, 29, 0, 59), 60),
            ("Europe/Berlin", utc(2026, 3, 29, 1, 0), 120),
            // …and back on the last Sunday of October (25th), 01:00 UTC.
            ("Europe/Berlin", utc(2026, 10, 25, 0, 59), 120),
            ("Europe/Berlin", utc(2026, 10, 25, 1, 0), 60),
            ("Europe/London", utc(2026, 6, 1, 12, 0), 60),
            ("Europe/London", utc(2026, 12, 1, 12, 0), 0),
            // US: second Sunday of March 2026 is the 8th, 02:00 EST = 07:00 UTC.
            ("America/New_York", utc(2026, 3, 8, 6, 59), -300),
            ("America/New_York", utc(2026, 3, 8, 7, 0), -240),
            ("America/New_York", utc(2026, 11, 1, 5, 59), -240),
            ("America/New_York", utc(2026, 11, 1, 6, 0), -300),
            ("America/Phoenix", utc(2026, 7, 1, 12, 0), -420),
            // Southern hemisphere: DST spans New Year.
            ("Australia/Sydney", utc(2026, 1, 10, 0, 0), 660),
            ("Australia/Sydney", utc(2026, 6, 10, 0, 0), 600),
            ("Asia/Kolkata", utc(2026, 6, 10, 0, 0), 330),
            ("<+0545>-5:45", utc(2026, 6, 10, 0, 0), 345),
            ("UTC", utc(2026, 6, 10, 0, 0), 0),
        ];
        for (zone, at, minutes) in cases {
            let z = Zone::parse(zone).unwrap_or_else(|| panic!("{zone} parses"));
            assert_eq!(z.offset_at(*at) / 60, *minutes, "{zone} at {at}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "",
            "Mars/Olympus",
            "CET",
            "CET-1CEST,M13.5.0,M10.5.0",
            "X-1",
            "CET-1CEST,J60,M10.5.0",
        ] {
            assert!(Zone::parse(bad).is_none(), "{bad:?}");
        }
    }
}
