//! `ofsim`: replays timelines against the real cores in virtual time.

fn main() {
    eprintln!("ofsim: not yet implemented");
    std::process::exit(2);
}
