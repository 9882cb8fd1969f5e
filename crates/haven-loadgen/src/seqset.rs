//! The set of frame numbers a receiver got from one publisher's track: loss is what the
//! publisher sent minus what is in the set, so duplicates (a layer switch can deliver two
//! frames of one picture) count once and reordered frames count wherever they arrive.

/// Frame numbers are kept in a bitmap covering at most this many consecutive numbers
/// (512 KiB): over four hours of 30 fps video. A stamp claiming a number further away is
/// counted as out of range instead of growing the map.
const MAX_SPAN: u32 = 1 << 22;

/// A set of `u32` frame numbers that arrive roughly in order.
#[derive(Debug, Default, Clone)]
pub struct SeqSet {
    /// The number that bit 0 of `words[0]` stands for (a multiple of 64).
    base: u32,
    /// One bit per number from `base` on.
    words: Vec<u64>,
    /// Distinct numbers present.
    len: u64,
    /// Numbers refused because they lay more than `MAX_SPAN` from the others.
    out_of_range: u64,
}

impl SeqSet {
    /// Adds `seq`; returns true if it was not there yet.
    pub fn insert(&mut self, seq: u32) -> bool {
        if self.words.is_empty() {
            self.base = seq & !63;
            self.words.push(0);
        }
        if seq < self.base {
            // A frame from before the first one seen (reordering): grow the map downwards.
            let new_base = seq & !63;
            if self.end().saturating_sub(new_base) > MAX_SPAN {
                self.out_of_range += 1;
                return false;
            }
            let extra = ((self.base - new_base) / 64) as usize;
            self.words.splice(0..0, std::iter::repeat_n(0, extra));
            self.base = new_base;
        }
        let offset = seq - self.base;
        if offset >= MAX_SPAN {
            self.out_of_range += 1;
            return false;
        }
        let word = (offset / 64) as usize;
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        let bit = 1u64 << (offset % 64);
        if self.words[word] & bit != 0 {
            return false;
        }
        self.words[word] |= bit;
        self.len += 1;
        true
    }

    /// How many distinct numbers are present.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Numbers refused as implausibly far from the rest.
    pub fn out_of_range(&self) -> u64 {
        self.out_of_range
    }

    /// One past the last number the map can hold now.
    fn end(&self) -> u32 {
        let span = u32::try_from(self.words.len() * 64).unwrap_or(u32::MAX);
        self.base.saturating_add(span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_distinct_numbers_whatever_their_order() {
        let mut set = SeqSet::default();
        for seq in [100, 102, 101, 101, 100, 300, 99, 5, 102] {
            set.insert(seq);
        }
        assert_eq!(set.len(), 6);
        assert!(!set.insert(5), "a duplicate is not new");
        assert!(set.insert(6));
        assert_eq!(set.len(), 7);
    }

    #[test]
    fn loss_is_sent_minus_received_with_reordering_and_duplicates() {
        // A publisher sent frames 0..1000; the receiver lost every 50th, got a few twice
        // and some out of order.
        let mut set = SeqSet::default();
        let mut arrivals: Vec<u32> = (0..1000).filter(|s| s % 50 != 7).collect();
        arrivals.swap(10, 11);
        arrivals.swap(500, 503);
        arrivals.extend([3, 4, 900]);
        for seq in arrivals {
            set.insert(seq);
        }
        assert_eq!(1000 - set.len(), 20);
    }

    #[test]
    fn a_wild_number_does_not_grow_the_map() {
        let mut set = SeqSet::default();
        set.insert(10);
        assert!(!set.insert(u32::MAX));
        assert!(!set.insert(10 + MAX_SPAN + 64));
        assert_eq!(set.out_of_range(), 2);
        assert_eq!(set.len(), 1);
        let mut high = SeqSet::default();
        high.insert(u32::MAX - 1);
        assert!(!high.insert(0), "too far below");
        assert_eq!(high.len(), 1);
    }
}
