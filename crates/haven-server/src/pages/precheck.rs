//! The pre-call check on the patient's waiting page: the help it can show (one fix per
//! problem, in plain words) and `POST /join/{token}/check-result`, where the page reports
//! whether the check passed or which problem it found. Only the step and a code from a
//! fixed list are stored, for the journey funnel: nothing about the person or device.

use axum::Extension;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use haven_domain::consultation::JourneyStep;
use haven_domain::journey::CheckProblem;
use haven_domain::throttle::WINDOW;
use maud::{Markup, html};

use crate::pages::join::invite_or_page;
use crate::web::{ClientInfo, FormData};
use crate::{AppState, Error};

/// The most check results one link may send per throttle window: a page sends two or
/// three, so this allows several reloads but not a flood of rows.
const RESULTS_PER_WINDOW: i64 = 10;

/// The check's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/join/{token}/check-result", post(check_result))
}

/// What the page sends.
struct CheckResult {
    result: String,
    problem: String,
}

impl CheckResult {
    /// The step and, for a failure, its problem; a specific message otherwise.
    fn parse(&self) -> Result<(JourneyStep, Option<CheckProblem>), Error> {
        match (self.result.as_str(), self.problem.as_str()) {
            ("check_passed", "") => Ok((JourneyStep::CheckPassed, None)),
            ("check_passed", _) => Err(Error::BadRequest(
                "a passed check has no problem: leave \"problem\" empty".into(),
            )),
            ("check_failed", "") => Err(Error::BadRequest(
                "a failed check needs a \"problem\"".into(),
            )),
            ("check_failed", problem) => CheckProblem::parse(problem)
                .map(|p| (JourneyStep::CheckFailed, Some(p)))
                .map_err(|e| Error::BadRequest(e.to_string())),
            (other, _) => Err(Error::BadRequest(format!(
                "result must be check_passed or check_failed, not '{}'",
                other.chars().take(40).collect::<String>()
            ))),
        }
    }
}

async fn check_result(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    Path(token): Path<String>,
    form: FormData,
) -> Result<Response, Error> {
    let sent = CheckResult {
        result: form.get("result").to_owned(),
        problem: form.get("problem").to_owned(),
    };
    let invite = match invite_or_page(&state, &client, &token).await? {
        Ok(invite) => invite,
        Err(page) => return Ok(page),
    };
    let (step, problem) = sent.parse()?;
    if invite.attendee.confirmed.is_none() {
        return Err(Error::Refused(
            "confirm your name and date of birth before the check".into(),
        ));
    }
    let org = &invite.consultation.org_id;
    let now = state.clock.now();
    let sent_lately = state
        .store
        .check_results_since(org, &invite.attendee.id, now - WINDOW)
        .await?;
    if sent_lately >= RESULTS_PER_WINDOW {
        return Err(Error::TooManyAttempts {
            minutes: WINDOW.whole_minutes(),
        });
    }
    let mut tx = state.store.begin().await?;
    tx.journey_step(
        org,
        &invite.attendee.id,
        step,
        problem.map(CheckProblem::as_str),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The check's instructions and, hidden until the page finds the problem, how to fix
/// each one. `web/precall.js` shows the right fix (for permissions, the one for this
/// kind of device) and sends the result with the CSRF token given here.
pub fn panel(csrf: &str) -> Markup {
    html! {
        div id="precall" class="precall" data-csrf=(csrf) {
            div id="fix-in_app_browser" class="notice" hidden {
                p { strong { "This link has opened inside another app." } " Video calls work best in your phone's own browser: "
                    "tap the menu (⋯ or ⋮) and choose “Open in Safari” on an iPhone or “Open in Chrome” on Android." }
            }
            ol {
                li { "Press " strong { "Start the check" } ". Your browser asks to use your camera and microphone: choose " strong { "Allow" } "." }
                li { "You should see yourself. Then test your speaker:" " "
                    button id="speaker-test" type="button" class="secondary" { "Play a test sound" } }
                li { "Haven checks your connection and puts you in the waiting room." }
            }
            div id="precall-result" role="status" aria-live="polite" {}
            div id="precall-fixes" role="alert" {
                div id="fix-permission_denied" class="notice" hidden {
                    h2 { "Your camera and microphone are blocked" }
                    p data-device="ios" hidden { strong { "iPhone or iPad: " } "open Settings, then Safari, then Camera and Microphone, and choose Allow. Then reload this page." }
                    p data-device="android" hidden { strong { "Android: " } "tap the padlock or settings icon next to the address, then Permissions, and allow Camera and Microphone. Then reload this page." }
                    p data-device="desktop" hidden { strong { "Computer: " } "click the camera icon or padlock in the address bar, allow the camera and microphone for this site, then reload this page." }
                }
                div id="fix-camera_in_use" class="notice" hidden {
                    h2 { "Another app is using your camera" }
                    p { "Close other apps that use the camera (video calls such as Teams, Zoom, WhatsApp or FaceTime, or the camera app), then reload this page." }
                }
                div id="fix-no_camera" class="notice" hidden {
                    h2 { "No camera found" }
                    p { "You can still join with sound only: the clinician will hear you but not see you. The check carries on with your microphone." }
                }
                div id="fix-low_bandwidth" class="notice" hidden {
                    h2 { "Your connection is slow" }
                    p { "Video may break up. You can choose sound only, which needs much less. Moving closer to your Wi-Fi router can help." }
                    button id="precall-audio-only" type="button" class="secondary" { "Use sound only" }
                }
                div id="fix-no_connection" class="notice" hidden {
                    h2 { "Haven could not connect" }
                    ul {
                        li { "Turn Wi-Fi off and on again, or switch between Wi-Fi and mobile data." }
                        li { "Try another network: some work or public Wi-Fi networks block video calls." }
                        li { "Then reload this page." }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(result: &str, problem: &str) -> Result<(JourneyStep, Option<CheckProblem>), String> {
        CheckResult {
            result: result.into(),
            problem: problem.into(),
        }
        .parse()
        .map_err(|e| e.to_string())
    }

    #[test]
    fn every_problem_has_its_fix_on_the_page() {
        let page = panel("t").into_string();
        for problem in CheckProblem::ALL {
            assert!(page.contains(&format!("id=\"fix-{problem}\"")), "{problem}");
        }
    }

    #[test]
    fn results_parse_strictly() {
        assert_eq!(
            sent("check_passed", ""),
            Ok((JourneyStep::CheckPassed, None))
        );
        assert_eq!(
            sent("check_failed", "camera_in_use"),
            Ok((JourneyStep::CheckFailed, Some(CheckProblem::CameraInUse)))
        );
        assert!(
            sent("check_failed", "")
                .unwrap_err()
                .contains("needs a \"problem\"")
        );
        assert!(
            sent("check_failed", "cosmic_rays")
                .unwrap_err()
                .contains("unknown check problem 'cosmic_rays'")
        );
        assert!(
            sent("check_passed", "no_camera")
                .unwrap_err()
                .contains("no problem")
        );
        assert!(sent("waiting", "").unwrap_err().contains("not 'waiting'"));
    }
}
