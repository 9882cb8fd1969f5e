//! The journey funnel: what the pre-call check can find wrong, and how a day's journeys
//! add up to the figures administrators see (how many invited people reached a working
//! call, where the others stopped, how long it took to be let in).
//!
//! Only counts and durations come out of here: nothing that identifies a person.

use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::Error;
use crate::consultation::{JourneyStep, words};

/// A problem the pre-call check found, as a fixed code the page sends and the funnel
/// counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckProblem {
    /// The person (or their browser) refused the camera and microphone.
    PermissionDenied,
    /// Another app holds the camera or microphone.
    CameraInUse,
    /// The device has no camera (they may go on with sound only).
    NoCamera,
    /// The link opened inside another app's built-in browser.
    InAppBrowser,
    /// The connection is too slow for video.
    LowBandwidth,
    /// No connection to the media server at all.
    NoConnection,
}

words!(
    CheckProblem,
    "check problem",
    PermissionDenied = "permission_denied",
    CameraInUse = "camera_in_use",
    NoCamera = "no_camera",
    InAppBrowser = "in_app_browser",
    LowBandwidth = "low_bandwidth",
    NoConnection = "no_connection"
);

impl CheckProblem {
    /// The problem in plain words, for staff.
    pub fn describe(self) -> &'static str {
        match self {
            CheckProblem::PermissionDenied => "Camera or microphone not allowed",
            CheckProblem::CameraInUse => "Camera in use by another app",
            CheckProblem::NoCamera => "No camera (sound only)",
            CheckProblem::InAppBrowser => "Link opened inside another app",
            CheckProblem::LowBandwidth => "Connection too slow for video",
            CheckProblem::NoConnection => "Could not connect at all",
        }
    }
}

/// One recorded step of one person's journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepAt {
    /// Which step.
    pub step: JourneyStep,
    /// For a failed check, which problem (`None` for other steps, or a code this version
    /// does not know).
    pub problem: Option<CheckProblem>,
    /// When.
    pub at: OffsetDateTime,
}

/// Where someone stopped short of a working call: the furthest step they reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stop {
    /// They never opened their link.
    NotOpened,
    /// The furthest step they reached (never `MediaFlowing` or `Ended`).
    At(JourneyStep),
}

impl Stop {
    /// Every place someone can stop, in the order of the journey.
    pub const ALL: [Stop; 7] = [
        Stop::NotOpened,
        Stop::At(JourneyStep::LinkOpened),
        Stop::At(JourneyStep::DetailsEntered),
        Stop::At(JourneyStep::CheckFailed),
        Stop::At(JourneyStep::CheckPassed),
        Stop::At(JourneyStep::Waiting),
        Stop::At(JourneyStep::Admitted),
    ];

    /// A stable word for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Stop::NotOpened => "not_opened",
            Stop::At(step) => step.as_str(),
        }
    }

    /// The stopping place in plain words, for staff.
    pub fn describe(self) -> &'static str {
        match self {
            Stop::NotOpened => "Did not open the link",
            Stop::At(JourneyStep::LinkOpened) => "Opened the link only",
            Stop::At(JourneyStep::DetailsEntered) => "Entered their details",
            Stop::At(JourneyStep::CheckFailed) => "Failed the check",
            Stop::At(JourneyStep::CheckPassed) => "Passed the check",
            Stop::At(JourneyStep::Waiting) => "Waited, not admitted",
            Stop::At(JourneyStep::Admitted) => "Admitted, but media never flowed",
            Stop::At(JourneyStep::MediaFlowing | JourneyStep::Ended) => "Reached a working call",
        }
    }
}

/// How far along the journey a step is. Passing and failing the check are the same
/// distance (a failed check may still be followed by waiting: sound only, say); ending
/// is not progress at all.
fn progress(step: JourneyStep) -> u8 {
    match step {
        JourneyStep::Ended => 0,
        JourneyStep::LinkOpened => 1,
        JourneyStep::DetailsEntered => 2,
        JourneyStep::CheckFailed | JourneyStep::CheckPassed => 3,
        JourneyStep::Waiting => 4,
        JourneyStep::Admitted => 5,
        JourneyStep::MediaFlowing => 6,
    }
}

