//! The flow tables as `ConnMgr`'s owner (connmgr-core's embedding interface): flow mods, flow,
//! aggregate and table statistics, table features, bundle checks and commits, flushes and NORMAL
//! flows. Requests about ports, packets and the switch itself go to a [`SwitchRequests`].

use std::borrow::Cow;

use bytes::Bytes;
use connmgr_core::{
    AsyncPacketIn, BundleCommit, BundleEntry, BundleFailure, ConnInfo, Disposition, FlowModKind, NormalFlow, Owner,
    Part, Replies, Request, RuleQuery, RuleSnapshot,
};
use ofp_proto::buf::Reader;
use ofp_proto::msg::async_cfg::packet_in_reason;
use ofp_proto::msg::bundle::OFPBF_ATOMIC;
use ofp_proto::msg::flow_mod::{FlowMod, FlowModCommand, FlowModDecoder, FlowModOpts, NO_BUFFER};
use ofp_proto::msg::flow_stats::FlowStatsRequest;
use ofp_proto::msg::multipart::MultipartBuilder;
use ofp_proto::msg::{Cx, PacketIn};
use ofp_proto::ofmatch::Match;
use ofp_proto::port_no::LOCAL as OFPP_LOCAL;
use ofp_proto::view::{BodyView, MsgView};
use ofp_proto::{port_no, Instant, Message, MsgType, OfpErr, OfpMsg, Raw};

use crate::datapath::Datapath;
use crate::flow_mod::{BundleRefusal, BundleSource, Refusal};
use crate::ofproto::{Event, OfProto};
use crate::opgroup::GroupKey;

/// What the switch answers itself: every request that is not about flow tables (features, switch
/// configuration, port mods, packet outs, port and description statistics, groups, meters, …),
/// and bundle entries other than flow mods. Each call also gets the tables, for requests that
/// need them (a packet out to OFPP_TABLE).
pub trait SwitchRequests<D> {
    /// A request the tables do not handle (see `connmgr_core::owner` for which requests reach the
    /// owner). Answer what is not implemented with OFPBRC_BAD_TYPE (OFPBRC_BAD_STAT for multipart
    /// requests), as OVS does.
    fn handle_request(
        &mut self,
        tables: &mut OfProto<D>,
        now: Instant,
        req: &Request<'_>,
        out: &mut Replies,
    ) -> Disposition;

    /// Checks a port mod, group mod or packet out (`part`, decoded from the entry's bytes) as it is
    /// added to a bundle.
    fn check_bundle_entry(
        &mut self,
        tables: &mut OfProto<D>,
        now: Instant,
        conn: &ConnInfo,
        part: &Part,
    ) -> Result<(), OfpErr>;

    /// Carries out such an entry of a committed bundle, once the bundle's flow mods are in the
    /// tables (OVS's finish phase: port mods and packet outs do not fail there).
    fn finish_bundle_entry(
        &mut self,
        tables: &mut OfProto<D>,
        now: Instant,
        conn: &ConnInfo,
        part: &Part,
        out: &mut Replies,
    );

    /// The packet-in fail-open sends every 2 s (OVS `send_bogus_packet_ins`).
    fn fail_open_packet_in(&mut self, _tables: &mut OfProto<D>, _now: Instant, frame: Bytes) -> Option<AsyncPacketIn> {
        Some(fail_open_packet_in(frame))
    }
}

/// OVS's fail-open packet-in: reason no_match, table 0, cookie all-ones, in_port LOCAL,
/// unbuffered, controller id 0.
pub fn fail_open_packet_in(frame: Bytes) -> AsyncPacketIn {
    let mut metadata = Match::catchall();
    metadata.set_in_port(OFPP_LOCAL);
    let pin = PacketIn {
        total_len: u32::try_from(frame.len()).unwrap_or(u32::MAX),
        metadata,
        buffer_id: NO_BUFFER,
        data: frame,
        ..PacketIn::default()
    };
    AsyncPacketIn { pin, reason: packet_in_reason::NO_MATCH, controller_id: 0, in_port: port_no::LOCAL }
}

