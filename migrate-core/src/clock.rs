//! Wall-clock times in UTC, without a time-zone database: what history rows and new revision
//! files record.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A moment, to the microsecond, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    /// Microseconds since 1970-01-01T00:00:00Z.
    pub micros: i64,
}

impl Timestamp {
    /// Now.
    pub fn now() -> Timestamp {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp {
            micros: i64::try_from(since.as_micros()).unwrap_or(i64::MAX),
        }
    }

    /// `self` plus `d`.
    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp {
            micros: self
                .micros
                .saturating_add(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
        }
    }

    /// `YYYY-MM-DD HH:MM:SS.ffffff`, the form every SQL database reads as a timestamp.
    ///
    /// ```
    /// use migrate_core::clock::Timestamp;
    /// let t = Timestamp { micros: 1_764_626_340_123_456 };
    /// assert_eq!(t.sql(), "2025-12-01 21:59:00.123456");
    /// assert_eq!(t.iso(), "2025-12-01T21:59:00.123456Z");
    /// ```
    pub fn sql(self) -> String {
        let (date, time, micros) = self.parts();
        format!("{date} {time}.{micros:06}")
    }

    /// ISO 8601 in UTC: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    pub fn iso(self) -> String {
        let (date, time, micros) = self.parts();
        format!("{date}T{time}.{micros:06}Z")
    }

    fn parts(self) -> (String, String, i64) {
        let secs = self.micros.div_euclid(1_000_000);
        let micros = self.micros.rem_euclid(1_000_000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        (
            format!("{year:04}-{month:02}-{day:02}"),
            format!("{:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60),
            micros,
        )
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from `date -u -d @SECONDS '+%F %T'`.
    #[test]
    fn dates_match_gnu_date() {
        let at = |secs: i64| Timestamp {
            micros: secs * 1_000_000,
        };
        assert_eq!(at(0).sql(), "1970-01-01 00:00:00.000000");
        assert_eq!(at(951_782_400).sql(), "2000-02-29 00:00:00.000000");
        assert_eq!(at(4_102_444_799).sql(), "2099-12-31 23:59:59.000000");
        assert_eq!(at(-1).sql(), "1969-12-31 23:59:59.000000");
    }
}
