//! One report file on a worker: read it, parse its cases, and make what the fold needs
//! (case rows, JSON lines, briefs of failed cases). Nothing here touches the run itself.

use crate::codec::gzip::Compressor;
use crate::py::json as pyjson;
use crate::report::{Case, Enrichment, Fields, Value, ValueRef, meta, parse_cases_each};
use crate::run::CaseBrief;
use crate::source::ReportFile;
use crate::stats::CaseFlags;
use crate::stats::cases::FileRows;

use super::LoadOptions;

/// What the parse of one file produced, ready to fold.
pub(super) struct Parsed {
    pub(super) enrichment: Enrichment,
    pub(super) rows: FileRows,
    pub(super) failed_docs: u64,
    pub(super) reruns: u64,
    pub(super) notable: Vec<CaseBrief>,
    pub(super) missing_time: Vec<String>,
}

pub(crate) fn enrichment_for(file: &ReportFile, opts: &LoadOptions) -> Enrichment {
    let comps = file.rel.components();
    Enrichment {
        workflow_id: opts.workflow_id.as_str().into(),
        attempt: Value::Int(opts.attempt),
        job_id: meta::job_id(file.rel.first()),
        invoking_file: meta::invoking_file(comps).into(),
    }
}

/// Buffers a worker reuses from file to file (fresh big allocations cost page faults).
pub(super) struct Scratch {
    pub(super) xml: Vec<u8>,
    /// JSON lines of every case of the batch (when `test_run` is kept).
    pub(super) lines: Vec<u8>,
    /// JSON lines of the batch's failed cases (when kept).
    pub(super) failed: Vec<u8>,
    /// The end of each file's lines in `lines`, in batch order.
    pub(super) ends: Vec<usize>,
    pub(super) compressor: Compressor,
}

/// Read, parse and serialise one file (runs on a worker), appending its JSON lines to the
/// scratch buffers; on an error nothing of the file stays there.
pub(super) fn parse_file(
    file: &ReportFile,
    opts: &LoadOptions,
    index: usize,
    scratch: &mut Scratch,
) -> Result<Parsed, String> {
    let (lines_before, failed_before) = (scratch.lines.len(), scratch.failed.len());
    let result = parse_file_into(file, opts, index, scratch);
    if result.is_err() {
        scratch.lines.truncate(lines_before);
        scratch.failed.truncate(failed_before);
    }
    result
}

fn parse_file_into(
    file: &ReportFile,
    opts: &LoadOptions,
    index: usize,
    scratch: &mut Scratch,
) -> Result<Parsed, String> {
    // The problem already names the file; the message is just why.
    file.read_into(opts.max_file_bytes, &mut scratch.xml)
        .map_err(|e| e.reason())?;
    let enrichment = enrichment_for(file, opts);
    let mut taker = CaseCollector {
        keep_test_run: opts.keep_test_run,
        keep_failed: opts.keep_failed,
        tail: enrichment.tail(),
        enrichment: &enrichment,
        lines: &mut scratch.lines,
        failed: &mut scratch.failed,
        failed_docs: 0,
        rows: FileRows::with_capacity(scratch.xml.len()),
        reruns: 0,
        missing_time: Vec::new(),
        notable: Vec::new(),
        unique_base: (index as u64) << 32,
        brief_hook: opts.brief_hook,
        keep_skipped: opts.keep_skipped,
    };
    // Cases stay unenriched: only their JSON lines need the four keys.
    parse_cases_each(&scratch.xml, &mut |case| match case {
        Case::Built(case) => taker.take(&case),
        Case::Flat(case) => taker.take(&case),
    })
    .map_err(|e| e.to_string())?;
    let CaseCollector {
        failed_docs,
        rows,
        reruns,
        missing_time,
        notable,
        ..
    } = taker;
    Ok(Parsed {
        enrichment,
        rows,
        failed_docs,
        reruns,
        notable,
        missing_time,
    })
}

/// What one file's cases make, case by case, on the worker that parses it.
struct CaseCollector<'a> {
    keep_test_run: bool,
    keep_failed: bool,
    enrichment: &'a Enrichment,
    tail: Vec<u8>,
    lines: &'a mut Vec<u8>,
    failed: &'a mut Vec<u8>,
    failed_docs: u64,
    rows: FileRows,
    reruns: u64,
    missing_time: Vec<String>,
    notable: Vec<CaseBrief>,
    unique_base: u64,
    brief_hook: Option<super::BriefHook>,
    keep_skipped: Option<fn(&str) -> bool>,
}

impl CaseCollector<'_> {
    fn take(&mut self, case: &impl Fields) {
        let n = self.rows.len();
        let known = case.known();
        let flags = CaseFlags::from_known(&known);
        // Every case's JSON line only when test_run is kept; else just the failed ones'.
        let keep_failed = self.keep_failed && flags.failed();
        if self.keep_test_run || keep_failed {
            let out = if self.keep_test_run {
                &mut *self.lines
            } else {
                &mut *self.failed
            };
            let start = out.len();
            self.enrichment
                .write_enriched_known(out, case, &known, &self.tail);
            out.push(b'\n');
            if self.keep_test_run && keep_failed {
                self.failed.extend_from_slice(&self.lines[start..]);
            }
        }
        if flags.failed() {
            self.failed_docs += 1;
        }
        let kept_skip = !flags.failed()
            && flags.skipped
            && self
                .keep_skipped
                .is_some_and(|keep| match case.field("skipped") {
                    Some(ValueRef::Other(Value::Object(o))) => {
                        o.get("message").and_then(|m| m.as_str()).is_some_and(keep)
                    }
                    _ => false,
                });
        if flags.failed() || flags.retried() || kept_skip {
            let case = case.to_object();
            let mut brief = CaseBrief::of(&case, 0, n);
            if let Some(hook) = self.brief_hook {
                hook(&case, self.enrichment, &mut brief);
            }
            self.notable.push(brief);
        }
        if flags.rerun {
            self.reruns += 1;
        }
        let time = known.time.and_then(ValueRef::as_number);
        if time.is_none() {
            self.missing_time.push(case_label(case));
        }
        self.rows
            .push(&known, flags, time, self.unique_base + n as u64);
    }
}

/// `classname.name` for messages.
pub fn case_label(case: &impl Fields) -> String {
    let part = |k| match case.field(k) {
        Some(ValueRef::Str(s)) => s.to_string(),
        Some(ValueRef::Other(v)) => {
            let mut out = Vec::new();
            pyjson::write_value(&mut out, v);
            String::from_utf8_lossy(&out).into_owned()
        }
        None => "?".to_string(),
    };
    format!("{}.{}", part("classname"), part("name"))
}