/// A switch with nothing but flow tables: other requests get the errors OVS sends for what it
/// lacks, other bundle entries OFPBFC_MSG_UNSUP.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSwitch;

impl<D> SwitchRequests<D> for NoSwitch {
    fn handle_request(&mut self, _: &mut OfProto<D>, _: Instant, req: &Request<'_>, _: &mut Replies) -> Disposition {
        Disposition::Error(if req.msg().raw.is_stat() { OfpErr::OFPBRC_BAD_STAT } else { OfpErr::OFPBRC_BAD_TYPE })
    }

    fn check_bundle_entry(&mut self, _: &mut OfProto<D>, _: Instant, _: &ConnInfo, _: &Part) -> Result<(), OfpErr> {
        Err(OfpErr::OFPBFC_MSG_UNSUP)
    }

    fn finish_bundle_entry(&mut self, _: &mut OfProto<D>, _: Instant, _: &ConnInfo, _: &Part, _: &mut Replies) {}
}

/// The tables and the switch side by side, as `ConnMgr`'s owner for one call:
/// `mgr.handle_timeout(now, &mut WithSwitch { tables: &mut self.tables, switch: &mut self.ports })`.
pub struct WithSwitch<'a, D, S> {
    pub tables: &'a mut OfProto<D>,
    pub switch: &'a mut S,
}

/// The reply layout for a flow or aggregate statistics request: NXST for NXST, else the
/// version's standard one (OVS `ofpraw_stats_request_to_reply`).
fn reply_raw(request: Raw, standard: MsgType, version: u8) -> Option<Raw> {
    match request {
        Raw::NxstFlowRequest => Some(Raw::NxstFlowReply),
        Raw::NxstAggregateRequest => Some(Raw::NxstAggregateReply),
        _ => Raw::for_type(standard, version),
    }
}

fn kind(c: FlowModCommand) -> FlowModKind {
    match c {
        FlowModCommand::Add => FlowModKind::Add,
        FlowModCommand::Modify | FlowModCommand::ModifyStrict => FlowModKind::Modify,
        FlowModCommand::Delete | FlowModCommand::DeleteStrict => FlowModKind::Delete,
    }
}

fn disposition(r: Refusal) -> Disposition {
    match r {
        Refusal::Postpone => Disposition::Postponed,
        Refusal::Error(e) => Disposition::Error(e),
    }
}

impl<D: Datapath> OfProto<D> {
    /// How this switch and connection decode flow mods (the table-id extension of OF1.0, the port
    /// and table limits).
    fn flow_mod_opts(&self, conn: &ConnInfo) -> FlowModOpts {
        FlowModOpts {
            table_id_ext: conn.protocol.is_none_or(|p| p.has_tid()),
            max_ports: self.cfg.max_ports,
            n_tables: self.cfg.n_tables,
        }
    }

