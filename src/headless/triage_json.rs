//! The `--json` parts of triage: `compare` (with a base run), `clusters`, `failed` and
//! `attempt_dialects`, built from a [`Triage`]. Tens of thousands of entries on a PyTorch-
//! sized comparison: each is written straight into the output buffer ([`Obj`]), one compact
//! object a line, never built as a JSON tree first.

use std::io::Write;

use crate::py::json::write_str;
use crate::report::meta;
use crate::run::{LoadedRun, display_value};
use crate::triage::clusters::is_failing;
use crate::triage::compare::{Compared, Side, config_of_file};
use crate::triage::summary::{Triage, attempts_of, brief_of_row, is_new, repro_of};
use crate::triage::verdict::Verdict;

/// A JSON object being written: `key: value` pairs in order, strings escaped as
/// `json.dumps` escapes them (so the output is ASCII).
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    n: usize,
}

impl<'a> Obj<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, n: 0 }
    }

    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if self.n > 0 {
            self.out.extend_from_slice(b", ");
        }
        self.n += 1;
        write_str(self.out, key);
        self.out.extend_from_slice(b": ");
        self.out
    }

    fn str(&mut self, key: &str, value: &str) {
        let out = self.key(key);
        write_str(out, value);
    }

    fn opt_str(&mut self, key: &str, value: Option<&str>) {
        let out = self.key(key);
        match value {
            Some(v) => write_str(out, v),
            None => out.extend_from_slice(b"null"),
        }
    }

    fn num(&mut self, key: &str, value: u64) {
        let out = self.key(key);
        out.extend_from_slice(value.to_string().as_bytes());
    }

    fn opt_num(&mut self, key: &str, value: Option<u64>) {
        match value {
            Some(v) => self.num(key, v),
            None => self.key(key).extend_from_slice(b"null"),
        }
    }

    fn bool(&mut self, key: &str, value: bool) {
        let out = self.key(key);
        out.extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn strs<'s>(&mut self, key: &str, values: impl IntoIterator<Item = &'s str>) {
        let out = self.key(key);
        out.push(b'[');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b", ");
            }
            write_str(out, v);
        }
        out.push(b']');
    }

    fn end(self) {
        self.out.push(b'}');
    }
}

fn job_text(run: &LoadedRun, file: usize) -> String {
    run.files
        .get(file)
        .map(|f| display_value(&f.job_id))
        .unwrap_or_default()
}

fn invoking_of(run: &LoadedRun, file: usize) -> &str {
    run.reports
        .get(file)
        .map_or("", |r| meta::invoking_file(r.rel.components()))
}

fn side(out: &mut Vec<u8>, run: &LoadedRun, s: &Side) {
    let brief = s
        .row
        .and_then(|r| brief_of_row(run, r))
        .map(|i| &run.notable[i]);
    let report = s
        .row
        .and_then(|r| run.reports.get(run.cases.file_index[r as usize] as usize))
        .map(|r| r.describe());
    let mut o = Obj::new(out);
    o.str("state", s.state.name());
    o.num("occurrences", u64::from(s.occurrences));
    o.num("retried", u64::from(s.retried));
    o.strs("jobs", s.jobs.iter().map(String::as_str));
    o.opt_str("report", report.as_deref());
    o.opt_str("message", brief.map(|b| b.message.as_str()));
    o.end();
}

fn compared(
    out: &mut Vec<u8>,
    head: &LoadedRun,
    base: Option<&LoadedRun>,
    t: &Triage,
    c: &Compared,
) {
    let brief = c.head.row.and_then(|r| brief_of_row(head, r));
    let failing = brief.filter(|&i| is_failing(&head.notable[i]));
    let repro = failing.map(|i| repro_of(head, &head.notable[i]).0);
    let cluster = failing
        .and_then(|i| t.clusters.of(i))
        .map(|c| c.id.as_str());
    let mut o = Obj::new(out);
    o.str("config", &c.key.config);
    o.str("invoking_file", &c.key.invoking_file);
    o.str("classname", &c.key.classname);
    o.str("name", &c.key.name);
    o.str("verdict", c.verdict.name());
    o.str("rule", c.verdict.rule(c.head.state, c.base.state));
    o.bool("disabled", c.disabled.is_some());
    o.opt_str(
        "disabled_issue",
        c.disabled.as_ref().map(|d| d.url.as_str()),
    );
    o.bool("maybe_affected", c.maybe_affected);
    o.opt_str("repro", repro.as_deref());
    o.opt_str("cluster", cluster);
    side(o.key("head"), head, &c.head);
    match base {
        Some(b) => side(o.key("base"), b, &c.base),
        None => o.key("base").extend_from_slice(b"null"),
    }
    o.end();
}

/// Write `items` as a JSON array, one compact element a line.
fn array<T>(
    out: &mut dyn Write,
    items: impl Iterator<Item = T>,
    mut write: impl FnMut(&mut Vec<u8>, T),
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(64 << 10);
    buf.push(b'[');
    for (n, item) in items.enumerate() {
        buf.extend_from_slice(if n == 0 { b"\n    " } else { b",\n    " });
        write(&mut buf, item);
        if buf.len() >= 60 << 10 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"\n  ]");
    out.write_all(&buf)
}

