//! `--markdown`: a pull-request comment in the spirit of PyTorch's Dr. CI, but per test and
//! with its reasons: the counts per verdict, then the new failures with their job, first
//! message line and repro command, then the flaky and already-broken tests, and the
//! clusters. It stays under GitHub's comment limit: past the budget, lists are summarised
//! ("and N more"), never cut mid-line.

use crate::run::LoadedRun;
use crate::sanitize::line;
use crate::triage::compare::Compared;
use crate::triage::summary::{Triage, is_new, repro_of};
use crate::triage::verdict::Verdict;

/// GitHub's limit for a comment body, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Lines added while they fit in a budget; what does not fit is counted, not cut.
struct Budget {
    out: String,
    left: usize,
}

impl Budget {
    fn push(&mut self, text: &str) -> bool {
        let n = text.chars().count() + 1;
        if n > self.left {
            return false;
        }
        self.out.push_str(text);
        self.out.push('\n');
        self.left -= n;
        true
    }
}

/// Text safe inside a Markdown table cell or inline code: one line, no pipes or backticks.
fn cell(s: &str) -> String {
    line(s).replace('|', "\\|").replace('`', "'")
}

fn entry(run: &LoadedRun, c: &Compared, with_repro: bool) -> Vec<String> {
    let jobs = c.jobs().iter().map(|j| cell(j)).collect::<Vec<_>>();
    let notes: String = c
        .notes()
        .iter()
        .map(|n| format!(" ({})", cell(n)))
        .collect();
    let mut lines = vec![format!(
        "- `{}` `{}` in {}{notes}",
        cell(&c.key.config),
        cell(&c.test_id()),
        if jobs.is_empty() {
            "(no job)".to_string()
        } else {
            jobs.join(", ")
        },
    )];
    if let Some(b) = c.head_brief(run) {
        if !b.message.is_empty() {
            lines.push(format!("  > {}", cell(&b.message)));
        }
        if with_repro {
            let (repro, _) = repro_of(run, b);
            lines.push(format!("  `{}`", cell(&repro)));
        }
    }
    lines
}

/// The comment for `run` against its base (in `triage`), at most `limit` characters.
pub fn comment(run: &LoadedRun, triage: &Triage, limit: usize) -> String {
    let mut b = Budget {
        out: String::new(),
        left: limit,
    };
    let Some(cmp) = &triage.comparison else {
        // Without a base: what failed, by cluster.
        b.push(&format!(
            "## testscope: {} failing cases in {} clusters",
            triage.clusters.of_brief.iter().flatten().count(),
            triage.clusters.clusters.len()
        ));
        clusters(&mut b, triage);
        return b.out;
    };
    let new = cmp.count(Verdict::NewFailure) + cmp.count(Verdict::NewTestFailing);
    b.push(&format!(
        "## testscope: {new} new failure{}, {} flaky, {} still failing",
        if new == 1 { "" } else { "s" },
        cmp.count(Verdict::Flaky),
        cmp.count(Verdict::StillFailing)
    ));
    b.push("");
    b.push(&format!("Compared with {}.", cell(&cmp.base_description)));
    for w in &cmp.warnings {
        b.push(&format!("**Warning:** {}", cell(w)));
    }
    b.push("");
    b.push("| verdict | tests |");
    b.push("| --- | ---: |");
    for v in Verdict::ALL {
        b.push(&format!("| {} | {} |", v.name(), cmp.count(v)));
    }
    for (title, pick, repro) in [
        ("New failures", (|v| is_new(v)) as fn(Verdict) -> bool, true),
        ("Flaky", |v| v == Verdict::Flaky, false),
        (
            "Still failing (broken in the base too)",
            |v| v == Verdict::StillFailing,
            false,
        ),
        (
            "Missing (ran in the base, not here)",
            |v| v == Verdict::Missing,
            false,
        ),
    ] {
        let tests: Vec<&Compared> = cmp.tests.iter().filter(|t| pick(t.verdict)).collect();
        if tests.is_empty() {
            continue;
        }
        b.push("");
        b.push(&format!("### {title} ({})", tests.len()));
        b.push("");
        let mut shown = 0;
        for t in &tests {
            let lines = entry(run, t, repro);
            let size: usize = lines.iter().map(|l| l.chars().count() + 1).sum();
            // Keep room for the summary line of what is left out.
            if size + 80 > b.left {
                break;
            }
            for l in &lines {
                b.push(l);
            }
            shown += 1;
        }
        if shown < tests.len() {
            b.push(&format!(
                "- … and {} more (`testscope --json` lists them all)",
                tests.len() - shown
            ));
        }
    }
    clusters(&mut b, triage);
    if !triage.disabled_skips.is_empty() {
        b.push("");
        b.push(&format!(
            "{} test(s) skipped as disabled by PyTorch's disabled-tests list.",
            triage.disabled_skips.len()
        ));
    }
    b.out
}

fn clusters(b: &mut Budget, triage: &Triage) {
    if triage.clusters.clusters.is_empty() {
        return;
    }
    b.push("");
    b.push("### Failure clusters");
    b.push("");
    b.push("| cases | tests | jobs | signature |");
    b.push("| ---: | ---: | ---: | --- |");
    let total = triage.clusters.clusters.len();
    for (i, c) in triage.clusters.clusters.iter().enumerate() {
        let row = format!(
            "| {} | {} | {} | `{}` |",
            c.cases(),
            c.tests,
            c.jobs,
            cell(&c.signature)
        );
        if row.chars().count() + 80 > b.left || !b.push(&row) {
            b.push(&format!("\n… and {} more clusters", total - i));
            break;
        }
    }
}

/// Write `text` to `$GITHUB_STEP_SUMMARY` when running under GitHub Actions.
pub fn to_step_summary(text: &str) -> std::io::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}
