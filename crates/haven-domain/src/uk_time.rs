//! UK civil time, for what patients read ("Tuesday 24 November at 2:30pm") and for "the
//! end of the appointment day".
//!
//! The UK is on GMT in winter and BST (UTC+1) from 01:00 UTC on the last Sunday of March to
//! 01:00 UTC on the last Sunday of October (the EU rule the UK kept). Haven serves the UK
//! only, so this rule is all the time-zone database it needs.

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

use crate::InviteLifetime;

/// The UK's offset from UTC at an instant.
pub fn offset_at(instant: OffsetDateTime) -> UtcOffset {
    let utc = instant.to_offset(UtcOffset::UTC);
    let year = utc.year();
    let starts = last_sunday_0100_utc(year, Month::March);
    let ends = last_sunday_0100_utc(year, Month::October);
    if utc >= starts && utc < ends {
        UtcOffset::from_hms(1, 0, 0).unwrap_or(UtcOffset::UTC)
    } else {
        UtcOffset::UTC
    }
}

/// The instant as UK civil time.
pub fn local(instant: OffsetDateTime) -> OffsetDateTime {
    instant.to_offset(offset_at(instant))
}

/// A UK wall-clock date and time as an instant. In the hour skipped in March the time is
/// taken as BST anyway; in the hour repeated in October, the first (BST) occurrence.
pub fn from_local(date: Date, time: Time) -> OffsetDateTime {
    let wall = PrimitiveDateTime::new(date, time);
    let as_bst = wall.assume_offset(UtcOffset::from_hms(1, 0, 0).unwrap_or(UtcOffset::UTC));
    if offset_at(as_bst) == UtcOffset::UTC && offset_at(wall.assume_utc()) == UtcOffset::UTC {
        wall.assume_utc()
    } else {
        as_bst
    }
}

/// When an invitation sent at `sent_at` for an appointment at `starts_at` stops working.
pub fn invite_expiry(
    lifetime: InviteLifetime,
    starts_at: OffsetDateTime,
    sent_at: OffsetDateTime,
) -> OffsetDateTime {
    match lifetime {
        InviteLifetime::AppointmentDay => {
            let day = local(starts_at).date();
            let next = day.next_day().unwrap_or(day);
            from_local(next, Time::MIDNIGHT).max(sent_at)
        }
        InviteLifetime::Hours(h) => sent_at + Duration::hours(i64::from(h)),
    }
}

/// "Tuesday 24 November 2026 at 2:30pm", UK time.
pub fn describe(instant: OffsetDateTime) -> String {
    let t = local(instant);
    let (hour, minute) = (t.hour(), t.minute());
    let h12 = match hour % 12 {
        0 => 12,
        h => h,
    };
    let half = if hour < 12 { "am" } else { "pm" };
    let time = if minute == 0 {
        format!("{h12}{half}")
    } else {
        format!("{h12}:{minute:02}{half}")
    };
    format!(
        "{} {} {} {} at {time}",
        t.weekday(),
        t.day(),
        t.month(),
        t.year()
    )
}

fn last_sunday_0100_utc(year: i32, month: Month) -> OffsetDateTime {
    let first_of_next = match month {
        Month::December => Date::from_calendar_date(year + 1, Month::January, 1),
        m => Date::from_calendar_date(year, m.next(), 1),
    };
    let mut day = first_of_next.map_or(Date::MIN, |d| d.previous_day().unwrap_or(d));
    while day.weekday() != Weekday::Sunday {
        day = day.previous_day().unwrap_or(day);
    }
    PrimitiveDateTime::new(day, Time::from_hms(1, 0, 0).unwrap_or(Time::MIDNIGHT)).assume_utc()
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime, time};

    use super::*;

    #[test]
    fn summer_time_runs_from_the_last_sunday_of_march_to_that_of_october() {
        // 2026: 29 March and 25 October.
        assert_eq!(offset_at(datetime!(2026-03-29 00:59 UTC)), UtcOffset::UTC);
        assert_eq!(offset_at(datetime!(2026-03-29 01:00 UTC)).whole_hours(), 1);
        assert_eq!(offset_at(datetime!(2026-07-01 12:00 UTC)).whole_hours(), 1);
        assert_eq!(offset_at(datetime!(2026-10-25 00:59 UTC)).whole_hours(), 1);
        assert_eq!(offset_at(datetime!(2026-10-25 01:00 UTC)), UtcOffset::UTC);
        assert_eq!(offset_at(datetime!(2026-12-25 12:00 UTC)), UtcOffset::UTC);
    }

    #[test]
    fn wall_clock_times_become_the_right_instants() {
        assert_eq!(
            from_local(date!(2026 - 07 - 01), time!(14:30)),
            datetime!(2026-07-01 13:30 UTC)
        );
        assert_eq!(
            from_local(date!(2026 - 11 - 24), time!(14:30)),
            datetime!(2026-11-24 14:30 UTC)
        );
    }

    #[test]
    fn an_appointment_day_link_dies_at_uk_midnight() {
        let summer = invite_expiry(
            InviteLifetime::AppointmentDay,
            datetime!(2026-07-01 13:30 UTC),
            datetime!(2026-06-28 09:00 UTC),
        );
        assert_eq!(summer, datetime!(2026-07-01 23:00 UTC));
        let winter = invite_expiry(
            InviteLifetime::AppointmentDay,
            datetime!(2026-11-24 14:30 UTC),
            datetime!(2026-11-21 09:00 UTC),
        );
        assert_eq!(winter, datetime!(2026-11-25 00:00 UTC));
        let hours = invite_expiry(
            InviteLifetime::Hours(3),
            datetime!(2026-11-24 14:30 UTC),
            datetime!(2026-11-21 09:00 UTC),
        );
        assert_eq!(hours, datetime!(2026-11-21 12:00 UTC));
    }

    #[test]
    fn times_are_described_as_people_say_them() {
        assert_eq!(
            describe(datetime!(2026-11-24 14:30 UTC)),
            "Tuesday 24 November 2026 at 2:30pm"
        );
        assert_eq!(
            describe(datetime!(2026-07-01 11:00 UTC)),
            "Wednesday 1 July 2026 at 12pm"
        );
        assert_eq!(
            describe(datetime!(2026-01-05 00:05 UTC)),
            "Monday 5 January 2026 at 12:05am"
        );
    }
}
