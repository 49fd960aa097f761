//! Hostile input, through the loader and the headless binary: every bad input of
//! docs/bad-input.md gets its decided outcome (case kept, file skipped and named, or limit
//! hit), and wherever PyTorch's script converts an input, the
//! uploads equal its output, checked in under tests/hostile/expected/. The corpus is
//! generated at run time (tests/hostile/corpus.rs); nothing big is checked in.
#![cfg(feature = "net")] // the binary and tests/common need the default `net` feature

mod common;
#[path = "hostile/corpus.rs"]
mod corpus;
#[path = "hostile/zipw.rs"]
mod zipw;

use std::path::Path;
use std::process::Command;

use common::*;
use testscope::load::{LoadOptions, Progress, load};
use testscope::run::{LoadedRun, ProblemKind};
use testscope::source::{LocalSpec, ZipLimits, discover};
use testscope::upload::PlannedObject;

use corpus::{ATTEMPT, RUN};

fn expected_dir() -> std::path::PathBuf {
    project("tests/hostile/expected")
}

fn bucket(artifacts: &[(String, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    corpus::write_bucket(dir.path(), artifacts);
    dir
}

fn pipeline(path: &Path) -> Run {
    run_pipeline(path, RUN, ATTEMPT, "main", "pytorch/pytorch")
}

/// Load `path` with the given zip limits (no upload plan).
fn load_with(path: &Path, zip_limits: ZipLimits) -> LoadedRun {
    let spec = LocalSpec {
        path: path.to_path_buf(),
        circleci: false,
        artifacts_repo: "pytorch/pytorch".into(),
        run_id: Some(RUN.into()),
        attempt: Some(ATTEMPT.into()),
        zip_limits,
    };
    let opts = LoadOptions {
        workflow_id: RUN.into(),
        attempt: 1,
        ..LoadOptions::default()
    };
    load(discover(&spec).unwrap(), &opts, &Progress::default())
}

fn body(objects: &[PlannedObject], collection: &str) -> String {
    let o = objects
        .iter()
        .find(|o| o.collection == collection)
        .unwrap_or_else(|| panic!("no {collection} planned"));
    String::from_utf8(gunzip(&o.body.to_vec())).unwrap()
}

fn expected_body(collection: &str) -> String {
    let path = expected_dir().join(format!("ossci-raw-job-status/{collection}/{RUN}/{ATTEMPT}"));
    String::from_utf8(gunzip(&std::fs::read(path).unwrap())).unwrap()
}

/// Each expectation is met by exactly one Unreadable problem, and there are no others.
fn assert_problems(run: &LoadedRun, want: &[corpus::Expect]) {
    let unreadable: Vec<_> = run
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Unreadable)
        .collect();
    for w in want {
        let hits: Vec<_> = unreadable
            .iter()
            .filter(|p| p.file.ends_with(&w.file) || p.file == w.file)
            .collect();
        assert_eq!(hits.len(), 1, "{}: problems {:#?}", w.file, run.problems);
        assert!(
            hits[0].message.contains(w.reason),
            "{}: expected {:?} in {:?}",
            w.file,
            w.reason,
            hits[0].message
        );
    }
    assert_eq!(
        unreadable.len(),
        want.len(),
        "unexpected problems: {:#?}",
        run.problems
    );
    assert_eq!(
        run.totals.bad_files as usize,
        want.iter().filter(|w| w.file.contains('!')).count()
    );
}

#[test]
fn inputs_the_reference_converts_give_its_exact_uploads() {
    let dir = bucket(&corpus::good_artifacts());
    let r = pipeline(dir.path());
    assert!(r.run.problems.is_empty(), "{:#?}", r.run.problems);
    // 8 encodings + 4 entity files + 2 (deep outside) + 1 + 30 + 1 + 1 + 20000 + 1
    // + 1 + 9 (times) + 6 (zip names: the duplicate path counts once, the inner zip never).
    assert_eq!(
        r.run.totals.cases,
        8 + 4 + 2 + 1 + 30 + 1 + 1 + 20_000 + 1 + 1 + 9 + 6
    );
    assert_matches_expected(&r.objects, &expected_dir(), ALL);
}

#[test]
fn bad_inputs_are_skipped_and_named_and_good_neighbours_kept() {
    let (artifacts, want) = corpus::bad_artifacts();
    let dir = bucket(&artifacts);
    let r = pipeline(dir.path());
    assert_problems(&r.run, &want);
    // Only the good file next to the bad ones converts; the folder named .xml is no report.
    assert_eq!(r.run.totals.cases, 1);
    assert_eq!(
        body(&r.objects, "test_run"),
        "{\"classname\": \"Bad\", \"name\": \"survivor\", \"time\": 1, \"workflow_id\": \"4242\", \
         \"workflow_run_attempt\": 1, \"job_id\": 1006, \"invoking_file\": \"test_bad\"}\n"
    );
    assert!(!r.run.files.iter().any(|f| f.rel.ends_with("folder.xml")));
}

/// An archive whose `n` directory entries all point at one deflated MiB of blanks.
fn overlapping(n: usize) -> Vec<u8> {
    let mib = vec![b' '; 1 << 20];
    let packed = zipw::deflate(&mib);
    let first = zipw::Raw {
        name: b"test/test-reports/o/0.xml",
        method: zipw::DEFLATED,
        flags: 0,
        crc: crc32fast::hash(&mib),
        data: &packed,
        size: mib.len() as u32,
    };
    let mut z = zipw::ZipWriter::new();
    let offset = z.raw(&first);
    for i in 1..n {
        let name = format!("test/test-reports/o/{i}.xml");
        z.central_entry(
            &zipw::Raw {
                name: name.as_bytes(),
                ..first
            },
            offset,
        );
    }
    z.finish()
}

#[test]
fn zip_limits_are_configurable() {
    let mut blank = b"<testsuite>".to_vec();
    blank.resize(4 << 20, b' ');
    blank.extend_from_slice(b"</testsuite>");
    let ratio = zipw::ZipWriter::new()
        .deflated("test/test-reports/r/r.xml", &blank)
        .finish();
    let dir = bucket(&[
        ("test-reports-overlap_1.zip".into(), overlapping(20)),
        ("test-reports-ratio_2.zip".into(), ratio),
    ]);
    let problems = |limits| {
        let run = load_with(dir.path(), limits);
        let mut p: Vec<String> = run.problems.iter().map(|p| p.message.clone()).collect();
        p.dedup();
        (run.totals.files, run.totals.cases, p)
    };
    // Roomy limits: the 20 overlapping MiB of blanks are 20 files that are no XML, the 4 MiB
    // document converts (to no case).
    let roomy = ZipLimits {
        max_entry_bytes: 8 << 20,
        max_ratio: 10_000,
        ratio_floor_bytes: 1 << 20,
        max_total_bytes: 20 << 20,
    };
    let (files, cases, p) = problems(roomy);
    assert_eq!((files, cases), (21, 0));
    assert_eq!(p, ["no element found"]);
    // The total: one byte less refuses the overlapping archive whole.
    let (files, _, p) = problems(ZipLimits {
        max_total_bytes: (20 << 20) - 1,
        ..roomy
    });
    assert_eq!(files, 1);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].contains("more than the limit of 20971519 bytes in all"),
        "{p:?}"
    );
    // The ratio: 4 MiB of blanks deflate far past 100:1.
    let (_, _, p) = problems(ZipLimits {
        max_ratio: 100,
        ..roomy
    });
    assert!(
        p.last().unwrap().contains("expands more than 100:1"),
        "{p:?}"
    );
    // ... but only above the floor.
    let (_, _, p) = problems(ZipLimits {
        max_ratio: 100,
        ratio_floor_bytes: 8 << 20,
        ..roomy
    });
    assert_eq!(p, ["no element found"]);
    // Per entry.
    let (_, _, p) = problems(ZipLimits {
        max_entry_bytes: 2 << 20,
        ..roomy
    });
    assert!(
        p.last()
            .unwrap()
            .contains("larger than the limit of 2097152 bytes"),
        "{p:?}"
    );
}

