//! What a controller knows of its bundles on one connection, and the bundle invariants: a bundle
//! the switch confirmed open (and that neither ended nor expired since) is not unknown to it; and a
//! bundle is gone after its commit or discard (a later commit or discard of it, with no open or add
//! of it sent in between, must fail with OFPBFC_BAD_ID). Requests cross replies in flight, so
//! "in between" goes by the order the controller sent things in.

use std::collections::{BTreeMap, BTreeSet};

use ofp_proto::msg::bundle::BundleCtrlType;
use ofp_proto::OfpErr;

#[derive(Debug, Default)]
pub struct BundleBook {
    /// Counts bundle messages sent.
    seq: u64,
    /// Open as far as the switch said (an open reply, no commit or discard reply nor expiry since).
    open: BTreeSet<u32>,
    /// The last open or add sent for each bundle.
    last_fill: BTreeMap<u32, u64>,
    /// Bundles certainly gone, with the request that ended them.
    gone: BTreeMap<u32, u64>,
    /// Bundle messages sent and not answered yet, by xid: (bundle, when sent).
    pending: BTreeMap<u32, (u32, u64)>,
}

impl BundleBook {
    pub fn sent_ctrl(&mut self, xid: u32, bundle: u32, ctrl: BundleCtrlType) {
        self.seq += 1;
        if ctrl == BundleCtrlType::OPEN_REQUEST {
            self.last_fill.insert(bundle, self.seq);
        }
        self.pending.insert(xid, (bundle, self.seq));
    }

    /// An add (which opens the bundle if the switch has none of that id).
    pub fn sent_add(&mut self, xid: u32, bundle: u32) {
        self.seq += 1;
        self.last_fill.insert(bundle, self.seq);
        self.pending.insert(xid, (bundle, self.seq));
    }

    /// A bundle control reply; returns what it breaks, if anything.
    pub fn reply(&mut self, xid: u32, bundle: u32, ctrl: BundleCtrlType) -> Option<String> {
        let sent = self.pending.remove(&xid).map(|(_, s)| s);
        match ctrl {
            BundleCtrlType::OPEN_REPLY => {
                self.open.insert(bundle);
                None
            }
            BundleCtrlType::COMMIT_REPLY | BundleCtrlType::DISCARD_REPLY => {
                let filled = self.last_fill.get(&bundle).copied().unwrap_or(0);
                let broken = self.gone.get(&bundle).filter(|g| filled < **g).map(|_| {
                    format!(
                        "bundle {bundle} answered {} after an earlier commit or discard ended it",
                        ctrl.name().unwrap_or("?")
                    )
                });
                self.open.remove(&bundle);
                if let Some(s) = sent.filter(|s| filled < *s) {
                    self.gone.insert(bundle, s);
                }
                broken
            }
            _ => None,
        }
    }

    /// An error: an expiry (quoting the open request of `expired`), or the answer to a bundle
    /// message; returns what it breaks, if anything.
    pub fn error(&mut self, xid: u32, err: Option<OfpErr>, expired: Option<u32>) -> Option<String> {
        if let (Some(OfpErr::OFPBFC_TIMEOUT), Some(b)) = (err, expired) {
            self.open.remove(&b);
            return None;
        }
        let (bundle, _) = self.pending.remove(&xid)?;
        (err == Some(OfpErr::OFPBFC_BAD_ID) && self.open.contains(&bundle))
            .then(|| format!("bundle {bundle} is open but the switch does not know it"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: BundleCtrlType = BundleCtrlType::OPEN_REQUEST;
    const COMMIT: BundleCtrlType = BundleCtrlType::COMMIT_REQUEST;

    #[test]
    fn a_bundle_committed_twice_is_caught_unless_refilled() {
        let mut b = BundleBook::default();
        b.sent_ctrl(1, 7, OPEN);
        assert_eq!(b.reply(1, 7, BundleCtrlType::OPEN_REPLY), None);
        b.sent_ctrl(2, 7, COMMIT);
        b.sent_ctrl(3, 7, COMMIT);
        assert_eq!(b.reply(2, 7, BundleCtrlType::COMMIT_REPLY), None);
        assert_eq!(b.error(3, Some(OfpErr::OFPBFC_BAD_ID), None), None);
        b.sent_ctrl(4, 7, COMMIT);
        assert!(b.reply(4, 7, BundleCtrlType::COMMIT_REPLY).unwrap().starts_with("bundle 7 answered COMMIT_REPLY"));
        // An add sent after the commit may have opened it again.
        b.sent_ctrl(5, 8, COMMIT);
        b.sent_add(6, 8);
        assert_eq!(b.reply(5, 8, BundleCtrlType::COMMIT_REPLY), None);
        b.sent_ctrl(7, 8, COMMIT);
        assert_eq!(b.reply(7, 8, BundleCtrlType::COMMIT_REPLY), None);
    }

    #[test]
    fn an_open_bundle_is_not_unknown_until_it_expires() {
        let mut b = BundleBook::default();
        b.sent_ctrl(1, 3, OPEN);
        b.reply(1, 3, BundleCtrlType::OPEN_REPLY);
        b.sent_ctrl(2, 3, COMMIT);
        assert_eq!(
            b.error(2, Some(OfpErr::OFPBFC_BAD_ID), None).as_deref(),
            Some("bundle 3 is open but the switch does not know it")
        );
        b.sent_ctrl(3, 4, OPEN);
        b.reply(3, 4, BundleCtrlType::OPEN_REPLY);
        assert_eq!(b.error(3, Some(OfpErr::OFPBFC_TIMEOUT), Some(4)), None);
        b.sent_ctrl(4, 4, COMMIT);
        assert_eq!(b.error(4, Some(OfpErr::OFPBFC_BAD_ID), None), None);
    }
}
