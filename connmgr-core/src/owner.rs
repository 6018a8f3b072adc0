//! The embedding interface: how the owner of the flow tables (ofproto-core's `Switch`) plugs into a
//! `ConnMgr`. The owner implements [`Owner`] and passes itself into the `ConnMgr` calls that may need
//! it, so a `Switch` can hold its `ConnMgr` and its tables as separate fields.
//!
//! Requests are split as OVS splits `handle_openflow` between `ofproto.c` and `connmgr.c`:
//!
//! - **answered by `ConnMgr`**: echo request (and echo reply, ignored), barrier (postponed while this
//!   connection has operation groups pending), role request (OF1.2+ and NXT), set/get async config,
//!   NXT set controller id / packet-in format / flow format / flow-mod-table-id, flow age (ignored),
//!   bundle control and bundle add (with [`Owner::check_bundle_entry`] and [`Owner::commit_bundle`]),
//!   the per-connection part of SET_CONFIG (invalid-TTL bit and miss_send_len, applied after the
//!   owner handled the message), flow monitor requests and cancels (the rules for initial replies
//!   come from [`Owner::flow_monitor_rules`]), multipart reassembly, and the errors OVS sends for
//!   reply types and for multipart requests in several parts other than table features and flow
//!   monitor requests;
//! - **handed to the owner** ([`Owner::handle_request`]): everything else a controller may send —
//!   features request, get config request, set config (its switch-wide fragment handling), packet out,
//!   port/flow/group/table/meter mods, every other multipart request (desc, flow, aggregate, table,
//!   port, port desc, queue, group, meter, table features, table desc, ipfix), queue get config,
//!   resume, TLV table mod/request, conntrack flush. An owner that does
//!   not implement one answers `Disposition::Error(OfpErr::OFPBRC_BAD_TYPE)` (`OFPBRC_BAD_STAT` for a
//!   multipart request), as OVS does for what it lacks.
//!
//! Before the owner sees a request, `ConnMgr` has refused state-changing requests from secondary
//! controllers (packet out, port/flow/group/table/meter mod, TLV table mod, bundle control and add)
//! with OFPBRC_IS_SECONDARY, and answered messages whose body does not decode with the decoder's
//! error. Decoding that depends on switch state (a flow mod's table count, a packet out's ports, the
//! OF1.0 table-id extension in [`ConnInfo::protocol`]) is the owner's: it re-decodes
//! [`Part::bytes`] as it needs to.

use bytes::Bytes;
use ofp_proto::msg::AsyncConfig;
use ofp_proto::msg::PacketInFormat;
use ofp_proto::raw::Raw;
use ofp_proto::view::MsgView;
use ofp_proto::{header, Instant, OfpErr, OfpMsg};
use smallvec::SmallVec;

use crate::async_msg::{AsyncMsg, AsyncPacketIn};
use crate::monitor::{stamp, RuleEvent, RuleQuery, RuleSnapshot};

pub use ofp_proto::msg::role::Role;

/// One transport (socket) the embedder runs for the `ConnMgr`, and the OpenFlow connection on it.
/// Never reused, so a late completion for a connection that went away cannot reach a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// OVS `enum ofconn_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnType {
    /// An ordinary controller: async messages by default, counts for fail-open and flow flushing.
    Primary,
    /// A service connection (e.g. `ovs-ofctl`): no async messages until it sets a miss_send_len.
    Service,
}

impl ConnType {
    /// OVS's word in log lines.
    pub fn name(self) -> &'static str {
        match self {
            ConnType::Primary => "primary",
            ConnType::Service => "service",
        }
    }
}

/// A connection's protocol (OVS `enum ofputil_protocol`): the negotiated version, and for OpenFlow
/// 1.0 the flow format (`NXT_SET_FLOW_FORMAT`) and the flow-mod table-id extension
/// (`NXT_FLOW_MOD_TABLE_ID`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Of10 { nxm: bool, tid: bool },
    Of11,
    Of12,
    Of13,
    Of14,
    Of15,
}

impl Protocol {
    /// What a connection starts with after negotiating `version` (OF1.0: standard match, no table id).
    pub fn from_version(version: u8) -> Option<Protocol> {
        Some(match version {
            header::OFP10_VERSION => Protocol::Of10 { nxm: false, tid: false },
            header::OFP11_VERSION => Protocol::Of11,
            header::OFP12_VERSION => Protocol::Of12,
            header::OFP13_VERSION => Protocol::Of13,
            header::OFP14_VERSION => Protocol::Of14,
            header::OFP15_VERSION => Protocol::Of15,
            _ => return None,
        })
    }