    /// Decodes a flow mod as this switch and connection do. `ConnMgr` already decoded it with the
    /// default options: when ours are the same, that decoding is taken as is.
    pub fn decode_flow_mod<'a>(&self, conn: &ConnInfo, part: &'a Part) -> Result<Cow<'a, FlowMod>, OfpErr> {
        let opts = self.flow_mod_opts(conn);
        match (&part.msg.body, opts == FlowModOpts::default()) {
            (Message::FlowMod(fm), true) => Ok(Cow::Borrowed(fm)),
            _ => decode_flow_mod_bytes(part.msg.version, part.msg.raw, &part.bytes, &opts).map(Cow::Owned),
        }
    }

    /// OVS's checks of a flow mod as it is added to a bundle. With the default options its view
    /// (`ConnMgr` parsed it, refusing exactly what decoding refuses) has the fields checked here,
    /// so the flow mod is decoded only at commit; other options decode it now.
    fn check_bundled_flow_mod(&self, conn: &ConnInfo, entry: &BundleEntry, view: &MsgView) -> Result<(), OfpErr> {
        let opts = self.flow_mod_opts(conn);
        if let (BodyView::FlowMod(v), true) = (view.body(), opts == FlowModOpts::default()) {
            return self.check_flow_mod_fields(v.table_id(), v.command(), v.buffer_id());
        }
        self.check_flow_mod(&decode_flow_mod_bytes(entry.version(), entry.raw, &entry.bytes, &opts)?)
    }

    /// Starts handling a request for `ConnMgr`, which replies into `out`; returns the key the
    /// request's group will get.
    fn begin_request(&mut self, out: &Replies) -> GroupKey {
        let key = GroupKey(self.next_group);
        self.request_floor = Some(key);
        self.request_seqnos = (!out.is_monitored()).then(Vec::new);
        key
    }

    /// Ends handling a request. Unless it was postponed (`ConnMgr` then drops `out`), the changes
    /// of its group, if it already finished, and the asynchronous messages queued since `mark`
    /// go into `out`.
    fn end_request(&mut self, key: GroupKey, postponed: bool, mark: usize, out: &mut Replies) {
        self.request_floor = None;
        // Seqnos taken stay taken, even by a postponed request (as `ConnMgr` keeps them).
        for (id, added) in self.request_seqnos.take().into_iter().flatten() {
            let seqno = out.take_monitor_seqno();
            if let Some(r) = self.rules.get_mut(id) {
                r.add_seqno = if added { seqno } else { r.add_seqno };
                r.modify_seqno = seqno;
            }
        }
        if !postponed {
            self.report_request_changes(key, out);
            self.notify_since(mark, out);
        }
    }

    /// True if a request that changes rules must wait: rule changes from before it wait to be
    /// delivered (its own go out with its replies, and must not overtake them). The tables then
    /// ask for a retry once they were forwarded.
    fn must_wait_for_reports(&mut self) -> bool {
        let wait = self.has_undelivered_changes();
        self.retry_after_reports |= wait;
        wait
    }

    /// Moves the asynchronous messages queued since `mark` into `out`, so they reach connections
    /// before the replies to later requests.
    fn notify_since(&mut self, mark: usize, out: &mut Replies) {
        let mut keep = self.events.split_off(mark.min(self.events.len()));
        keep.retain(|e| match e {
            Event::Async(msg) => {
                out.notify(msg.clone());
                false
            }
            _ => true,
        });
        self.events.append(&mut keep);
    }

    fn owner_flow_mod(&mut self, now: Instant, req: &Request<'_>, out: &mut Replies) -> Disposition {
        let fm = match self.decode_flow_mod(req.conn, &req.parts[0]) {
            Ok(fm) => fm,
            Err(e) => return Disposition::Error(e),
        };
        match self.run_flow_mod(now, &fm, Some((req.conn.id, req.msg().xid))) {
            Ok(pending) => {
                out.report_flow_mod(kind(fm.command));
                if pending.is_some() {
                    let og = out.start_op_group();
                    self.attach(pending, Some(og));
                }
                Disposition::Handled
            }
            Err(r) => disposition(r),
        }
    }

    fn owner_flow_stats(
        &mut self,
        now: Instant,
        req: &Request<'_>,
        fsr: &FlowStatsRequest,
        out: &mut Replies,
    ) -> Disposition {
        let msg = req.msg();
        let Some(raw) = reply_raw(msg.raw, MsgType::FlowStatsReply, msg.version) else {
            return Disposition::Error(OfpErr::OFPBRC_BAD_STAT);
        };
        let entries = match self.flow_stats(now, fsr) {
            Ok(v) => v,
            Err(r) => return disposition(r),
        };
        let mut b = MultipartBuilder::new(raw, msg.version, msg.xid);
        for e in &entries {
            // An entry too long for any message is left out, as OVS does.
            let _ = b.append_with(|buf| e.encode(raw, msg.version, buf));
        }
        b.finish().into_iter().for_each(|m| out.send(m));
        Disposition::Handled
    }

    fn owner_aggregate(&mut self, req: &Request<'_>, fsr: &FlowStatsRequest, out: &mut Replies) -> Disposition {
        let msg = req.msg();
        let Some(raw) = reply_raw(msg.raw, MsgType::AggregateStatsReply, msg.version) else {
            return Disposition::Error(OfpErr::OFPBRC_BAD_STAT);
        };
        match self.aggregate_stats(fsr) {
            Ok(a) => {
                let body = Message::AggregateStatsReply(a);
                out.send_msg(&OfpMsg { version: msg.version, xid: msg.xid, raw, stats_flags: 0, body });
                Disposition::Handled
            }
            Err(r) => disposition(r),
        }
    }

    fn owner_table_stats(&mut self, req: &Request<'_>, out: &mut Replies) -> Disposition {
        let msg = req.msg();
        match OfpMsg::try_new(msg.version, msg.xid, Message::TableStatsReply(self.table_stats(msg.version))) {
            Some(reply) => {
                out.send_msg(&reply);
                Disposition::Handled
            }
            None => Disposition::Error(OfpErr::OFPBRC_BAD_STAT),
        }
    }

    /// Table features: a request without tables is a query. Changing features is not supported:
    /// a request with tables fails with OFPTFFC_EPERM.
    fn owner_table_features(&mut self, req: &Request<'_>, out: &mut Replies) -> Disposition {
        let msg = req.msg();
        let query =
            req.parts.len() == 1 && matches!(&msg.body, Message::TableFeaturesStatsRequest(t) if t.tables.is_empty());
        if !query {
            return Disposition::Error(OfpErr::OFPTFFC_EPERM);
        }
        match self.table_features(msg.version).encode_replies(msg.version, msg.xid) {
            Ok(msgs) => {
                msgs.into_iter().for_each(|m| out.send(m));
                Disposition::Handled
            }
            Err(_) => Disposition::Error(OfpErr::OFPTFFC_EPERM),
        }
    }
}

