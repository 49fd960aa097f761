//! Triage on crafted runs: every verdict of a run against its base (shard moves, a file in
//! two shards, a missing file, Surefire's retry children, disabled tests), clusters, repro
//! commands and the attempt model of each retry dialect, from reports written to disk and
//! loaded as the binary loads them.
#![cfg(feature = "net")] // tests/common needs the default `net` feature

mod common;

use std::path::Path;

use testscope::load::{LoadOptions, Progress, load};
use testscope::run::LoadedRun;
use testscope::source::{LocalSpec, discover};
use testscope::triage::attempts::{self, AttemptOutcome, Dialect};
use testscope::triage::disabled::DisabledTests;
use testscope::triage::summary::Triage;
use testscope::triage::verdict::Verdict;

/// Write a report `<dir>/unzipped-test-reports-<artifact>/test/test-reports/python-pytest/
/// <invoking>/<invoking>-<n>.xml` holding `cases` (testcase elements).
fn report(dir: &Path, artifact: &str, invoking: &str, n: u32, cases: &str) {
    let folder = dir
        .join(format!("unzipped-test-reports-{artifact}"))
        .join("test/test-reports/python-pytest")
        .join(invoking);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join(format!("{invoking}-{n}.xml")),
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<testsuites><testsuite name=\"pytest\">{cases}</testsuite></testsuites>\n"
        ),
    )
    .unwrap();
}

fn pass(class: &str, name: &str) -> String {
    format!(r#"<testcase classname="{class}" name="{name}" time="0.1"/>"#)
}

fn fail(class: &str, name: &str, message: &str) -> String {
    format!(
        r#"<testcase classname="{class}" name="{name}" time="0.2"><failure message="{message}">Traceback (most recent call last):
  File "x.py", line 1, in {name}
{message}</failure></testcase>"#
    )
}

fn load_dir(dir: &Path) -> LoadedRun {
    let listing = discover(&LocalSpec {
        path: dir.to_path_buf(),
        circleci: false,
        artifacts_repo: "pytorch/pytorch".into(),
        run_id: None,
        attempt: None,
        zip_limits: Default::default(),
    })
    .unwrap();
    let opts = testscope::triage::load_options(LoadOptions {
        keep_test_run: false,
        keep_failed: false,
        ..LoadOptions::default()
    });
    load(listing, &opts, &Progress::default())
}

const SHARD1: &str = "test-default-1-2-linux.2xlarge_101";
const SHARD2: &str = "test-default-2-2-linux.2xlarge_102";
const WIN: &str = "test-default-1-1-windows.4xlarge_103";

/// A head and a base run with one test per verdict, and the special cases.
fn crafted() -> (tempfile::TempDir, tempfile::TempDir) {
    let (head, base) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let c = "TestOps";
    report(
        head.path(),
        SHARD1,
        "test_ops",
        1,
        &[
            fail(c, "test_new_failure", "AssertionError: Tensor-likes are not close!"),
            fail(c, "test_new_test_failing", "RuntimeError: CUDA error: an illegal memory access was encountered"),
            format!(
                r#"<testcase classname="{c}" name="test_flaky" time="1"><rerun message="RuntimeError: boom 1">x</rerun></testcase>"#
            ),
            fail(c, "test_still", "AssertionError: Scalars are not equal!"),
            pass(c, "test_fixed"),
            pass(c, "test_new_test"),
            pass(c, "test_unchanged"),
            fail(c, "test_in_two_shards", "AssertionError: Tensor-likes are not close!"),
            format!(
                r#"<testcase classname="{c}" name="test_surefire_flaky" time="1"><flakyFailure message="timeout" type="java.lang.AssertionError">at x</flakyFailure></testcase>"#
            ),
            format!(
                r#"<testcase classname="{c}" name="test_surefire_rerun" time="1"><failure message="boom" type="AssertionError">a</failure><rerunFailure message="boom again" type="AssertionError">b</rerunFailure></testcase>"#
            ),
            fail(c, "test_disabled_everywhere", "AssertionError: Tensor-likes are not close!"),
            fail(c, "test_disabled_on_windows", "AssertionError: Tensor-likes are not close!"),
        ]
        .concat(),
    );
    // The same file re-run in shard 2 (PyTorch re-runs files in a new process): passes there.
    report(
        head.path(),
        SHARD2,
        "test_ops",
        2,
        &[pass(c, "test_in_two_shards"), pass(c, "test_moved")].concat(),
    );
    report(
        base.path(),
        SHARD1,
        "test_ops",
        1,
        &[
            pass(c, "test_new_failure"),
            pass(c, "test_flaky"),
            fail(c, "test_still", "AssertionError: Scalars are not equal!"),
            pass(c, "test_missing"),
            fail(c, "test_fixed", "AssertionError: boom"),
            pass(c, "test_unchanged"),
            pass(c, "test_in_two_shards"),
            // Shard 1 in the base, shard 2 in the head: the same test.
            pass(c, "test_moved"),
            pass(c, "test_surefire_flaky"),
            pass(c, "test_surefire_rerun"),
            pass(c, "test_disabled_everywhere"),
            pass(c, "test_disabled_on_windows"),
        ]
        .concat(),
    );
    // A file that ran in the base only: its tests are missing here (coverage lost).
    report(base.path(), WIN, "test_nn", 1, &pass("TestNN", "test_conv"));
    (head, base)
}

const DISABLED: &str = r#"{
    "test_disabled_everywhere (__main__.TestOps)": ["1234", "https://github.com/pytorch/pytorch/issues/1234", []],
    "test_disabled_on_windows (__main__.TestOps)": ["99", "https://github.com/pytorch/pytorch/issues/99", ["win"]]
}"#;