    pub fn version(self) -> u8 {
        match self {
            Protocol::Of10 { .. } => header::OFP10_VERSION,
            Protocol::Of11 => header::OFP11_VERSION,
            Protocol::Of12 => header::OFP12_VERSION,
            Protocol::Of13 => header::OFP13_VERSION,
            Protocol::Of14 => header::OFP14_VERSION,
            Protocol::Of15 => header::OFP15_VERSION,
        }
    }

    /// True if flow mods name their table: OF1.0 with the table-id extension, and OF1.1 on.
    pub fn has_tid(self) -> bool {
        !matches!(self, Protocol::Of10 { tid: false, .. })
    }

    /// True for OF1.0 with NXM flow format (flow removed goes out as NXT_FLOW_REMOVED).
    pub fn is_nxm(self) -> bool {
        matches!(self, Protocol::Of10 { nxm: true, .. })
    }
}

/// What the owner may know about a connection when it handles one of its requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnInfo {
    pub id: ConnId,
    pub conn_type: ConnType,
    /// Never `Role::NoChange`.
    pub role: Role,
    /// `None` until the hello exchange is done (requests only arrive after it).
    pub protocol: Option<Protocol>,
    pub packet_in_format: PacketInFormat,
    pub miss_send_len: u16,
    pub controller_id: u16,
    /// The connection's effective asynchronous configuration.
    pub async_config: AsyncConfig,
    /// OF1.0–1.2 SET_CONFIG flag, read back by GET_CONFIG (the primary packet-in INVALID_TTL bit).
    pub invalid_ttl_to_controller: bool,
}

impl ConnInfo {
    /// The negotiated version (OF1.0 before the hello exchange is done).
    pub fn version(&self) -> u8 {
        self.protocol.map_or(header::OFP10_VERSION, Protocol::version)
    }
}

/// One message of a request: its bytes as received and its decoding.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub bytes: Bytes,
    pub msg: Box<OfpMsg>,
}

/// A request's messages: nearly always one, kept inline.
pub type Parts = SmallVec<[Part; 1]>;

/// A request for the owner: one message, or the reassembled parts of a multipart request (several
/// only for table features and flow monitor requests, which OVS reads as a whole).
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub conn: &'a ConnInfo,
    /// At least one.
    pub parts: &'a [Part],
}

impl Request<'_> {
    /// The (first) message.
    pub fn msg(&self) -> &OfpMsg {
        &self.parts[0].msg
    }

    /// The (first) message's bytes: what an error reply quotes.
    pub fn bytes(&self) -> &Bytes {
        &self.parts[0].bytes
    }
}

/// What the owner did with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Done (replies, if any, are in the `Replies`).
    Handled,
    /// Not processed at all: `ConnMgr` keeps it as the connection's blocked message, reads nothing
    /// more from that connection, and offers it again after `ConnMgr::retry` (or after one of the
    /// connection's operation groups completes). Anything put in the `Replies` is discarded.
    Postponed,
    /// Failed: `ConnMgr` sends this error in reply, with the request's xid, quoting its first 64
    /// bytes (the project's rule; OVS 3.1 quotes the whole request).
    Error(OfpErr),
}

/// An operation group the owner started for a connection (OVS `ofopgroup`), from
/// [`Replies::start_op_group`] until `ConnMgr::op_group_completed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpGroupId(pub u64);

/// A flow mod the owner carried out, for the connection's flow-mod activity log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowModKind {
    Add,
    Modify,
    Delete,
}

/// Something the owner produced while handling a request, in order.
#[derive(Debug)]
pub(crate) enum Item {
    /// A message to the requesting connection, counted as a reply.
    Reply(Bytes),
    /// An asynchronous message, routed by `ConnMgr` as if sent with `send_async` at this point.
    Async(Box<AsyncMsg>),
    OpGroup(OpGroupId),
    /// Flow mods of one kind in a row, counted together (a bundle has many).
    FlowMods(FlowModKind, u32),
    /// A rule change for flow monitors, already stamped.
    RuleEvent(Box<RuleEvent>),
}

/// What the owner produces while handling one request, applied by `ConnMgr` in order right after
/// the call returns (before the next message is read), so that a barrier after a flow mod finds
/// every reply and asynchronous message the flow mod caused already queued.
#[derive(Debug)]
pub struct Replies {
    pub(crate) items: Vec<Item>,
    next_op_group: u64,
    next_seqno: u64,
    /// Some connection has flow monitors (none can be created while the request is handled).
    monitored: bool,
}

impl Replies {
    pub(crate) fn new(next_op_group: u64, next_seqno: u64, monitored: bool) -> Replies {
        Replies { items: Vec::new(), next_op_group, next_seqno, monitored }
    }

    /// The next operation group id not handed out.
    pub(crate) fn next_op_group(&self) -> u64 {
        self.next_op_group
    }