/// Decodes the flow mod `bytes` (a whole message of type `raw`) with `opts`.
fn decode_flow_mod_bytes(version: u8, raw: Raw, bytes: &Bytes, opts: &FlowModOpts) -> Result<FlowMod, OfpErr> {
    FlowMod::decode_with(Cx { version, raw }, &mut flow_mod_body(version, raw, bytes), opts)
}

/// A reader over the body of the flow mod `bytes` (a whole message of type `raw`).
fn flow_mod_body(version: u8, raw: Raw, bytes: &Bytes) -> Reader {
    Reader::new(bytes.slice(raw.hdrs_len(version).min(bytes.len())..))
}

/// A bundle's flow mods, decoded one at a time into one `FlowMod` as the commit applies them; the
/// kind of each that decoded is noted for the flow-mod log.
struct EntrySource<'a> {
    entries: std::iter::Enumerate<std::slice::Iter<'a, BundleEntry>>,
    decoder: FlowModDecoder,
    fm: FlowMod,
    kinds: Vec<FlowModKind>,
}

impl BundleSource for EntrySource<'_> {
    fn max_len(&self) -> usize {
        self.entries.len()
    }

    fn next_flow_mod(&mut self) -> Option<(usize, u32, Result<&FlowMod, OfpErr>)> {
        let (index, e) = self.entries.find(|(_, e)| e.raw.msg_type() == MsgType::FlowMod)?;
        let (version, raw) = (e.version(), e.raw);
        let result =
            self.decoder.decode_into(Cx { version, raw }, &mut flow_mod_body(version, raw, &e.bytes), &mut self.fm);
        if result.is_ok() {
            self.kinds.push(kind(self.fm.command));
        }
        Some((index, e.xid(), result.map(|()| &self.fm)))
    }
}

