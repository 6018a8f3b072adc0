//! Shared by proto_a_roundtrip and proto_a_interop: every (layout, version) of the switch, port, role,
//! async-config, Nicira-format and status messages, arbitrary bodies for each, and what decoding an
//! encoded body must give back (the fields each version carries, as OVS keeps them).
#![allow(dead_code)]

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;

use ofp_proto::msg::async_cfg::{packet_in_reason, AsyncMsgType, N_TYPES};
use ofp_proto::msg::nicira::{FlowFormat, PacketInFormat};
use ofp_proto::msg::port::{config, features, state, Port, PortName, PortReason};
use ofp_proto::msg::role::{Role, RoleReason};
use ofp_proto::msg::status::{ForwardReason, TableDesc, TableReason};
use ofp_proto::msg::switch::{capabilities, FragHandling, OF10_ACTIONS_ALL};
use ofp_proto::msg::{
    AsyncConfig, AsyncUpdate, PortDescReply, PortDescRequest, PortMod, PortStatus, RequestForward, RoleMsg, RoleStatus,
    SwitchConfig, SwitchFeatures, TableStatus,
};
use ofp_proto::{port_no, Message, MsgType, OfpMsg, Raw};

/// The message types these tests cover.
pub const TYPES: [MsgType; 17] = [
    MsgType::FeaturesReply,
    MsgType::GetConfigReply,
    MsgType::SetConfig,
    MsgType::PortStatus,
    MsgType::PortMod,
    MsgType::PortDescStatsRequest,
    MsgType::PortDescStatsReply,
    MsgType::RoleRequest,
    MsgType::RoleReply,
    MsgType::RoleStatus,
    MsgType::GetAsyncReply,
    MsgType::SetAsyncConfig,
    MsgType::SetFlowFormat,
    MsgType::SetPacketInFormat,
    MsgType::SetControllerId,
    MsgType::Requestforward,
    MsgType::TableStatus,
];

/// Every layout of every covered type, in every version it exists in.
pub fn raws() -> Vec<(Raw, u8)> {
    let mut v = vec![];
    for t in TYPES {
        for version in 1..=6u8 {
            for raw in Raw::candidates(t, version) {
                v.push((raw, version));
            }
        }
    }
    v
}

pub fn msg(raw: Raw, version: u8, body: Message) -> OfpMsg {
    OfpMsg { version, xid: 0x42, raw, stats_flags: 0, body }
}

fn is_nxt_role(raw: Raw) -> bool {
    matches!(raw, Raw::NxtRoleRequest | Raw::NxtRoleReply)
}

fn is_tlv_async(raw: Raw) -> bool {
    matches!(raw, Raw::Ofpt14SetAsync | Raw::Ofpt14GetAsyncReply | Raw::NxtSetAsyncConfig2)
}

// ---- strategies -------------------------------------------------------------------------------

/// Port numbers a decoder can produce: physical ones and the reserved block.
pub fn arb_port_no() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..0xff00, 0xffff_ff00u32..=u32::MAX, Just(port_no::LOCAL), Just(1u32)]
}

fn arb_name() -> impl Strategy<Value = PortName> {
    prop_oneof![
        "[a-z0-9_.-]{0,15}".prop_map(|s| PortName::from(s.as_str())),
        "\\PC{0,8}".prop_map(|s| PortName::from(s.as_str())),
        prop::collection::vec(any::<u8>(), 0..20).prop_map(|b| PortName::from_bytes(&b)),
    ]
}

pub fn arb_port() -> impl Strategy<Value = Port> {
    (
        arb_port_no(),
        any::<[u8; 6]>(),
        arb_name(),
        any::<u32>(),
        any::<u32>(),
        any::<[u32; 4]>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(port_no, hw_addr, name, config, state, f, curr_speed, max_speed)| Port {
            port_no,
            hw_addr,
            name,
            config,
            state,
            curr: f[0],
            advertised: f[1],
            supported: f[2],
            peer: f[3],
            curr_speed,
            max_speed,
        })
}

fn arb_role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::NoChange), Just(Role::Equal), Just(Role::Primary), Just(Role::Secondary)]
}

