//! Micro-benchmarks of the per-file hot path: XML -> cases -> JSON lines, on reports made by
//! the project's generator (the `small` profile), and the parallel gzip of JSON lines.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use testscope::codec::gzip::DeflateChunk;
use testscope::load::{LoadOptions, Progress, load};
use testscope::py::json as pyjson;
use testscope::report::{Enrichment, Value, parse_report};
use testscope::source::{LocalSpec, ZipLimits, discover};

fn small_run() -> (tempfile::TempDir, LocalSpec) {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = testscope_gen::GenOptions::profile("small").expect("profile");
    testscope_gen::generate(&opts, dir.path()).expect("generate");
    let spec = LocalSpec {
        path: dir.path().to_path_buf(),
        circleci: false,
        artifacts_repo: "pytorch/pytorch".into(),
        run_id: None,
        attempt: None,
        zip_limits: ZipLimits::default(),
    };
    (dir, spec)
}

fn benches(c: &mut Criterion) {
    let (_dir, spec) = small_run();
    let listing = discover(&spec).expect("listing");
    let files: Vec<Vec<u8>> = listing
        .reports
        .iter()
        .map(|r| r.read(u64::MAX).expect("read"))
        .collect();
    let bytes: usize = files.iter().map(Vec::len).sum();
    let enrich = Enrichment {
        workflow_id: "1000000001".into(),
        attempt: Value::Int(1),
        job_id: Value::Int(42),
        invoking_file: "test_ops".into(),
    };

    let mut g = c.benchmark_group("small profile");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("parse_report", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| parse_report(f, &enrich).expect("valid").len())
                .sum::<usize>()
        })
    });
    g.bench_function("parse_report + json lines", |b| {
        let mut out = Vec::with_capacity(bytes * 2);
        b.iter(|| {
            out.clear();
            for f in &files {
                for case in parse_report(f, &enrich).expect("valid") {
                    pyjson::write_object(&mut out, &case);
                    out.push(b'\n');
                }
            }
            out.len()
        })
    });
    let mut lines = Vec::new();
    for f in &files {
        for case in parse_report(f, &enrich).expect("valid") {
            pyjson::write_object(&mut lines, &case);
            lines.push(b'\n');
        }
    }
    g.throughput(Throughput::Bytes(lines.len() as u64));
    g.bench_function("deflate json lines (level 1)", |b| {
        b.iter(|| DeflateChunk::compress(&lines, 1).data.len())
    });
    g.finish();

    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    g.bench_function("whole small run", |b| {
        b.iter(|| {
            let listing = discover(&spec).expect("listing");
            let opts = LoadOptions {
                workflow_id: "1000000001".into(),
                ..LoadOptions::default()
            };
            load(listing, &opts, &Progress::default()).totals.cases
        })
    });
    g.finish();
}

criterion_group!(parse, benches);
criterion_main!(parse);
