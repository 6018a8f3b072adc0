//! Every vector's first line, as `ofagent ofp-print` prints it, equals what `ovs-ofctl ofp-print` printed.

mod common;

use ofp_proto::print::first_line;

/// Vectors whose message types this codec deliberately keeps opaque, with the reason.
/// Anything not listed here must match exactly.
const OUT_OF_SCOPE: &[(&str, &str)] = &[];

#[test]
fn first_lines_match_ovs_ofctl() {
    let mut failures = vec![];
    let mut checked = 0;
    for v in common::all() {
        if OUT_OF_SCOPE.iter().any(|(n, _)| *n == v.name) {
            continue;
        }
        checked += 1;
        let ours = first_line(&v.bytes);
        if ours != v.first_line() {
            failures.push(format!("{}\n   ovs: {}\n  ours: {}", v.name, v.first_line(), ours));
        }
    }
    assert!(checked > 200, "vectors went missing: only {checked}");
    assert!(failures.is_empty(), "{} of {checked} vectors differ:\n{}", failures.len(), failures.join("\n"));
}
