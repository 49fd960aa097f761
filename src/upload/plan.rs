//! From a loaded run and the context (run id, attempt, branch, repository) to the ordered
//! list of objects the batch path uploads (docs/compatibility.md section 4).

use std::collections::HashMap;

use crate::reread::{kept_lines, reread_cases};
use crate::run::{Lines, LoadedRun};
use crate::stats::additional_info as info;
use crate::stats::should_upload_full_test_run;

use crate::codec::gzip::{Body, ChunkedGzip, GzipBuilder};

/// The reference's stats bucket.
pub const DEFAULT_STATS_BUCKET: &str = "ossci-raw-job-status";

/// The flags of PyTorch's script that decide what is uploaded where.
#[derive(Debug, Clone)]
pub struct UploadContext {
    pub workflow_run_id: String,
    pub attempt: i64,
    pub head_branch: Option<String>,
    pub head_repository: String,
    pub stats_bucket: String,
    pub gzip_level: u32,
    /// GitHub job names by job id; unknown ids are `NoJobName` in additional_info.
    pub job_names: HashMap<i64, String>,
}

impl UploadContext {
    pub fn uploads_test_run(&self) -> bool {
        should_upload_full_test_run(self.head_branch.as_deref(), &self.head_repository)
    }

    fn key(&self, collection: &str) -> String {
        format!("{collection}/{}/{}", self.workflow_run_id, self.attempt)
    }
}

/// One object to write: gzip body of JSON lines.
#[derive(Debug, Clone)]
pub struct PlannedObject {
    pub bucket: String,
    pub key: String,
    pub collection: &'static str,
    pub documents: u64,
    /// Decompressed size.
    pub raw_bytes: u64,
    pub body: Body,
}

impl PlannedObject {
    pub fn location(&self) -> String {
        format!("{}/{}", self.bucket, self.key)
    }
}

/// The objects, in upload order, of a run loaded with its failed cases kept (the default of
/// `LoadOptions`). `test_run` is present only when the gate allows it and the run was loaded
/// with its cases kept.
pub fn plan(run: &LoadedRun, ctx: &UploadContext) -> Vec<PlannedObject> {
    let mut objects = Vec::new();
    plan_each(run, ctx, &mut |o| objects.push(o));
    objects
}

/// [`plan`], handing each object to `emit` as soon as it is made (in upload order), so a
/// sink can write the first ones while the rest are computed.
pub fn plan_each(run: &LoadedRun, ctx: &UploadContext, emit: &mut dyn FnMut(PlannedObject)) {
    let failed = run
        .failed
        .as_ref()
        .expect("plan() takes a run loaded with LoadOptions::keep_failed");
    plan_with(run, failed, run.test_run.as_ref(), ctx, emit)
}

/// [`plan_each`] with the `failed_test_runs` and `test_run` lines given apart (a front-end
/// that loaded without them reads them again when it commits, the latter only when the gate
/// asks for it).
pub fn plan_with(
    run: &LoadedRun,
    failed: &Lines,
    test_run: Option<&Lines>,
    ctx: &UploadContext,
    emit: &mut dyn FnMut(PlannedObject),
) {
    let mut object = |collection: &'static str, documents: u64, body: GzipBuilder| {
        emit(PlannedObject {
            bucket: ctx.stats_bucket.clone(),
            key: ctx.key(collection),
            collection,
            documents,
            raw_bytes: body.raw_len(),
            body: body.finish(),
        });
    };

    std::thread::scope(|s| {
        // additional_info's grouping needs nothing of the first three objects: it runs
        // beside them (the summary is written and compressed on this thread meanwhile).
        let grouping = s.spawn(|| {
            let job_ids: Vec<_> = run.files.iter().map(|f| f.job_id.clone()).collect();
            info::group_cases(&run.cases, &job_ids, &ctx.job_names)
        });

        let mut summary = Vec::new();
        for row in &run.summary {
            row.write_line(&mut summary);
        }
        let mut b = GzipBuilder::new();
        b.push_raw(&summary, ctx.gzip_level);
        object("test_run_summary", run.summary.len() as u64, b);

        object("failed_test_runs", failed.docs, lines_body(failed));

        if ctx.uploads_test_run()
            && let Some(all) = test_run
        {
            object("test_run", all.docs, lines_body(all));
        }

        let grouping = grouping.join().expect("grouping does not panic");
        additional_info(run, test_run, ctx, &grouping, &mut object);
    });
}