/// One testcase with a `size`-byte attribute and text converts whole.
fn big_values_convert_whole(size: usize) {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("unzipped-x_7/test_big");
    std::fs::create_dir_all(&inv).unwrap();
    std::fs::write(inv.join("big.xml"), corpus::big_values(size)).unwrap();
    let r = pipeline(dir.path());
    assert!(r.run.problems.is_empty(), "{:?}", r.run.problems);
    let got = body(&r.objects, "test_run");
    // The shape the reference gives (checked at 1 MiB in the golden corpus).
    let want = format!(
        "{{\"classname\": \"Big\", \"name\": \"values\", \"time\": 1, \"big\": \"{}\", \
         \"system-out\": {{\"text\": \"{}\"}}, \"workflow_id\": \"4242\", \
         \"workflow_run_attempt\": 1, \"job_id\": 7, \"invoking_file\": \"test_big\"}}\n",
        "a".repeat(size),
        "b".repeat(size)
    );
    assert!(
        got == want,
        "case differs (len {} vs {})",
        got.len(),
        want.len()
    );
}

#[test]
fn eight_megabyte_attribute_and_text_convert_whole() {
    big_values_convert_whole(8 << 20);
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "100 MB through unoptimised code takes ~10 s: run with cargo test --release"
)]
fn fifty_megabyte_attribute_and_text_convert_whole() {
    big_values_convert_whole(50 << 20);
}

