//! Shrinking a failing timeline (delta debugging over its lines): drop ever smaller groups of
//! lines while the failure stays, never the declarations the rest depends on, nor `end`.

/// Lines that may go: events, not the world's makeup.
fn removable(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().take_while(|w| !w.starts_with('#')).collect();
    match words.get(1).copied() {
        None | Some("switch" | "controller" | "end") => false,
        Some(_) => true,
    }
}

/// The smallest timeline found (within `max_runs` tries of `fails`) that still fails, and the
/// number of tries used. Comments and blank lines are dropped.
pub fn shrink(text: &str, mut fails: impl FnMut(&str) -> bool, max_runs: usize) -> (String, usize) {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).collect();
    let mut keep = vec![true; lines.len()];
    let candidates: Vec<usize> = (0..lines.len()).filter(|&i| removable(lines[i])).collect();
    let render = |keep: &[bool]| -> String {
        lines.iter().zip(keep).filter(|(_, k)| **k).map(|(l, _)| format!("{l}\n")).collect()
    };
    let mut runs = 0;
    let mut chunk = candidates.len().div_ceil(2).max(1);
    loop {
        let mut removed_any = false;
        let live: Vec<usize> = candidates.iter().copied().filter(|&i| keep[i]).collect();
        for group in live.chunks(chunk) {
            if runs >= max_runs {
                return (render(&keep), runs);
            }
            let mut trial = keep.clone();
            group.iter().for_each(|&i| trial[i] = false);
            runs += 1;
            if fails(&render(&trial)) {
                keep = trial;
                removed_any = true;
            }
        }
        if chunk == 1 && !removed_any {
            break;
        }
        if !removed_any {
            chunk = chunk.div_ceil(2);
        }
    }
    (render(&keep), runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_what_the_failure_needs() {
        let text =
            "# c\n0 controller c1\n0 switch s1\n1 c1 reset\n2 c1 stall 1s\n3 c1 partition 5s\n4 c1 reset\n9 end\n";
        // "Fails" while a partition and some reset remain.
        let fails = |t: &str| t.contains("partition") && t.contains("reset");
        let (out, runs) = shrink(text, fails, 100);
        assert!(runs > 0);
        assert_eq!(out.lines().count(), 5, "{out}");
        assert!(out.starts_with("0 controller c1\n0 switch s1\n"));
        assert!(out.contains("partition") && out.contains("reset") && !out.contains("stall"));
        assert!(out.ends_with("9 end\n"));
    }

    #[test]
    fn stops_at_the_budget() {
        let text = "0 controller c1\n1 c1 reset\n2 c1 reset\n3 c1 reset\n";
        let (out, runs) = shrink(text, |_| false, 2);
        assert_eq!(runs, 2);
        assert_eq!(out, text);
    }
}