impl<D: Datapath, S: SwitchRequests<D>> Owner for WithSwitch<'_, D, S> {
    /// Every request is postponed while the tables are flushing (seed 002 processes no OpenFlow
    /// message then), and a flow mod while earlier rule changes wait to be forwarded.
    fn handle_request(&mut self, now: Instant, req: &Request<'_>, out: &mut Replies) -> Disposition {
        let t = &mut *self.tables;
        let is_flow_mod = matches!(req.msg().body, Message::FlowMod(_));
        if t.flushing || (is_flow_mod && t.must_wait_for_reports()) {
            return Disposition::Postponed;
        }
        let mark = t.events.len();
        let key = t.begin_request(out);
        let d = match &req.msg().body {
            Message::FlowMod(_) => t.owner_flow_mod(now, req, out),
            Message::FlowStatsRequest(fsr) => t.owner_flow_stats(now, req, fsr, out),
            Message::AggregateStatsRequest(fsr) => t.owner_aggregate(req, fsr, out),
            Message::TableStatsRequest => t.owner_table_stats(req, out),
            Message::TableFeaturesStatsRequest(_) => t.owner_table_features(req, out),
            _ => self.switch.handle_request(t, now, req, out),
        };
        self.tables.end_request(key, d == Disposition::Postponed, mark, out);
        d
    }

    fn check_bundle_entry(
        &mut self,
        now: Instant,
        conn: &ConnInfo,
        entry: &BundleEntry,
        view: &MsgView<'_>,
    ) -> Result<(), OfpErr> {
        match entry.raw.msg_type() {
            MsgType::FlowMod => self.tables.check_bundled_flow_mod(conn, entry, view),
            _ => self.switch.check_bundle_entry(self.tables, now, conn, &entry.decode()?),
        }
    }

    /// Flow mods are applied as one atomic group; a port mod in an atomic bundle fails with
    /// OFPBFC_MSG_FAILED (OVS's port mods are not atomic); other entries are carried out by the
    /// switch once the flow mods are in. Entries are decoded again here, one at a time, as they are
    /// applied (they decoded and passed the checks when added).
    fn commit_bundle(
        &mut self,
        now: Instant,
        conn: &ConnInfo,
        flags: u16,
        entries: &[BundleEntry],
        out: &mut Replies,
    ) -> Result<BundleCommit, BundleFailure> {
        let is_flow_mod = |e: &&BundleEntry| e.raw.msg_type() == MsgType::FlowMod;
        if flags & OFPBF_ATOMIC != 0 {
            if let Some(index) = entries.iter().position(|e| e.raw.msg_type() == MsgType::PortMod) {
                return Err(BundleFailure { index, error: OfpErr::OFPBFC_MSG_FAILED });
            }
        }
        let t = &mut *self.tables;
        if t.must_wait_for_reports() {
            return Ok(BundleCommit::Postponed);
        }
        let mut fms = EntrySource {
            entries: entries.iter().enumerate(),
            decoder: FlowModDecoder::new(t.flow_mod_opts(conn)),
            fm: FlowMod::default(),
            kinds: Vec::with_capacity(entries.len()),
        };
        let mark = t.events.len();
        let key = t.begin_request(out);
        let result = t.run_bundle(now, &mut fms, Some(conn.id));
        let postponed = matches!(result, Err(BundleRefusal { refusal: Refusal::Postpone, .. }));
        t.end_request(key, postponed, mark, out);
        let pending = match result {
            Ok(p) => p,
            // Nothing was applied; connmgr keeps the bundle and offers the COMMIT again on retry.
            Err(BundleRefusal { refusal: Refusal::Postpone, .. }) => return Ok(BundleCommit::Postponed),
            Err(BundleRefusal { index, refusal: Refusal::Error(error) }) => return Err(BundleFailure { index, error }),
        };
        fms.kinds.into_iter().for_each(|k| out.report_flow_mod(k));
        if pending.is_some() {
            let og = out.start_op_group();
            t.attach(pending, Some(og));
        }
        for e in entries.iter().filter(|e| !is_flow_mod(e)) {
            if let Ok(part) = e.decode() {
                self.switch.finish_bundle_entry(self.tables, now, conn, &part, out);
            }
        }
        self.tables.notify_since(mark, out);
        Ok(BundleCommit::Committed)
    }

    /// OVS `ofproto->n_tables`: the internal table counts (a monitor may name it, as in OVS).
    fn n_tables(&self) -> u8 {
        self.tables.cfg.n_tables
    }

    fn flow_monitor_rules(&mut self, _now: Instant, query: &RuleQuery<'_>) -> Vec<RuleSnapshot> {
        self.tables.monitored_rules(query)
    }

    fn flush(&mut self, now: Instant) {
        self.tables.flush(now);
    }

    fn add_normal_flow(&mut self, now: Instant, flow: NormalFlow) {
        self.tables.add_normal_flow(now, flow);
    }

    fn delete_normal_flow(&mut self, now: Instant, flow: NormalFlow) {
        self.tables.delete_normal_flow(now, flow);
    }

    fn fail_open_packet_in(&mut self, now: Instant, frame: Bytes) -> Option<AsyncPacketIn> {
        self.switch.fail_open_packet_in(self.tables, now, frame)
    }
}

