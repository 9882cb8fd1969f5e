//! Dates of birth, as booked by staff and as confirmed by the patient on joining.
//!
//! "Today" is a parameter (the domain never reads the clock), so the same input is valid
//! or not the same way in every test.

use std::fmt;

use time::{Date, Month};

use crate::Error;

/// Nobody booked is older than this: an older date is a typing mistake (1823 for 1923).
const MAX_AGE_YEARS: i32 = 130;

/// A date of birth that is a real calendar date, not in the future and not implausibly
/// long ago.
///
/// No `Display`: with a name it identifies a person.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateOfBirth(Date);

impl DateOfBirth {
    /// From the three numbers of a day/month/year form (the GOV.UK date pattern), checked
    /// against `today`.
    pub fn from_parts(day: &str, month: &str, year: &str, today: Date) -> Result<Self, Error> {
        let number = |text: &str, what: &'static str| {
            let text = text.trim();
            if text.is_empty() {
                return Err(Error::InvalidDate(what));
            }
            text.parse::<i32>().map_err(|_| Error::InvalidDate(what))
        };
        let day = number(day, "date of birth must include a day (a number)")?;
        let month = number(month, "date of birth must include a month (a number)")?;
        let year = number(year, "date of birth must include a year (four digits)")?;
        if !(1000..=9999).contains(&year) {
            return Err(Error::InvalidDate(
                "date of birth year must have four digits, for example 1984",
            ));
        }
        let month = u8::try_from(month)
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or(Error::InvalidDate(
                "date of birth month must be from 1 to 12",
            ))?;
        let day = u8::try_from(day)
            .ok()
            .ok_or(Error::InvalidDate("date of birth must be a real date"))?;
        let date = Date::from_calendar_date(year, month, day)
            .map_err(|_| Error::InvalidDate("date of birth must be a real date"))?;
        Self::checked(date, today)
    }

    /// From ISO 8601 `YYYY-MM-DD` (an HTML date input, the JSON API), checked against `today`.
    pub fn parse_iso(text: &str, today: Date) -> Result<Self, Error> {
        let mut parts = text.trim().split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::InvalidDate(
                "date of birth must be written YYYY-MM-DD, for example 1984-03-27",
            ));
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(Error::InvalidDate(
                "date of birth must be written YYYY-MM-DD, for example 1984-03-27",
            ));
        }
        Self::from_parts(d, m, y, today)
    }

    /// A date of birth read back from storage, where it was checked when it was written:
    /// only the format is checked again, so a stored value never turns invalid with time.
    pub fn from_stored(text: &str) -> Result<Self, Error> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        Date::parse(text, format)
            .map(Self)
            .map_err(|_| Error::InvalidDate("stored date of birth is not YYYY-MM-DD"))
    }

    fn checked(date: Date, today: Date) -> Result<Self, Error> {
        if date > today {
            return Err(Error::InvalidDate("date of birth must be in the past"));
        }
        if today.year() - date.year() > MAX_AGE_YEARS {
            return Err(Error::InvalidDate(
                "date of birth is more than 130 years ago: please check the year",
            ));
        }
        Ok(Self(date))
    }

    /// The date.
    pub fn date(self) -> Date {
        self.0
    }

    /// ISO 8601, `1984-03-27`: how it is stored and sent.
    pub fn iso(self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }

    /// Completed years of age on `on`.
    pub fn age_on(self, on: Date) -> u32 {
        let mut years = on.year() - self.0.year();
        if (on.month() as u8, on.day()) < (self.0.month() as u8, self.0.day()) {
            years -= 1;
        }
        u32::try_from(years).unwrap_or(0)
    }
}

impl fmt::Debug for DateOfBirth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DateOfBirth({redacted})")
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 11 - 21);

    #[test]
    fn a_real_past_date_is_accepted_from_parts_or_iso() {
        let dob = DateOfBirth::from_parts("27", "3", "1984", TODAY).unwrap();
        assert_eq!(dob.iso(), "1984-03-27");
        assert_eq!(DateOfBirth::parse_iso("1984-03-27", TODAY).unwrap(), dob);
        assert_eq!(
            DateOfBirth::from_parts(" 29 ", "02", "2024", TODAY)
                .unwrap()
                .iso(),
            "2024-02-29"
        );
    }

    #[test]
    fn impossible_future_and_implausible_dates_say_what_is_wrong() {
        let cases = [
            (("31", "2", "1990"), "real date"),
            (("29", "2", "2023"), "real date"),
            (("1", "13", "1990"), "1 to 12"),
            (("1", "1", "90"), "four digits"),
            (("", "1", "1990"), "a day"),
            (("x", "1", "1990"), "a day"),
            (("1", "1", "2027"), "in the past"),
            (("1", "1", "1890"), "130 years"),
        ];
        for ((d, m, y), expected) in cases {
            let e = DateOfBirth::from_parts(d, m, y, TODAY)
                .unwrap_err()
                .to_string();
            assert!(e.contains(expected), "{d}/{m}/{y}: {e}");
        }
        for bad in ["1984/03/27", "84-03-27", "1984-3-27", "1984-03-27-1", ""] {
            assert!(DateOfBirth::parse_iso(bad, TODAY).is_err(), "{bad}");
        }
    }

    #[test]
    fn age_counts_completed_years() {
        let dob = DateOfBirth::parse_iso("2010-11-22", TODAY).unwrap();
        assert_eq!(dob.age_on(TODAY), 15);
        assert_eq!(dob.age_on(date!(2026 - 11 - 22)), 16);
        assert_eq!(
            DateOfBirth::parse_iso("2026-11-21", TODAY)
                .unwrap()
                .age_on(TODAY),
            0
        );
    }

    #[test]
    fn a_stored_date_reads_back_without_the_range_checks() {
        let dob = DateOfBirth::parse_iso("1984-03-27", TODAY).unwrap();
        assert_eq!(DateOfBirth::from_stored(&dob.iso()), Ok(dob));
        assert!(DateOfBirth::from_stored("27/03/1984").is_err());
    }

    #[test]
    fn debug_output_is_redacted() {
        let dob = DateOfBirth::parse_iso("1984-03-27", TODAY).unwrap();
        assert!(!format!("{dob:?}").contains("1984"));
    }
}