fn arb_masks() -> impl Strategy<Value = [u32; N_TYPES]> {
    // Mostly valid bits, sometimes anything.
    prop::array::uniform6(prop_oneof![0u32..0x100, any::<u32>()])
}

fn arb_opt_masks() -> impl Strategy<Value = [Option<u32>; N_TYPES]> {
    prop::array::uniform6(prop::option::of(prop_oneof![0u32..0x100, any::<u32>()]))
}

fn group_mod_inner(version: u8, xid: u32) -> Bytes {
    let raw = Raw::for_type(MsgType::GroupMod, version).expect("group mods exist in every version");
    let mut b = BytesMut::new();
    let start = raw.put_headers(version, xid, 0, &mut b);
    // ADD, type all, group 1; the OF1.5/NXT layout adds bucket_array_len and command_bucket_id ALL.
    b.put_u32(0);
    b.put_u32(1);
    if raw != Raw::Ofpt11GroupMod {
        b.put_u32(0);
        b.put_u32(0xffff_ffff);
    }
    ofp_proto::raw::finish_msg(&mut b, start);
    b.freeze()
}

fn meter_mod_inner(version: u8, xid: u32, command: u16, flags: u16, id: u32, bands: &[(u16, u32, u32, u8)]) -> Bytes {
    let mut b = BytesMut::new();
    let start = Raw::Ofpt13MeterMod.put_headers(version, xid, 0, &mut b);
    b.put_u16(command);
    b.put_u16(flags);
    b.put_u32(id);
    for &(t, rate, burst, prec) in bands {
        b.put_u16(t);
        b.put_u16(16);
        b.put_u32(rate);
        b.put_u32(burst);
        b.put_u8(prec);
        b.put_bytes(0, 3);
    }
    ofp_proto::raw::finish_msg(&mut b, start);
    b.freeze()
}

fn arb_requestforward(version: u8) -> BoxedStrategy<RequestForward> {
    let group = any::<u32>().prop_map(move |xid| RequestForward {
        reason: ForwardReason::GroupMod,
        request: group_mod_inner(version, xid),
    });
    if version < 4 {
        return group.boxed();
    }
    let band = (1u16..=2, any::<u32>(), any::<u32>(), any::<u8>());
    let meter =
        (any::<u32>(), 0u16..=2, prop_oneof![Just(0u16), 0u16..16], any::<u32>(), prop::collection::vec(band, 0..3))
            .prop_filter("kbps and pktps exclude each other", |(_, _, f, _, _)| f & 3 != 3)
            .prop_map(move |(xid, cmd, flags, id, bands)| RequestForward {
                reason: ForwardReason::MeterMod,
                request: meter_mod_inner(version, xid, cmd, flags, id, &bands),
            });
    prop_oneof![group, meter].boxed()
}

fn arb_table_status() -> impl Strategy<Value = TableStatus> {
    (
        prop_oneof![Just(TableReason::VacancyDown), Just(TableReason::VacancyUp)],
        any::<(u8, bool, bool, Option<u32>, u8, u8, u8)>(),
    )
        .prop_map(|(reason, (table_id, eviction, vacancy, eviction_flags, d, u, n))| TableStatus {
            reason,
            desc: TableDesc {
                table_id,
                eviction,
                vacancy,
                eviction_flags,
                vacancy_down: d,
                vacancy_up: u,
                vacancy_now: n,
            },
        })
}

