//! `ofagent`: the OpenFlow switch agent daemon.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

fn main() {
    eprintln!("ofagent: not yet implemented");
    std::process::exit(2);
}
