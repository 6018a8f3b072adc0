//! The `ofagent` daemon around the sans-IO cores: command line and configuration, one mio event loop
//! (sockets, signals, the control socket), status, and the `ofp-print` decoder.
//!
//! The switch itself (`ofproto_core::Switch`, see [`switch_core`]) is behind [`core::SwitchCore`];
//! [`fake_core::FakeCore`] stands in for it in the event loop's own tests (`run --fake-core`).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

pub mod cli;
pub mod config;
pub mod config_file;
pub mod control;
pub mod core;
pub mod event_loop;
pub mod fake_core;
pub mod logger;
pub mod net;
pub mod ofp_print;
pub mod reading;
pub mod record;
pub mod signals;
pub mod stamp;
pub mod status;
pub mod switch_core;