/// A day's figures for one clinic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Funnel {
    /// People invited (every attendee of the day's consultations that were not cancelled).
    pub invited: u32,
    /// How many reached each step at least once, in the order of [`JourneyStep::ALL`].
    pub reached: Vec<(JourneyStep, u32)>,
    /// How many had the check fail with each problem (someone may have several).
    pub failed_by_problem: Vec<(CheckProblem, u32)>,
    /// Of those who did not reach a working call, how many stopped where, in the order of
    /// [`Stop::ALL`].
    pub stopped: Vec<(Stop, u32)>,
    /// The median time from first opening the link to first being admitted, among those
    /// admitted.
    pub median_to_admitted: Option<Duration>,
}

impl Funnel {
    /// Adds up each person's steps (one slice per invited person, in any order).
    pub fn count<'a>(journeys: impl IntoIterator<Item = &'a [StepAt]>) -> Funnel {
        let mut reached = [0u32; JourneyStep::ALL.len()];
        let mut problems = [0u32; CheckProblem::ALL.len()];
        let mut stopped = [0u32; Stop::ALL.len()];
        let mut waits = Vec::new();
        let mut invited = 0;
        for steps in journeys {
            invited += 1;
            for (i, step) in JourneyStep::ALL.iter().enumerate() {
                if steps.iter().any(|s| s.step == *step) {
                    reached[i] += 1;
                }
            }
            for (i, problem) in CheckProblem::ALL.iter().enumerate() {
                if steps.iter().any(|s| s.problem == Some(*problem)) {
                    problems[i] += 1;
                }
            }
            if let Some(stop) = stop_of(steps)
                && let Some(i) = Stop::ALL.iter().position(|s| *s == stop)
            {
                stopped[i] += 1;
            }
            let first = |step| steps.iter().filter(|s| s.step == step).map(|s| s.at).min();
            if let (Some(opened), Some(admitted)) =
                (first(JourneyStep::LinkOpened), first(JourneyStep::Admitted))
                && admitted >= opened
            {
                waits.push(admitted - opened);
            }
        }
        Funnel {
            invited,
            reached: JourneyStep::ALL.iter().copied().zip(reached).collect(),
            failed_by_problem: CheckProblem::ALL.iter().copied().zip(problems).collect(),
            stopped: Stop::ALL.iter().copied().zip(stopped).collect(),
            median_to_admitted: median(waits),
        }
    }

    /// How many reached `step`.
    pub fn reached(&self, step: JourneyStep) -> u32 {
        self.reached
            .iter()
            .find(|(s, _)| *s == step)
            .map_or(0, |(_, n)| *n)
    }

    /// How many reached a working call (media flowing both ways).
    pub fn working_calls(&self) -> u32 {
        self.reached(JourneyStep::MediaFlowing)
    }
}

/// Where one person stopped, or `None` if they reached a working call.
fn stop_of(steps: &[StepAt]) -> Option<Stop> {
    let furthest = steps.iter().map(|s| progress(s.step)).max().unwrap_or(0);
    match furthest {
        0 => Some(Stop::NotOpened),
        6 => None,
        3 if steps.iter().any(|s| s.step == JourneyStep::CheckPassed) => {
            Some(Stop::At(JourneyStep::CheckPassed))
        }
        n => steps
            .iter()
            .map(|s| s.step)
            .find(|s| progress(*s) == n)
            .map(Stop::At),
    }
}