/// `n` tiny testcases in one file all convert, in order.
fn many_testcases_in_one_file(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("unzipped-x_8/test_many");
    std::fs::create_dir_all(&inv).unwrap();
    std::fs::write(inv.join("many.xml"), corpus::many_cases(n)).unwrap();
    let r = pipeline(dir.path());
    assert!(r.run.problems.is_empty(), "{:?}", r.run.problems);
    assert_eq!(r.run.totals.cases, n as u64);
    let summary = body(&r.objects, "test_run_summary");
    assert_eq!(
        summary,
        format!(
            "{{\"file\": null, \"classname\": \"M\", \"job_id\": 8, \"workflow_id\": \"4242\", \
             \"workflow_run_attempt\": 1, \"invoking_file\": \"test_many\", \"tests\": {n}, \
             \"failures\": 0, \"errors\": 0, \"skipped\": 0, \"successes\": {n}, \"time\": {n}.0}}\n"
        )
    );
    let test_run = body(&r.objects, "test_run");
    assert_eq!(test_run.lines().count(), n);
    assert!(test_run.ends_with(&format!(
        "{{\"classname\": \"M\", \"name\": \"t{}\", \"time\": 1, \"workflow_id\": \"4242\", \
         \"workflow_run_attempt\": 1, \"job_id\": 8, \"invoking_file\": \"test_many\"}}\n",
        n - 1
    )));
}

#[test]
fn a_hundred_thousand_testcases_in_one_file() {
    many_testcases_in_one_file(100_000);
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "1M cases through unoptimised code take ~25 s: run with cargo test --release"
)]
fn a_million_testcases_in_one_file() {
    many_testcases_in_one_file(1_000_000);
}

#[test]
fn times_the_reference_cannot_sum_count_as_zero_and_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("unzipped-x_9/test_time");
    std::fs::create_dir_all(&inv).unwrap();
    std::fs::write(
        inv.join("t.xml"),
        "<testsuite><testcase classname=\"T\" name=\"missing\"/>\
         <testcase classname=\"T\" name=\"comma\" time=\"1,234.5\"/>\
         <testcase classname=\"T\" name=\"blank\" time=\" \"/>\
         <testcase classname=\"T\" name=\"ok\" time=\"2.5\"/></testsuite>",
    )
    .unwrap();
    let r = pipeline(dir.path());
    let missing: Vec<_> = r
        .run
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::MissingTime)
        .collect();
    assert_eq!(missing.len(), 1, "{:?}", r.run.problems);
    assert!(missing[0].file.ends_with("t.xml"));
    assert!(
        missing[0].message.starts_with("3 case(s)"),
        "{}",
        missing[0].message
    );
    assert!(missing[0].message.contains("T.comma"));
    let test_run = body(&r.objects, "test_run");
    // Kept as Python would convert them: a string stays a string.
    assert!(test_run.contains("\"name\": \"comma\", \"time\": \"1,234.5\""));
    assert!(test_run.contains("\"name\": \"blank\", \"time\": \" \""));
    assert!(body(&r.objects, "test_run_summary").ends_with("\"successes\": 4, \"time\": 2.5}\n"));
}