fn verdict_of(t: &Triage, name: &str) -> Verdict {
    let c = t.comparison.as_ref().unwrap();
    if let Some(test) = c.tests.iter().find(|x| x.key.name == name) {
        return test.verdict;
    }
    Verdict::Unchanged
}

#[test]
fn every_verdict_from_crafted_runs() {
    let (head_dir, base_dir) = crafted();
    let (head, base) = (load_dir(head_dir.path()), load_dir(base_dir.path()));
    let disabled = DisabledTests::parse(DISABLED).unwrap();
    let t = Triage::new(&head, Some(&base), Some(&disabled));
    let c = t.comparison.as_ref().unwrap();
    for (name, want) in [
        ("test_new_failure", Verdict::NewFailure),
        ("test_new_test_failing", Verdict::NewTestFailing),
        ("test_flaky", Verdict::Flaky),
        ("test_still", Verdict::StillFailing),
        ("test_missing", Verdict::Missing),
        ("test_fixed", Verdict::Fixed),
        ("test_in_two_shards", Verdict::Flaky),
        ("test_surefire_flaky", Verdict::Flaky),
        ("test_surefire_rerun", Verdict::NewFailure),
        ("test_conv", Verdict::Missing),
        ("test_moved", Verdict::Unchanged),
        ("test_unchanged", Verdict::Unchanged),
    ] {
        assert_eq!(verdict_of(&t, name), want, "{name}");
    }
    // new_test and unchanged are counted but not listed.
    assert!(
        c.tests
            .iter()
            .all(|x| !matches!(x.verdict, Verdict::NewTest | Verdict::Unchanged))
    );
    assert_eq!(c.count(Verdict::NewTest), 1);
    assert_eq!(c.count(Verdict::Unchanged), 2);
    assert_eq!(c.count(Verdict::Missing), 2);
    assert_eq!(c.count(Verdict::NewFailure), 4);
    assert_eq!(c.count(Verdict::Flaky), 3);
    // One config on each side (both shards of `default` on linux.2xlarge, and windows).
    assert_eq!(
        (c.head_configs, c.base_configs, c.shared_configs),
        (1, 2, 1)
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);

    // The duplicated file: one failing and one passing occurrence, in two jobs.
    let dup = c
        .tests
        .iter()
        .find(|x| x.key.name == "test_in_two_shards")
        .unwrap();
    assert_eq!(dup.head.occurrences, 2);
    assert_eq!(dup.head.jobs.len(), 2, "{:?}", dup.head.jobs);

    // Disabled everywhere (no platforms) is disabled on linux; a Windows-only entry is not.
    let everywhere = c
        .tests
        .iter()
        .find(|x| x.key.name == "test_disabled_everywhere")
        .unwrap();
    assert_eq!(everywhere.disabled.as_ref().unwrap().issue, "1234");
    let windows = c
        .tests
        .iter()
        .find(|x| x.key.name == "test_disabled_on_windows")
        .unwrap();
    assert!(windows.disabled.is_none());
    // --fail-on new counts new failures that are not disabled.
    assert_eq!(t.new_failures(), 4);
}

