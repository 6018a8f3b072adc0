//! `ofsim`: a deterministic simulator for the switch agent. Scenario timelines put switches (the
//! real cores), scripted controllers and a faulty network into a virtual world whose clock jumps
//! from one event to the next; runs print transcripts, draw pictures, sweep seeds with random
//! faults and shrink failures, and replay records of the daemon's inputs.

pub mod agent;
pub mod bundles;
mod checks;
pub mod controller;
pub mod invariants;
pub mod net;
pub mod replay;
pub mod rng;
pub mod scenario;
pub mod shrink;
pub mod svg;
pub mod sweep;
pub mod traffic;
pub mod world;