    /// The next flow monitor seqno not handed out.
    pub(crate) fn next_seqno(&self) -> u64 {
        self.next_seqno
    }

    /// Queues an encoded message to the requesting connection, counted as a reply (while 100
    /// replies are unsent, `ConnMgr` stops reading from that connection).
    pub fn send(&mut self, msg: Bytes) {
        self.items.push(Item::Reply(msg));
    }

    /// [`Replies::send`] for a message to encode.
    pub fn send_msg(&mut self, msg: &OfpMsg) {
        self.send(msg.to_bytes());
    }

    /// Sends an asynchronous message (packet-in from a packet out, port status from a port mod,
    /// flow removed from a delete, …) to the connections that want it, at this point in the stream.
    pub fn notify(&mut self, msg: AsyncMsg) {
        self.items.push(Item::Async(Box::new(msg)));
    }

    /// Notes that the request started an operation group that completes later: the connection's
    /// barriers, role changes and protocol changes wait for it. Report its end with
    /// `ConnMgr::op_group_completed`; a failure is then sent as an error quoting this request
    /// (its first 64 bytes, with its xid).
    pub fn start_op_group(&mut self) -> OpGroupId {
        let id = OpGroupId(self.next_op_group);
        self.next_op_group += 1;
        self.items.push(Item::OpGroup(id));
        id
    }

    /// Counts a flow mod in the connection's activity log ("N flow_mods in the last S s ...").
    pub fn report_flow_mod(&mut self, kind: FlowModKind) {
        match self.items.last_mut() {
            Some(Item::FlowMods(last, n)) if *last == kind => *n += 1,
            _ => self.items.push(Item::FlowMods(kind, 1)),
        }
    }

    /// [`ConnMgr::flow_monitor_event`](crate::ConnMgr::flow_monitor_event) for a rule change made
    /// while handling this request (or bundle commit): stamped now from the same counter (the
    /// returned seqno, 0 for a removal, is the rule's new `modify_seqno`, and for an add also its
    /// `add_seqno`); the updates are queued in order with the other items and flushed as one batch
    /// after the request, before `ConnMgr`'s own reply to it. Without flow monitors the event only
    /// takes its seqno.
    pub fn flow_monitor_event(&mut self, mut event: RuleEvent) -> u64 {
        let seqno = stamp(&mut self.next_seqno, &mut event);
        if self.monitored {
            self.items.push(Item::RuleEvent(Box::new(event)));
        }
        seqno
    }

    /// True if some connection has flow monitors: rule events are worth building only then (the
    /// seqnos still advance without them, see [`Replies::take_monitor_seqno`]).
    pub fn is_monitored(&self) -> bool {
        self.monitored
    }

    /// The seqno [`Replies::flow_monitor_event`] would return for an add or modify that no flow
    /// monitor hears of (the rule's new `modify_seqno`, and for an add also its `add_seqno`).
    pub fn take_monitor_seqno(&mut self) -> u64 {
        let seqno = self.next_seqno;
        self.next_seqno += 1;
        seqno
    }
}

/// One message of a bundle, as added: bytes only, decoded again at commit, so a bundle costs tens
/// of bytes per message however large its decoding (a flow mod's is nearly 900).
#[derive(Clone, Debug, PartialEq)]
pub struct BundleEntry {
    /// The BUNDLE_ADD_MESSAGE that added it: what an error for this entry quotes (and its xid).
    pub request: Bytes,
    /// The embedded message's bytes (a flow mod, port mod, group mod or packet out), which passed
    /// the checks when it was added.
    pub bytes: Bytes,
    /// The embedded message's type, as it decoded.
    pub raw: Raw,
}

impl BundleEntry {
    /// The embedded message's xid (the BUNDLE_ADD_MESSAGE's, as checked when added).
    pub fn xid(&self) -> u32 {
        header::Header::parse(&self.bytes).map_or(0, |h| h.xid)
    }

    /// The embedded message's version (the connection's, as checked when added).
    pub fn version(&self) -> u8 {
        self.bytes.first().copied().unwrap_or(0)
    }

    /// The embedded message decoded again (as when it was added, so this fails only if decoding is
    /// not deterministic; the error is then the decoder's).
    pub fn decode(&self) -> Result<Part, OfpErr> {
        match OfpMsg::decode(&self.bytes) {
            Ok(msg) => Ok(Part { bytes: self.bytes.clone(), msg: Box::new(msg) }),
            Err(e) => Err(e.error),
        }
    }
}