#[test]
fn nesting_inside_a_testcase_is_kept_to_900_levels() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("unzipped-x_10/test_deep");
    std::fs::create_dir_all(&inv).unwrap();
    // 487 to 900 levels crash the reference (pickling the result); testscope keeps them.
    std::fs::write(inv.join("a-900.xml"), corpus::deep_inside(900)).unwrap();
    std::fs::write(inv.join("b-901.xml"), corpus::deep_inside(901)).unwrap();
    let r = pipeline(dir.path());
    assert_eq!(r.run.totals.cases, 1);
    assert_eq!(r.run.problems.len(), 1, "{:?}", r.run.problems);
    assert!(r.run.problems[0].file.ends_with("b-901.xml"));
    assert!(r.run.problems[0].message.contains("nested more than 900"));
    let line = body(&r.objects, "test_run");
    assert_eq!(
        line.matches("{\"d\": ").count(),
        899,
        "the innermost holds the text"
    );
    assert!(line.contains("{\"text\": \"bottom\"}"));
}

#[test]
fn nested_testcases_cannot_multiply_a_document() {
    // Each testcase is a case and a child of the one around it: 300 levels around a MiB of
    // text would upload 300 MiB. Past 100x the document the file is refused.
    let text = "x".repeat(1 << 20);
    let doc = format!(
        "<testsuite>{}{text}{}</testsuite>",
        "<testcase classname=\"N\" name=\"n\" time=\"1\">".repeat(300),
        "</testcase>".repeat(300)
    );
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("unzipped-x_11/test_nested");
    std::fs::create_dir_all(&inv).unwrap();
    std::fs::write(inv.join("n.xml"), doc).unwrap();
    let r = pipeline(dir.path());
    assert_eq!(r.run.totals.cases, 0);
    assert_eq!(r.run.problems.len(), 1, "{:?}", r.run.problems);
    assert!(
        r.run.problems[0]
            .message
            .contains("copy more than 100x the document")
    );
}

#[test]
fn reports_that_are_not_regular_files_are_skipped_unread() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("unzipped-x_12/test_links");
    std::fs::create_dir_all(&inv).unwrap();
    std::fs::write(
        inv.join("good.xml"),
        "<testsuite><testcase classname=\"L\" name=\"ok\" time=\"1\"/></testsuite>",
    )
    .unwrap();
    // Read blindly, /dev/zero is a gigabyte of zeros and a socket blocks or fails to open.
    std::os::unix::fs::symlink("/dev/zero", inv.join("zero.xml")).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(inv.join("socket.xml")).unwrap();
    let r = pipeline(dir.path());
    assert_eq!(r.run.totals.cases, 1);
    let mut named: Vec<_> = r
        .run
        .problems
        .iter()
        .map(|p| (p.file.rsplit('/').next().unwrap(), p.message.as_str()))
        .collect();
    named.sort();
    assert_eq!(named.len(), 2, "{named:?}");
    assert_eq!(named[0].0, "socket.xml");
    assert_eq!(named[1].0, "zero.xml");
    assert!(
        named.iter().all(|(_, m)| m.ends_with("not a regular file")),
        "{named:?}"
    );
}

fn testscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_testscope"));
    c.env_remove("GITHUB_ACTIONS");
    c
}

fn upload_args(bucket: &Path, out: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "--upload",
        "--workflow-run-id",
        RUN,
        "--workflow-run-attempt",
        ATTEMPT,
        "--head-branch",
        "main",
        "--head-repository",
        "pytorch/pytorch",
        "--reports",
    ]
    .map(String::from)
    .to_vec();
    args.push(bucket.to_str().unwrap().into());
    args.push("--out-dir".into());
    args.push(out.to_str().unwrap().into());
    args
}

