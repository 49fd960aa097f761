//! One job's artifacts: which test files its shard runs and how many tests
//! each gets, the reports (pytest, xmlrunner, gtest, a stray CSV) zipped into
//! `test-reports-<suffix>.zip`, and `td_exclusions-*.json` zipped into
//! `test-jsons-<suffix>.zip`. Everything comes from the job's own RNG stream,
//! so jobs can be generated in any order, on any thread.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Result;

use super::archive::Archive;
use super::cases::{self, Case, Ctx, Force, Outcome, Tally};
use super::plan::{self, FileSpec, Job, basename};
use super::pytest::{self, RawCase, Suite};
use super::rng::Rng;
use super::text::{self, Machine};
use super::vocab::{self, Os};
use super::{GenOptions, gtest, showcase, xmlrunner};

/// What one job produced.
#[derive(Debug, Default, Clone)]
pub struct JobResult {
    pub tally: Tally,
    pub xml_files: u64,
    pub xml_bytes: u64,
    pub zips: u64,
    pub zip_bytes: u64,
    /// Any failure or error: the job's conclusion is `failure`.
    pub failed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cpp,
    Pytest,
    Unittest,
}

#[derive(Debug, Clone)]
struct Slot {
    kind: Kind,
    invoking: String,
    /// This report continues the previous slot's run after a relaunch.
    relaunch: bool,
}

/// Splits `total` in proportion to `weights` (largest remainder).
fn allocate(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    let raw: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut out: Vec<usize> = raw.iter().map(|x| x.floor() as usize).collect();
    let given: usize = out.iter().sum();
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (raw[a] - out[a] as f64, raw[b] - out[b] as f64);
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order.iter().take(total.saturating_sub(given)) {
        out[i] += 1;
    }
    out
}

/// Raises `alloc[i]` to `min`, taking from the largest other slots.
fn ensure_min(alloc: &mut [usize], i: usize, min: usize, floors: &[usize]) {
    while alloc[i] < min {
        let donor = (0..alloc.len())
            .filter(|&j| j != i && alloc[j] > floors[j])
            .max_by_key(|&j| (alloc[j] - floors[j], usize::MAX - j));
        match donor {
            Some(j) => {
                let take = (min - alloc[i]).min(alloc[j] - floors[j]);
                alloc[j] -= take;
                alloc[i] += take;
            }
            None => return,
        }
    }
}

struct Writer<'a> {
    job: &'a Job,
    /// Writing a base run ([`crate::GenOptions::base_of`]).
    base: bool,
    rng: Rng,
    machine: Machine,
    hostname: String,
    utc_stamps: bool,
    /// The job's timeline: when the next test process starts (µs after 10:00).
    clock_us: u64,
    /// Entry names already in the zip (a zip made from a folder has no
    /// duplicates).
    names: HashSet<String>,
    result: JobResult,
    zip: Archive,
}

impl Writer<'_> {
    fn entry(&mut self, name: &str, xml: String) -> Result<()> {
        let xml = if self.job.tpl.os == Os::Windows {
            text::to_crlf(&xml)
        } else {
            xml
        };
        let mut unique = name.to_string();
        let mut n = 1;
        while self.names.contains(&unique) {
            unique = format!("{}-{n}.xml", name.trim_end_matches(".xml"));
            n += 1;
        }
        let name = unique;
        self.names.insert(name.clone());
        self.result.xml_files += 1;
        self.result.xml_bytes += xml.len() as u64;
        self.zip.add(&name, xml.as_bytes())
    }

    /// When the next test process starts: whole seconds and the ISO stamp.
    fn suite_stamp(&mut self) -> (u64, String) {
        let (secs, micros) = (self.clock_us / 1_000_000, self.clock_us % 1_000_000);
        (secs, text::iso_timestamp(secs, micros, self.utc_stamps))
    }

    /// A test process ran for `us`; the next one starts a little later.
    fn advance(&mut self, us: u64) {
        self.clock_us += us + self.rng.range(1_000_000, 20_000_000);
    }

    /// Draws tests `js` of a run of `total` tests of `spec` starting at `offset`.
    fn draw_run(
        &mut self,
        spec: &FileSpec,
        offset: usize,
        total: usize,
        js: std::ops::Range<usize>,
        force: &dyn Fn(usize) -> Option<Force>,
    ) -> Vec<Case> {
        let ctx = Ctx {
            machine: &self.machine,
            repro_env: self.job.repro_env(),
            long_rate: if ["dynamo_wrapped", "inductor", "inductor_cpu"]
                .contains(&self.job.tpl.config)
            {
                0.15
            } else {
                0.05
            },
        };
        let mut out = Vec::with_capacity(js.len());
        for j in js {
            let cs = spec.class_at(j, total);
            let c = cases::draw(&mut self.rng, &ctx, cs, offset + j, force(j));
            out.push(if self.base { cases::as_base(c) } else { c });
        }
        out
    }

    fn pytest_report(
        &mut self,
        invoking: &str,
        raw: &[RawCase],
        cases: &[Case],
        plain: bool,
    ) -> Result<()> {
        let (_, stamp) = self.suite_stamp();
        let pretty = self.job.tpl.os == Os::Macos || self.rng.chance(0.05);
        let ascii = plain && !pretty && self.rng.chance(0.3);
        let overhead_us = self.rng.range(200_000, 9_000_000);
        self.advance(overhead_us + cases.iter().map(|c| c.time_us).sum::<u64>());
        let hostname = self.hostname.clone();
        let suite = Suite {
            hostname: &hostname,
            timestamp: &stamp,
            pretty,
            ascii,
            overhead_us,
        };
        let xml = pytest::render(&suite, raw, cases);
        let name = format!(
            "test/test-reports/python-pytest/{invoking}/{}-{}.xml",
            basename(invoking),
            self.rng.hex(16)
        );
        for r in raw {
            let t = &mut self.result.tally;
            t.cases += 1;
            if r.failures > 0 {
                t.failures += 1;
            } else if r.errors > 0 {
                t.errors += 1;
            } else if r.skipped > 0 {
                t.skipped += 1;
            } else {
                t.passed += 1;
            }
            if r.xml.contains("<rerun") {
                t.flaky += 1;
            }
        }
        for c in cases {
            self.result.tally.count(c);
        }
        self.entry(&name, xml)
    }
}