/// The tables alone as owner (a [`NoSwitch`] beside them).
impl<D: Datapath> Owner for OfProto<D> {
    fn handle_request(&mut self, now: Instant, req: &Request<'_>, out: &mut Replies) -> Disposition {
        WithSwitch { tables: self, switch: &mut NoSwitch }.handle_request(now, req, out)
    }

    fn check_bundle_entry(
        &mut self,
        now: Instant,
        conn: &ConnInfo,
        entry: &BundleEntry,
        view: &MsgView<'_>,
    ) -> Result<(), OfpErr> {
        WithSwitch { tables: self, switch: &mut NoSwitch }.check_bundle_entry(now, conn, entry, view)
    }

    fn commit_bundle(
        &mut self,
        now: Instant,
        conn: &ConnInfo,
        flags: u16,
        entries: &[BundleEntry],
        out: &mut Replies,
    ) -> Result<BundleCommit, BundleFailure> {
        WithSwitch { tables: self, switch: &mut NoSwitch }.commit_bundle(now, conn, flags, entries, out)
    }

    fn n_tables(&self) -> u8 {
        self.cfg.n_tables
    }

    fn flow_monitor_rules(&mut self, _now: Instant, query: &RuleQuery<'_>) -> Vec<RuleSnapshot> {
        self.monitored_rules(query)
    }

    fn flush(&mut self, now: Instant) {
        OfProto::flush(self, now);
    }

    fn add_normal_flow(&mut self, now: Instant, flow: NormalFlow) {
        OfProto::add_normal_flow(self, now, flow);
    }

    fn delete_normal_flow(&mut self, now: Instant, flow: NormalFlow) {
        OfProto::delete_normal_flow(self, now, flow);
    }

    fn fail_open_packet_in(&mut self, _now: Instant, frame: Bytes) -> Option<AsyncPacketIn> {
        Some(fail_open_packet_in(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_open_packet_in_is_ovs_bogus_packet_in() {
        let p = fail_open_packet_in(Bytes::from_static(&[7; 60]));
        assert_eq!((p.reason, p.controller_id, p.in_port), (packet_in_reason::NO_MATCH, 0, port_no::LOCAL));
        let pin = &p.pin;
        assert_eq!((pin.reason, pin.table_id, pin.cookie), (0, 0, u64::MAX));
        assert_eq!((pin.total_len, pin.buffer_id, pin.in_port(), pin.data.len()), (60, NO_BUFFER, OFPP_LOCAL, 60));
        let mut only_in_port = Match::catchall();
        only_in_port.set_in_port(OFPP_LOCAL);
        assert_eq!(pin.metadata, only_in_port);
    }
}
