//! `ofagent ofp-print`: decodes OpenFlow messages given in hex, printing `ovs-ofctl ofp-print`'s
//! text (at its default verbosity) or one JSON object per message.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use bytes::Bytes;
use ofp_proto::print::{key_fields, ofp_to_string, parse_hex, KeyValue};
use ofp_proto::{raw, Header, OfpMsg};
use serde_json::{json, Map, Value};

use crate::cli::OfpPrintArgs;

/// `ovs-ofctl ofp-print`'s default verbosity.
const VERBOSITY: u8 = 2;

pub fn main(args: &OfpPrintArgs) -> ExitCode {
    let messages = if args.messages.is_empty() {
        match std::io::stdin().lock().lines().collect::<Result<Vec<_>, _>>() {
            Ok(lines) => lines.into_iter().filter(|l| !l.trim().is_empty()).collect(),
            Err(e) => {
                eprintln!("ofagent: reading stdin: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        args.messages.clone()
    };
    let mut out = std::io::stdout().lock();
    for hex in &messages {
        let Some(data) = parse_hex(hex) else {
            eprintln!("ofagent: \"{}\": trailing garbage following hex bytes", hex.trim());
            return ExitCode::FAILURE;
        };
        let text = if args.json {
            format!("{}\n", Value::Object(json_fields(&data)))
        } else {
            ofp_to_string(&data, VERBOSITY)
        };
        // A closed stdout (e.g. `| head`) ends the output quietly.
        if out.write_all(text.as_bytes()).is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}

/// The fields every message has (`name`, `version`, `type`, `length`, `xid`), then the message's own
/// key fields (`ofp_proto::print::key_fields`), or `error` (the OVS error name) if it does not decode.
pub fn json_fields(data: &[u8]) -> Map<String, Value> {
    let mut fields = Map::new();
    let Some(h) = Header::parse(data) else {
        fields.insert("error".into(), json!("OpenFlow packet too short"));
        fields.insert("length".into(), json!(data.len()));
        return fields;
    };
    if let Ok(raw) = raw::identify(data) {
        fields.insert("name".into(), json!(raw.name()));
    }
    fields.insert("version".into(), json!(h.version));
    fields.insert("type".into(), json!(h.msg_type));
    fields.insert("length".into(), json!(h.length));
    fields.insert("xid".into(), json!(h.xid));
    if usize::from(h.length) != data.len() {
        let e = format!("length {} in the header, {} bytes given", h.length, data.len());
        fields.insert("error".into(), json!(e));
        return fields;
    }
    match OfpMsg::decode(&Bytes::copy_from_slice(data)) {
        Ok(msg) => {
            for (key, value) in key_fields(&msg) {
                fields.insert(key.into(), to_json(value));
            }
        }
        Err(e) => {
            fields.insert("error".into(), json!(e.error.name()));
        }
    }
    fields
}

fn to_json(v: KeyValue) -> Value {
    match v {
        KeyValue::Str(s) => Value::String(s),
        KeyValue::Int(i) => json!(i),
        KeyValue::Bool(b) => Value::Bool(b),
        KeyValue::List(l) => Value::Array(l.into_iter().map(to_json).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_carries_the_common_and_key_fields() {
        let hello = parse_hex("04000010000000010001000800000012").unwrap();
        let v = Value::Object(json_fields(&hello));
        assert_eq!(
            v,
            json!({"name": "OFPT_HELLO", "version": 4, "type": 0, "length": 16, "xid": 1, "version_bitmap": [1, 4]})
        );
        let role = parse_hex("041800180000000500000002000000000000000000000001").unwrap();
        let v = Value::Object(json_fields(&role));
        assert_eq!((&v["role"], &v["generation_id"]), (&json!("primary"), &json!(1)));
        let bad = parse_hex("0463000800000000").unwrap();
        assert_eq!(Value::Object(json_fields(&bad))["error"], "OFPBRC_BAD_TYPE");
        // An OF1.3 echo request cut short: identified, but the length disagrees.
        let short = parse_hex("04020010000000ab").unwrap();
        let v = Value::Object(json_fields(&short));
        assert_eq!(v["name"], "OFPT_ECHO_REQUEST");
        assert_eq!(v["error"], "length 16 in the header, 8 bytes given");
        assert_eq!(Value::Object(json_fields(&[1, 0])), json!({"error": "OpenFlow packet too short", "length": 2}));
    }
}
