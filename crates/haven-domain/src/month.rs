//! A UK calendar month, the unit of the governance report and of the national counts.

use std::fmt;

use time::{Date, Month, OffsetDateTime, Time};

use crate::{Error, uk_time};

/// The most months one range of counts may span: ten years.
pub const MAX_RANGE_MONTHS: u32 = 120;

/// A calendar month in UK civil time, e.g. 2026-11.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UkMonth {
    year: i32,
    month: Month,
}

const INVALID: Error = Error::InvalidPolicy {
    field: "month",
    reason: "must be written YYYY-MM, for example 2026-11",
};

impl UkMonth {
    /// Parses `YYYY-MM` (four-digit year from 2000 to 9998, two-digit month).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 7
            && bytes[4] == b'-'
            && bytes[..4].iter().chain(&bytes[5..]).all(u8::is_ascii_digit);
        if !shaped {
            return Err(INVALID);
        }
        let year: i32 = text[..4].parse().map_err(|_| INVALID)?;
        let month: u8 = text[5..].parse().map_err(|_| INVALID)?;
        let month = Month::try_from(month).map_err(|_| INVALID)?;
        if !(2000..=9998).contains(&year) {
            return Err(INVALID);
        }
        Ok(UkMonth { year, month })
    }

    /// The UK month that `instant` falls in.
    pub fn containing(instant: OffsetDateTime) -> Self {
        let local = uk_time::local(instant);
        UkMonth {
            year: local.year(),
            month: local.month(),
        }
    }

    /// The month after this one.
    pub fn next(self) -> Self {
        match self.month {
            Month::December => UkMonth {
                year: self.year + 1,
                month: Month::January,
            },
            m => UkMonth {
                year: self.year,
                month: m.next(),
            },
        }
    }

    /// The month `n` months before this one.
    pub fn back(self, n: u32) -> Self {
        let index = i64::from(self.year) * 12 + i64::from(u8::from(self.month)) - 1 - i64::from(n);
        // Within i32 years for any `n` a u32 can hold; month numbers are 1 to 12.
        let year = i32::try_from(index.div_euclid(12)).unwrap_or(i32::MIN);
        let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).unwrap_or(1))
            .unwrap_or(Month::January);
        UkMonth { year, month }
    }

    /// The instant the month begins (UK midnight on its first day).
    pub fn start(self) -> OffsetDateTime {
        // Day 1 exists in every month; the fallback is unreachable.
        let first = Date::from_calendar_date(self.year, self.month, 1).unwrap_or(Date::MIN);
        uk_time::from_local(first, Time::MIDNIGHT)
    }

    /// The instant the month ends: the next month's start.
    pub fn end(self) -> OffsetDateTime {
        self.next().start()
    }

    /// "November 2026", for sentences.
    pub fn label(self) -> String {
        format!("{} {}", self.month, self.year)
    }

    /// Every month from `from` to `to` inclusive, refusing a backwards range or one longer
    /// than [`MAX_RANGE_MONTHS`].
    pub fn range(from: UkMonth, to: UkMonth) -> Result<Vec<UkMonth>, Error> {
        if to < from {
            return Err(Error::InvalidPolicy {
                field: "month range",
                reason: "must end in the same month as it starts or later",
            });
        }
        let mut months = vec![from];
        while let Some(&last) = months.last().filter(|m| **m < to) {
            if months.len() as u32 >= MAX_RANGE_MONTHS {
                return Err(Error::InvalidPolicy {
                    field: "month range",
                    reason: "must span at most 120 months",
                });
            }
            months.push(last.next());
        }
        Ok(months)
    }
}

impl fmt::Display for UkMonth {
    /// `YYYY-MM`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn months_parse_only_in_one_spelling() {
        assert_eq!(
            UkMonth::parse("2026-11").map(|m| m.to_string()),
            Ok("2026-11".into())
        );
        assert_eq!(
            UkMonth::parse(" 2026-01 ").map(|m| m.label()),
            Ok("January 2026".into())
        );
        for bad in [
            "2026-13", "2026-00", "2026-1", "26-11", "2026/11", "", "1999-12", "2026-+1",
        ] {
            let err = UkMonth::parse(bad).expect_err(bad);
            assert_eq!(
                err.to_string(),
                "month must be written YYYY-MM, for example 2026-11"
            );
        }
    }

    #[test]
    fn a_month_runs_from_uk_midnight_to_uk_midnight() {
        let july = UkMonth::parse("2026-07").unwrap();
        assert_eq!(july.start(), datetime!(2026-06-30 23:00 UTC));
        assert_eq!(july.end(), datetime!(2026-07-31 23:00 UTC));
        let december = UkMonth::parse("2026-12").unwrap();
        assert_eq!(december.end(), datetime!(2027-01-01 00:00 UTC));
        // 23:30 UTC on 31 July is already August in the UK.
        assert_eq!(
            UkMonth::containing(datetime!(2026-07-31 23:30 UTC)).to_string(),
            "2026-08"
        );
    }

    #[test]
    fn ranges_are_forwards_and_bounded() {
        let m = |s| UkMonth::parse(s).unwrap();
        let months = UkMonth::range(m("2025-11"), m("2026-02")).unwrap();
        let names: Vec<String> = months.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert_eq!(UkMonth::range(m("2026-02"), m("2026-02")).unwrap().len(), 1);
        assert_eq!(m("2026-11").back(11), m("2025-12"));
        assert_eq!(m("2026-01").back(1), m("2025-12"));
        assert_eq!(m("2026-01").back(0), m("2026-01"));
        let back = UkMonth::range(m("2026-02"), m("2025-11")).unwrap_err();
        assert!(
            back.to_string()
                .contains("same month as it starts or later")
        );
        assert_eq!(
            UkMonth::range(m("2016-01"), m("2025-12")).unwrap().len(),
            120
        );
        let long = UkMonth::range(m("2016-01"), m("2026-01")).unwrap_err();
        assert!(long.to_string().contains("at most 120 months"));
    }
}