/// The middle value (the mean of the two middle values for an even count).
fn median(mut values: Vec<Duration>) -> Option<Duration> {
    values.sort();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const T: OffsetDateTime = datetime!(2025-01-06 09:00 UTC);

    fn at(step: JourneyStep, minutes: i64) -> StepAt {
        StepAt {
            step,
            problem: None,
            at: T + Duration::minutes(minutes),
        }
    }

    fn failed(problem: CheckProblem, minutes: i64) -> StepAt {
        StepAt {
            problem: Some(problem),
            ..at(JourneyStep::CheckFailed, minutes)
        }
    }

    #[test]
    fn problem_codes_are_a_fixed_list_and_unknown_ones_are_named() {
        for problem in CheckProblem::ALL {
            assert_eq!(CheckProblem::parse(problem.as_str()), Ok(*problem));
            assert!(!problem.describe().is_empty());
        }
        let err = CheckProblem::parse("camera_on_fire")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown check problem 'camera_on_fire'"),
            "{err}"
        );
        assert!(err.contains("permission_denied"), "{err}");
    }

    #[test]
    fn a_day_adds_up_to_reached_steps_stops_and_a_median_wait() {
        use JourneyStep::*;
        let journeys: Vec<Vec<StepAt>> = vec![
            // Never opened the link.
            vec![],
            // Opened it only.
            vec![at(LinkOpened, 0)],
            // Camera refused, never got further.
            vec![
                at(LinkOpened, 0),
                at(DetailsEntered, 1),
                failed(CheckProblem::PermissionDenied, 2),
            ],
            // No camera, went on with sound, admitted after 10 minutes, working call.
            vec![
                at(LinkOpened, 0),
                at(DetailsEntered, 1),
                failed(CheckProblem::NoCamera, 2),
                at(Waiting, 2),
                at(Admitted, 10),
                at(MediaFlowing, 10),
                at(Ended, 30),
            ],
            // Admitted after 4 minutes but media never flowed; then it ended.
            vec![
                at(LinkOpened, 0),
                at(DetailsEntered, 1),
                at(Waiting, 2),
                at(CheckPassed, 2),
                at(Admitted, 4),
                at(Ended, 5),
            ],
            // Passed, waited, left before being admitted (ended is not progress).
            vec![
                at(LinkOpened, 0),
                at(DetailsEntered, 1),
                at(CheckPassed, 2),
                at(Waiting, 2),
                at(Ended, 20),
            ],
        ];
        let funnel = Funnel::count(journeys.iter().map(Vec::as_slice));
        assert_eq!(funnel.invited, 6);
        assert_eq!(funnel.reached(LinkOpened), 5);
        assert_eq!(funnel.reached(DetailsEntered), 4);
        assert_eq!(funnel.reached(CheckPassed), 2);
        assert_eq!(funnel.reached(CheckFailed), 2);
        assert_eq!(funnel.reached(Waiting), 3);
        assert_eq!(funnel.reached(Admitted), 2);
        assert_eq!(funnel.working_calls(), 1);
        assert_eq!(funnel.reached(Ended), 3);
        let problems: Vec<_> = funnel
            .failed_by_problem
            .iter()
            .filter(|(_, n)| *n > 0)
            .collect();
        assert_eq!(
            problems,
            [
                &(CheckProblem::PermissionDenied, 1),
                &(CheckProblem::NoCamera, 1)
            ]
        );
        let stops: Vec<_> = funnel.stopped.iter().filter(|(_, n)| *n > 0).collect();
        assert_eq!(
            stops,
            [
                &(Stop::NotOpened, 1),
                &(Stop::At(LinkOpened), 1),
                &(Stop::At(CheckFailed), 1),
                &(Stop::At(Waiting), 1),
                &(Stop::At(Admitted), 1),
            ]
        );
        // 4 and 10 minutes: the median of an even count is the mean of the middle two.
        assert_eq!(funnel.median_to_admitted, Some(Duration::minutes(7)));
    }

    #[test]
    fn an_empty_day_has_no_median() {
        let funnel = Funnel::count(std::iter::empty());
        assert_eq!(funnel.invited, 0);
        assert_eq!(funnel.median_to_admitted, None);
        assert!(funnel.stopped.iter().all(|(_, n)| *n == 0));
    }

    #[test]
    fn the_median_of_an_odd_count_is_the_middle_one() {
        let minutes = [3, 1, 20].map(Duration::minutes);
        assert_eq!(median(minutes.to_vec()), Some(Duration::minutes(3)));
    }
}