/// [`array`] of a slice, its elements written on every core (each into a buffer of its
/// own), then in order.
fn array_par<T: Sync>(
    out: &mut dyn Write,
    items: &[T],
    write: impl Fn(&mut Vec<u8>, &T) + Sync,
) -> std::io::Result<()> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1024);
    let parts: Vec<Vec<u8>> = std::thread::scope(|s| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(c, slice)| {
                let write = &write;
                s.spawn(move || {
                    let mut buf = Vec::with_capacity(slice.len() * 512);
                    for (n, item) in slice.iter().enumerate() {
                        buf.extend_from_slice(if c == 0 && n == 0 {
                            b"\n    "
                        } else {
                            b",\n    "
                        });
                        write(&mut buf, item);
                    }
                    buf
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("writing JSON does not panic"))
            .collect()
    });
    out.write_all(b"[")?;
    for part in parts {
        out.write_all(&part)?;
    }
    out.write_all(b"\n  ]")
}

/// Write the `--json` parts of triage as members of the enclosing object (each preceded by
/// a comma): `compare` (with a base), `clusters`, `failed`, `disabled_skips` and
/// `attempt_dialects`.
pub fn write_parts(
    out: &mut dyn Write,
    head: &LoadedRun,
    base: Option<&LoadedRun>,
    t: &Triage,
) -> std::io::Result<()> {
    if let Some(c) = &t.comparison {
        let mut buf = Vec::new();
        let mut o = Obj::new(&mut buf);
        o.str("base", &c.base_description);
        {
            let mut counts = Obj::new(o.key("counts"));
            for v in Verdict::ALL {
                counts.num(v.name(), c.count(v));
            }
            counts.end();
        }
        {
            let mut configs = Obj::new(o.key("configs"));
            configs.num("head", c.head_configs as u64);
            configs.num("base", c.base_configs as u64);
            configs.num("shared", c.shared_configs as u64);
            configs.end();
        }
        o.strs("warnings", c.warnings.iter().map(String::as_str));
        o.key("tests");
        // The small members, then `tests` streamed into the same object.
        out.write_all(b",\n  \"compare\": ")?;
        out.write_all(&buf)?;
        array_par(out, &c.tests, |b, x| compared(b, head, base, t, x))?;
        out.write_all(b"}")?;
    }
    let new_in = |members: &[u32]| -> Option<u64> {
        let c = t.comparison.as_ref()?;
        Some(
            members
                .iter()
                .filter_map(|&m| {
                    let b = &head.notable[m as usize];
                    head.cases_row(b.file_index, b.ordinal)
                })
                .filter(|&row| c.verdict_of_row(row).is_some_and(is_new))
                .count() as u64,
        )
    };
    out.write_all(b",\n  \"clusters\": ")?;
    array(out, t.clusters.clusters.iter(), |buf, c| {
        let mut o = Obj::new(buf);
        o.str("id", &c.id);
        o.str("signature", &c.signature);
        o.num("cases", c.cases() as u64);
        o.num("tests", c.tests as u64);
        o.num("jobs", c.jobs as u64);
        o.num("configs", c.configs as u64);
        o.opt_num("new", new_in(&c.members));
        let members = o.key("members");
        members.push(b'[');
        for (i, &m) in c.members.iter().enumerate() {
            if i > 0 {
                members.extend_from_slice(b", ");
            }
            let b = &head.notable[m as usize];
            let mut e = Obj::new(members);
            e.str("job_id", &job_text(head, b.file_index));
            e.str("invoking_file", invoking_of(head, b.file_index));
            e.str("classname", &b.classname);
            e.str("name", &b.name);
            e.end();
        }
        members.push(b']');
        o.end();
    })?;
    out.write_all(b",\n  \"failed\": ")?;
    let mut configs: rustc_hash::FxHashMap<usize, String> = Default::default();
    array(
        out,
        head.notable
            .iter()
            .enumerate()
            .filter(|(_, b)| is_failing(b)),
        |buf, (i, b)| {
            let (repro, in_report) = repro_of(head, b);
            let verdict = t
                .comparison
                .as_ref()
                .and_then(|c| c.verdict_of_row(head.cases_row(b.file_index, b.ordinal)?));
            let config = configs
                .entry(b.file_index)
                .or_insert_with(|| config_of_file(head, b.file_index));
            let mut o = Obj::new(buf);
            o.str("job_id", &job_text(head, b.file_index));
            o.str("config", config);
            o.str("invoking_file", invoking_of(head, b.file_index));
            o.str("classname", &b.classname);
            o.str("name", &b.name);
            o.str("status", b.status.label());
            o.num("attempts", attempts_of(head, t, i) as u64);
            o.str("message", &b.message);
            o.str("repro", &repro);
            o.str("repro_source", if in_report { "report" } else { "built" });
            o.opt_str("cluster", t.clusters.of(i).map(|c| c.id.as_str()));
            o.opt_str("verdict", verdict.map(Verdict::name));
            o.end();
        },
    )?;
    let d = &t.dialects;
    let mut buf = Vec::new();
    let mut o = Obj::new(&mut buf);
    o.num("rerun", d.rerun);
    o.num("flaky_attempt", d.flaky_attempt);
    o.num("rerun_attempt", d.rerun_attempt);
    o.num("repeated_testcase", d.repeated);
    o.num("another_report", d.another_report);
    o.end();
    out.write_all(b",\n  \"disabled_skips\": ")?;
    array(out, t.disabled_skips.iter(), |buf, &i| {
        let b = &head.notable[i as usize];
        let mut o = Obj::new(buf);
        o.str("job_id", &job_text(head, b.file_index));
        o.str("config", &config_of_file(head, b.file_index));
        o.str("invoking_file", invoking_of(head, b.file_index));
        o.str("classname", &b.classname);
        o.str("name", &b.name);
        o.opt_str(
            "issue",
            crate::triage::disabled::disabled_skip_url(&b.message),
        );
        o.end();
    })?;
    out.write_all(b",\n  \"attempt_dialects\": ")?;
    out.write_all(&buf)
}
