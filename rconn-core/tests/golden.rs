//! Golden timelines in the style of OVS `tests/reconnect.at`: each file under `tests/golden/` holds the
//! inputs (unindented) and the expected transcript (indented). `GOLDEN_REGEN=1` rewrites the
//! transcripts; every one was checked by hand against OVS's `rconn.c`/`vconn.c` rules.

mod support;

use support::{check_golden, golden_path, Timeline};

fn timeline(name: &str) {
    let script = std::fs::read_to_string(golden_path(name)).unwrap();
    check_golden(name, &Timeline::run(&script));
}

#[test]
fn refused_connections_back_off_1_2_4_8_8() {
    timeline("refused_backoff");
}

#[test]
fn refusal_found_after_the_attempt_started() {
    timeline("refused_async");
}

#[test]
fn quick_drop_doubles_long_lived_drop_resets() {
    timeline("drop_and_reset");
}

#[test]
fn connect_and_hello_time_out() {
    timeline("connect_timeout");
}

#[test]
fn probe_then_disconnect_after_silence() {
    timeline("probe_timeout");
}

#[test]
fn echo_reply_keeps_the_connection_active() {
    timeline("probe_answered");
}

#[test]
fn max_backoff_change_during_backoff() {
    timeline("max_backoff_change");
}

#[test]
fn unreliable_connections_are_not_retried() {
    timeline("unreliable");
}

#[test]
fn hello_exchange_failures() {
    timeline("hello_errors");
}

#[test]
fn other_versions_get_bad_version() {
    timeline("bad_version");
}

#[test]
fn at_most_eight_snoop_monitors() {
    timeline("snoop_limit");
}

#[test]
fn queue_counters_and_limits() {
    timeline("queue_counters");
}

#[test]
fn admission_and_failure_duration() {
    timeline("admission");
}

#[test]
fn configuration_calls() {
    timeline("control");
}

#[test]
fn received_messages_and_end_of_stream() {
    timeline("receive");
}
