//! Calendar timestamps as FTP servers write them.
//!
//! FTP gives times with varying precision: `MDTM` and MLSD `modify` facts carry seconds and
//! optionally a fraction (RFC 3659 §2.3), Unix `LIST` lines give a date and a minute or only a
//! date, DOS listings give a minute. [`Timestamp`] keeps the fields exactly as written together
//! with their [`Precision`], so nothing is invented (no zone, no seconds that were never sent).
//! No clock is read here: code that needs "now" (year inference for `LIST`) takes it as an
//! argument.

use core::fmt;

/// How much of a [`Timestamp`] the server actually gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Precision {
    /// Only a date (`2017-03-10`); the time fields are zero.
    Day,
    /// Date, hour and minute (`2017-03-10T14:05`); seconds are zero.
    Minute,
    /// Whole seconds (`2017-03-10T14:05:09`).
    Second,
    /// Seconds plus a fraction of the given number of decimal digits (1 to 9).
    Fraction(u8),
}

/// A calendar date and time without a zone, with the precision the server gave.
///
/// ```
/// use ftp_sansio::time::{Precision, Timestamp};
/// let t = Timestamp::new(2017, 3, 10, 14, 5, 9).unwrap();
/// assert_eq!(t.precision(), Precision::Second);
/// assert_eq!(t.to_string(), "2017-03-10T14:05:09");
/// let d = Timestamp::date(2017, 3, 10).unwrap();
/// assert_eq!(d.to_string(), "2017-03-10");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    /// Fraction of a second as written, scaled to nanoseconds.
    nanos: u32,
    precision: Precision,
}

/// Number of days in `month` of `year` (proleptic Gregorian), or 0 for a month outside 1..=12.
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: u16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

impl Timestamp {
    /// A timestamp with second precision; `None` if any field is out of range (second 60 is
    /// accepted for leap seconds, as RFC 3659 allows).
    pub fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<Self> {
        if day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        Some(Timestamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos: 0,
            precision: Precision::Second,
        })
    }

    /// A date-only timestamp ([`Precision::Day`]).
    pub fn date(year: u16, month: u8, day: u8) -> Option<Self> {
        let mut t = Self::new(year, month, day, 0, 0, 0)?;
        t.precision = Precision::Day;
        Some(t)
    }

    /// A timestamp to the minute ([`Precision::Minute`]).
    pub fn minute(year: u16, month: u8, day: u8, hour: u8, minute: u8) -> Option<Self> {
        let mut t = Self::new(year, month, day, hour, minute, 0)?;
        t.precision = Precision::Minute;
        Some(t)
    }

    /// Adds a fraction of a second written with `digits` decimal digits (1..=9) whose value is
    /// `value` (e.g. `.123` is `value = 123, digits = 3`). `None` if the digits are out of range.
    pub fn with_fraction(mut self, value: u32, digits: u8) -> Option<Self> {
        if !(1..=9).contains(&digits) || value >= 10u32.pow(digits as u32) {
            return None;
        }
        self.nanos = value * 10u32.pow(9 - digits as u32);
        self.precision = Precision::Fraction(digits);
        Some(self)
    }

    /// Year (e.g. 2017).
    pub fn year(&self) -> u16 {
        self.year
    }
    /// Month, 1..=12.
    pub fn month(&self) -> u8 {
        self.month
    }
    /// Day of the month, 1..=31.
    pub fn day(&self) -> u8 {
        self.day
    }
    /// Hour, 0..=23 (0 for [`Precision::Day`]).
    pub fn hour(&self) -> u8 {
        self.hour
    }
    /// Minute, 0..=59 (0 for [`Precision::Day`]).
    pub fn minute_of_hour(&self) -> u8 {
        self.minute
    }
    /// Second, 0..=60 (0 below [`Precision::Second`]).
    pub fn second(&self) -> u8 {
        self.second
    }
    /// Fraction of the second in nanoseconds (0 unless [`Precision::Fraction`]).
    pub fn nanos(&self) -> u32 {
        self.nanos
    }
    /// How much the server gave.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Seconds since 1970-01-01T00:00:00, reading the fields as UTC (fraction dropped).
    /// Useful to compare with a local file's mtime, which is what the mirror example does.
    pub fn unix_seconds(&self) -> i64 {
        // Days from civil, after Howard Hinnant's algorithm.
        let y = self.year as i64 - if self.month <= 2 { 1 } else { 0 };
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = self.month as i64;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + self.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400 + self.hour as i64 * 3600 + self.minute as i64 * 60 + self.second as i64
    }

    /// The timestamp for `secs` seconds since the Unix epoch, read as UTC, to the second.
    /// `None` outside the years 1..=9999.
    pub fn from_unix_seconds(secs: i64) -> Option<Self> {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
        if !(1..=9999).contains(&y) {
            return None;
        }
        Self::new(
            y as u16,
            m as u8,
            d as u8,
            (rem / 3600) as u8,
            (rem % 3600 / 60) as u8,
            (rem % 60) as u8,
        )
    }
}

impl fmt::Display for Timestamp {
    /// ISO 8601 with exactly the precision given: `2017-03-10`, `2017-03-10T14:05`,
    /// `2017-03-10T14:05:09`, `2017-03-10T14:05:09.123`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)?;
        match self.precision {
            Precision::Day => Ok(()),
            Precision::Minute => write!(f, "T{:02}:{:02}", self.hour, self.minute),
            Precision::Second => {
                write!(f, "T{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
            }
            Precision::Fraction(d) => {
                let frac = self.nanos / 10u32.pow(9 - d as u32);
                write!(
                    f,
                    "T{:02}:{:02}:{:02}.{:0width$}",
                    self.hour,
                    self.minute,
                    self.second,
                    frac,
                    width = d as usize
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_fields() {
        assert!(Timestamp::new(2017, 2, 29, 0, 0, 0).is_none());
        assert!(Timestamp::new(2016, 2, 29, 0, 0, 0).is_some());
        assert!(Timestamp::new(2017, 13, 1, 0, 0, 0).is_none());
        assert!(Timestamp::new(2017, 1, 1, 24, 0, 0).is_none());
        assert!(Timestamp::new(2017, 1, 1, 23, 60, 0).is_none());
        assert!(Timestamp::new(2017, 1, 1, 23, 59, 60).is_some());
    }

    #[test]
    fn displays_with_its_precision() {
        let t = Timestamp::new(2017, 3, 10, 14, 5, 9).unwrap();
        assert_eq!(
            t.with_fraction(5, 2).unwrap().to_string(),
            "2017-03-10T14:05:09.05"
        );
        assert_eq!(
            t.with_fraction(123, 3).unwrap().to_string(),
            "2017-03-10T14:05:09.123"
        );
        assert!(t.with_fraction(1000, 3).is_none());
        assert_eq!(
            Timestamp::minute(2017, 3, 10, 14, 5).unwrap().to_string(),
            "2017-03-10T14:05"
        );
    }

    #[test]
    fn unix_seconds_round_trip() {
        let t = Timestamp::new(2017, 3, 10, 14, 5, 9).unwrap();
        assert_eq!(t.unix_seconds(), 1_489_154_709);
        assert_eq!(Timestamp::from_unix_seconds(1_489_154_709), Some(t));
        assert_eq!(
            Timestamp::from_unix_seconds(0).unwrap().to_string(),
            "1970-01-01T00:00:00"
        );
        for s in [-86_400 * 365 * 100, -1, 951_782_400, 4_102_444_800] {
            assert_eq!(Timestamp::from_unix_seconds(s).unwrap().unix_seconds(), s);
        }
    }
}