/// Generates job `job`'s two zips into `art_dir`.
pub fn generate(opts: &GenOptions, job: &Job, art_dir: &Path) -> Result<JobResult> {
    let tpl = job.tpl;
    let mut rng = Rng::derive(
        "job",
        &[
            opts.seed,
            opts.stream_run_id(),
            u64::from(opts.attempt),
            job.index as u64,
        ],
    );
    let fpj = opts.files_per_job.max(1);

    // The config's files, in this build's order; this shard starts at its slice.
    let mut pool = plan::config_pool(tpl.config, tpl.device);
    Rng::derive_str(
        "pool",
        &[opts.seed],
        &format!("{}:{}", job.build, tpl.config),
    )
    .shuffle(&mut pool);
    if let Some(i) = pool.iter().position(|p| p == "distributed/test_c10d_nccl") {
        pool.swap(0, i);
    }
    let per = pool.len().div_ceil(tpl.num_shards as usize).max(1);
    let start = ((job.shard as usize - 1) * per) % pool.len();
    pool.rotate_left(start);

    let mut slots: Vec<Slot> = Vec::with_capacity(fpj);
    if tpl.config == "default" && job.shard == 1 && fpj >= 4 {
        let cpp = vocab::list(vocab::CPP_TESTS);
        for b in cpp.iter().take((fpj / 50).clamp(1, cpp.len())) {
            slots.push(Slot {
                kind: Kind::Cpp,
                invoking: b.to_string(),
                relaunch: false,
            });
        }
    }
    let mut next = 0;
    while slots.len() < fpj {
        let inv = pool[next % pool.len()].clone();
        next += 1;
        let first_py = slots.iter().all(|s| s.kind == Kind::Cpp);
        let relaunch = slots.len() + 1 < fpj && ((first_py && fpj >= 3) || rng.chance(0.08));
        slots.push(Slot {
            kind: Kind::Pytest,
            invoking: inv.clone(),
            relaunch: false,
        });
        if relaunch {
            slots.push(Slot {
                kind: Kind::Pytest,
                invoking: inv,
                relaunch: true,
            });
        }
    }
    // Some files run without pytest (xmlrunner reports): always the last
    // slot when there are a few, and now and then another.
    let first_py = slots.iter().position(|s| s.kind == Kind::Pytest);
    for i in 0..slots.len() {
        let paired = slots[i].relaunch || slots.get(i + 1).is_some_and(|s| s.relaunch);
        let last = i + 1 == slots.len() && fpj >= 4;
        if slots[i].kind == Kind::Pytest
            && !paired
            && Some(i) != first_py
            && (last || rng.chance(0.03))
        {
            slots[i].kind = Kind::Unittest;
        }
    }

    // How many tests each report gets.
    let heavy = vocab::list(vocab::HEAVY);
    let weights: Vec<f64> = slots
        .iter()
        .map(|s| {
            let mut w = rng.skewed_weight();
            if heavy.contains(&basename(&s.invoking)) {
                w *= 8.0;
            }
            if s.kind == Kind::Cpp {
                w *= 0.5;
            }
            w.min(60.0)
        })
        .collect();
    let total = fpj * opts.cases_per_file;
    let mut alloc = allocate(total, &weights);
    let sc_len = showcase::len(job.index == 0);
    let with_showcase = first_py.is_some() && total >= sc_len + 2 * slots.len() + 8;
    let mut floors = vec![0; slots.len()];
    for (i, s) in slots.iter().enumerate() {
        if s.relaunch {
            floors[i] = 1;
            floors[i - 1] = 1;
        }
    }
    if let (Some(f), true) = (first_py, with_showcase) {
        floors[f] = sc_len + 1 + usize::from(slots.get(f + 1).is_some_and(|s| s.relaunch)) * 5;
    }
    for i in 0..slots.len() {
        ensure_min(&mut alloc, i, floors[i], &floors);
    }
    // now and then a report with no tests at all (everything deselected)
    if fpj >= 10 && rng.chance(0.3) {
        let z = rng.range(1, slots.len() as u64 - 1) as usize;
        let free = slots[z].kind == Kind::Pytest && floors[z] == 0 && Some(z) != first_py;
        if free {
            let biggest = (0..alloc.len())
                .max_by_key(|&j| (alloc[j], usize::MAX - j))
                .unwrap_or(0);
            if biggest != z {
                alloc[biggest] += alloc[z];
                alloc[z] = 0;
            }
        }
    }

    let os = tpl.os;
    let hostname = plan::hostname(&mut rng, os);
    let utc_stamps = rng.chance(0.5);
    let zip_name = format!("test-reports-{}.zip", job.suffix());
    let mut w = Writer {
        base: opts.base_of.is_some(),
        job,
        rng,
        machine: Machine::new(os, &job.build),
        hostname,
        utc_stamps,
        clock_us: 0,
        names: HashSet::new(),
        result: JobResult::default(),
        zip: Archive::create(&art_dir.join(&zip_name))?,
    };
    w.clock_us = w.rng.range(0, 1_800_000_000);
    let mut offsets: HashMap<String, usize> = HashMap::new();
    let mut i = 0;
    while i < slots.len() {
        let slot = slots[i].clone();
        let n = alloc[i];
        let csv = w.rng.chance(0.02) || (job.index == 0 && Some(i) == first_py);
        match slot.kind {
            Kind::Cpp => {
                let mut tally = Tally::default();
                let xml = gtest::render(&mut w.rng, &slot.invoking, n, &mut tally);
                w.advance(n as u64 * 40_000);
                w.result.tally.add(&tally);
                let b = &slot.invoking;
                let name = format!(
                    "test/test-reports/cpp-unittest/{b}/{b}-{}.xml",
                    w.rng.hex(16)
                );
                w.entry(&name, xml)?;
                i += 1;
            }
            Kind::Pytest | Kind::Unittest => {
                let spec = FileSpec::new(&slot.invoking, tpl.device, opts.seed);
                let shard_start = (job.shard as usize - 1) * 10_007 + w.rng.below(50);
                let offset = *offsets.entry(slot.invoking.clone()).or_insert(shard_start);
                let raw = if with_showcase && Some(i) == first_py {
                    let place = showcase::Place {
                        machine: &w.machine,
                        repro_env: job.repro_env(),
                        invoking: &slot.invoking,
                        class: &spec.classes[0],
                        first_job: job.index == 0,
                    };
                    let raw = showcase::cases(&mut w.rng, &place);
                    if w.base {
                        raw.into_iter().map(cases::raw_as_base).collect()
                    } else {
                        raw
                    }
                } else {
                    Vec::new()
                };
                let own = n - raw.len();
                let pair =
                    slots.get(i + 1).is_some_and(|s| s.relaunch) && own > 0 && alloc[i + 1] > 0;
                let run_len = if pair {
                    // the second report starts by re-running the test the
                    // first one ended on
                    let nb = alloc[i + 1];
                    let total_run = own + nb - 1;
                    let a = w.draw_run(&spec, offset, total_run, 0..own, &|j| {
                        (j + 1 == own).then_some(Force::Fail)
                    });
                    w.pytest_report(&slot.invoking, &raw, &a, raw.is_empty())?;
                    let b0 = own - 1;
                    let b = w.draw_run(&spec, offset, total_run, b0..b0 + nb, &|j| {
                        (j == b0).then_some(Force::Retry)
                    });
                    w.pytest_report(&slot.invoking, &[], &b, true)?;
                    i += 2;
                    total_run
                } else if slot.kind == Kind::Unittest {
                    let mut cs = w.draw_run(&spec, offset, own, 0..own, &|_| None);
                    for c in &mut cs {
                        c.reruns.clear();
                        if w.rng.chance(0.12) {
                            c.doc = Some(docstring(&mut w.rng, &c.name));
                        }
                        // the older disabled-test mechanism's JSON-ish skip message
                        if matches!(c.outcome, Outcome::Skip { xfail: false, .. })
                            && w.rng.chance(0.05)
                        {
                            let red = w.rng.range(1, 4);
                            if let Outcome::Skip { message, .. } = &mut c.outcome {
                                *message = format!(
                                    "{{\"flaky\": True, \"num_red\": {red}, \"num_green\": 0, \
                                     \"max_num_retries\": 3, \"rerun_disabled_test\": true}}"
                                );
                            }
                        }
                        w.result.tally.count(c);
                    }
                    let (secs, _) = w.suite_stamp();
                    w.advance(cs.iter().map(|c| c.time_us).sum::<u64>());
                    for (file, xml) in xmlrunner::render(&cs, secs) {
                        let name =
                            format!("test/test-reports/python-unittest/{}/{file}", slot.invoking);
                        w.entry(&name, xml)?;
                    }
                    i += 1;
                    own
                } else {
                    let cs = w.draw_run(&spec, offset, own, 0..own, &|_| None);
                    w.pytest_report(&slot.invoking, &raw, &cs, raw.is_empty())?;
                    i += 1;
                    own
                };
                // a later report of the same file re-runs a few of these tests
                let back = (w.rng.range(0, 5) as usize).min(run_len);
                offsets.insert(slot.invoking.clone(), offset + run_len - back);
            }
        }
        if csv {
            let mut body = String::from("test,time\n");
            for word in vocab::list(vocab::WORDS).iter().take(20) {
                body.push_str(&format!(
                    "test_{word},{}\n",
                    text::secs3(w.rng.range(0, 3_000_000))
                ));
            }
            let name = format!(
                "test/test-reports/{}-{}.csv",
                slot.invoking.replace('/', "_"),
                w.rng.hex(8)
            );
            w.zip.add(&name, body.as_bytes())?;
        }
    }
    let Writer {
        mut result,
        zip,
        mut rng,
        ..
    } = w;
    result.zip_bytes += zip.finish()?;
    result.zips += 1;
    result.failed = result.tally.failures + result.tally.errors > 0;

    // test-jsons: target determination's exclusions
    let used: Vec<&str> = {
        let mut v: Vec<&str> = Vec::new();
        for s in slots.iter().filter(|s| s.kind != Kind::Cpp) {
            if !v.contains(&s.invoking.as_str()) {
                v.push(&s.invoking);
            }
        }
        v
    };
    let others: Vec<&str> = pool
        .iter()
        .map(|s| s.as_str())
        .filter(|p| !used.contains(p))
        .collect();
    let k = rng.range(0, 6) as usize;
    let excluded = rng.sample(&others, k);
    let js = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let mut td = String::from("{\"excluded\": [");
    for (n, e) in excluded.iter().enumerate() {
        if n > 0 {
            td.push_str(", ");
        }
        let reason = *rng.pick(vocab::TD_REASONS);
        td.push_str(&format!(
            "{{\"test_file\": {}, \"reason\": {}}}",
            js(e),
            js(reason)
        ));
    }
    td.push_str("], \"included\": [");
    for (n, u) in used.iter().enumerate() {
        if n > 0 {
            td.push_str(", ");
        }
        td.push_str(&format!("{{\"test_file\": {}}}", js(u)));
    }
    td.push_str("]}");
    let mut jz = Archive::create(&art_dir.join(format!("test-jsons-{}.zip", job.suffix())))?;
    jz.add(
        &format!("td_exclusions-{}.json", rng.hex(16)),
        td.as_bytes(),
    )?;
    result.zip_bytes += jz.finish()?;
    result.zips += 1;
    Ok(result)
}

fn docstring(rng: &mut Rng, name: &str) -> String {
    let what = name.trim_start_matches("test_").replace('_', " ");
    match rng.below(4) {
        0 => format!("Tests that {what} works."),
        1 => format!(
            "Regression test for https://github.com/pytorch/pytorch/issues/{}",
            rng.range(1000, 150_000)
        ),
        2 => format!("Checks {what} against the reference <numpy> & \"eager\" results"),
        _ => format!("Multi-line docstring:\n\n        {what} -- with a double dash\n        "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact() {
        let a = allocate(1000, &[1.0, 2.5, 0.3, 7.0]);
        assert_eq!(a.iter().sum::<usize>(), 1000);
        let mut b = vec![1, 0, 50];
        ensure_min(&mut b, 1, 10, &[0, 0, 0]);
        assert_eq!(b, vec![1, 10, 40]);
    }
}
