//! Before any media: each room's staff member signs in, opens a test room and asks for one
//! invitation per guest.
//!
//! Sign-ins run one at a time, as staff sign in at different moments in real life. Each
//! costs the server several argon2 hashes of 19 MiB; run many at once, they occupy as many
//! of the server's blocking threads, whose memory the allocator keeps afterwards, and the
//! server's peak memory would then say more about sign-in bursts than about media.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;

use crate::staff::{Account, StaffFile};
use crate::web::StaffBrowser;

/// Sign-ins in flight at once.
const CONCURRENT_SIGN_INS: usize = 1;

/// A room ready to join: the host's cookies and a seat per guest.
#[derive(Debug, Clone)]
pub struct RoomPlan {
    pub cookie: String,
    pub seats: Vec<String>,
}

/// Prepares `accounts.len()` rooms of `participants` each. A room that could not be
/// prepared carries the reason instead: its participants are reported as failed.
pub async fn prepare(
    base: &Url,
    accounts: Vec<Account>,
    participants: usize,
    file: Arc<StaffFile>,
) -> Vec<Result<RoomPlan, String>> {
    let mut plans: Vec<Result<RoomPlan, String>> =
        vec![Err("the set-up task failed".to_owned()); accounts.len()];
    let gate = Arc::new(Semaphore::new(CONCURRENT_SIGN_INS));
    let mut tasks = JoinSet::new();
    for (i, account) in accounts.into_iter().enumerate() {
        let (base, file, gate) = (base.clone(), file.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let plan = prepare_one(&base, &account, participants, &file)
                .await
                .map_err(|e| format!("setting up room {} ({}): {e:#}", i + 1, account.email));
            (i, plan)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        // A panicking task leaves its room marked as failed; the others go on.
        if let Ok((i, plan)) = joined {
            plans[i] = plan;
        }
    }
    plans
}

/// Signs each account in once, one after another; returns how many failed (each is
/// reported on standard error).
pub async fn sign_in_only(base: &Url, accounts: Vec<Account>, file: &StaffFile) -> usize {
    let mut failed = 0;
    for account in accounts {
        if let Err(e) = StaffBrowser::sign_in(base, &account, file).await {
            eprintln!("{}: {e:#}", account.email);
            failed += 1;
        }
    }
    failed
}

async fn prepare_one(
    base: &Url,
    account: &Account,
    participants: usize,
    file: &StaffFile,
) -> anyhow::Result<RoomPlan> {
    let browser = StaffBrowser::sign_in(base, account, file).await?;
    let mut seats = vec![browser.open_room().await?];
    while seats.len() < participants - 1 {
        seats.push(browser.invite().await?);
    }
    let cookie = browser
        .cookie_header()
        .ok_or_else(|| anyhow::anyhow!("the browser holds no session cookie"))?;
    Ok(RoomPlan { cookie, seats })
}
