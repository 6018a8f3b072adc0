//! One OpenFlow connection's state (OVS `struct ofconn`): created when a connection comes up (an
//! accepted one when it is accepted) and discarded when it goes down.

use std::sync::Arc;

use bytes::Bytes;
use ofp_proto::msg::async_cfg::{packet_in_reason, AsyncMsgType};
use ofp_proto::msg::{AsyncConfig, PacketInFormat};
use ofp_proto::{header, Instant};
use rconn_core::{CounterId, Rconn};

use crate::assembler::Assembler;
use crate::bundle::Bundles;
use crate::flow_mod_log::FlowModLog;
use crate::lazy_map::LazyMap;
use crate::monitor::ConnMonitors;
use crate::owner::{ConnId, ConnInfo, ConnType, Parts, Protocol, Role};
use crate::pinsched::PinSched;
use crate::service::ControllerSettings;

/// Replies queued unsent at which reading from the connection stops (OVS `OFCONN_REPLY_MAX`).
pub const REPLY_MAX: u32 = 100;

/// The rconn counters of a connection's message sources (OVS `reply_counter`, `packet_in_counter`
/// and `monitor_counter`).
pub(crate) const REPLIES: CounterId = CounterId::nth(0);
pub(crate) const PACKET_INS: CounterId = CounterId::nth(1);
pub(crate) const MONITOR_UPDATES: CounterId = CounterId::nth(2);
/// Messages read from one connection per step.
pub const MAX_RECV_PER_STEP: usize = 50;
/// OVS `OFP_DEFAULT_MISS_SEND_LEN`.
pub const DEFAULT_MISS_SEND_LEN: u16 = 128;

/// Scheduler index for packet-ins sent for a table miss (the other one is for everything else).
pub const MISS: usize = 1;

#[derive(Debug)]
pub(crate) struct OfConn {
    pub id: ConnId,
    pub service: Arc<str>,
    pub conn_type: ConnType,
    /// Inline: one allocation per connection instead of two.
    pub rconn: Rconn,
    /// The hello exchange completed (the `Connected` event went out).
    pub up: bool,

    pub role: Role,
    pub protocol: Option<Protocol>,
    pub packet_in_format: PacketInFormat,
    pub miss_send_len: u16,
    pub controller_id: u16,
    /// Set by SET_ASYNC and friends; until then the default for the version (see `async_config`).
    pub async_cfg: Option<Box<AsyncConfig>>,
    pub enable_async_msgs: bool,
    /// Counted by the connection manager's total (OVS `want_packet_in_on_miss`).
    pub want_packet_in_on_miss: bool,

    pub queue_size: u32,
    /// Rate limiters for [action, miss] packet-ins, present only with a rate limit (boxed: most
    /// connections have none, and an idle connection should stay small).
    schedulers: Option<Box<[PinSched; 2]>>,
    /// Packet-ins dropped because `queue_size` of them were already queued.
    pub n_queue_overflow: u64,

    /// Messages may be waiting in the rconn.
    pub input_pending: bool,
    /// A postponed request (all its parts), offered again once `retry` is set. Boxed: one word
    /// on every connection, where a `Vec` would be three.
    #[allow(clippy::box_collection)]
    pub blocked: Option<Box<Parts>>,
    pub retry: bool,
    /// Operation groups started for this connection's requests, with the request each quotes.
    pub op_groups: LazyMap<u64, Bytes>,

    pub assembler: Assembler,
    pub bundles: Bundles,
    pub next_bundle_check: Instant,
    pub flow_mods: FlowModLog,
    /// Created by the first flow monitor request (boxed: most connections never send one).
    pub monitors: Option<Box<ConnMonitors>>,
}

impl OfConn {
    pub fn new(
        now: Instant,
        id: ConnId,
        service: Arc<str>,
        conn_type: ConnType,
        rconn: Rconn,
        settings: &ControllerSettings,
        seed: u64,
    ) -> OfConn {
        let mut c = OfConn {
            id,
            service,
            conn_type,
            rconn,
            up: false,
            role: Role::Equal,
            protocol: None,
            packet_in_format: PacketInFormat::Standard,
            miss_send_len: if conn_type == ConnType::Primary { DEFAULT_MISS_SEND_LEN } else { 0 },
            controller_id: 0,
            async_cfg: None,
            enable_async_msgs: settings.enable_async_msgs,
            want_packet_in_on_miss: false,
            queue_size: settings.queue_size(),
            schedulers: None,
            n_queue_overflow: 0,
            input_pending: true,
            blocked: None,
            retry: false,
            op_groups: LazyMap::default(),
            assembler: Assembler::default(),
            bundles: Bundles::default(),
            next_bundle_check: now + crate::connmgr::BUNDLE_EXPIRY_INTERVAL,
            flow_mods: FlowModLog::default(),
            monitors: None,
        };
        c.set_rate_limit(settings.rate_limit, settings.burst_limit, seed);
        c
    }

    /// OVS `ofconn_set_rate_limit`: schedulers exist only while a rate is set.
    pub fn set_rate_limit(&mut self, rate: u32, burst: u32, seed: u64) {
        match &mut self.schedulers {
            _ if rate == 0 => self.schedulers = None,
            Some(s) => s.iter_mut().for_each(|ps| ps.set_limits(rate, burst)),
            None => {
                let new = |i: u64| PinSched::new(rate, burst, seed ^ (self.id.0 << 1) ^ i);
                self.schedulers = Some(Box::new([new(0), new(1)]));
            }
        }
    }

