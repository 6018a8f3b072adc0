//! Read batching: when a peer streams requests that need no answer (bundle adds, flow mods without
//! barriers), the socket is left unread for a moment, so that one wakeup and one read take many
//! messages instead of one each. A peer that waits for answers is never delayed.
//!
//! The daemon raises the socket's receive low-water mark (`SO_RCVLOWAT`) while batching, so the
//! kernel wakes it only once a large read's worth has arrived, or at the batch deadline, whichever
//! comes first. Decisions are made here, from what each loop iteration did; time comes in as `now`.

use std::time::Duration;

use ofp_proto::Instant;

/// How long a batch may hold bytes back: the added delay for the last messages of a stream.
pub const BATCH_WAIT: Duration = Duration::from_millis(1);
/// Iterations in a row that read a drained socket and answered nothing before batching starts.
pub const STREAK: u8 = 3;
/// Iterations further apart than this do not make a streak: a peer sending now and then is read
/// at once, every time.
pub const STREAK_GAP: Duration = Duration::from_millis(1);

/// What to do with the socket's receive low-water mark after an iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lowat {
    Keep,
    /// Start batching: wake only for a large read's worth (or at the deadline).
    Raise,
    /// Stop batching: wake for every byte again.
    Lower,
}

/// One connection's batching state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadBatch {
    streak: u8,
    last: Option<Instant>,
    deadline: Option<Instant>,
}

impl ReadBatch {
    /// When the socket must be read even though the kernel reported nothing: the batch's end.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the batch deadline has come.
    pub fn due(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|d| now >= d)
    }

    /// An iteration ended for this connection: it read `read` bytes, `drained` says the socket had
    /// no more, `replied` says bytes went out to the peer (or wait to). Any answer ends batching at
    /// once: the peer may be waiting for the next one.
    pub fn after_iteration(&mut self, now: Instant, read: usize, drained: bool, replied: bool) -> Lowat {
        let batching = self.deadline.is_some();
        if replied {
            *self = ReadBatch::default();
            return if batching { Lowat::Lower } else { Lowat::Keep };
        }
        if read > 0 && drained {
            let close = self.last.is_some_and(|t| now <= t + STREAK_GAP);
            self.streak = if close { self.streak.saturating_add(1) } else { 1 };
            self.last = Some(now);
            if batching || self.streak >= STREAK {
                self.deadline = Some(now + BATCH_WAIT);
                return if batching { Lowat::Keep } else { Lowat::Raise };
            }
        } else if read == 0 && self.due(now) {
            // The deadline came and nothing had arrived: the stream is over.
            *self = ReadBatch::default();
            return Lowat::Lower;
        }
        Lowat::Keep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: u64) -> Instant {
        Instant::from_millis(t)
    }

    #[test]
    fn a_stream_without_answers_is_batched_after_three_drained_reads() {
        let mut b = ReadBatch::default();
        assert_eq!(b.after_iteration(ms(10), 100, true, false), Lowat::Keep);
        assert_eq!(b.after_iteration(ms(10), 100, true, false), Lowat::Keep);
        assert_eq!(b.after_iteration(ms(11), 100, true, false), Lowat::Raise);
        assert_eq!(b.deadline(), Some(ms(12)));
        assert!(!b.due(ms(11)) && b.due(ms(12)));
        // Each read while batching moves the deadline; the mark stays raised.
        assert_eq!(b.after_iteration(ms(12), 30_000, true, false), Lowat::Keep);
        assert_eq!(b.deadline(), Some(ms(13)));
        // The deadline comes with nothing to read: back to waking for every byte.
        assert_eq!(b.after_iteration(ms(13), 0, true, false), Lowat::Lower);
        assert_eq!(b, ReadBatch::default());
    }

    #[test]
    fn an_answer_ends_batching_at_once() {
        let mut b = ReadBatch::default();
        for _ in 0..STREAK - 1 {
            b.after_iteration(ms(5), 100, true, false);
        }
        assert_eq!(b.after_iteration(ms(5), 100, true, false), Lowat::Raise);
        assert_eq!(b.after_iteration(ms(5), 100, true, true), Lowat::Lower);
        assert_eq!(b.deadline(), None);
        // And the streak starts over.
        assert_eq!(b.after_iteration(ms(5), 100, true, false), Lowat::Keep);
    }

    #[test]
    fn a_peer_waiting_for_answers_is_never_batched() {
        let mut b = ReadBatch::default();
        for t in 0..100 {
            assert_eq!(b.after_iteration(ms(t / 10), 80, true, true), Lowat::Keep);
        }
        assert_eq!(b.deadline(), None);
    }

    #[test]
    fn sparse_or_undrained_reads_make_no_streak() {
        let mut b = ReadBatch::default();
        // Two milliseconds apart: each message is read as it comes.
        for t in (0..20).step_by(2) {
            assert_eq!(b.after_iteration(ms(t), 100, true, false), Lowat::Keep);
        }
        // Reads that stop on their budget with more waiting are not a drained socket.
        let mut b = ReadBatch::default();
        for _ in 0..10 {
            assert_eq!(b.after_iteration(ms(1), 256 * 1024, false, false), Lowat::Keep);
        }
        assert_eq!(b.deadline(), None);
    }
}
