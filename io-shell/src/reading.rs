//! How much and when each connection is read: read sizes that follow the traffic, and batching of
//! a peer that streams requests needing no answer (bundle adds, flow mods without barriers).
//!
//! Batching leaves the socket unread for a moment so that one wakeup and one read take many
//! messages instead of one each: the daemon raises the socket's receive low-water mark
//! (`SO_RCVLOWAT`), so the kernel wakes it only once a large read's worth has arrived, or at the
//! batch deadline, whichever comes first. A peer that waits for answers is never delayed.
//! Decisions are made here, from what each loop iteration did; time comes in as `now`.

use std::time::Duration;

use ofp_proto::Instant;

use crate::stamp::Stamp;

/// The largest read and the smallest (as powers of two): reads double while they come back full
/// and fall back to the smallest after one at most a quarter full, so a busy connection reads in
/// large chunks and a quiet one does not hold a large buffer.
pub const MAX_READ_SHIFT: u8 = 16;
pub const MIN_READ_SHIFT: u8 = 10;
/// The receive low-water mark while batching: one full read.
pub const BATCH_LOWAT: usize = 1 << MAX_READ_SHIFT;
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

/// One connection's reading state, kept small: every connection has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    /// The poller reported bytes (or the end) to read.
    pub readable: bool,
    /// The poller reported the peer's close or an error: reading goes on until it says so,
    /// whatever the size of the reads before.
    pub peer_closed: bool,
    /// The last iteration that read a drained socket and answered nothing (when `streak` > 0).
    last: Stamp,
    streak: u8,
    /// Batching: the batch ends at `last + BATCH_WAIT`.
    batching: bool,
    /// The socket's low-water mark is raised (set by the caller once the option is set).
    pub lowat_raised: bool,
    /// This iteration read bytes; its last read found the socket drained.
    read_some: bool,
    drained: bool,
    /// The next read's size, as a power of two.
    read_shift: u8,
}

impl Default for Reading {
    fn default() -> Reading {
        Reading {
            readable: false,
            peer_closed: false,
            last: Stamp::default(),
            streak: 0,
            batching: false,
            lowat_raised: false,
            read_some: false,
            drained: false,
            read_shift: MIN_READ_SHIFT,
        }
    }
}

impl Reading {
    /// How many bytes the next read asks for.
    pub fn read_size(&self) -> usize {
        1 << self.read_shift
    }

    /// A read that asked for `want` bytes got `got` (> 0). A short read means the socket is
    /// drained (edge-triggered polling reports the next arrival).
    pub fn note_read(&mut self, got: usize, want: usize) {
        self.read_some = true;
        if got >= want {
            self.read_shift = (self.read_shift + 1).min(MAX_READ_SHIFT);
        } else {
            self.drained = true;
            if got <= want / 4 {
                self.read_shift = MIN_READ_SHIFT;
            }
        }
    }

    /// A read found nothing (`EWOULDBLOCK`).
    pub fn note_drained(&mut self) {
        self.drained = true;
    }

    /// When the socket must be read even though the kernel reported nothing: the batch's end.
    pub fn deadline(&self, now: Instant) -> Option<Instant> {
        self.batching.then(|| self.last.instant(now) + BATCH_WAIT)
    }

    /// Whether the batch deadline has come.
    pub fn due(&self, now: Instant) -> bool {
        self.batching && self.last.age(now) >= BATCH_WAIT
    }