#[test]
fn a_base_without_shared_configs_says_so() {
    let (head_dir, _) = crafted();
    let other = tempfile::tempdir().unwrap();
    report(
        other.path(),
        WIN,
        "test_ops",
        1,
        &pass("TestOps", "test_unchanged"),
    );
    let (head, base) = (load_dir(head_dir.path()), load_dir(other.path()));
    let t = Triage::new(&head, Some(&base), None);
    let c = t.comparison.as_ref().unwrap();
    assert_eq!(c.shared_configs, 0);
    assert!(
        c.warnings[0].contains("shares no config"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn an_unreadable_base_report_marks_its_tests() {
    let (head_dir, base_dir) = crafted();
    // The base's shard-1 report of test_ops is truncated: its tests are unknown there.
    let f = base_dir
        .path()
        .join(format!("unzipped-test-reports-{SHARD1}"))
        .join("test/test-reports/python-pytest/test_ops/test_ops-1.xml");
    std::fs::write(&f, "<testsuites><testsuite><testcase name=").unwrap();
    let (head, base) = (load_dir(head_dir.path()), load_dir(base_dir.path()));
    let t = Triage::new(&head, Some(&base), None);
    let c = t.comparison.as_ref().unwrap();
    // Absent from the base (its report is unreadable), so "new", but flagged as such.
    let still = c.tests.iter().find(|x| x.key.name == "test_still").unwrap();
    assert_eq!(still.verdict, Verdict::NewTestFailing);
    assert!(still.maybe_affected);
    assert!(c.warnings.iter().any(|w| w.contains("could not be read")));
}

#[test]
fn clusters_group_one_cause_across_jobs() {
    let (head_dir, _) = crafted();
    let head = load_dir(head_dir.path());
    let t = Triage::new(&head, None, None);
    let close = t
        .clusters
        .clusters
        .iter()
        .find(|c| c.signature.contains("Tensor-likes are not close"))
        .unwrap();
    // test_new_failure, test_in_two_shards and the two disabled ones share the message.
    assert_eq!(close.cases(), 4);
    assert_eq!(close.tests, 4);
    // Every failing case is in exactly one cluster.
    let failing = head
        .notable
        .iter()
        .filter(|b| testscope::triage::clusters::is_failing(b))
        .count();
    let clustered: usize = t.clusters.clusters.iter().map(|c| c.cases()).sum();
    assert_eq!(failing, clustered);
    // Largest first.
    assert!(
        t.clusters
            .clusters
            .windows(2)
            .all(|w| w[0].cases() >= w[1].cases())
    );
    // CUDA illegal memory access is its own cause.
    assert!(
        t.clusters
            .clusters
            .iter()
            .any(|c| c.signature.contains("illegal memory access") && c.cases() == 1)
    );
}

#[test]
fn repro_commands_from_reports_and_built() {
    let dir = tempfile::tempdir().unwrap();
    report(
        dir.path(),
        SHARD1,
        "test_ops",
        1,
        &[
            r#"<testcase classname="TestOps" name="test_written" time="1"><failure message="AssertionError: x">Traceback
AssertionError: x

To execute this test, run the following from the base repo dir:
    PYTORCH_TEST_WITH_DYNAMO=1 python test/test_ops.py -k TestOps.test_written

This message can be suppressed by setting PYTORCH_PRINT_REPRO_ON_FAILURE=0</failure></testcase>"#
                .to_string(),
            fail("TestOps", "test_plain", "AssertionError: y"),
        ]
        .concat(),
    );
    let run = load_dir(dir.path());
    let t = Triage::new(&run, None, None);
    let written = run
        .notable
        .iter()
        .find(|b| b.name == "test_written")
        .unwrap();
    let plain = run.notable.iter().find(|b| b.name == "test_plain").unwrap();
    assert_eq!(
        testscope::triage::summary::repro_of(&run, written),
        (
            "PYTORCH_TEST_WITH_DYNAMO=1 python test/test_ops.py -k TestOps.test_written".into(),
            true
        )
    );
    let (built, in_report) = testscope::triage::summary::repro_of(&run, plain);
    assert!(!in_report);
    assert!(
        built.contains("test_ops") && built.contains("test_plain"),
        "{built}"
    );
    // Both in one script, each once.
    let script = testscope::headless::repro_script(&run, &t);
    assert!(script.starts_with("#!/usr/bin/env bash"), "{script}");
    assert_eq!(script.matches("test_written").count(), 1, "{script}");
    assert!(script.contains(&built));
}

/// Each retry dialect, from a small file in its tool's format.
#[test]
fn attempts_of_every_retry_dialect() {
    let fixtures = common::project("tests/fixtures/retries");
    let run = load_dir(&fixtures);
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    let t = Triage::new(&run, None, None);
    let d = t.dialects;
    // Surefire: one flaky pass, one rerun failure; Gradle: one flaky pass; PyTorch: one
    // rerun; pytest-rerunfailures: one test written three times; nextest: one test
    // retried as separate testcases too.
    assert_eq!(d.flaky_attempt, 2, "{d:?}");
    assert_eq!(d.rerun_attempt, 1, "{d:?}");
    assert_eq!(d.rerun, 1, "{d:?}");
    assert_eq!(d.repeated, 2, "{d:?}");

    let doc = |file: &str, name: &str| {
        let i = run
            .files
            .iter()
            .position(|f| f.rel.ends_with(file))
            .unwrap();
        let rows = run.cases.file_rows(i);
        let row = rows
            .clone()
            .find(|&r| run.cases.name_str(r) == Some(name))
            .unwrap();
        let ordinal = run.cases.ordinal(row);
        testscope::reread::reread_from(&run.reports, run.attempt, &[(i as u32, ordinal)], "1")
            .pop()
            .unwrap()
            .unwrap()
    };
    let flaky = attempts::of_document(&doc("surefire.xml", "testFlaky"));
    assert_eq!(
        flaky
            .iter()
            .map(|a| (a.outcome, a.dialect))
            .collect::<Vec<_>>(),
        [
            (AttemptOutcome::Failed, Dialect::FlakyAttempt),
            (AttemptOutcome::Errored, Dialect::FlakyAttempt),
            (AttemptOutcome::Passed, Dialect::Final),
        ]
    );
    assert_eq!(flaky[0].message, "expected:<1> but was:<2>");
    let rerun = attempts::of_document(&doc("surefire.xml", "testBroken"));
    assert_eq!(
        rerun
            .iter()
            .map(|a| (a.outcome, a.dialect))
            .collect::<Vec<_>>(),
        [
            (AttemptOutcome::Failed, Dialect::Final),
            (AttemptOutcome::Failed, Dialect::RerunAttempt),
            (AttemptOutcome::Failed, Dialect::RerunAttempt),
        ]
    );
    let torch = attempts::of_document(&doc("pytorch.xml", "test_sometimes"));
    assert_eq!(
        torch.iter().map(|a| a.dialect).collect::<Vec<_>>(),
        [Dialect::Rerun, Dialect::Rerun, Dialect::Final]
    );
    // pytest-rerunfailures: the test three times in one report, in order.
    let i = run
        .files
        .iter()
        .position(|f| f.rel.ends_with("rerunfailures.xml"))
        .unwrap();
    let rows: Vec<u32> = run.cases.file_rows(i).map(|r| r as u32).collect();
    let group = t.repeats.rows_of(rows[0]);
    assert_eq!(group.len(), 3);
    let docs: Vec<_> = testscope::reread::reread_from(
        &run.reports,
        run.attempt,
        &group
            .iter()
            .map(|&r| (i as u32, run.cases.ordinal(r as usize)))
            .collect::<Vec<_>>(),
        "1",
    )
    .into_iter()
    .map(Option::unwrap)
    .collect();
    let occurrences: Vec<(usize, &testscope::report::Object)> =
        docs.iter().map(|d| (i, d)).collect();
    let timeline = attempts::timeline(&occurrences);
    assert_eq!(
        timeline
            .iter()
            .map(|a| (a.outcome, a.dialect))
            .collect::<Vec<_>>(),
        [
            (AttemptOutcome::Failed, Dialect::Final),
            (AttemptOutcome::Failed, Dialect::Repeated),
            (AttemptOutcome::Passed, Dialect::Repeated),
        ]
    );
}

/// The bundled base run is what the generator writes for it.
#[test]
fn sample_base_generator_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = testscope_gen::GenOptions::profile("sample").unwrap();
    opts.run_id = 1_000_000_000;
    opts.base_of = Some(testscope_gen::DEFAULT_RUN_ID);
    testscope_gen::generate(&opts, dir.path()).unwrap();
    let rel = "gha-artifacts/pytorch/pytorch/1000000000/1/artifact";
    let bundled = common::project("assets/sample-base").join(rel);
    let mut names: Vec<_> = std::fs::read_dir(&bundled)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    for name in names {
        assert_eq!(
            std::fs::read(bundled.join(&name)).unwrap(),
            std::fs::read(dir.path().join(rel).join(&name)).unwrap(),
            "{name:?}"
        );
    }
}

/// Tests skipped with PyTorch's disabled-test message are listed, with their issue; other
/// skips are not.
#[test]
fn tests_skipped_as_disabled_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    report(
        dir.path(),
        SHARD1,
        "test_ops",
        1,
        &[
            r#"<testcase classname="TestOps" name="test_off" time="0"><skipped type="pytest.skip" message="Test is disabled because an issue exists disabling it: https://github.com/pytorch/pytorch/issues/555 for platform(s) linux. If you're seeing this on your local machine and would like to enable this test, please make sure CI is not set and you are not using the flag --import-disabled-tests.">skipped</skipped></testcase>"#.to_string(),
            r#"<testcase classname="TestOps" name="test_no_cuda" time="0"><skipped type="pytest.skip" message="CUDA not available">skipped</skipped></testcase>"#.to_string(),
            pass("TestOps", "test_fine"),
        ]
        .concat(),
    );
    let run = load_dir(dir.path());
    let t = Triage::new(&run, None, None);
    let listed: Vec<&str> = t
        .disabled_skips
        .iter()
        .map(|&i| run.notable[i as usize].name.as_str())
        .collect();
    assert_eq!(listed, ["test_off"]);
    let b = &run.notable[t.disabled_skips[0] as usize];
    assert_eq!(
        testscope::triage::disabled::disabled_skip_url(&b.message),
        Some("https://github.com/pytorch/pytorch/issues/555")
    );
    // A skipped case is neither a failure nor clustered.
    assert!(t.clusters.clusters.is_empty());
}