/// Arbitrary bodies `raw` in `version` can carry (not necessarily canonical: extra bits, long names…).
pub fn arb_body(raw: Raw, version: u8) -> BoxedStrategy<Message> {
    match raw.msg_type() {
        MsgType::FeaturesReply => (any::<(u64, u32, u8, u8, u32, u32)>(), prop::collection::vec(arb_port(), 0..4))
            .prop_map(|((datapath_id, n_buffers, n_tables, auxiliary_id, capabilities, actions), ports)| {
                Message::FeaturesReply(SwitchFeatures {
                    datapath_id,
                    n_buffers,
                    n_tables,
                    auxiliary_id,
                    capabilities,
                    actions,
                    ports,
                })
            })
            .boxed(),
        t @ (MsgType::GetConfigReply | MsgType::SetConfig) => (0u8..4, any::<bool>(), any::<u16>())
            .prop_map(move |(f, ttl, miss)| {
                let frag = [FragHandling::Normal, FragHandling::Drop, FragHandling::Reassemble, FragHandling::NxMatch]
                    [usize::from(f)];
                let c = SwitchConfig { frag, invalid_ttl_to_controller: ttl, miss_send_len: miss };
                if t == MsgType::SetConfig {
                    Message::SetConfig(c)
                } else {
                    Message::GetConfigReply(c)
                }
            })
            .boxed(),
        MsgType::PortStatus => (0u8..3, arb_port())
            .prop_map(|(r, desc)| {
                let reason = [PortReason::Add, PortReason::Delete, PortReason::Modify][usize::from(r)];
                Message::PortStatus(PortStatus { reason, desc })
            })
            .boxed(),
        MsgType::PortMod => (arb_port_no(), any::<[u8; 6]>(), any::<u32>(), any::<u32>(), any::<u32>())
            .prop_map(|(port_no, hw_addr, config, mask, advertise)| {
                Message::PortMod(PortMod { port_no, hw_addr, config, mask, advertise })
            })
            .boxed(),
        MsgType::PortDescStatsRequest => {
            arb_port_no().prop_map(|port_no| Message::PortDescStatsRequest(PortDescRequest { port_no })).boxed()
        }
        MsgType::PortDescStatsReply => prop::collection::vec(arb_port(), 0..5)
            .prop_map(|ports| Message::PortDescStatsReply(PortDescReply { ports }))
            .boxed(),
        t @ (MsgType::RoleRequest | MsgType::RoleReply) => {
            let nxt = is_nxt_role(raw);
            (arb_role(), prop::option::of(prop_oneof![any::<u64>(), Just(u64::MAX)]))
                .prop_filter("NXT cannot say nochange", move |(r, _)| !(nxt && *r == Role::NoChange))
                .prop_map(move |(role, generation_id)| {
                    let m = RoleMsg { role, generation_id };
                    if t == MsgType::RoleRequest {
                        Message::RoleRequest(m)
                    } else {
                        Message::RoleReply(m)
                    }
                })
                .boxed()
        }
        MsgType::RoleStatus => (arb_role(), any::<u8>(), any::<u64>(), prop::collection::vec(any::<u8>(), 0..3))
            .prop_map(|(role, reason, generation_id, words)| {
                let properties: Vec<u8> = words.iter().flat_map(|w| [0xff, 0xff, 0, 8, 0, 0, 0, *w]).collect();
                Message::RoleStatus(RoleStatus {
                    role,
                    reason: RoleReason::from_wire(reason),
                    generation_id,
                    properties: Bytes::from(properties),
                })
            })
            .boxed(),
        MsgType::GetAsyncReply => (arb_masks(), arb_masks())
            .prop_map(|(primary, secondary)| Message::GetAsyncReply(AsyncConfig { primary, secondary }))
            .boxed(),
        MsgType::SetAsyncConfig => (arb_opt_masks(), arb_opt_masks())
            .prop_map(|(primary, secondary)| Message::SetAsyncConfig(AsyncUpdate { primary, secondary }))
            .boxed(),
        MsgType::SetFlowFormat => prop_oneof![Just(0u32), Just(2u32), any::<u32>()]
            .prop_map(|v| Message::SetFlowFormat(FlowFormat::from_wire(v)))
            .boxed(),
        MsgType::SetPacketInFormat => {
            prop_oneof![Just(PacketInFormat::Standard), Just(PacketInFormat::Nxt), Just(PacketInFormat::Nxt2)]
                .prop_map(Message::SetPacketInFormat)
                .boxed()
        }
        MsgType::SetControllerId => any::<u16>().prop_map(Message::SetControllerId).boxed(),
        MsgType::Requestforward => arb_requestforward(version).prop_map(Message::Requestforward).boxed(),
        MsgType::TableStatus => arb_table_status().prop_map(Message::TableStatus).boxed(),
        t => panic!("{t:?} is not covered"),
    }
}

// ---- what each version keeps -----------------------------------------------------------------