/// Raw terminal controls: ESC, BEL, CSI and OSC in their C1 forms, NUL.
fn assert_inert(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| matches!(c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'))
        .collect();
    assert!(bad.is_empty(), "{what} carries raw controls {bad:?}");
}

#[test]
fn headless_upload_skips_bad_files_names_them_inertly_and_uploads_the_rest() {
    let (mut artifacts, want) = corpus::bad_artifacts();
    artifacts.extend(corpus::good_artifacts());
    let dir = bucket(&artifacts);
    let out_dir = dir.path().join("up");
    let out = testscope()
        .args(upload_args(dir.path(), &out_dir))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_inert("stderr", &stderr);
    assert_inert("stdout", &String::from_utf8_lossy(&out.stdout));
    for w in &want {
        let file = testscope::sanitize::line(&w.file).into_owned();
        let line = stderr
            .lines()
            .find(|l| l.starts_with("warning: unreadable: ") && l.contains(&file))
            .unwrap_or_else(|| panic!("no warning for {file}:\n{stderr}"));
        assert!(line.contains(w.reason), "{line}");
    }
    assert!(
        stderr.contains("\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m.xml"),
        "{stderr}"
    );

    // The good inputs upload exactly what the reference wrote; the one good case among the
    // bad ones comes first (its zip sorts first).
    let read = |c: &str| {
        let p = out_dir.join(format!("ossci-raw-job-status/{c}/{RUN}/{ATTEMPT}"));
        String::from_utf8(gunzip(&std::fs::read(p).unwrap())).unwrap()
    };
    let test_run = read("test_run");
    let (survivor, rest) = test_run.split_once('\n').unwrap();
    assert!(survivor.contains("\"name\": \"survivor\""), "{survivor}");
    assert_eq!(rest, expected_body("test_run"));
    let summary = read("test_run_summary");
    let (survivor, rest) = summary.split_once('\n').unwrap();
    assert!(survivor.contains("\"classname\": \"Bad\""), "{survivor}");
    assert_eq!(rest, expected_body("test_run_summary"));
    assert_eq!(read("failed_test_runs"), expected_body("failed_test_runs"));

    // --strict: the same input uploads nothing.
    let strict_out = dir.path().join("strict");
    let mut strict = upload_args(dir.path(), &strict_out);
    strict.push("--strict".into());
    let out = testscope().args(&strict).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(!strict_out.exists());
}

#[test]
fn inspection_shows_report_text_inertly() {
    let dir = bucket(&corpus::good_artifacts());
    let out = testscope()
        .arg(dir.path())
        .args(["--workflow-run-id", RUN, "--workflow-run-attempt", ATTEMPT])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_inert("inspection", &text);
    // The failing case of controls.xml is listed, its C1 controls shown as escapes.
    assert!(
        text.contains("[failure] Term\\x9b31m::c1_\\x9d0;title\\x9c"),
        "{text}"
    );
    assert!(text.contains("\\x9b31mred\\x9b0m"), "{text}");
}

/// Not a test of testscope: rebuilds tests/hostile/expected/ by running the Python reference
/// runner (PyTorch's functions, path in `TESTSCOPE_REFERENCE`) on the generated good corpus
/// (`cargo test --test hostile -- --ignored regenerate`).
#[test]
#[ignore = "rewrites the checked-in expected outputs with the reference runner in $TESTSCOPE_REFERENCE"]
fn regenerate_expected_with_the_reference() {
    let dir = bucket(&corpus::good_artifacts());
    let reference = std::env::var_os("TESTSCOPE_REFERENCE")
        .expect("TESTSCOPE_REFERENCE: the path of the Python reference runner");
    let out = expected_dir();
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new("python3")
        .arg(reference)
        .args(["--bucket-dir", dir.path().to_str().unwrap()])
        .args(["--run-id", RUN, "--attempt", ATTEMPT])
        .args([
            "--head-branch",
            "main",
            "--head-repository",
            "pytorch/pytorch",
        ])
        .args(["--out-dir", out.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    // Timings and memory vary run to run; only the uploads are expected outputs.
    std::fs::remove_file(out.join("reference-manifest.json")).unwrap();
}
