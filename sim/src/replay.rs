//! Replaying a record of a switch's inputs (`ofagent run --record`, `ofsim run --record`): build
//! the switch from the record's setup, feed it every input at its time, and compare what comes back
//! with what the record says came back.

use ofproto_core::timeline::{Entry, Fed, Record, Recorded};

use crate::agent::{feed, SwitchAgent};

/// How a replay went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub inputs: usize,
    /// Inputs whose recorded result was compared.
    pub results_compared: usize,
    /// Outputs compared (transport requests and frames sent).
    pub outputs_compared: usize,
    /// What differed, by record line (at most [`MAX_DIFFERENCES`]).
    pub differences: Vec<String>,
}

/// Differences reported before a replay gives up comparing.
pub const MAX_DIFFERENCES: usize = 20;

impl Report {
    pub fn is_identical(&self) -> bool {
        self.differences.is_empty()
    }
}

/// What the switch drained, in two sequences (their interleaving depends on when the embedder drains).
#[derive(Default)]
struct Drained {
    outputs: Vec<Recorded>,
    packets: Vec<Recorded>,
}

fn drain<A: SwitchAgent>(a: &mut A, into: &mut Drained) {
    while let Some(o) = a.poll_output() {
        into.outputs.push(Recorded::Output(o));
    }
    while a.poll_event().is_some() {}
    while let Some((port, frame)) = a.poll_packet_out() {
        into.packets.push(Recorded::PacketOut { port, frame });
    }
}

/// Replays `record` on a new `A`.
pub fn replay<A: SwitchAgent>(record: &Record) -> Report {
    let mut report = Report::default();
    let mut a = A::build(record.start, &record.setup);
    let mut got = Drained::default();
    let mut want = Drained::default();
    // (record line, position in each sequence) so a difference in outputs can name its input.
    let mut marks: Vec<(usize, usize, usize)> = Vec::new();
    let split = |r: &Recorded, d: &mut Drained| match r {
        Recorded::PacketOut { .. } => d.packets.push(r.clone()),
        Recorded::Output(_) => d.outputs.push(r.clone()),
    };
    drain(&mut a, &mut got);
    record.initial_outputs.iter().for_each(|r| split(r, &mut want));
    for step in &record.steps {
        report.inputs += 1;
        marks.push((step.line, got.outputs.len(), got.packets.len()));
        let fed = feed(&mut a, step.time, &step.input);
        if let Some(expected) = &step.fed {
            report.results_compared += 1;
            if fed.as_ref() != Some(expected) && report.differences.len() < MAX_DIFFERENCES {
                let got = fed.as_ref().map_or("nothing".to_string(), Fed::to_string);
                report
                    .differences
                    .push(format!("line {}: `{}` returned {got}, the record says {expected}", step.line, step.input));
            }
        }
        drain(&mut a, &mut got);
        step.outputs.iter().for_each(|r| split(r, &mut want));
    }
    if record.has_outputs() {
        compare(&mut report, "output", &got.outputs, &want.outputs, &marks, |m| m.1);
        compare(&mut report, "frame out", &got.packets, &want.packets, &marks, |m| m.2);
    }
    report
}

fn compare(
    report: &mut Report,
    what: &str,
    got: &[Recorded],
    want: &[Recorded],
    marks: &[(usize, usize, usize)],
    pos: impl Fn(&(usize, usize, usize)) -> usize,
) {
    report.outputs_compared += got.len().min(want.len());
    let first_diff = got.iter().zip(want).position(|(g, w)| g != w);
    let at = |i: usize| marks.iter().rev().find(|m| pos(m) <= i).map_or(0, |m| m.0);
    let t = without_time;
    if let Some(i) = first_diff {
        report.differences.push(format!(
            "after line {}: {what} {} is `{}`, the record says `{}`",
            at(i),
            i + 1,
            t(&got[i]),
            t(&want[i])
        ));
    } else if got.len() != want.len() {
        report.differences.push(format!("{} {what}s, the record has {}", got.len(), want.len()));
    }
}

/// An output as its record line shows it, without the time.
fn without_time(r: &Recorded) -> String {
    let line = Entry::Recorded(ofp_proto::Instant::ZERO, r).to_string();
    line.split_once(' ').map_or(line.clone(), |(_, rest)| rest.to_string())
}
