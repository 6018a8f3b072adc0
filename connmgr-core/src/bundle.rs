//! One connection's bundles (OVS `ofproto/bundles.c`): open, add, close, discard and the bundle
//! taken out for a commit, with OVS's error for every misuse, and idle expiry.

use bytes::Bytes;
use ofp_proto::{Instant, OfpErr};

use crate::lazy_map::LazyMap;
use crate::owner::BundleEntry;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Open,
    Closed,
}

/// One bundle.
#[derive(Debug)]
pub struct Bundle {
    pub flags: u16,
    state: State,
    /// Its commit was postponed: it waits for the COMMIT to come back, and does not expire.
    committing: bool,
    /// The message that created it (open or first add), quoted by its timeout error.
    request: Bytes,
    used: Instant,
    pub entries: Vec<BundleEntry>,
}

impl Bundle {
    fn new(now: Instant, flags: u16, request: &Bytes) -> Bundle {
        Bundle {
            flags,
            state: State::Open,
            committing: false,
            request: request.clone(),
            used: now,
            entries: Vec::new(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Bundles {
    map: LazyMap<u32, Bundle>,
}

impl Bundles {
    /// OPEN_REQUEST. Opening an existing bundle discards it and fails.
    pub fn open(&mut self, now: Instant, id: u32, flags: u16, request: &Bytes) -> Result<(), OfpErr> {
        if self.map.remove(&id).is_some() {
            log::info!(target: "bundles", "Bundle {id:x} already exists.");
            return Err(OfpErr::OFPBFC_BAD_ID);
        }
        self.map.insert(id, Bundle::new(now, flags, request));
        Ok(())
    }

    /// CLOSE_REQUEST. Closing a closed bundle or with other flags discards it and fails.
    pub fn close(&mut self, now: Instant, id: u32, flags: u16) -> Result<(), OfpErr> {
        let b = self.map.get_mut(&id).ok_or(OfpErr::OFPBFC_BAD_ID)?;
        let err = if b.state == State::Closed {
            OfpErr::OFPBFC_BUNDLE_CLOSED
        } else if b.flags != flags {
            OfpErr::OFPBFC_BAD_FLAGS
        } else {
            b.used = now;
            b.state = State::Closed;
            return Ok(());
        };
        self.map.remove(&id);
        Err(err)
    }

    /// DISCARD_REQUEST.
    pub fn discard(&mut self, id: u32) -> Result<(), OfpErr> {
        self.map.remove(&id).map(|_| ()).ok_or(OfpErr::OFPBFC_BAD_ID)
    }

    /// BUNDLE_ADD_MESSAGE: opens the bundle if needed; adding to a closed bundle or with other
    /// flags discards it and fails.
    pub fn add(&mut self, now: Instant, id: u32, flags: u16, entry: BundleEntry) -> Result<(), OfpErr> {
        let b = self.map.get_or_insert_with(id, || Bundle::new(now, flags, &entry.request));
        let err = if b.state == State::Closed {
            OfpErr::OFPBFC_BUNDLE_CLOSED
        } else if b.flags != flags {
            OfpErr::OFPBFC_BAD_FLAGS
        } else {
            b.used = now;
            b.entries.push(entry);
            return Ok(());
        };
        self.map.remove(&id);
        Err(err)
    }

    /// COMMIT_REQUEST: the bundle to commit. Other flags than the bundle's fail the commit and
    /// discard the bundle.
    pub fn get_for_commit(&mut self, id: u32, flags: u16) -> Result<&Bundle, OfpErr> {
        if self.map.get(&id).ok_or(OfpErr::OFPBFC_BAD_ID)?.flags != flags {
            self.map.remove(&id);
            return Err(OfpErr::OFPBFC_BAD_FLAGS);
        }
        self.map.get(&id).ok_or(OfpErr::OFPBFC_BAD_ID)
    }

    /// The owner postponed the bundle's commit.
    pub fn set_committing(&mut self, id: u32) {
        if let Some(b) = self.map.get_mut(&id) {
            b.committing = true;
        }
    }

    /// A commit happened (or failed): the bundle leaves, returning its messages.
    pub fn remove(&mut self, id: u32) -> Vec<BundleEntry> {
        self.map.remove(&id).map(|b| b.entries).unwrap_or_default()
    }

    /// Removes the bundles idle for `timeout` or more at `now`, returning the messages that created
    /// them (each gets an OFPBFC_TIMEOUT error).
    pub fn expire(&mut self, now: Instant, timeout: std::time::Duration) -> Vec<Bytes> {
        let Some(limit) = now.as_millis().checked_sub(timeout.as_millis() as u64) else {
            return Vec::new();
        };
        let expired: Vec<u32> =
            self.map.iter().filter(|(_, b)| !b.committing && b.used.as_millis() <= limit).map(|(id, _)| *id).collect();
        expired.into_iter().filter_map(|id| self.map.remove(&id)).map(|b| b.request).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ofp_proto::{Message, OfpMsg};
    use std::time::Duration;

    fn t(s: u64) -> Instant {
        Instant::from_secs(s)
    }

    fn entry(xid: u32) -> BundleEntry {
        let msg = OfpMsg::new(5, xid, Message::BarrierRequest);
        let bytes = msg.to_bytes();
        BundleEntry { request: bytes.clone(), bytes, raw: msg.raw }
    }

    #[test]
    fn misuse_errors_discard_the_bundle() {
        let req = Bytes::from_static(b"open");
        let mut b = Bundles::default();
        assert_eq!(b.close(t(0), 1, 0), Err(OfpErr::OFPBFC_BAD_ID));
        assert_eq!(b.discard(1), Err(OfpErr::OFPBFC_BAD_ID));
        b.open(t(0), 1, 2, &req).unwrap();
        assert_eq!(b.open(t(0), 1, 2, &req), Err(OfpErr::OFPBFC_BAD_ID));
        assert!(b.is_empty(), "double open deletes the bundle");
        b.open(t(0), 1, 2, &req).unwrap();
        assert_eq!(b.close(t(0), 1, 1), Err(OfpErr::OFPBFC_BAD_FLAGS));
        assert!(b.is_empty());
        b.open(t(0), 1, 2, &req).unwrap();
        b.close(t(0), 1, 2).unwrap();
        assert_eq!(b.close(t(0), 1, 2), Err(OfpErr::OFPBFC_BUNDLE_CLOSED));
        assert!(b.is_empty());
        b.open(t(0), 1, 2, &req).unwrap();
        b.close(t(0), 1, 2).unwrap();
        assert_eq!(b.add(t(0), 1, 2, entry(1)), Err(OfpErr::OFPBFC_BUNDLE_CLOSED));
        b.add(t(0), 3, 1, entry(1)).unwrap();
        assert_eq!(b.add(t(0), 3, 0, entry(2)), Err(OfpErr::OFPBFC_BAD_FLAGS));
        assert!(b.is_empty());
    }

    #[test]
    fn commit_finds_the_bundle_and_bad_flags_discard_it() {
        let mut b = Bundles::default();
        assert_eq!(b.get_for_commit(7, 0).err(), Some(OfpErr::OFPBFC_BAD_ID));
        b.add(t(0), 7, 1, entry(1)).unwrap();
        b.add(t(0), 7, 1, entry(2)).unwrap();
        assert_eq!(b.get_for_commit(7, 3).err(), Some(OfpErr::OFPBFC_BAD_FLAGS));
        assert!(b.is_empty());
        b.add(t(0), 7, 1, entry(1)).unwrap();
        b.add(t(0), 7, 1, entry(2)).unwrap();
        let xids = |es: &[BundleEntry]| es.iter().map(BundleEntry::xid).collect::<Vec<_>>();
        assert_eq!(xids(&b.get_for_commit(7, 1).unwrap().entries), [1, 2]);
        assert!(!b.is_empty(), "still there until the commit is done");
        assert_eq!(xids(&b.remove(7)), [1, 2]);
        assert!(b.is_empty());
    }

    #[test]
    fn a_bundle_whose_commit_waits_does_not_expire() {
        let mut b = Bundles::default();
        b.add(t(0), 1, 0, entry(1)).unwrap();
        b.add(t(0), 2, 0, entry(2)).unwrap();
        b.set_committing(1);
        assert_eq!(b.expire(t(60), Duration::from_secs(10)), vec![entry(2).request]);
        assert_eq!(b.remove(1).len(), 1);
    }

    #[test]
    fn idle_bundles_expire_with_their_creating_message() {
        let mut b = Bundles::default();
        b.open(t(0), 1, 0, &Bytes::from_static(b"open 1")).unwrap();
        b.add(t(8), 1, 0, entry(2)).unwrap();
        b.add(t(9), 2, 0, entry(9)).unwrap();
        b.close(t(16), 1, 0).unwrap();
        let ten = Duration::from_secs(10);
        assert!(b.expire(t(18), ten).is_empty());
        assert_eq!(b.expire(t(19), ten), vec![entry(9).request]);
        assert!(b.expire(Instant::from_millis(25_999), ten).is_empty());
        assert_eq!(b.expire(t(26), ten), vec![Bytes::from_static(b"open 1")]);
        assert!(b.is_empty());
    }
}