    /// Rate limiter `i` (0: action, [`MISS`]), if a rate limit is set.
    pub fn scheduler(&self, i: usize) -> Option<&PinSched> {
        self.schedulers.as_ref().map(|s| &s[i])
    }

    pub fn scheduler_mut(&mut self, i: usize) -> Option<&mut PinSched> {
        self.schedulers.as_mut().map(|s| &mut s[i])
    }

    /// Both rate limiters, or none.
    pub fn schedulers(&self) -> impl Iterator<Item = &PinSched> {
        self.schedulers.iter().flat_map(|s| s.iter())
    }

    /// The negotiated version (OF1.0 before the hello exchange is done).
    pub fn version(&self) -> u8 {
        self.protocol.map_or(header::OFP10_VERSION, Protocol::version)
    }

    /// Whether the connection should want table-miss packet-ins (controller id 0, before OF1.3).
    pub fn computes_want_packet_in_on_miss(&self) -> bool {
        self.controller_id == 0 && self.protocol.is_none_or(|p| p.version() < header::OFP13_VERSION)
    }

    /// OVS `ofconn_may_recv`.
    pub fn may_recv(&self) -> bool {
        (self.blocked.is_none() || self.retry) && self.rconn.queued(REPLIES).n_packets < REPLY_MAX
    }

    /// Whether the next step has messages for this connection to read.
    pub fn wants_to_read(&self) -> bool {
        self.may_recv() && (self.input_pending || self.blocked.is_some()) && self.rconn.is_connected()
    }

    /// OVS `ofconn_get_async_config`: what was set, else the version's default (all off before the
    /// version is known or when the service disables asynchronous messages).
    pub fn async_config(&self) -> AsyncConfig {
        match (self.async_cfg.as_deref(), self.rconn.version()) {
            (Some(c), _) => *c,
            (None, Some(v)) if self.enable_async_msgs => AsyncConfig::default_for(v),
            _ => AsyncConfig::default(),
        }
    }

    /// OVS `ofconn_set_async_config`: before OF1.4, "action" also covers the reasons OF1.4 split
    /// out of it.
    pub fn set_async_config(&mut self, mut c: AsyncConfig) {
        use packet_in_reason::{ACTION, ACTION_SET, GROUP, PACKET_OUT};
        let pi = AsyncMsgType::PacketIn as usize;
        if self.version() < header::OFP14_VERSION {
            let of14_action_bits = 1 << ACTION_SET | 1 << GROUP | 1 << PACKET_OUT;
            for masks in [&mut c.primary, &mut c.secondary] {
                if masks[pi] & 1 << ACTION != 0 {
                    masks[pi] |= of14_action_bits;
                }
            }
        }
        self.async_cfg = Some(Box::new(c));
    }

    pub fn invalid_ttl_to_controller(&self) -> bool {
        self.async_config().primary[AsyncMsgType::PacketIn as usize] & 1 << packet_in_reason::INVALID_TTL != 0
    }

    pub fn set_invalid_ttl_to_controller(&mut self, enable: bool) {
        let mut c = self.async_config();
        let bit = 1 << packet_in_reason::INVALID_TTL;
        let pi = &mut c.primary[AsyncMsgType::PacketIn as usize];
        if enable {
            *pi |= bit;
        } else {
            *pi &= !bit;
        }
        self.set_async_config(c);
    }

    /// OVS `ofconn_receives_async_msg`.
    pub fn receives(&self, t: AsyncMsgType, reason: u32) -> bool {
        if !self.rconn.is_connected() || self.protocol.is_none() {
            return false;
        }
        // Service connections get nothing until they ask by setting a miss_send_len.
        if self.conn_type == ConnType::Service && self.miss_send_len == 0 {
            return false;
        }
        self.async_config().wants(self.role == Role::Secondary, t, reason)
    }

    /// Queues `msg` counted as a reply.
    pub fn send_reply(&mut self, now: Instant, msg: Bytes) {
        let _ = self.rconn.send(now, msg, Some(REPLIES));
    }

    /// Queues `msg` uncounted (async messages other than packet-ins and flow removed, errors from
    /// timeouts).
    pub fn send(&mut self, now: Instant, msg: Bytes) {
        let _ = self.rconn.send(now, msg, None);
    }

    pub fn info(&self) -> ConnInfo {
        ConnInfo {
            id: self.id,
            conn_type: self.conn_type,
            role: self.role,
            protocol: self.protocol,
            packet_in_format: self.packet_in_format,
            miss_send_len: self.miss_send_len,
            controller_id: self.controller_id,
            async_config: self.async_config(),
            invalid_ttl_to_controller: self.invalid_ttl_to_controller(),
        }
    }

    /// Packet-ins waiting in the rate limiters.
    pub fn n_scheduled(&self) -> u32 {
        self.schedulers().map(|s| s.stats().n_queued).sum()
    }

    /// Its flow monitors are paused and every monitor message went out.
    pub fn may_resume_monitors(&self) -> bool {
        self.monitors.as_ref().is_some_and(|m| m.may_resume(self.rconn.queued(MONITOR_UPDATES)))
    }

    /// The earliest time this connection has work for a step (not counting its rconn).
    pub fn next_wakeup(&self) -> Option<Instant> {
        let mut t = self.schedulers().filter_map(PinSched::next_release).min();
        let mut consider = |x: Option<Instant>| t = t.into_iter().chain(x).min();
        consider(self.flow_mods.next_report());
        consider(self.assembler.next_timeout());
        if !self.bundles.is_empty() {
            consider(Some(self.next_bundle_check));
        }
        if self.may_resume_monitors() {
            consider(Some(Instant::ZERO));
        }
        t
    }
}