/// The four additional_info bodies, in the reference's upload order, each handed on as made.
fn additional_info(
    run: &LoadedRun,
    test_run: Option<&Lines>,
    ctx: &UploadContext,
    grouping: &info::Grouping,
    object: &mut dyn FnMut(&'static str, u64, GzipBuilder),
) {
    // test_status is most of the work: it starts at once, beside the other three, whose
    // serial stretches (the reruns layout, invoking_file_summary) would idle a core.
    std::thread::scope(|s| {
        let status = s.spawn(|| test_status_body(run, grouping, ctx.gzip_level));
        first_three(run, test_run, ctx, grouping, object);
        let (status, status_docs) = status.join().expect("test_status does not panic");
        object("additional_info/test_status", status_docs, status);
    });
}

/// reruns, td_exclusions and invoking_file_summary, handed on in that order.
fn first_three(
    run: &LoadedRun,
    test_run: Option<&Lines>,
    ctx: &UploadContext,
    grouping: &info::Grouping,
    object: &mut dyn FnMut(&'static str, u64, GzipBuilder),
) {
    let rerun_groups = info::rerun_groups(&run.cases, grouping);
    let layout = info::rerun_layout(&rerun_groups, grouping, &run.cases);
    let mut reruns = ChunkedGzip::new(ctx.gzip_level);
    let mut docs = RerunDocs {
        run,
        test_run,
        ctx,
        grouping,
        groups: &rerun_groups,
        order: info::leaf_order(&layout),
        next: 0,
        ready: HashMap::new(),
    };
    info::write_reruns(&layout, &mut |b| reruns.write(b), &mut |g| docs.take(g));
    drop(docs);
    object("additional_info/reruns", 1, reruns.finish());

    let one = |raw: Vec<u8>| {
        let mut b = GzipBuilder::new();
        b.push_raw(&raw, ctx.gzip_level);
        b
    };
    let exclusions = info::td_exclusions(&run.td_docs, &ctx.job_names);
    object("additional_info/td_exclusions", 1, one(exclusions));
    let summary = info::invoking_file_summary(&run.cases, grouping);
    object("additional_info/invoking_file_summary", 1, one(summary));
}

/// test_status has a line per test of the run: ranges of groups are serialised and
/// compressed on every core, then joined in order.
fn test_status_body(run: &LoadedRun, grouping: &info::Grouping, level: u32) -> (GzipBuilder, u64) {
    const RANGE: usize = 100_000;
    let n = grouping.groups.len();
    let ranges: Vec<_> = (0..n)
        .step_by(RANGE)
        .map(|s| s..(s + RANGE).min(n))
        .collect();
    let values_json = info::values_json(&run.cases);
    let short = info::short_job_names(grouping);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |t| t.get());
    let mut parts: Vec<(usize, GzipBuilder, u64)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(range) = ranges.get(i) else { break };
                        let mut body = ChunkedGzip::new(level);
                        let mut docs = 0;
                        // Lines go straight into the body's buffer, 2,048 groups (a few
                        // hundred KiB) at a time.
                        for from in range.clone().step_by(2048) {
                            let groups = from..(from + 2048).min(range.end);
                            body.write_with(|out| {
                                docs += info::test_status(
                                    &run.cases,
                                    grouping,
                                    &values_json,
                                    &short,
                                    groups,
                                    out,
                                );
                            });
                        }
                        done.push((i, body.finish(), docs));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("no panic"))
            .collect()
    });
    parts.sort_by_key(|p| p.0);
    let mut body = GzipBuilder::new();
    let mut docs = 0;
    for (_, part, n) in parts {
        body.append(part);
        docs += n;
    }
    (body, docs)
}

/// Supplies rerun groups' case documents in the order the reruns document needs them, a
/// block at a time. A case's document is its `test_run` line when the load kept those per
/// file (inflating one file's lines is far cheaper than parsing its XML); else, or when
/// the line cannot be reused as is, its file is read again.
struct RerunDocs<'a> {
    run: &'a LoadedRun,
    test_run: Option<&'a Lines>,
    ctx: &'a UploadContext,
    grouping: &'a info::Grouping,
    groups: &'a [&'a info::Group],
    order: Vec<u32>,
    next: usize,
    ready: HashMap<u32, Vec<Vec<u8>>>,
}

impl RerunDocs<'_> {
    /// Cases per block: bounds memory to a few tens of MB of JSON (without job names nearly
    /// every case is in a rerun group, so they are never all held at once).
    const BLOCK_CASES: usize = 50_000;

    fn take(&mut self, group: u32) -> Vec<Vec<u8>> {
        if !self.ready.contains_key(&group) {
            self.load_block();
        }
        self.ready.remove(&group).unwrap_or_default()
    }

    fn load_block(&mut self) {
        let cases = &self.run.cases;
        let mut block = Vec::new();
        let mut n = 0;
        while self.next < self.order.len() && (n < Self::BLOCK_CASES || block.is_empty()) {
            let g = self.order[self.next];
            n += self.groups[g as usize].len as usize;
            block.push(g);
            self.next += 1;
        }
        // Each case: where it is, and the job keys its document gets.
        let mut wanted = Vec::with_capacity(n);
        let mut keys = Vec::with_capacity(n);
        for &g in &block {
            let group = self.groups[g as usize];
            let (build, config) = &self.grouping.builds[group.build_config as usize];
            for row in self.grouping.rows(group) {
                let file = cases.file_index[row as usize];
                wanted.push((file, cases.ordinal(row as usize)));
                let job = self.grouping.file_job_names[file as usize].as_deref();
                keys.push((job.unwrap_or(""), build.as_str(), config.as_str()));
            }
        }
        let mut docs: Vec<Option<Vec<u8>>> = match self.test_run {
            Some(lines) => kept_lines(lines, &wanted)
                .into_iter()
                .zip(&keys)
                .map(|(line, &(job, build, config))| {
                    info::line_with_job_keys(&line?, job, build, config)
                })
                .collect(),
            None => vec![None; wanted.len()],
        };
        let again: Vec<usize> = (0..docs.len()).filter(|&i| docs[i].is_none()).collect();
        if !again.is_empty() {
            let where_: Vec<_> = again.iter().map(|&i| wanted[i]).collect();
            let read = reread_cases(self.run, &where_, &self.ctx.workflow_run_id);
            for (&i, case) in again.iter().zip(read) {
                let (job, build, config) = keys[i];
                docs[i] = case.map(|case| info::with_job_keys(case, job, build, config));
            }
        }
        // A case that cannot be read again is left out of its group.
        let mut docs = docs.into_iter();
        for &g in &block {
            let len = self.groups[g as usize].len as usize;
            let out: Vec<Vec<u8>> = docs.by_ref().take(len).flatten().collect();
            self.ready.insert(g, out);
        }
    }
}

fn lines_body(lines: &Lines) -> GzipBuilder {
    let mut b = GzipBuilder::new();
    for chunk in &lines.chunks {
        b.push_chunk(chunk);
    }
    b
}
