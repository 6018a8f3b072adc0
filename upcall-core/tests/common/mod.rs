//! Upcall builders shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use bytes::Bytes;
use upcall_core::fuzzing::test_packet;
use upcall_core::odp::AttrBuilder;
use upcall_core::{cookie, DpifUpcall, DPIF_UC_ACTION, DPIF_UC_MISS};

/// Flow key of a TCP/IPv4 packet from datapath port `port`.
pub fn tcp_key(port: u32, src: u16, dst: u16) -> Bytes {
    AttrBuilder::new()
        .in_port(port)
        .ethernet([0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 2])
        .ethertype(0x0800)
        .ipv4(0x0a00_0001, 0x0a00_0002, 6, 0, 64, 0)
        .tcp(src, dst)
        .finish()
}

/// A miss upcall with key `key` and a test packet carrying `id`, `tcp_flags` and `padding` extra bytes.
pub fn miss_with(key: &Bytes, id: u64, tcp_flags: u8, padding: usize) -> DpifUpcall {
    DpifUpcall { kind: DPIF_UC_MISS, key: key.clone(), packet: test_packet(id, tcp_flags, padding), userdata: None }
}

pub fn miss(key: &Bytes, id: u64) -> DpifUpcall {
    miss_with(key, id, 0, 0)
}

/// An action upcall with a well-formed cookie of `cookie_type`/`size`.
pub fn action(key: &Bytes, id: u64, cookie_type: u16, size: usize) -> DpifUpcall {
    DpifUpcall {
        kind: DPIF_UC_ACTION,
        key: key.clone(),
        packet: test_packet(id, 0, 0),
        userdata: Some(cookie(cookie_type, size)),
    }
}
