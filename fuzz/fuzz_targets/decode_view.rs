//! Any single message: `MsgView::parse` fails exactly when `OfpMsg::decode` fails, with the same
//! error, and otherwise reads what the owned message holds.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.len() >= 8 && data.len() <= 65535 {
        let mut m = data.to_vec();
        m[2..4].copy_from_slice(&(data.len() as u16).to_be_bytes());
        ofp_proto::fuzzing::check_view(&m);
    }
    ofp_proto::fuzzing::check_view(data);
});
