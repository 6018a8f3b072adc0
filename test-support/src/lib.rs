//! Helpers the workspace's test suites share (a dev-dependency only; it depends on nothing of
//! ours): capturing log lines per test thread, and running the real OVS tools, which are test
//! oracles — where one is missing a test skips with a note, except under `CI=true`, where it fails.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // test support: runs processes

mod logs;
mod tools;

pub use logs::{capture_logs, take_logs};
pub use tools::{installed, ovs_ofctl_print, run_tool};