/// What the owner did with a bundle it was asked to commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleCommit {
    /// Applied (replies and asynchronous messages, if any, are in the `Replies`).
    Committed,
    /// Not applied at all, to try again later (e.g. a rule it touches has an operation pending):
    /// `ConnMgr` keeps the bundle, makes the COMMIT the connection's blocked message and offers it
    /// again after `ConnMgr::retry` (or after one of the connection's operation groups completes),
    /// exactly as for [`Disposition::Postponed`]. Anything put in the `Replies` is discarded. The
    /// bundle does not expire meanwhile.
    Postponed,
}

/// Why a bundle commit failed: entry `index` (in the order added) failed with `error`. `ConnMgr`
/// sends `error` answering that entry's BUNDLE_ADD_MESSAGE, then OFPBFC_MSG_FAILED for the commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BundleFailure {
    pub index: usize,
    pub error: OfpErr,
}

/// The catch-all NORMAL flows connection management asks the owner to keep (OVS adds them through
/// `ofproto_add_flow` from `connmgr_flushed` and fail-open).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NormalFlow {
    /// Priority 0, visible: standalone fail mode with no primary controller configured.
    Standalone,
    /// Hidden priority `FAIL_OPEN_PRIORITY` (0xf0f0f0) flow while failing open.
    FailOpen,
}

/// OVS's priority for the fail-open flow (above any OpenFlow priority, so hidden from controllers).
pub const FAIL_OPEN_PRIORITY: u32 = 0xf0_f0f0;

/// The owner of the flow tables, as connection management sees it.
pub trait Owner {
    /// Handles one request (see the module docs for which ones come here). Replies, asynchronous
    /// messages it causes and operation groups it starts go in `out`.
    fn handle_request(&mut self, now: Instant, req: &Request<'_>, out: &mut Replies) -> Disposition;

    /// Checks a message being added to a bundle (`entry`, and `view`, its parse: `ConnMgr` found
    /// that it decodes with the default options) the way OVS decodes it at add time (context
    /// dependent checks: table ids, ports, ...). An error is sent in reply to the
    /// BUNDLE_ADD_MESSAGE and the message is not added.
    fn check_bundle_entry(
        &mut self,
        _now: Instant,
        _conn: &ConnInfo,
        _entry: &BundleEntry,
        _view: &MsgView<'_>,
    ) -> Result<(), OfpErr> {
        Ok(())
    }

    /// Applies a bundle's messages as one group, all or nothing (`flags`: `OFPBF_ATOMIC`,
    /// `OFPBF_ORDERED`), or postpones the whole commit. On failure nothing may remain applied.
    fn commit_bundle(
        &mut self,
        now: Instant,
        conn: &ConnInfo,
        flags: u16,
        entries: &[BundleEntry],
        out: &mut Replies,
    ) -> Result<BundleCommit, BundleFailure>;

    /// How many flow tables there are (OVS `ofproto->n_tables`): a flow monitor naming a table at
    /// or beyond this (other than 0xff, all tables) fails with OFPBRC_BAD_TABLE_ID.
    fn n_tables(&self) -> u8 {
        u8::MAX
    }

    /// The rules a flow monitor is to be told about, for its initial reply (`query.since` 0) and
    /// for the refresh when a paused connection resumes (`query.since` the seqno at the pause):
    /// the visible rules (never hidden ones) of table `query.table_id` (0xff: every table) at least
    /// as specific as `query.match_` (OVS `CLS_FOR_EACH_TARGET`), each with the seqnos
    /// `ConnMgr::flow_monitor_event` returned for it. With `since` above 0 the owner may leave out
    /// rules whose `add_seqno` and `modify_seqno` are both at or below it. Returning more is
    /// harmless: `ConnMgr` applies the monitor's whole selection (table, match, out_port,
    /// out_group, seqnos) again. The default knows no rules.
    fn flow_monitor_rules(&mut self, _now: Instant, _query: &RuleQuery<'_>) -> Vec<RuleSnapshot> {
        Vec::new()
    }

    /// Deletes every flow (OVS `ofproto_flush_flows`): the set of configured primary controllers
    /// went from empty to non-empty or back, the fail mode changed with no controller, or the
    /// switch is failing open. `ConnMgr` then re-adds its [`NormalFlow`]s as needed.
    fn flush(&mut self, now: Instant);

    /// Adds (or replaces) a catch-all flow with the single action output:NORMAL.
    fn add_normal_flow(&mut self, now: Instant, flow: NormalFlow);

    /// Removes that flow, if present.
    fn delete_normal_flow(&mut self, now: Instant, flow: NormalFlow);

    /// The packet-in fail-open sends every 2 s to the connected controllers (OVS
    /// `send_bogus_packet_ins`): reason no_match, in_port LOCAL, cookie all-ones, data `frame` (an
    /// Ethernet RARP frame from a random Nicira address), controller id 0. `None` sends nothing.
    fn fail_open_packet_in(&mut self, now: Instant, frame: Bytes) -> Option<AsyncPacketIn>;
}
