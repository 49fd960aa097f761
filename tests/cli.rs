//! The real binary, as CI and people call it: flags, exit codes, files written, messages.
#![cfg(feature = "net")] // the binary and tests/common need the default `net` feature

mod common;

use std::process::Command;

use common::*;

fn testscope() -> Command {
    common::testscope_cmd()
}

fn upload_args(reports: &str, out: &std::path::Path) -> Vec<String> {
    [
        "--upload",
        "--workflow-run-id",
        "777",
        "--workflow-run-attempt",
        "2",
        "--head-branch",
        "main",
        "--head-repository",
        "pytorch/pytorch",
        "--reports",
        reports,
        "--out-dir",
        out.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn upload_writes_the_reference_objects() {
    let out = tempfile::tempdir().unwrap();
    let status = testscope()
        .args(upload_args(
            project("tests/corpus/bucket").to_str().unwrap(),
            out.path(),
        ))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    for c in ALL {
        let key = format!("ossci-raw-job-status/{c}/777/2");
        let got = gunzip(&std::fs::read(out.path().join(&key)).unwrap());
        let want =
            gunzip(&std::fs::read(project("tests/corpus/expected/main").join(&key)).unwrap());
        assert!(got == want, "{key} differs");
    }
    // No temporary files are left next to the objects.
    let leftovers: Vec<_> = walk(out.path())
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn missing_upload_flags_are_a_usage_error() {
    let out = testscope()
        .args(["--upload", "--workflow-run-id", "1", "--reports", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--workflow-run-attempt"), "{err}");
    assert!(err.contains("--head-branch"), "{err}");
}

#[test]
fn bad_files_are_skipped_and_named_and_strict_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir
        .path()
        .join("unzipped-x_5/test/test-reports/python-pytest/test_a");
    std::fs::create_dir_all(&inv).unwrap();
    std::fs::write(
        inv.join("good.xml"),
        r#"<testsuite><testcase classname="A" name="ok" time="1"/></testsuite>"#,
    )
    .unwrap();
    std::fs::write(
        inv.join("truncated.xml"),
        r#"<testsuite><testcase classname="A" name="x" ti"#,
    )
    .unwrap();
    let out_dir = dir.path().join("up");
    let args = upload_args(dir.path().to_str().unwrap(), &out_dir);

    let out = testscope().args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("truncated.xml"), "{err}");
    assert!(err.contains("warning: unreadable"), "{err}");
    let body = gunzip(&std::fs::read(out_dir.join("ossci-raw-job-status/test_run/777/2")).unwrap());
    let body = String::from_utf8(body).unwrap();
    assert_eq!(body.lines().count(), 1);
    assert!(body.contains("\"name\": \"ok\""));

    // Under GitHub Actions the warning is an annotation.
    let out = testscope()
        .args(&args)
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("::warning title=testscope%3A unreadable::"),
        "{err}"
    );

    let strict_out = dir.path().join("strict");
    let mut strict = upload_args(dir.path().to_str().unwrap(), &strict_out);
    strict.push("--strict".into());
    let out = testscope().args(&strict).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(!strict_out.exists(), "nothing is written under --strict");
}

#[test]
fn json_summary_and_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = upload_args(
        project("tests/corpus/bucket").to_str().unwrap(),
        &dir.path().join("up"),
    );
    args.extend(["--dry-run".into(), "--json".into()]);
    let out = testscope().args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["cases"], 37);
    let objects = v["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 7);
    assert_eq!(objects[2]["key"], "test_run/777/2");
    assert_eq!(objects[2]["documents"], 37);
    assert_eq!(objects[2]["written"], false);
    assert!(!dir.path().join("up").exists(), "dry run writes nothing");
}

#[test]
fn circleci_mode_reads_test_reports_below_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir
        .path()
        .join("proj/test/test-reports/python-unittest/test_b");
    std::fs::create_dir_all(&reports).unwrap();
    std::fs::write(
        reports.join("TEST-B.xml"),
        r#"<testsuite><testcase classname="B" name="t" time="0.5"/></testsuite>"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("stray.xml"),
        r#"<testsuite><testcase classname="S" name="t" time="0.5"/></testsuite>"#,
    )
    .unwrap();
    let out_dir = dir.path().join("up");
    let out = testscope()
        .current_dir(dir.path())
        .args([
            "--upload",
            "--circleci",
            "--workflow-run-id",
            "9",
            "--workflow-run-attempt",
            "1",
            "--head-branch",
            "main",
            "--head-repository",
            "pytorch/pytorch",
            "--out-dir",
        ])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = String::from_utf8(gunzip(
        &std::fs::read(out_dir.join("ossci-raw-job-status/test_run/9/1")).unwrap(),
    ))
    .unwrap();
    assert_eq!(
        body,
        "{\"classname\": \"B\", \"name\": \"t\", \"time\": 0.5, \"workflow_id\": \"9\", \
         \"workflow_run_attempt\": 1, \"job_id\": null, \"invoking_file\": \"test_b\"}\n"
    );
}

