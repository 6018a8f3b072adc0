//! An owner that handles every request by doing nothing and remembers nothing: for benchmarks and
//! measurements of connection management alone.

use bytes::Bytes;
use ofp_proto::Instant;

use crate::{
    AsyncPacketIn, BundleCommit, BundleEntry, BundleFailure, ConnInfo, Disposition, NormalFlow, Owner, Replies, Request,
};

pub struct NullOwner;

impl Owner for NullOwner {
    fn handle_request(&mut self, _: Instant, _: &Request<'_>, _: &mut Replies) -> Disposition {
        Disposition::Handled
    }

    fn commit_bundle(
        &mut self,
        _: Instant,
        _: &ConnInfo,
        _: u16,
        _: &[BundleEntry],
        _: &mut Replies,
    ) -> Result<BundleCommit, BundleFailure> {
        Ok(BundleCommit::Committed)
    }

    fn flush(&mut self, _: Instant) {}

    fn add_normal_flow(&mut self, _: Instant, _: NormalFlow) {}

    fn delete_normal_flow(&mut self, _: Instant, _: NormalFlow) {}

    fn fail_open_packet_in(&mut self, _: Instant, _: Bytes) -> Option<AsyncPacketIn> {
        None
    }
}