    /// An iteration ended for this connection, after the reads noted above; `replied`: bytes went
    /// out to the peer (or wait to). Any answer ends batching at once: the peer may be waiting
    /// for the next one.
    pub fn after_iteration(&mut self, now: Instant, replied: bool) -> Lowat {
        let (read, drained) = (self.read_some, self.drained);
        (self.read_some, self.drained) = (false, false);
        let batching = self.batching;
        if replied {
            (self.streak, self.batching) = (0, false);
            return if batching { Lowat::Lower } else { Lowat::Keep };
        }
        if read && drained {
            let close = self.streak > 0 && self.last.age(now) <= STREAK_GAP;
            self.streak = if close { self.streak.saturating_add(1) } else { 1 };
            self.last = Stamp::of(now);
            if batching || self.streak >= STREAK {
                self.batching = true;
                return if batching { Lowat::Keep } else { Lowat::Raise };
            }
        } else if !read && self.due(now) {
            // The deadline came and nothing had arrived: the stream is over.
            (self.streak, self.batching) = (0, false);
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

    /// One iteration that read `got` bytes (0: found nothing) and ended at `now`.
    fn iteration(r: &mut Reading, now: u64, got: usize, replied: bool) -> Lowat {
        if got == 0 {
            r.note_drained();
        } else {
            r.note_read(got, r.read_size());
        }
        r.after_iteration(ms(now), replied)
    }

    #[test]
    fn reads_grow_while_they_come_back_full_and_shrink_when_mostly_empty() {
        let mut r = Reading::default();
        assert_eq!(r.read_size(), 1024);
        for size in [2048, 4096, 8192, 16384, 32768, 65536, 65536] {
            r.note_read(r.read_size(), r.read_size());
            assert_eq!(r.read_size(), size);
        }
        // Half full: stays; a quarter or less: back to the smallest.
        r.note_read(32768, 65536);
        assert_eq!(r.read_size(), 65536);
        r.note_read(16384, 65536);
        assert_eq!(r.read_size(), 1024);
        // A read cut short by the caller's budget that fills it counts as full.
        r.note_read(1000, 1000);
        assert_eq!(r.read_size(), 2048);
    }

    #[test]
    fn a_stream_without_answers_is_batched_after_three_drained_reads() {
        let mut r = Reading::default();
        assert_eq!(iteration(&mut r, 10, 100, false), Lowat::Keep);
        assert_eq!(iteration(&mut r, 10, 100, false), Lowat::Keep);
        assert_eq!(iteration(&mut r, 11, 100, false), Lowat::Raise);
        assert_eq!(r.deadline(ms(11)), Some(ms(12)));
        assert!(!r.due(ms(11)) && r.due(ms(12)));
        // Each read while batching moves the deadline; the mark stays raised.
        assert_eq!(iteration(&mut r, 12, 500, false), Lowat::Keep);
        assert_eq!(r.deadline(ms(12)), Some(ms(13)));
        // The deadline comes with nothing to read: back to waking for every byte.
        assert_eq!(iteration(&mut r, 13, 0, false), Lowat::Lower);
        assert_eq!(r.deadline(ms(100)), None);
        assert_eq!(iteration(&mut r, 13, 100, false), Lowat::Keep);
    }

    #[test]
    fn an_answer_ends_batching_at_once() {
        let mut r = Reading::default();
        for _ in 0..STREAK - 1 {
            iteration(&mut r, 5, 100, false);
        }
        assert_eq!(iteration(&mut r, 5, 100, false), Lowat::Raise);
        assert_eq!(iteration(&mut r, 5, 100, true), Lowat::Lower);
        assert_eq!(r.deadline(ms(100)), None);
        // And the streak starts over.
        assert_eq!(iteration(&mut r, 5, 100, false), Lowat::Keep);
    }

    #[test]
    fn a_peer_waiting_for_answers_is_never_batched() {
        let mut r = Reading::default();
        for t in 0..100 {
            assert_eq!(iteration(&mut r, t / 10, 80, true), Lowat::Keep);
        }
        assert_eq!(r.deadline(ms(100)), None);
    }

    #[test]
    fn sparse_or_undrained_reads_make_no_streak() {
        let mut r = Reading::default();
        // Two milliseconds apart: each message is read as it comes.
        for t in (0..20).step_by(2) {
            assert_eq!(iteration(&mut r, t, 100, false), Lowat::Keep);
        }
        // Reads that fill their buffer (more may be waiting) are not a drained socket.
        let mut r = Reading::default();
        for _ in 0..10 {
            r.note_read(r.read_size(), r.read_size());
            assert_eq!(r.after_iteration(ms(1), false), Lowat::Keep);
        }
        assert_eq!(r.deadline(ms(100)), None);
    }
}