pub fn normalize_port(p: &Port, version: u8) -> Port {
    let mut n = Port { config: p.config & config::all(version), state: p.state & state::all(version), ..p.clone() };
    let f = |x: u32| if version == 1 { features::from_ofp10(features::to_ofp10(x)) } else { x & features::ALL };
    [n.curr, n.advertised, n.supported, n.peer] = [p.curr, p.advertised, p.supported, p.peer].map(f);
    if version == 1 {
        n.port_no = port_no::ofp10_to_ofp11(port_no::to_ofp10_wire(p.port_no));
        n.curr_speed = features::speed_kbps(n.curr);
        n.max_speed = features::speed_kbps(n.supported);
    }
    n
}

fn normalize_mask(t: AsyncMsgType, mask: u32, version: u8) -> u32 {
    let mut m = mask & t.allowed(version);
    if t == AsyncMsgType::PacketIn && m & 1 << packet_in_reason::NO_MATCH != 0 {
        m |= 1 << packet_in_reason::EXPLICIT_MISS;
        if version < 4 {
            m |= 1 << packet_in_reason::IMPLICIT_MISS;
        }
    }
    m
}

fn normalize_masks(masks: [Option<u32>; N_TYPES], raw: Raw, version: u8) -> [Option<u32>; N_TYPES] {
    let mut out = [None; N_TYPES];
    for t in AsyncMsgType::ALL {
        let i = t as usize;
        out[i] = if is_tlv_async(raw) {
            masks[i].map(|m| normalize_mask(t, m, version))
        } else if i < 3 {
            Some(normalize_mask(t, masks[i].unwrap_or(0), version))
        } else {
            Some(0)
        };
    }
    out
}

/// What decoding `body` encoded as `raw` in `version` gives.
pub fn normalize(raw: Raw, version: u8, body: &Message) -> Message {
    let ports = |ps: &[Port]| ps.iter().map(|p| normalize_port(p, version)).collect::<Vec<_>>();
    match body {
        Message::FeaturesReply(f) => {
            let mut caps = f.capabilities & capabilities::same_on_wire(version);
            caps |= f.capabilities & if version == 1 { capabilities::STP } else { capabilities::GROUP_STATS };
            Message::FeaturesReply(SwitchFeatures {
                auxiliary_id: if raw == Raw::Ofpt13FeaturesReply { f.auxiliary_id } else { 0 },
                capabilities: caps,
                actions: if version == 1 { f.actions & OF10_ACTIONS_ALL } else { 0 },
                ports: if raw == Raw::Ofpt13FeaturesReply { vec![] } else { ports(&f.ports) },
                ..f.clone()
            })
        }
        Message::GetConfigReply(c) | Message::SetConfig(c) => {
            let c = SwitchConfig { invalid_ttl_to_controller: c.invalid_ttl_to_controller && version < 4, ..*c };
            if matches!(body, Message::SetConfig(_)) {
                Message::SetConfig(c)
            } else {
                Message::GetConfigReply(c)
            }
        }
        Message::PortStatus(ps) => {
            Message::PortStatus(PortStatus { reason: ps.reason, desc: normalize_port(&ps.desc, version) })
        }
        Message::PortMod(pm) => {
            let mask = pm.mask & config::all(version);
            let advertise = if version == 1 {
                features::from_ofp10(features::to_ofp10(pm.advertise))
            } else {
                pm.advertise & features::ALL
            };
            let port_no =
                if version == 1 { port_no::ofp10_to_ofp11(port_no::to_ofp10_wire(pm.port_no)) } else { pm.port_no };
            Message::PortMod(PortMod { port_no, hw_addr: pm.hw_addr, config: pm.config & mask, mask, advertise })
        }
        Message::PortDescStatsRequest(r) => Message::PortDescStatsRequest(if raw == Raw::Ofpst15PortDescRequest {
            *r
        } else {
            PortDescRequest::default()
        }),
        Message::PortDescStatsReply(r) => Message::PortDescStatsReply(PortDescReply { ports: ports(&r.ports) }),
        Message::RoleRequest(m) | Message::RoleReply(m) => {
            let request = matches!(body, Message::RoleRequest(_));
            let g = m.generation_id.unwrap_or(u64::MAX);
            let generation_id = if is_nxt_role(raw) {
                None
            } else if request {
                (m.role != Role::NoChange).then_some(g)
            } else {
                Some(g).filter(|g| *g != u64::MAX)
            };
            let m = RoleMsg { role: m.role, generation_id };
            if request {
                Message::RoleRequest(m)
            } else {
                Message::RoleReply(m)
            }
        }
        Message::GetAsyncReply(c) => {
            let u = AsyncUpdate {
                primary: normalize_masks(c.primary.map(Some), raw, version),
                secondary: normalize_masks(c.secondary.map(Some), raw, version),
            };
            Message::GetAsyncReply(u.apply(&AsyncConfig::default()))
        }
        Message::SetAsyncConfig(u) => Message::SetAsyncConfig(AsyncUpdate {
            primary: normalize_masks(u.primary, raw, version),
            secondary: normalize_masks(u.secondary, raw, version),
        }),
        Message::TableStatus(ts) => {
            let mut ts = *ts;
            ts.desc.eviction_flags = ts.desc.eviction_flags.filter(|f| *f != u32::MAX);
            Message::TableStatus(ts)
        }
        other => other.clone(),
    }
}

