//! When media first flows both ways for a participant: the room has forwarded a frame of
//! theirs to someone and a frame of someone's to them. Reported once per stay in the
//! room, for the journey funnel ("reached a working call"); someone kept apart gets
//! nothing forwarded either way, so for them it can only happen once they are let in.

use std::collections::HashSet;

use crate::ParticipantId;

#[derive(Debug, Default)]
pub(crate) struct Flowing {
    /// Participants a frame of whose reached someone.
    sent: HashSet<ParticipantId>,
    /// Participants who were sent someone's frame.
    received: HashSet<ParticipantId>,
    /// Participants already reported.
    reported: HashSet<ParticipantId>,
}

impl Flowing {
    /// Notes a frame forwarded from `origin` to `subscriber`; returns who, because of it,
    /// now has media flowing both ways for the first time.
    pub fn forwarded(
        &mut self,
        origin: ParticipantId,
        subscriber: ParticipantId,
    ) -> Vec<ParticipantId> {
        let mut now_flowing = Vec::new();
        if self.sent.insert(origin) {
            now_flowing.push(origin);
        }
        if self.received.insert(subscriber) {
            now_flowing.push(subscriber);
        }
        now_flowing.retain(|id| {
            self.sent.contains(id) && self.received.contains(id) && self.reported.insert(*id)
        });
        now_flowing
    }

    /// Forgets a participant who left: if they come back, it is reported again.
    pub fn forget(&mut self, id: ParticipantId) {
        self.sent.remove(&id);
        self.received.remove(&id);
        self.reported.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ways_is_reported_once_per_stay() {
        let (a, b, c) = (
            ParticipantId::new(1),
            ParticipantId::new(2),
            ParticipantId::new(3),
        );
        let mut f = Flowing::default();
        assert_eq!(f.forwarded(a, b), []);
        assert_eq!(f.forwarded(b, a), [b, a]);
        assert_eq!(f.forwarded(a, b), []);
        assert_eq!(f.forwarded(a, c), []);
        assert_eq!(f.forwarded(c, a), [c]);
        f.forget(b);
        assert_eq!(f.forwarded(a, b), []);
        assert_eq!(f.forwarded(b, c), [b]);
    }
}
