//! Reading a connection's messages and answering the requests connection management handles itself
//! (OVS's `handle_openflow` split between `ofproto.c` and `connmgr.c`); the rest go to the owner.

use bytes::Bytes;
use log::warn;
use ofp_proto::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType};
use ofp_proto::msg::role::{RoleMsg, RoleReason, RoleStatus};
use ofp_proto::msg::{FlowFormat, SwitchConfig};
use ofp_proto::view::MsgView;
use ofp_proto::{header, Instant, Message, MsgType, OfpErr, OfpMsg, Raw};
use rconn_core::Received;

use crate::connmgr::ConnMgr;
use crate::ofconn::{DEFAULT_MISS_SEND_LEN, MAX_RECV_PER_STEP};
use crate::owner::{
    BundleCommit, BundleEntry, ConnId, ConnType, Disposition, Item, Owner, Part, Parts, Protocol, Replies, Request,
    Role,
};

/// What happened to a request.
enum Outcome {
    Done,
    /// Keep it as the connection's blocked message.
    Postpone,
    /// Send this error quoting the request.
    Fail(OfpErr),
}

impl From<Disposition> for Outcome {
    fn from(d: Disposition) -> Outcome {
        match d {
            Disposition::Handled => Outcome::Done,
            Disposition::Postponed => Outcome::Postpone,
            Disposition::Error(e) => Outcome::Fail(e),
        }
    }
}

/// Requests a secondary controller may not send (OVS `reject_secondary_controller` callers).
fn refused_to_secondary(t: MsgType) -> bool {
    use MsgType as T;
    matches!(
        t,
        T::PacketOut
            | T::PortMod
            | T::FlowMod
            | T::GroupMod
            | T::TableMod
            | T::MeterMod
            | T::NxtTlvTableMod
            | T::BundleControl
            | T::BundleAddMessage
    )
}

/// Messages only a switch sends: a controller sending one gets OFPBRC_BAD_TYPE, as from OVS.
fn is_switch_to_controller(t: MsgType) -> bool {
    use MsgType as T;
    matches!(
        t,
        T::Hello
            | T::Error
            | T::FeaturesReply
            | T::GetConfigReply
            | T::PacketIn
            | T::FlowRemoved
            | T::PortStatus
            | T::BarrierReply
            | T::QueueGetConfigReply
            | T::RoleReply
            | T::RoleStatus
            | T::GetAsyncReply
            | T::Requestforward
            | T::TableStatus
            | T::DescStatsReply
            | T::FlowStatsReply
            | T::AggregateStatsReply
            | T::TableStatsReply
            | T::PortStatsReply
            | T::QueueStatsReply
            | T::GroupStatsReply
            | T::GroupDescStatsReply
            | T::GroupFeaturesStatsReply
            | T::MeterStatsReply
            | T::MeterConfigStatsReply
            | T::MeterFeaturesStatsReply
            | T::TableFeaturesStatsReply
            | T::TableDescReply
            | T::PortDescStatsReply
            | T::FlowMonitorStatsReply
            | T::FlowMonitorPaused
            | T::FlowMonitorResumed
            | T::NxtTlvTableReply
            | T::IpfixBridgeStatsReply
            | T::IpfixFlowStatsReply
    )
}

