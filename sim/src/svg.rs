//! Pictures of a run: one lane per (switch, controller) with the connection state over time
//! (BACKOFF/CONNECTING/ACTIVE/IDLE), the controller's role, the packet-in backlog and drops, and
//! the timeline's events as numbered marks. Plain SVG text, written by hand.

use std::fmt::Write;

use connmgr_core::Role;
use std::time::Duration;

use ofp_proto::Instant;
use ofproto_core::timeline::format_duration;

use crate::world::{Lane, Outcome};

const LEFT: f64 = 150.0;
const WIDTH: f64 = 1000.0;
const TOP: f64 = 40.0;
const LANE: f64 = 64.0;

fn state_color(state: &str) -> &'static str {
    match state {
        "ACTIVE" => "#4caf50",
        "IDLE" => "#a5d6a7",
        "CONNECTING" => "#29b6f6",
        "BACKOFF" => "#ffb74d",
        "DISCONNECTED" => "#9e9e9e",
        _ => "#e0e0e0",
    }
}

fn role_color(role: Option<Role>) -> &'static str {
    match role {
        Some(Role::Primary) => "#1a3d8f",
        Some(Role::Secondary) => "#b0b0b0",
        Some(Role::Equal) => "#7fa7e0",
        _ => "none",
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Spans of a step function: (from, to, value) up to `end`.
fn spans<T: Clone>(points: &[(Instant, T)], end: Instant) -> Vec<(Instant, Instant, T)> {
    points
        .iter()
        .enumerate()
        .map(|(i, (t, v))| (*t, points.get(i + 1).map_or(end, |n| n.0), v.clone()))
        .filter(|(a, b, _)| b > a)
        .collect()
}

/// A round tick spacing (1, 2 or 5 times a power of ten ms) giving about ten ticks.
fn tick_step(end_ms: u64) -> u64 {
    let rough = (end_ms / 10).max(1);
    let mut base = 1u64;
    loop {
        for m in [1, 2, 5] {
            if base * m >= rough {
                return base * m;
            }
        }
        base *= 10;
    }
}

/// The whole picture.
pub fn render(title: &str, out: &Outcome) -> String {
    let end = out.end.max(Instant::from_millis(1));
    let x = |t: Instant| LEFT + WIDTH * t.as_millis() as f64 / end.as_millis() as f64;
    let lanes: &[Lane] = &out.lanes;
    let marks_top = TOP + LANE * lanes.len() as f64 + 30.0;
    let height = marks_top + 16.0 * out.marks.len() as f64 + 60.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" font-family="monospace" font-size="11">"#,
        LEFT + WIDTH + 40.0
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="10" y="16" font-size="13">{}</text>"#, esc(title));
    let step = tick_step(end.as_millis());
    let mut t = 0;
    while t <= end.as_millis() {
        let xt = x(Instant::from_millis(t));
        let _ = writeln!(
            s,
            r##"<line x1="{xt:.1}" y1="{TOP}" x2="{xt:.1}" y2="{:.1}" stroke="#eeeeee"/><text x="{xt:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            TOP + LANE * lanes.len() as f64,
            TOP - 6.0,
            format_duration(Duration::from_millis(t))
        );
        t += step;
    }
    for (i, lane) in lanes.iter().enumerate() {
        let y = TOP + LANE * i as f64;
        let _ =
            writeln!(s, r#"<text x="8" y="{:.1}">{} → {}</text>"#, y + 15.0, esc(&lane.switch), esc(&lane.controller));
        for (a, b, st) in spans(&lane.states, end) {
            let _ = writeln!(
                s,
                r#"<rect x="{:.1}" y="{y:.1}" width="{:.2}" height="20" fill="{}"><title>{} {}–{}</title></rect>"#,
                x(a),
                (x(b) - x(a)).max(0.5),
                state_color(&st),
                esc(&st),
                a,
                b
            );
        }
        for (a, b, role) in spans(&lane.roles, end) {
            if role.is_some() {
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.2}" height="6" fill="{}"/>"#,
                    x(a),
                    y + 22.0,
                    (x(b) - x(a)).max(0.5),
                    role_color(role)
                );
            }
        }
        let base = y + 58.0;
        for (points, color, label) in [(&lane.backlog, "#6a1b9a", "backlog"), (&lane.dropped, "#d32f2f", "dropped")] {
            let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0);
            if max == 0 {
                continue;
            }
            let mut path = String::new();
            for (a, b, v) in spans(points, end) {
                let yv = base - 26.0 * v as f64 / max as f64;
                let _ = write!(path, "M{:.1},{yv:.1} L{:.1},{yv:.1} ", x(a), x(b));
            }
            let _ = writeln!(s, r##"<path d="{path}" stroke="{color}" fill="none"/>"##);
            let ly = if label == "backlog" { base - 14.0 } else { base };
            let _ = writeln!(s, r##"<text x="8" y="{ly:.1}" fill="{color}">{label} ≤{max}</text>"##);
        }
    }
    for (i, (t, text)) in out.marks.iter().enumerate() {
        let xt = x(*t);
        let _ = writeln!(
            s,
            r##"<line x1="{xt:.1}" y1="{TOP}" x2="{xt:.1}" y2="{:.1}" stroke="#c62828" stroke-dasharray="3,3"/><text x="{xt:.1}" y="{:.1}" fill="#c62828" text-anchor="middle">{}</text>"##,
            marks_top - 22.0,
            marks_top - 10.0,
            i + 1
        );
        let _ = writeln!(
            s,
            r##"<text x="{LEFT}" y="{:.1}" fill="#c62828">{}: {} {}</text>"##,
            marks_top + 16.0 * i as f64 + 10.0,
            i + 1,
            t,
            esc(text)
        );
    }
    let ly = height - 24.0;
    let mut lx = LEFT;
    for st in ["BACKOFF", "CONNECTING", "ACTIVE", "IDLE"] {
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{}" y="{ly:.1}">{st}</text>"#,
            ly - 10.0,
            state_color(st),
            lx + 16.0
        );
        lx += 110.0;
    }
    for (name, role) in [("master", Role::Primary), ("slave", Role::Secondary), ("equal", Role::Equal)] {
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{:.1}" width="12" height="6" fill="{}"/><text x="{}" y="{ly:.1}">{name}</text>"#,
            ly - 6.0,
            role_color(Some(role)),
            lx + 16.0
        );
        lx += 90.0;
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(60_000), 10_000);
        assert_eq!(tick_step(3_600_000), 500_000);
        assert_eq!(tick_step(5), 1);
    }

    #[test]
    fn lanes_become_rectangles() {
        let lane = Lane {
            switch: "s1".into(),
            controller: "c1".into(),
            states: vec![(Instant::ZERO, "CONNECTING".into()), (Instant::from_secs(1), "ACTIVE".into())],
            roles: vec![(Instant::from_secs(1), Some(Role::Primary))],
            backlog: vec![(Instant::from_secs(2), 5), (Instant::from_secs(3), 0)],
            dropped: vec![(Instant::from_secs(2), 1)],
            ..Lane::default()
        };
        let out = Outcome {
            lanes: vec![lane],
            marks: vec![(Instant::from_secs(2), "c1 partition 30s".into())],
            end: Instant::from_secs(4),
            ..Outcome::default()
        };
        let svg = render("t", &out);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(r##"width="250.00" height="20" fill="#29b6f6""##), "{svg}");
        assert!(svg.contains(r##"width="750.00" height="20" fill="#4caf50""##));
        assert!(svg.contains("1: 2.000 c1 partition 30s"));
        assert!(svg.contains("backlog ≤5") && svg.contains("dropped ≤1"));
    }
}
