//! `view` messages a peer owes the server: one per other participant, as a browser sends
//! when a tile appears. They are paced, because the server closes a connection that sends
//! more than 20 messages a second (bursts of 40), and answers to renegotiations must fit
//! in the same budget while a room fills up.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// At most this many `view` messages a second: half the server's sustained limit.
const GAP: Duration = Duration::from_millis(100);

#[derive(Debug, Default)]
pub struct Views {
    /// The tile size to announce; `None` sends nothing.
    size: Option<(u32, u32)>,
    /// This peer's own participant id, which needs no view.
    me: String,
    pending: VecDeque<String>,
    announced: HashSet<String>,
    next_at: Option<Instant>,
}

impl Views {
    pub fn new(size: Option<(u32, u32)>, me: &str) -> Views {
        Views {
            size,
            me: me.to_owned(),
            ..Views::default()
        }
    }

    /// Queues a view for every participant in a `participants` list (or `welcome`'s)
    /// not announced yet.
    pub fn on_list(&mut self, list: &Value) {
        if self.size.is_none() {
            return;
        }
        let ids = list.as_array().into_iter().flatten();
        for id in ids.filter_map(|p| p["id"].as_str()) {
            if id != self.me && self.announced.insert(id.to_owned()) {
                self.pending.push_back(id.to_owned());
            }
        }
    }

    /// When the next message may go, if one is waiting.
    pub fn due_at(&self) -> Option<Instant> {
        if self.pending.is_empty() {
            return None;
        }
        Some(self.next_at.unwrap_or_else(Instant::now))
    }

    /// The next message, if one is waiting and the pace allows it now.
    pub fn next(&mut self, now: Instant) -> Option<Value> {
        let (width, height) = self.size?;
        if self.next_at.is_some_and(|t| now < t) {
            return None;
        }
        let id = self.pending.pop_front()?;
        self.next_at = Some(now + GAP);
        Some(json!({"type": "view", "participant": id, "width": width, "height": height}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_view_per_other_participant_paced() {
        let now = Instant::now();
        let mut v = Views::new(Some((320, 180)), "p2");
        v.on_list(&json!([{"id": "p1"}, {"id": "p2"}]));
        v.on_list(&json!([{"id": "p1"}, {"id": "p2"}, {"id": "p3"}]));
        let first = v.next(now).expect("one is due");
        assert_eq!(first["participant"], "p1");
        assert_eq!(first["width"], 320);
        assert!(v.next(now).is_none(), "paced");
        assert_eq!(v.due_at(), Some(now + GAP));
        assert_eq!(v.next(now + GAP).expect("due")["participant"], "p3");
        assert!(v.next(now + GAP * 5).is_none(), "nobody else");
        let mut off = Views::new(None, "p1");
        off.on_list(&json!([{"id": "p2"}]));
        assert_eq!(off.due_at(), None);
    }
}
