//! Golden tests: testscope's objects decompress to exactly the bytes PyTorch's own
//! `upload_test_stats.py` functions wrote for the same input (checked in under tests/golden/).
#![cfg(feature = "net")] // the binary and tests/common need the default `net` feature

mod common;

use common::*;

/// The `small` profile loaded for the main branch.
fn small_profile_run() -> Run {
    run_pipeline(
        &project("tests/golden/small/bucket"),
        "12345678901",
        "1",
        "main",
        "pytorch/pytorch",
    )
}

#[test]
fn small_profile_matches_reference() {
    let r = small_profile_run();
    assert_eq!(r.run.totals.cases, 5000);
    assert_eq!(r.run.totals.files, 40);
    assert!(r.run.problems.is_empty(), "{:?}", r.run.problems);
    assert_matches_expected(&r.objects, &project("tests/golden/small/expected"), ALL);
}

#[test]
fn corpus_of_edge_cases_matches_reference_from_zips() {
    let r = run_pipeline(
        &project("tests/corpus/bucket"),
        "777",
        "2",
        "main",
        "pytorch/pytorch",
    );
    assert!(r.run.problems.is_empty(), "{:?}", r.run.problems);
    assert_matches_expected(&r.objects, &project("tests/corpus/expected/main"), ALL);
}

#[test]
fn corpus_from_extracted_folders_matches_too() {
    let r = run_pipeline(
        &project("tests/corpus/extracted"),
        "777",
        "2",
        "main",
        "pytorch/pytorch",
    );
    assert_matches_expected(&r.objects, &project("tests/corpus/expected/main"), ALL);
}

#[test]
fn pull_request_runs_skip_test_run() {
    let r = run_pipeline(
        &project("tests/corpus/bucket"),
        "777",
        "2",
        "pr",
        "pytorch/pytorch",
    );
    let collections: Vec<_> = r.objects.iter().map(|o| o.collection).collect();
    assert_eq!(
        collections,
        [
            "test_run_summary",
            "failed_test_runs",
            "additional_info/reruns",
            "additional_info/td_exclusions",
            "additional_info/invoking_file_summary",
            "additional_info/test_status",
        ]
    );
    assert_matches_expected(&r.objects, &project("tests/corpus/expected/pr"), ALL);
}

#[test]
fn real_reports_match_reference() {
    let r = run_pipeline(
        &project("tests/golden/real/bucket"),
        "555",
        "1",
        "main",
        "pytorch/pytorch",
    );
    assert_eq!(r.run.totals.files, 3);
    assert_matches_expected(&r.objects, &project("tests/golden/real/expected"), ALL);
}

#[test]
fn keys_and_bucket_follow_the_batch_path() {
    let r = run_pipeline(
        &project("tests/corpus/bucket"),
        "777",
        "2",
        "main",
        "pytorch/pytorch",
    );
    let keys: Vec<_> = r.objects.iter().map(|o| o.location()).collect();
    assert_eq!(
        keys,
        [
            "ossci-raw-job-status/test_run_summary/777/2",
            "ossci-raw-job-status/failed_test_runs/777/2",
            "ossci-raw-job-status/test_run/777/2",
            "ossci-raw-job-status/additional_info/reruns/777/2",
            "ossci-raw-job-status/additional_info/td_exclusions/777/2",
            "ossci-raw-job-status/additional_info/invoking_file_summary/777/2",
            "ossci-raw-job-status/additional_info/test_status/777/2",
        ]
    );
}

#[test]
fn bundled_sample_matches_reference() {
    let r = run_pipeline(
        &project("assets/sample-run"),
        "1000000001",
        "1",
        "main",
        "pytorch/pytorch",
    );
    assert_eq!(r.run.totals.cases, 300);
    assert!(r.run.problems.is_empty(), "{:?}", r.run.problems);
    assert_matches_expected(&r.objects, &project("tests/golden/sample/expected"), ALL);
}

/// The generator that made assets/ still makes the same bytes (so the goldens stay valid).
#[test]
fn sample_generator_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let opts = testscope_gen::GenOptions::profile("sample").unwrap();
    testscope_gen::generate(&opts, dir.path()).unwrap();
    let rel = "gha-artifacts/pytorch/pytorch/1000000001/1/artifact";
    let mut names: Vec<_> = std::fs::read_dir(project("assets/sample-run").join(rel))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), 6);
    for n in names {
        let a = std::fs::read(project("assets/sample-run").join(rel).join(&n)).unwrap();
        let b = std::fs::read(dir.path().join(rel).join(&n)).unwrap();
        assert!(a == b, "{n:?} differs from a fresh generation");
    }
}

#[test]
fn additional_info_with_job_names_matches_reference() {
    for (bucket, run, names, expected) in [
        (
            "tests/golden/small/bucket",
            "12345678901",
            "tests/golden/small/job-names.json",
            "tests/golden/small/expected-named",
        ),
        (
            "assets/sample-run",
            "1000000001",
            "assets/sample-run/job-names.json",
            "tests/golden/sample/expected-named",
        ),
    ] {
        let r = run_pipeline_named(
            &project(bucket),
            run,
            "1",
            "main",
            "pytorch/pytorch",
            job_names(&project(names)),
        );
        assert_matches_expected(&r.objects, &project(expected), ALL);
    }
}

/// The reruns document takes its cases from the kept test_run lines when there are any,
/// else from the reports read again: both ways give the reference's bytes (the small
/// profile has NaN and infinite times, which the first way must leave to the second).
#[test]
fn rerun_cases_read_again_from_the_reports_match_too() {
    let without_test_run: Vec<&str> = ALL.iter().copied().filter(|c| *c != "test_run").collect();
    for (names, expected) in [
        (None, "tests/golden/small/expected"),
        (
            Some("tests/golden/small/job-names.json"),
            "tests/golden/small/expected-named",
        ),
    ] {
        let r = run_pipeline_keeping(
            &project("tests/golden/small/bucket"),
            "12345678901",
            "1",
            "main",
            "pytorch/pytorch",
            names.map(|n| job_names(&project(n))).unwrap_or_default(),
            false,
        );
        assert!(r.run.test_run.is_none());
        assert_matches_expected(&r.objects, &project(expected), &without_test_run);
    }
}

/// Every case's line read back from the lines kept per report is that case's line of the
/// test_run object (what the reruns document builds on).
#[test]
fn kept_lines_read_back_by_file_and_position() {
    let r = small_profile_run();
    let test_run = r
        .objects
        .iter()
        .find(|o| o.collection == "test_run")
        .unwrap();
    let body = gunzip(&test_run.body.to_vec());
    let want: Vec<&[u8]> = body
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut wanted = Vec::new();
    for (file, info) in r.run.files.iter().enumerate() {
        for n in 0..info.cases as u32 {
            wanted.push((file as u32, n));
        }
    }
    // Asked in reverse, so the answer's order is the question's, not the files'.
    wanted.reverse();
    let lines = r.run.test_run.as_ref().unwrap();
    let got = testscope::reread::kept_lines(lines, &wanted);
    assert_eq!(got.len(), want.len());
    for (line, w) in got.iter().rev().zip(&want) {
        assert_eq!(line.as_deref(), Some(*w));
    }
}