// ---- hand-picked messages for the ovs-ofctl checks ----------------------------------------------

fn eth(port_no: u32, name: &str) -> Port {
    Port {
        port_no,
        hw_addr: [0x50, 0x54, 0, 0, 0, port_no as u8],
        name: name.into(),
        config: config::NO_PACKET_IN,
        state: state::LIVE | state::STP_LEARN | state::LINK_DOWN,
        curr: features::F_1GB_FD | features::COPPER | features::AUTONEG,
        advertised: features::F_10MB_HD | features::F_1GB_FD | features::PAUSE,
        supported: 0xffff,
        peer: features::F_10GB_FD | features::FIBER,
        curr_speed: 1_000_000,
        max_speed: 10_000_000,
    }
}

/// One or more representative messages of every covered layout in every version.
pub fn samples() -> Vec<OfpMsg> {
    let mut out = vec![];
    for (raw, v) in raws() {
        let bodies: Vec<Message> = match raw.msg_type() {
            MsgType::FeaturesReply => vec![Message::FeaturesReply(SwitchFeatures {
                datapath_id: 0x0000_5054_0000_0001,
                n_buffers: 256,
                n_tables: 254,
                auxiliary_id: 2,
                capabilities: 0x7ff,
                actions: 0xfff,
                ports: vec![eth(port_no::LOCAL, "br0"), eth(2, "eth2"), eth(1, "a-very-long-port-name")],
            })],
            MsgType::GetConfigReply => vec![Message::GetConfigReply(SwitchConfig {
                frag: FragHandling::Drop,
                invalid_ttl_to_controller: true,
                miss_send_len: 128,
            })],
            MsgType::SetConfig => vec![Message::SetConfig(SwitchConfig {
                frag: FragHandling::NxMatch,
                invalid_ttl_to_controller: v < 4,
                miss_send_len: 0xffff,
            })],
            MsgType::PortStatus => vec![
                Message::PortStatus(PortStatus { reason: PortReason::Add, desc: eth(7, "p7") }),
                Message::PortStatus(PortStatus { reason: PortReason::Delete, desc: Port::default() }),
                Message::PortStatus(PortStatus { reason: PortReason::Modify, desc: eth(port_no::LOCAL, "br0") }),
            ],
            MsgType::PortMod => vec![
                Message::PortMod(PortMod {
                    port_no: 3,
                    hw_addr: [0x50, 0x54, 0, 0, 0, 1],
                    config: config::PORT_DOWN | config::NO_FWD,
                    mask: config::PORT_DOWN | config::NO_FWD | config::NO_RECV,
                    advertise: features::F_100MB_FD | features::AUTONEG,
                }),
                Message::PortMod(PortMod { port_no: port_no::LOCAL, ..PortMod::default() }),
            ],
            MsgType::PortDescStatsRequest => vec![
                Message::PortDescStatsRequest(PortDescRequest::default()),
                Message::PortDescStatsRequest(PortDescRequest { port_no: 5 }),
            ],
            MsgType::PortDescStatsReply => vec![
                Message::PortDescStatsReply(PortDescReply { ports: vec![eth(9, "eth9"), eth(port_no::LOCAL, "br0")] }),
                Message::PortDescStatsReply(PortDescReply::default()),
            ],
            t @ (MsgType::RoleRequest | MsgType::RoleReply) => {
                let roles: &[Role] = if is_nxt_role(raw) {
                    &[Role::Equal, Role::Primary, Role::Secondary]
                } else {
                    &[Role::NoChange, Role::Equal, Role::Primary, Role::Secondary]
                };
                roles
                    .iter()
                    .map(|&role| {
                        let m = RoleMsg { role, generation_id: (role != Role::NoChange).then_some(0x1234_5678_9abc) };
                        if t == MsgType::RoleRequest {
                            Message::RoleRequest(m)
                        } else {
                            Message::RoleReply(m)
                        }
                    })
                    .collect()
            }
            MsgType::RoleStatus => [0u8, 1, 2, 7]
                .iter()
                .map(|&r| {
                    Message::RoleStatus(RoleStatus {
                        role: Role::Secondary,
                        reason: RoleReason::from_wire(r),
                        generation_id: 99,
                        properties: Bytes::new(),
                    })
                })
                .collect(),
            MsgType::GetAsyncReply => vec![
                Message::GetAsyncReply(AsyncConfig::default_for(v)),
                Message::GetAsyncReply(AsyncConfig { primary: [0xff; 6], secondary: [0x3f, 7, 0x3f, 7, 0x18, 3] }),
            ],
            MsgType::SetAsyncConfig => {
                let mut partial = AsyncUpdate::default();
                partial.primary[AsyncMsgType::PacketIn as usize] = Some(0x7);
                partial.secondary[AsyncMsgType::RequestForward as usize] = Some(0x3);
                vec![
                    Message::SetAsyncConfig(AsyncUpdate::from(AsyncConfig::default_for(v))),
                    Message::SetAsyncConfig(partial),
                ]
            }
            MsgType::SetFlowFormat => vec![
                Message::SetFlowFormat(FlowFormat::OpenFlow10),
                Message::SetFlowFormat(FlowFormat::Nxm),
                Message::SetFlowFormat(FlowFormat::Unknown(1)),
            ],
            MsgType::SetPacketInFormat => [PacketInFormat::Standard, PacketInFormat::Nxt, PacketInFormat::Nxt2]
                .into_iter()
                .map(Message::SetPacketInFormat)
                .collect(),
            MsgType::SetControllerId => vec![Message::SetControllerId(123)],
            MsgType::Requestforward => {
                let mut v2 = vec![Message::Requestforward(RequestForward {
                    reason: ForwardReason::GroupMod,
                    request: group_mod_inner(v, 7),
                })];
                if v >= 4 {
                    for (cmd, flags, id, bands) in [
                        (0u16, 0u16, 1u32, vec![]),
                        (1, 0x5, 0xffff_fffe, vec![(2u16, 1000u32, 100u32, 3u8), (1, 5, 6, 0)]),
                        (2, 0xa, 0xffff_ffff, vec![]),
                    ] {
                        v2.push(Message::Requestforward(RequestForward {
                            reason: ForwardReason::MeterMod,
                            request: meter_mod_inner(v, 8, cmd, flags, id, &bands),
                        }));
                    }
                }
                v2
            }
            MsgType::TableStatus => vec![
                Message::TableStatus(TableStatus {
                    reason: TableReason::VacancyDown,
                    desc: TableDesc {
                        table_id: 0,
                        eviction: true,
                        vacancy: true,
                        eviction_flags: Some(7),
                        vacancy_down: 20,
                        vacancy_up: 80,
                        vacancy_now: 15,
                    },
                }),
                Message::TableStatus(TableStatus { reason: TableReason::VacancyUp, desc: TableDesc::default() }),
            ],
            t => panic!("{t:?} is not covered"),
        };
        out.extend(bodies.into_iter().map(|b| msg(raw, v, b)));
    }
    out
}
