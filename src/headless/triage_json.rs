//! The `--json` parts of triage: `compare` (with a base run), `clusters`, `failed` and
//! `attempt_dialects`, built from a [`Triage`].

use std::io::Write;

use serde_json::{Value as Json, json};

use crate::report::meta;
use crate::run::{LoadedRun, display_value};
use crate::triage::clusters::is_failing;
use crate::triage::compare::{Compared, Side, config_of_file};
use crate::triage::summary::{Triage, attempts_of, brief_of_row, is_new, repro_of};
use crate::triage::verdict::Verdict;

fn job_text(run: &LoadedRun, file: usize) -> String {
    run.files
        .get(file)
        .map(|f| display_value(&f.job_id))
        .unwrap_or_default()
}

fn invoking_of(run: &LoadedRun, file: usize) -> String {
    run.reports
        .get(file)
        .map(|r| meta::invoking_file(r.rel.components()).to_string())
        .unwrap_or_default()
}

fn side_json(run: &LoadedRun, s: &Side) -> Json {
    let brief = s
        .row
        .and_then(|r| brief_of_row(run, r))
        .map(|i| &run.notable[i]);
    let file = s
        .row
        .and_then(|r| run.reports.get(run.cases.file_index[r as usize] as usize))
        .map(|r| r.describe());
    json!({
        "state": s.state.name(),
        "occurrences": s.occurrences,
        "retried": s.retried,
        "jobs": s.jobs,
        "report": file,
        "message": brief.map(|b| b.message.clone()),
    })
}

fn compared_json(head: &LoadedRun, base: Option<&LoadedRun>, t: &Triage, c: &Compared) -> Json {
    let brief = c.head.row.and_then(|r| brief_of_row(head, r));
    let failing = brief.filter(|&i| is_failing(&head.notable[i]));
    let repro = failing.map(|i| repro_of(head, &head.notable[i]).0);
    let cluster = failing.and_then(|i| t.clusters.of(i)).map(|c| c.id.clone());
    json!({
        "config": c.key.config,
        "invoking_file": c.key.invoking_file,
        "classname": c.key.classname,
        "name": c.key.name,
        "verdict": c.verdict.name(),
        "rule": c.verdict.rule(c.head.state, c.base.state),
        "disabled": c.disabled.is_some(),
        "disabled_issue": c.disabled.as_ref().map(|d| d.url.clone()),
        "maybe_affected": c.maybe_affected,
        "repro": repro,
        "cluster": cluster,
        "head": side_json(head, &c.head),
        "base": base.map_or(Json::Null, |b| side_json(b, &c.base)),
    })
}

/// Write `items` as a JSON array, one compact element a line: a PyTorch-sized run lists
/// tens of thousands, never held as one tree.
fn array(out: &mut dyn Write, items: impl Iterator<Item = Json>) -> std::io::Result<()> {
    out.write_all(b"[")?;
    for (n, item) in items.enumerate() {
        out.write_all(if n == 0 { b"\n    " } else { b",\n    " })?;
        serde_json::to_writer(&mut *out, &item)?;
    }
    out.write_all(b"\n  ]")
}

/// Write the `--json` parts of triage as members of the enclosing object (each preceded by
/// a comma): `compare` (with a base), `clusters`, `failed` and `attempt_dialects`.
pub fn write_parts(
    out: &mut dyn Write,
    head: &LoadedRun,
    base: Option<&LoadedRun>,
    t: &Triage,
) -> std::io::Result<()> {
    if let Some(c) = &t.comparison {
        let counts: serde_json::Map<String, Json> = Verdict::ALL
            .iter()
            .map(|v| (v.name().to_string(), json!(c.count(*v))))
            .collect();
        let head_part = json!({
            "base": c.base_description,
            "counts": counts,
            "configs": {"head": c.head_configs, "base": c.base_configs, "shared": c.shared_configs},
            "warnings": c.warnings,
        });
        let text = serde_json::to_string(&head_part)?;
        // The small members, then `tests` streamed into the same object.
        write!(
            out,
            ",\n  \"compare\": {},\n  \"tests\": ",
            &text[..text.len() - 1]
        )?;
        array(out, c.tests.iter().map(|x| compared_json(head, base, t, x)))?;
        out.write_all(b"}")?;
    }
    let new_in = |members: &[u32]| -> Option<usize> {
        let c = t.comparison.as_ref()?;
        Some(
            members
                .iter()
                .filter_map(|&m| {
                    let b = &head.notable[m as usize];
                    head.cases_row(b.file_index, b.ordinal)
                })
                .filter(|&row| c.verdict_of_row(row).is_some_and(is_new))
                .count(),
        )
    };
    out.write_all(b",\n  \"clusters\": ")?;
    array(
        out,
        t.clusters.clusters.iter().map(|c| {
            json!({
                "id": c.id,
                "signature": c.signature,
                "cases": c.cases(),
                "tests": c.tests,
                "jobs": c.jobs,
                "configs": c.configs,
                "new": new_in(&c.members),
                "members": c.members.iter().map(|&m| {
                    let b = &head.notable[m as usize];
                    json!({
                        "job_id": job_text(head, b.file_index),
                        "invoking_file": invoking_of(head, b.file_index),
                        "classname": b.classname,
                        "name": b.name,
                    })
                }).collect::<Vec<_>>(),
            })
        }),
    )?;
    out.write_all(b",\n  \"failed\": ")?;
    let mut configs: rustc_hash::FxHashMap<usize, String> = Default::default();
    array(
        out,
        head.notable
            .iter()
            .enumerate()
            .filter(|(_, b)| is_failing(b))
            .map(|(i, b)| {
                let (repro, in_report) = repro_of(head, b);
                let verdict = t
                    .comparison
                    .as_ref()
                    .and_then(|c| c.verdict_of_row(head.cases_row(b.file_index, b.ordinal)?));
                let config = configs
                    .entry(b.file_index)
                    .or_insert_with(|| config_of_file(head, b.file_index))
                    .clone();
                json!({
                    "job_id": job_text(head, b.file_index),
                    "config": config,
                    "invoking_file": invoking_of(head, b.file_index),
                    "classname": b.classname,
                    "name": b.name,
                    "status": b.status.label(),
                    "attempts": attempts_of(head, t, i),
                    "message": b.message,
                    "repro": repro,
                    "repro_source": if in_report { "report" } else { "built" },
                    "cluster": t.clusters.of(i).map(|c| c.id.clone()),
                    "verdict": verdict.map(Verdict::name),
                })
            }),
    )?;
    let d = &t.dialects;
    let dialects = json!({
        "rerun": d.rerun,
        "flaky_attempt": d.flaky_attempt,
        "rerun_attempt": d.rerun_attempt,
        "repeated_testcase": d.repeated,
        "another_report": d.another_report,
    });
    write!(out, ",\n  \"attempt_dialects\": {dialects}")
}