impl ConnMgr {
    /// Reads and handles up to 50 messages from `id` (OVS `ofconn_run`'s receive loop, with the
    /// postponed message of the asynchronous ofproto).
    pub(crate) fn read_messages<O: Owner>(&mut self, now: Instant, id: ConnId, owner: &mut O) {
        for _ in 0..MAX_RECV_PER_STEP {
            let Some(c) = self.conns.get_mut(&id) else { return };
            if !c.may_recv() {
                return;
            }
            let parts = match c.blocked.take() {
                Some(parts) => {
                    c.retry = false;
                    *parts
                }
                None => {
                    let Some(rx) = c.rconn.recv(now) else {
                        c.input_pending = false;
                        return;
                    };
                    self.fail_open_maybe_recover(now, owner);
                    match self.assemble(now, id, rx) {
                        Some(parts) => parts,
                        None => continue,
                    }
                }
            };
            if let Some(parts) = self.dispatch(now, id, parts, owner) {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.blocked = Some(Box::new(parts));
                    c.retry = false;
                }
            }
        }
    }

    /// Multipart reassembly, then the checks made before any handler runs: decode errors (the
    /// role check first for what a secondary may not send) and multipart requests in several parts
    /// that OVS only takes whole.
    fn assemble(&mut self, now: Instant, id: ConnId, rx: Received) -> Option<Parts> {
        let c = self.conns.get_mut(&id)?;
        let bytes = rx.bytes.clone();
        let parts = match c.assembler.execute(now, rx) {
            Err(e) => {
                self.send_error(now, id, e, &bytes);
                return None;
            }
            Ok(parts) => parts?,
        };
        let secondary = c.role == Role::Secondary;
        for p in &parts {
            if let Err(e) = &p.msg {
                let refused = secondary && e.raw.is_some_and(|r| refused_to_secondary(r.msg_type()));
                let err = if refused { OfpErr::OFPBRC_IS_SECONDARY } else { e.error };
                self.send_error(now, id, err, &p.bytes);
                return None;
            }
        }
        let first_type = parts[0].msg.as_ref().map(|m| m.msg_type()).ok()?;
        let whole = matches!(first_type, MsgType::TableFeaturesStatsRequest | MsgType::FlowMonitorStatsRequest);
        if parts.len() > 1 && !whole {
            self.send_error(now, id, OfpErr::OFPBRC_BAD_STAT, &parts[0].bytes);
            return None;
        }
        Some(parts.into_iter().filter_map(|r| r.msg.ok().map(|msg| Part { bytes: r.bytes, msg })).collect())
    }

    /// Handles one request; returns it if it is postponed.
    fn dispatch<O: Owner>(&mut self, now: Instant, id: ConnId, mut parts: Parts, owner: &mut O) -> Option<Parts> {
        let role = self.conns.get(&id)?.role;
        let refused = role == Role::Secondary && refused_to_secondary(parts[0].msg.msg_type());
        if !refused && matches!(parts[0].msg.body, Message::BundleAddMessage(_)) {
            // Never postponed: taken out of `parts` so its embedded message's bytes move into the bundle.
            let Part { bytes: request, msg } = parts.swap_remove(0);
            if let Message::BundleAddMessage(ba) = msg.body {
                if let Err(e) = self.handle_bundle_add(now, id, ba, &request, owner) {
                    self.send_error(now, id, e, &request);
                }
            }
            return None;
        }
        let msg = &parts[0].msg;
        let request = &parts[0].bytes;
        let outcome = if refused {
            Outcome::Fail(OfpErr::OFPBRC_IS_SECONDARY)
        } else {
            match &msg.body {
                Message::EchoRequest(payload) => {
                    self.reply(now, id, OfpMsg::new(msg.version, msg.xid, Message::EchoReply(payload.clone())));
                    Outcome::Done
                }
                Message::EchoReply(_) | Message::FlowAge => Outcome::Done,
                Message::BarrierRequest => self.handle_barrier(now, id, msg),
                Message::RoleRequest(rm) => self.handle_role_request(now, id, msg, rm),
                Message::SetFlowFormat(ff) => self.handle_set_flow_format(now, id, *ff),
                Message::FlowModTableId(enable) => match self.conns.get(&id).and_then(|c| c.protocol) {
                    Some(Protocol::Of10 { nxm, .. }) => self.change_protocol(id, Protocol::Of10 { nxm, tid: *enable }),
                    _ => Outcome::Done,
                },
                Message::SetPacketInFormat(f) => {
                    if let Some(c) = self.conns.get_mut(&id) {
                        c.packet_in_format = *f;
                    }
                    Outcome::Done
                }
                Message::SetControllerId(cid) => self.handle_set_controller_id(id, request, *cid),
                Message::SetAsyncConfig(update) => {
                    if let Some(c) = self.conns.get_mut(&id) {
                        let basis = c.async_config();
                        c.set_async_config(update.apply(&basis));
                        if c.conn_type == ConnType::Service && c.miss_send_len == 0 {
                            c.miss_send_len = DEFAULT_MISS_SEND_LEN;
                        }
                    }
                    Outcome::Done
                }
                Message::GetAsyncRequest => {
                    if let Some(cfg) = self.conns.get(&id).map(|c| c.async_config()) {
                        self.reply(now, id, OfpMsg::new(msg.version, msg.xid, Message::GetAsyncReply(cfg)));
                    }
                    Outcome::Done
                }
                Message::BundleControl(bc) => self.handle_bundle_control(now, id, msg, bc, request, owner),
                Message::SetConfig(cfg) => self.handle_set_config(now, id, msg.version, cfg, &parts, owner),
                Message::FlowMonitorStatsRequest(_) => {
                    self.handle_flow_monitor_request(now, id, &parts, owner);
                    Outcome::Done
                }
                Message::FlowMonitorCancel(monitor) => match self.handle_flow_monitor_cancel(id, *monitor) {
                    Ok(()) => Outcome::Done,
                    Err(e) => Outcome::Fail(e),
                },
                _ if is_switch_to_controller(msg.msg_type()) => Outcome::Fail(OfpErr::OFPBRC_BAD_TYPE),
                _ => self.call_owner(now, id, &parts, owner).into(),
            }
        };
        match outcome {
            Outcome::Done => None,
            Outcome::Postpone => Some(parts),
            Outcome::Fail(e) => {
                let request = parts[0].bytes.clone();
                self.send_error(now, id, e, &request);
                None
            }
        }
    }

    /// Queues `msg` on `id` as a reply.
    fn reply(&mut self, now: Instant, id: ConnId, msg: OfpMsg) {
        if let Some(c) = self.conns.get_mut(&id) {
            c.send_reply(now, msg.to_bytes());
        }
    }

    /// Hands a request to the owner and applies what it produced.
    fn call_owner<O: Owner>(&mut self, now: Instant, id: ConnId, parts: &[Part], owner: &mut O) -> Disposition {
        let Some(info) = self.conns.get(&id).map(|c| c.info()) else { return Disposition::Handled };
        let mut out = Replies::new(self.next_op_group, self.monitor_seqno, self.has_flow_monitors());
        let d = owner.handle_request(now, &Request { conn: &info, parts }, &mut out);
        self.next_op_group = out.next_op_group();
        self.monitor_seqno = out.next_seqno();
        if d != Disposition::Postponed {
            self.apply_replies(now, id, &parts[0].bytes, out);
        }
        d
    }

    /// Applies in order what the owner produced for a request on `id`; its rule changes end the
    /// flow monitors' batch.
    pub(crate) fn apply_replies(&mut self, now: Instant, id: ConnId, request: &Bytes, out: Replies) {
        for item in out.items {
            match item {
                Item::Reply(msg) => {
                    if let Some(c) = self.conns.get_mut(&id) {
                        c.send_reply(now, msg);
                    }
                }
                Item::Async(msg) => self.route_async(now, *msg),
                Item::OpGroup(g) => {
                    if let Some(c) = self.conns.get_mut(&id) {
                        c.op_groups.insert(g.0, request.clone());
                    }
                }
                Item::FlowMods(kind, n) => {
                    if let Some(c) = self.conns.get_mut(&id) {
                        c.flow_mods.report(now, kind, n);
                    }
                }
                Item::RuleEvent(event) => self.queue_rule_event(&event),
            }
        }
        self.flow_monitor_flush(now);
    }

    /// A barrier waits for the connection's operation groups.
    fn handle_barrier(&mut self, now: Instant, id: ConnId, msg: &OfpMsg) -> Outcome {
        if self.conns.get(&id).is_some_and(|c| !c.op_groups.is_empty()) {
            return Outcome::Postpone;
        }
        self.reply(now, id, OfpMsg::new(msg.version, msg.xid, Message::BarrierReply));
        Outcome::Done
    }

    /// OVS `handle_role_request`; a role change waits for the connection's operation groups.
    fn handle_role_request(&mut self, now: Instant, id: ConnId, msg: &OfpMsg, rm: &RoleMsg) -> Outcome {
        let Some(c) = self.conns.get(&id) else { return Outcome::Done };
        if rm.role != Role::NoChange {
            if rm.role != c.role && !c.op_groups.is_empty() {
                return Outcome::Postpone;
            }
            if rm.role != Role::Equal {
                if let Some(g) = rm.generation_id {
                    if !self.set_election_id(g) {
                        return Outcome::Fail(OfpErr::OFPRRFC_STALE);
                    }
                }
            }
            self.set_role(now, id, rm.role);
        }
        let Some(role) = self.conns.get(&id).map(|c| c.role) else { return Outcome::Done };
        let raw = if msg.raw == Raw::NxtRoleRequest { Raw::NxtRoleReply } else { Raw::Ofpt12RoleReply };
        let body = Message::RoleReply(RoleMsg { role, generation_id: self.election_id });
        self.reply(now, id, OfpMsg { version: msg.version, xid: msg.xid, raw, stats_flags: 0, body });
        Outcome::Done
    }

    /// OVS `ofconn_set_primary_election_id`: `id` is stale if it is behind the current one in
    /// 64-bit serial-number arithmetic.
    fn set_election_id(&mut self, id: u64) -> bool {
        if self.election_id.is_some_and(|cur| (id.wrapping_sub(cur) as i64) < 0) {
            return false;
        }
        self.election_id = Some(id);
        true
    }

    /// OVS `ofconn_set_role`: a new primary demotes the others, telling each with a ROLE_STATUS
    /// (OF1.3+) whatever its asynchronous configuration.
    fn set_role(&mut self, now: Instant, id: ConnId, role: Role) {
        let Some(cur) = self.conns.get(&id).map(|c| c.role) else { return };
        if role != cur && role == Role::Primary {
            let generation_id = self.election_id.unwrap_or(u64::MAX);
            for other in self.conns.values_mut().filter(|c| c.role == Role::Primary) {
                other.role = Role::Secondary;
                let status = RoleStatus {
                    role: Role::Secondary,
                    reason: RoleReason::PrimaryRequest,
                    generation_id,
                    properties: Bytes::new(),
                };
                let version = other.protocol.map(Protocol::version);
                if let Some(m) = version.and_then(|v| OfpMsg::try_new(v, 0, Message::RoleStatus(status))) {
                    other.send(now, m.to_bytes());
                }
            }
        }
        if let Some(c) = self.conns.get_mut(&id) {
            c.role = role;
        }
    }

    /// NXT_SET_FLOW_FORMAT (OF1.0 only).
    fn handle_set_flow_format(&mut self, now: Instant, id: ConnId, ff: FlowFormat) -> Outcome {
        let nxm = match ff {
            FlowFormat::OpenFlow10 => false,
            FlowFormat::Nxm => true,
            FlowFormat::Unknown(v) => {
                if self.error_rl.allow(now, "ofp_protocol", log::Level::Warn) {
                    warn!(target: "ofp_protocol", "NXT_SET_FLOW_FORMAT message specified invalid flow format {v}");
                }
                return Outcome::Fail(OfpErr::OFPBRC_EPERM);
            }
        };
        match self.conns.get(&id).and_then(|c| c.protocol) {
            Some(Protocol::Of10 { tid, .. }) => self.change_protocol(id, Protocol::Of10 { nxm, tid }),
            _ => Outcome::Done,
        }
    }

    /// A protocol change waits for the connection's operation groups (async messages would change
    /// form under them).
    fn change_protocol(&mut self, id: ConnId, p: Protocol) -> Outcome {
        let Some(c) = self.conns.get_mut(&id) else { return Outcome::Done };
        if c.protocol != Some(p) {
            if !c.op_groups.is_empty() {
                return Outcome::Postpone;
            }
            c.protocol = Some(p);
            self.update_want_packet_in_on_miss(id);
        }
        Outcome::Done
    }

    /// NXT_SET_CONTROLLER_ID: its six pad bytes must be zero.
    fn handle_set_controller_id(&mut self, id: ConnId, request: &Bytes, cid: u16) -> Outcome {
        if request.get(16..22).is_some_and(|pad| pad.iter().any(|b| *b != 0)) {
            return Outcome::Fail(OfpErr::NXBRC_MUST_BE_ZERO);
        }
        if let Some(c) = self.conns.get_mut(&id) {
            c.controller_id = cid;
        }
        self.update_want_packet_in_on_miss(id);
        Outcome::Done
    }

    /// SET_CONFIG: the owner applies the fragment handling, then the connection takes its
    /// miss_send_len and (before OF1.3) the invalid-TTL flag.
    fn handle_set_config<O: Owner>(
        &mut self,
        now: Instant,
        id: ConnId,
        version: u8,
        cfg: &SwitchConfig,
        parts: &[Part],
        owner: &mut O,
    ) -> Outcome {
        let d = self.call_owner(now, id, parts, owner);
        if d == Disposition::Handled {
            if let Some(c) = self.conns.get_mut(&id) {
                if version < header::OFP13_VERSION {
                    c.set_invalid_ttl_to_controller(cfg.invalid_ttl_to_controller);
                }
                c.miss_send_len = cfg.miss_send_len;
            }
        }
        d.into()
    }

    /// OVS `handle_bundle_control`.
    fn handle_bundle_control<O: Owner>(
        &mut self,
        now: Instant,
        id: ConnId,
        msg: &OfpMsg,
        bc: &BundleCtrl,
        request: &Bytes,
        owner: &mut O,
    ) -> Outcome {
        let reply_type = match bc.ctrl_type.reply_for_request() {
            Ok(t) => t,
            Err(e) => return Outcome::Fail(e),
        };
        let Some(c) = self.conns.get_mut(&id) else { return Outcome::Done };
        let result = match bc.ctrl_type {
            BundleCtrlType::OPEN_REQUEST => c.bundles.open(now, bc.bundle_id, bc.flags, request),
            BundleCtrlType::CLOSE_REQUEST => c.bundles.close(now, bc.bundle_id, bc.flags),
            BundleCtrlType::DISCARD_REQUEST => c.bundles.discard(bc.bundle_id),
            _ => match self.commit_bundle(now, id, bc, request, owner) {
                Ok(BundleCommit::Postponed) => return Outcome::Postpone,
                Ok(BundleCommit::Committed) => Ok(()),
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(()) => {
                let reply = Message::BundleControl(BundleCtrl::new(bc.bundle_id, reply_type, 0));
                self.reply(now, id, OfpMsg::new(msg.version, msg.xid, reply));
                Outcome::Done
            }
            Err(e) => Outcome::Fail(e),
        }
    }

    /// OVS `do_bundle_commit`: the owner applies the messages as one group, or postpones the
    /// commit (the bundle stays, the COMMIT waits as the blocked message). Otherwise the bundle is
    /// gone whatever happened; a failing message's error goes out before the commit's MSG_FAILED.
    fn commit_bundle<O: Owner>(
        &mut self,
        now: Instant,
        id: ConnId,
        bc: &BundleCtrl,
        request: &Bytes,
        owner: &mut O,
    ) -> Result<BundleCommit, OfpErr> {
        let mut out = Replies::new(self.next_op_group, self.monitor_seqno, self.has_flow_monitors());
        let c = self.conns.get_mut(&id).ok_or(OfpErr::OFPBFC_BAD_ID)?;
        let info = c.info();
        let bundle = c.bundles.get_for_commit(bc.bundle_id, bc.flags)?;
        let result = owner.commit_bundle(now, &info, bundle.flags, &bundle.entries, &mut out);
        let entries = if result == Ok(BundleCommit::Postponed) {
            c.bundles.set_committing(bc.bundle_id);
            None
        } else {
            Some(c.bundles.remove(bc.bundle_id))
        };
        // Ids and seqnos the owner took stay taken, even by a postponed commit.
        self.next_op_group = out.next_op_group();
        self.monitor_seqno = out.next_seqno();
        let Some(entries) = entries else { return Ok(BundleCommit::Postponed) };
        self.apply_replies(now, id, request, out);
        result.map_err(|f| {
            if let Some(e) = entries.get(f.index) {
                self.send_error(now, id, f.error, &e.request);
            }
            OfpErr::OFPBFC_MSG_FAILED
        })
    }

    /// OVS `handle_bundle_add`: the embedded message must decode and pass the owner's checks; then
    /// it joins its bundle (opened if needed). Nothing is sent on success; an error answers the add.
    fn handle_bundle_add<O: Owner>(
        &mut self,
        now: Instant,
        id: ConnId,
        ba: BundleAdd,
        request: &Bytes,
        owner: &mut O,
    ) -> Result<(), OfpErr> {
        // The view gives the decoder's error for a bad body without decoding a flow mod: the
        // owner decodes what it needs, with its own options (it does again at commit anyway).
        let view = MsgView::parse(&ba.msg).map_err(|e| e.error)?;
        let entry = BundleEntry { request: request.clone(), bytes: ba.msg.clone(), raw: view.raw() };
        let Some(info) = self.conns.get(&id).map(|c| c.info()) else { return Ok(()) };
        owner.check_bundle_entry(now, &info, &entry, &view)?;
        let Some(c) = self.conns.get_mut(&id) else { return Ok(()) };
        c.bundles.add(now, ba.bundle_id, ba.flags, entry)
    }
}