#[test]
fn completions_and_man_page_come_from_the_flags() {
    let out = testscope()
        .args(["--completions", "bash"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--workflow-run-attempt"));
    let out = testscope().arg("--man").output().unwrap();
    let man = String::from_utf8_lossy(&out.stdout);
    assert!(man.contains(".TH testscope"), "{man}");
    assert!(man.contains("head\\-repository"), "{man}");
}

#[test]
fn inspect_prints_a_plain_triage_report() {
    let out = testscope()
        .args([
            project("tests/golden/real/bucket").to_str().unwrap(),
            "--workflow-run-id",
            "555",
            "--workflow-run-attempt",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3 files, 29 cases"), "{text}");
    assert!(text.contains("failed:"), "{text}");
    assert!(
        text.contains("[failure] xmlrunner.tests.testsuite_cases.MixedTestCase::test_failure"),
        "{text}"
    );
}

#[test]
fn bucket_folder_with_one_run_needs_no_ids() {
    let out = testscope()
        .arg(project("assets/sample-run"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("run 1000000001 attempt 1"), "{text}");
    assert!(text.contains("300 cases"), "{text}");
    // Report text reaches the terminal inert: the sample's C1 CSI is shown escaped.
    assert!(!text.contains('\u{9b}'), "raw C1 control in output");
    // Offline, jobs are labelled from their artifact names...
    assert!(
        text.contains("(test (default, 1, 5, linux.2xlarge), test_python_dispatch)"),
        "{text}"
    );
    // ...and by their GitHub names where known.
    let out = testscope()
        .arg(project("assets/sample-run"))
        .arg("--job-names")
        .arg(project("assets/sample-run/job-names.json"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("(win-vs2022-cpu-py3 / test (default, 1, 3, windows.4xlarge.nonephemeral), test_serialize)"),
        "{text}"
    );
}

/// Job names come from GitHub's API (a local server here) and give the reference's
/// additional_info bytes; failures fall back to NoJobName with one warning.
#[test]
fn job_names_from_github_api() {
    let names: std::collections::HashMap<String, String> = serde_json::from_slice(
        &std::fs::read(project("assets/sample-run/job-names.json")).unwrap(),
    )
    .unwrap();
    let server = common::http::Server::start(move |req, _| {
        let id = req.path.rsplit('/').next().unwrap_or("").to_string();
        match names.get(&id) {
            Some(name)
                if req.header("authorization")
                    == Some(&format!("token {}", common::http::TOKEN)) =>
            {
                common::http::json(
                    200,
                    &serde_json::json!({"id": id, "name": name}).to_string(),
                )
            }
            Some(_) => common::http::json(401, r#"{"message": "Bad credentials"}"#),
            None => common::http::json(404, r#"{"message": "Not Found"}"#),
        }
    });
    let out_dir = tempfile::tempdir().unwrap();
    let args = [
        "--upload",
        "--workflow-run-id",
        "1000000001",
        "--workflow-run-attempt",
        "1",
        "--head-branch",
        "main",
        "--head-repository",
        "pytorch/pytorch",
    ];
    let out = testscope()
        .args(args)
        .arg(project("assets/sample-run"))
        .arg("--out-dir")
        .arg(out_dir.path())
        .env("GITHUB_TOKEN", common::http::TOKEN)
        .env("GITHUB_API_URL", server.url())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("job names"), "no warning expected: {err}");
    assert_eq!(server.count(), 3, "one request per distinct job");
    for c in ALL {
        let key = format!("ossci-raw-job-status/{c}/1000000001/1");
        let got = gunzip(&std::fs::read(out_dir.path().join(&key)).unwrap());
        let want = gunzip(
            &std::fs::read(project("tests/golden/sample/expected-named").join(&key)).unwrap(),
        );
        assert!(
            got == want,
            "{key} differs from the reference with job names"
        );
    }

    // A bad token: every job unnamed, one warning, the token never printed.
    let out_dir = tempfile::tempdir().unwrap();
    let out = testscope()
        .args(args)
        .arg(project("assets/sample-run"))
        .arg("--out-dir")
        .arg(out_dir.path())
        .env("GITHUB_TOKEN", "ghp_wrong_token_value")
        .env("GITHUB_API_URL", server.url())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.matches("warning: job names").count(), 1, "{err}");
    assert!(err.contains("401"), "{err}");
    assert!(
        !err.contains("ghp_wrong_token_value"),
        "token leaked: {err}"
    );
    for c in ALL {
        let key = format!("ossci-raw-job-status/{c}/1000000001/1");
        let got = gunzip(&std::fs::read(out_dir.path().join(&key)).unwrap());
        let want =
            gunzip(&std::fs::read(project("tests/golden/sample/expected").join(&key)).unwrap());
        assert!(
            got == want,
            "{key} differs from the reference without job names"
        );
    }
}

/// The zip-bomb limits are flags: an archive over --max-zip-total-mib is skipped and named,
/// the rest of the run still uploads.
#[test]
fn zip_limits_are_configurable() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("test-reports-big-default-1-1-r_1.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&big).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("test/test-reports/python-pytest/test_big/r.xml", opts)
        .unwrap();
    let padding = "<!-- padding -->".repeat(1 << 17); // 2 MiB, compresses to little
    write!(
        z,
        r#"<testsuite><testcase classname="B" name="t" time="1"/>{padding}</testsuite>"#
    )
    .unwrap();
    z.finish().unwrap();
    let small = dir.path().join("test-reports-small-default-1-1-r_2.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&small).unwrap());
    z.start_file("test/test-reports/python-pytest/test_small/r.xml", opts)
        .unwrap();
    write!(
        z,
        r#"<testsuite><testcase classname="S" name="t" time="1"/></testsuite>"#
    )
    .unwrap();
    z.finish().unwrap();

    let run = |extra: &[&str]| {
        testscope()
            .arg(dir.path())
            .args([
                "--json",
                "--workflow-run-id",
                "5",
                "--workflow-run-attempt",
                "1",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cases"], 2, "both archives read by default");

    let out = run(&["--max-zip-total-mib", "1"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cases"], 1, "the big archive is skipped");
    let problems = v["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]["file"]
            .as_str()
            .unwrap()
            .contains("test-reports-big"),
        "{problems:?}"
    );
}

/// The bundled run against its bundled base: the JSON report's comparison, clusters and
/// failed cases, as `--json` prints them.
#[test]
fn json_compares_with_the_base_and_clusters_failures() {
    let out = testscope()
        .args([
            "assets/sample-run",
            "--base",
            "assets/sample-base",
            "--json",
        ])
        .args(["--job-names", "assets/sample-run/job-names.json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let counts = &doc["compare"]["counts"];
    let want = [
        ("new_failure", 12),
        ("new_test_failing", 0),
        ("flaky", 7),
        ("still_failing", 12),
        ("missing", 3),
        ("fixed", 3),
        ("new_test", 3),
        ("unchanged", 260),
    ];
    for (verdict, n) in want {
        assert_eq!(counts[verdict], n, "{verdict}: {counts}");
    }
    let tests = doc["compare"]["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 12 + 7 + 12 + 3 + 3);
    for t in tests {
        for key in [
            "config",
            "invoking_file",
            "classname",
            "name",
            "verdict",
            "disabled",
            "head",
            "base",
        ] {
            assert!(t.get(key).is_some(), "{key} in {t}");
        }
        // Config names come from the job names, without the shard part.
        assert!(!t["config"].as_str().unwrap().contains(", 1, "), "{t}");
        if t["verdict"] == "new_failure" {
            assert!(
                t["repro"]
                    .as_str()
                    .is_some_and(|r| r.contains("python test/")),
                "{t}"
            );
            assert!(t["cluster"].is_string(), "{t}");
        }
    }
    // Every failing case of the run is in exactly one cluster.
    let failed = doc["failed"].as_array().unwrap();
    assert_eq!(
        failed.len() as u64,
        doc["failures"].as_u64().unwrap() + doc["errors"].as_u64().unwrap()
    );
    let clustered: u64 = doc["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cases"].as_u64().unwrap())
        .sum();
    assert_eq!(clustered, failed.len() as u64);
    let members: usize = doc["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["members"].as_array().unwrap().len())
        .sum();
    assert_eq!(members, failed.len());
    for f in failed {
        assert!(
            f["cluster"].is_string() && f["repro"].is_string() && f["attempts"].as_u64() >= Some(1),
            "{f}"
        );
    }
    assert_eq!(doc["attempt_dialects"]["rerun"], 13);
}

#[test]
fn markdown_comment_and_step_summary() {
    let summary = tempfile::NamedTempFile::new().unwrap();
    let out = testscope()
        .args([
            "assets/sample-run",
            "--base",
            "assets/sample-base",
            "--markdown",
        ])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("## testscope: 12 new failures, 7 flaky, 12 still failing"),
        "{text}"
    );
    assert!(text.contains("### New failures (12)"));
    assert!(text.contains("### Failure clusters"));
    assert!(text.len() < 65_536);
    assert_eq!(std::fs::read_to_string(summary.path()).unwrap(), text);
}

#[test]
fn fail_on_new_is_a_ci_gate() {
    let out = testscope()
        .args([
            "assets/sample-run",
            "--base",
            "assets/sample-base",
            "--fail-on",
            "new",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("12 new failure(s)"));
    // Against itself nothing is new.
    let same = testscope()
        .args([
            "assets/sample-run",
            "--base",
            "assets/sample-run",
            "--fail-on",
            "new",
        ])
        .output()
        .unwrap();
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    // Without a base there is nothing to compare with.
    let usage = testscope()
        .args(["assets/sample-run", "--fail-on", "new"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("--base"));
}

#[test]
fn an_unreadable_base_is_an_error_naming_it() {
    let out = testscope()
        .args(["assets/sample-run", "--base", "no/such/base", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("base run") && err.contains("no/such/base"),
        "{err}"
    );
}

#[test]
fn repro_script_of_the_new_failures() {
    let out = testscope()
        .args([
            "assets/sample-run",
            "--base",
            "assets/sample-base",
            "--repro",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.starts_with("#!/usr/bin/env bash\n"), "{script}");
    let commands: Vec<&str> = script
        .lines()
        .filter(|l| l.starts_with("python") || l.contains(" python "))
        .collect();
    assert!(!commands.is_empty() && commands.len() <= 12, "{script}");
    let unique: std::collections::HashSet<_> = commands.iter().collect();
    assert_eq!(unique.len(), commands.len(), "deduplicated: {script}");
    // Without a base: every failure's command.
    let all = testscope()
        .args(["assets/sample-run", "--repro"])
        .output()
        .unwrap();
    let all = String::from_utf8(all.stdout).unwrap();
    assert!(all.lines().count() > script.lines().count());
}

/// A run URL in place of PATH: checked against the ids given beside it, and a URL that
/// names no run says what a run URL looks like.
#[test]
fn run_urls_are_checked() {
    let url = "https://github.com/pytorch/pytorch/actions/runs/1000000001/attempts/1";
    let out = testscope()
        .args([url, "--workflow-run-id", "5", "--plain"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("disagree"));
    let out = testscope()
        .args(["https://github.com/pytorch/pytorch/pull/123", "--plain"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("expected a workflow run's URL"), "{err}");
    let out = testscope()
        .args([url, "--workflow-run-attempt", "2", "--plain"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
