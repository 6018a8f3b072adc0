//! Property tests for the switch, port, role, async-config, Nicira-format and status messages, run
//! for every layout in every version: encode→decode keeps exactly what the version carries,
//! re-encoding a decoded message reproduces its bytes, and no body makes the decoder panic.

#[path = "proto_a/strategies.rs"]
mod strategies;

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use ofp_proto::print::ofp_to_string;
use ofp_proto::{raw, OfpMsg, Raw};
use strategies::{arb_body, msg, normalize, raws};

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

fn decode(bytes: &Bytes, raw: Raw, version: u8) -> Result<OfpMsg, TestCaseError> {
    OfpMsg::decode(bytes).map_err(|e| TestCaseError::fail(format!("{raw:?} in version {version}: {e:?}")))
}

#[test]
fn every_layout_is_covered() {
    let rs = raws();
    assert!(rs.len() >= 60, "only {} (raw, version) pairs", rs.len());
    for r in [Raw::NxtRoleRequest, Raw::Onft13RoleStatus, Raw::NxtSetAsyncConfig2, Raw::Ofpst15PortDescRequest] {
        assert!(rs.iter().any(|(x, _)| *x == r), "{r:?} missing");
    }
}

#[test]
fn encode_decode_keeps_what_the_version_carries_and_reencodes_identically() {
    for (raw, v) in raws() {
        let r = runner(96).run(&arb_body(raw, v), |body| {
            let bytes = msg(raw, v, body.clone()).to_bytes();
            let back = decode(&bytes, raw, v)?;
            prop_assert_eq!((back.raw, back.version, back.xid), (raw, v, 0x42));
            prop_assert_eq!(&back.body, &normalize(raw, v, &body));
            prop_assert_eq!(back.to_bytes(), bytes);
            Ok(())
        });
        if let Err(e) = r {
            panic!("{raw:?} in version {v}: {e}");
        }
    }
}

#[test]
fn whatever_decodes_reencodes_stably() {
    for (raw, v) in raws() {
        let mutated = (arb_body(raw, v), prop::collection::vec((any::<usize>(), any::<u8>()), 1..4));
        let r = runner(96).run(&mutated, |(body, flips)| {
            let mut b = BytesMut::from(&msg(raw, v, body).to_bytes()[..]);
            let hdrs = raw.hdrs_len(v);
            if b.len() > hdrs {
                for (i, x) in flips {
                    let at = hdrs + i % (b.len() - hdrs);
                    b[at] = x;
                }
            }
            let b = b.freeze();
            if let Ok(m) = OfpMsg::decode(&b) {
                let again = m.to_bytes();
                let m2 = decode(&again, raw, v)?;
                prop_assert_eq!(&m2, &m);
                prop_assert_eq!(m2.to_bytes(), again);
            }
            Ok(())
        });
        if let Err(e) = r {
            panic!("{raw:?} in version {v}: {e}");
        }
    }
}

#[test]
fn arbitrary_bodies_never_panic() {
    for (raw, v) in raws() {
        let info = raw.info();
        let fitting = (0usize..6).prop_map(move |k| usize::from(info.min_body) + k * usize::from(info.extra_multiple));
        let len = prop_oneof![fitting, 0usize..200];
        let body = len.prop_flat_map(|n| prop::collection::vec(any::<u8>(), n));
        let r = runner(256).run(&body, |body| {
            let mut b = BytesMut::new();
            let start = raw.put_headers(v, 1, 0, &mut b);
            b.put_slice(&body);
            raw::finish_msg(&mut b, start);
            let b = b.freeze();
            let _ = OfpMsg::decode(&b);
            let _ = ofp_to_string(&b, 2);
            Ok(())
        });
        if let Err(e) = r {
            panic!("{raw:?} in version {v}: {e}");
        }
    }
}
