//! The S3 source and sink against real S3-compatible servers started by the tests:
//! SeaweedFS, and moto as a cross-check (both installed on demand). A generated run is seeded into the artifacts bucket with the SDK, read back from S3,
//! uploaded to S3, and every object read back must decompress to the bytes the local
//! pipeline (and the reference's goldens) give. Faults come from a proxy inside the test.
#![cfg(feature = "net")] // the binary and tests/common need the default `net` feature

mod common;

use std::path::Path;
use std::process::Output;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::proxy::{Action, Proxy};
use common::s3::*;
use common::*;
use testscope::s3_client::S3;
use testscope::source::bucket::{FetchProgress, S3Spec};
use testscope::source::{Listing, ZipLimits};
use testscope::upload::PlannedObject;

const RUN: &str = "1000000001";
const ARTIFACTS: &str = "gha-artifacts";
const STATS: &str = "ossci-raw-job-status";
const PREFIX: &str = "pytorch/pytorch/1000000001/1/artifact/";

/// PyTorch's script's flags for the sample run.
const SEED_FLAGS: [&str; 8] = [
    "--workflow-run-id",
    RUN,
    "--workflow-run-attempt",
    "1",
    "--head-branch",
    "main",
    "--head-repository",
    "pytorch/pytorch",
];

/// The bundled sample run, generated afresh into a temporary bucket folder.
fn sample_run() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let opts = testscope_gen::GenOptions::profile("sample").unwrap();
    testscope_gen::generate(&opts, dir.path()).unwrap();
    dir
}

/// Put the run's artifacts into the artifacts bucket, keyed as the bucket lays them out.
fn fill_bucket(s3: &S3, run: &Path) -> Vec<String> {
    put_tree(s3, ARTIFACTS, &run.join(ARTIFACTS), "")
}

/// What the local pipeline plans for the same run on disk.
fn local_objects(run: &Path) -> Vec<PlannedObject> {
    run_pipeline(run, RUN, "1", "main", "pytorch/pytorch").objects
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

/// Each planned object is in `bucket` with both headers, and decompresses to the bytes of
/// the local plan (and, for the sample run, of the reference's goldens).
fn assert_uploaded(s3: &S3, bucket: &str, local: &[PlannedObject], goldens: bool) {
    for o in local {
        let (body, encoding, content_type) = get_object(s3, bucket, &o.key)
            .unwrap_or_else(|| panic!("{bucket}/{} was not uploaded", o.key));
        assert_eq!(encoding, "gzip", "{}: Content-Encoding", o.key);
        assert_eq!(content_type, "application/json", "{}: Content-Type", o.key);
        let got = gunzip(&body);
        assert!(
            got == gunzip(&o.body.to_vec()),
            "{}: differs from local",
            o.key
        );
        if goldens {
            let want = std::fs::read(
                project("tests/golden/sample/expected")
                    .join(STATS)
                    .join(&o.key),
            )
            .unwrap();
            assert!(got == gunzip(&want), "{}: differs from the golden", o.key);
        }
    }
}

/// Reports (path, size) and td_exclusions paths: what must be the same from S3 and disk.
fn shape(l: &Listing) -> (Vec<(String, u64)>, Vec<String>) {
    (
        l.reports
            .iter()
            .map(|r| (r.rel.to_string(), r.size))
            .collect(),
        l.td_exclusions.iter().map(|a| a.rel.to_string()).collect(),
    )
}

fn local_listing(run: &Path) -> Listing {
    testscope::source::discover(&testscope::source::LocalSpec {
        path: run.to_path_buf(),
        circleci: false,
        artifacts_repo: "pytorch/pytorch".into(),
        run_id: Some(RUN.into()),
        attempt: Some("1".into()),
        zip_limits: ZipLimits::default(),
    })
    .unwrap()
}

/// The run in the artifacts bucket, listed and fetched whole (`progress` counts it).
fn fetched_listing(s3: S3, progress: &Arc<FetchProgress>) -> Listing {
    testscope::source::bucket::discover(&Arc::new(s3), &s3_spec(ARTIFACTS), progress)
        .unwrap()
        .fetched()
}

fn s3_spec(bucket: &str) -> S3Spec {
    S3Spec {
        bucket: bucket.into(),
        artifacts_repo: "pytorch/pytorch".into(),
        run_id: RUN.into(),
        attempt: 1,
        zip_limits: ZipLimits::default(),
        cache: None,
        concurrency: 8,
    }
}

/// Fill the bucket, inspect, dry-run, upload S3 to S3, read back; the listing from S3 equals the
/// local one; `--out-dir` still works with the S3 source; the environment's endpoint
/// variable works as well as the flag.
#[test]
fn sample_run_round_trip_through_seaweedfs() {
    let server = Seaweed::start(&[ARTIFACTS, STATS]);
    let s3 = server.client();
    let run = sample_run();
    let keys = fill_bucket(&s3, run.path());
    assert_eq!(keys.len(), 6);
    let local = local_objects(run.path());

    // The source, in process: the same listing as the bucket on disk, progress complete.
    let progress = Arc::new(FetchProgress::default());
    let listing = fetched_listing(server.client(), &progress);
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    assert_eq!(shape(&listing), shape(&local_listing(run.path())));
    assert_eq!(listing.description, format!("s3://{ARTIFACTS}/{PREFIX}"));
    assert_eq!(progress.objects_done.load(Ordering::Relaxed), 6);
    let total: u64 = keys
        .iter()
        .map(|k| {
            std::fs::metadata(run.path().join(ARTIFACTS).join(k))
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(progress.bytes_total.load(Ordering::Relaxed), total);
    assert_eq!(progress.bytes_done.load(Ordering::Relaxed), total);

    // Plain inspection from S3 (endpoint from AWS_ENDPOINT_URL_S3) reads as from disk.
    let from_s3 = testscope_env(ACCESS_KEY, SECRET_KEY)
        .env("AWS_ENDPOINT_URL_S3", server.endpoint())
        .arg("--s3-path-style")
        .args(&SEED_FLAGS[..4])
        .output()
        .unwrap();
    assert_exit(&from_s3, 0);
    let from_disk = testscope_env(ACCESS_KEY, SECRET_KEY)
        .arg(run.path())
        .args(&SEED_FLAGS[..4])
        .output()
        .unwrap();
    assert_exit(&from_disk, 0);
    let body = |o: &Output| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.split_once('\n')
            .map(|(_, rest)| rest.to_string())
            .unwrap()
    };
    assert_eq!(body(&from_s3), body(&from_disk));
    assert!(
        String::from_utf8_lossy(&from_s3.stdout).contains(&format!("s3://{ARTIFACTS}/{PREFIX}"))
    );
    assert!(
        stderr(&from_s3).contains("fetched 6 artifacts"),
        "{}",
        stderr(&from_s3)
    );

    // The run's URL, as a browser shows it, reads the same run from the bucket.
    let from_url = testscope_env(ACCESS_KEY, SECRET_KEY)
        .env("AWS_ENDPOINT_URL_S3", server.endpoint())
        .arg("--s3-path-style")
        .arg(format!(
            "https://github.com/pytorch/pytorch/actions/runs/{RUN}/attempts/1/?pr=1"
        ))
        .output()
        .unwrap();
    assert_exit(&from_url, 0);
    assert_eq!(body(&from_url), body(&from_disk));
    // Without /attempts/N and without a token: attempt 1, said on stderr.
    let latest = testscope_env(ACCESS_KEY, SECRET_KEY)
        .env("AWS_ENDPOINT_URL_S3", server.endpoint())
        .arg("--s3-path-style")
        .arg(format!(
            "https://github.com/pytorch/pytorch/actions/runs/{RUN}"
        ))
        .output()
        .unwrap();
    assert_exit(&latest, 0);
    assert!(
        stderr(&latest).contains("reading attempt 1"),
        "{}",
        stderr(&latest)
    );
    assert_eq!(body(&latest), body(&from_disk));

    // A dry run prints the plan and writes nothing.
    let dry = testscope_with(&server.endpoint(), ACCESS_KEY, SECRET_KEY)
        .arg("--upload")
        .args(SEED_FLAGS)
        .args(["--dry-run", "--json"])
        .output()
        .unwrap();
    assert_exit(&dry, 0);
    let plan: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(plan["objects"].as_array().unwrap().len(), 7);
    assert_eq!(plan["source"], format!("s3://{ARTIFACTS}/{PREFIX}"));
    assert!(
        list_keys(&s3, STATS).is_empty(),
        "a dry run wrote something"
    );

    // --upload without --out-dir: S3 to S3.
    let up = testscope_with(&server.endpoint(), ACCESS_KEY, SECRET_KEY)
        .arg("--upload")
        .args(SEED_FLAGS)
        .output()
        .unwrap();
    assert_exit(&up, 0);
    assert!(stderr(&up).contains("done: 7 objects"), "{}", stderr(&up));
    assert_uploaded(&s3, STATS, &local, true);
    assert_eq!(list_keys(&s3, STATS).len(), 7);

    // The S3 source with the folder sink gives the same objects.
    let out = tempfile::tempdir().unwrap();
    let folder = testscope_with(&server.endpoint(), ACCESS_KEY, SECRET_KEY)
        .arg("--upload")
        .args(SEED_FLAGS)
        .arg("--out-dir")
        .arg(out.path())
        .output()
        .unwrap();
    assert_exit(&folder, 0);
    for o in &local {
        let got = std::fs::read(out.path().join(STATS).join(&o.key)).unwrap();
        assert!(gunzip(&got) == gunzip(&o.body.to_vec()), "{}", o.key);
    }

    // The SDK's default checksums (not only WhenRequired) are accepted too.
    let crc = testscope_with(&server.endpoint(), ACCESS_KEY, SECRET_KEY)
        .env("AWS_REQUEST_CHECKSUM_CALCULATION", "when_supported")
        .env("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_supported")
        .arg("--upload")
        .args(SEED_FLAGS)
        .args(["--stats-bucket", ARTIFACTS])
        .output()
        .unwrap();
    assert_exit(&crc, 0);
    assert_uploaded(&s3, ARTIFACTS, &local, false);
}

/// More than 1000 keys under the prefixes listed: every artifact is still found (the
/// listing pages), keys below a sub-folder are not artifacts, and a zip that cannot be
/// opened is a problem entry, not an error.
#[test]
fn listing_past_1000_keys_finds_every_artifact() {
    let server = Seaweed::start(&[ARTIFACTS]);
    let s3 = server.client();
    let run = sample_run();
    fill_bucket(&s3, run.path());
    // Sorted before the real reports, so those are on the second page.
    let extra: Vec<(String, Vec<u8>)> = (0..1100)
        .map(|i| {
            (
                format!("{PREFIX}test-reports-aaa-extra/{i:05}.txt"),
                b"x".to_vec(),
            )
        })
        .chain([
            (
                format!("{PREFIX}usage-log-1.txt"),
                b"not an artifact".to_vec(),
            ),
            (
                format!("{PREFIX}test-reports-zzz-broken_9.zip"),
                b"not a zip".to_vec(),
            ),
        ])
        .collect();
    put_many(&s3, ARTIFACTS, &extra);

    let progress = Arc::new(FetchProgress::default());
    let listing = fetched_listing(server.client(), &progress);
    assert!(progress.keys_listed.load(Ordering::Relaxed) > 1100);
    assert_eq!(shape(&listing), shape(&local_listing(run.path())));
    assert_eq!(progress.objects_done.load(Ordering::Relaxed), 7);
    assert_eq!(listing.problems.len(), 1, "{:?}", listing.problems);
    let (what, why) = &listing.problems[0];
    assert_eq!(
        what,
        &format!("s3://{ARTIFACTS}/{PREFIX}test-reports-zzz-broken_9.zip")
    );
    assert!(why.contains("test-reports-zzz-broken_9.zip"), "{why}");

    // The binary: the broken zip is a warning, the rest uploads (exit 0).
    let out = tempfile::tempdir().unwrap();
    let up = testscope_with(&server.endpoint(), ACCESS_KEY, SECRET_KEY)
        .arg("--upload")
        .args(SEED_FLAGS)
        .arg("--out-dir")
        .arg(out.path())
        .output()
        .unwrap();
    assert_exit(&up, 0);
    assert!(
        stderr(&up).contains("test-reports-zzz-broken_9.zip"),
        "{}",
        stderr(&up)
    );
    for o in local_objects(run.path()) {
        let got = std::fs::read(out.path().join(STATS).join(&o.key)).unwrap();
        assert!(gunzip(&got) == gunzip(&o.body.to_vec()), "{}", o.key);
    }
}

/// Wrong secret, unknown access key, missing buckets: exit 1 with a message that names the
/// bucket and the cause, and never a secret.
#[test]
fn wrong_credentials_and_missing_buckets_are_clear_errors() {
    let server = Seaweed::start(&[ARTIFACTS, STATS]);
    let s3 = server.client();
    let run = sample_run();
    fill_bucket(&s3, run.path());
    let wrong_secret = "WrongSecretValue/abcdef0123456789";

    for (key, secret, code) in [
        (ACCESS_KEY, wrong_secret, "SignatureDoesNotMatch"),
        ("AKIANOSUCHKEY0000000", wrong_secret, "InvalidAccessKeyId"),
    ] {
        let out = testscope_with(&server.endpoint(), key, secret)
            .args(&SEED_FLAGS[..4])
            .output()
            .unwrap();
        assert_exit(&out, 1);
        let err = stderr(&out);
        assert!(err.contains(&format!("s3://{ARTIFACTS}/{PREFIX}")), "{err}");
        assert!(err.contains(code), "{err}");
        assert!(err.contains(&server.endpoint()), "{err}");
        assert!(err.contains("check the credentials"), "{err}");
        let all = format!("{err}{}", String::from_utf8_lossy(&out.stdout));
        assert!(
            !all.contains(wrong_secret) && !all.contains(SECRET_KEY),
            "secret leaked: {all}"
        );
    }

    // No such artifacts bucket.
    let out = testscope_with(&server.endpoint(), ACCESS_KEY, SECRET_KEY)
        .args(&SEED_FLAGS[..4])
        .args(["--artifacts-bucket", "no-such-artifacts"])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("s3://no-such-artifacts/"), "{err}");
    assert!(err.contains("NoSuchBucket"), "{err}");

    // No such stats bucket: the first object fails, nothing is written anywhere.
    let out = testscope_with(&server.endpoint(), ACCESS_KEY, SECRET_KEY)
        .arg("--upload")
        .args(SEED_FLAGS)
        .args(["--stats-bucket", "no-such-stats"])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("s3://no-such-stats/test_run_summary/{RUN}/1")),
        "{err}"
    );
    assert!(err.contains("NoSuchBucket"), "{err}");
    assert!(!err.contains("already written"), "{err}");
    assert!(list_keys(&s3, STATS).is_empty());

    // Wrong credentials for the upload (reports from disk): the object is named, no secret.
    let out = testscope_with(&server.endpoint(), ACCESS_KEY, wrong_secret)
        .arg("--upload")
        .args(SEED_FLAGS)
        .arg("--reports")
        .arg(run.path())
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("s3://{STATS}/test_run_summary/{RUN}/1")),
        "{err}"
    );
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(!err.contains(wrong_secret), "secret leaked: {err}");
    assert!(list_keys(&s3, STATS).is_empty());
}

/// Nothing listening at the endpoint: a clear error naming it, exit 1, for the source and
/// for the sink.
#[test]
fn server_not_running_is_a_clear_error() {
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let out = testscope_with(&endpoint, ACCESS_KEY, SECRET_KEY)
        .args(&SEED_FLAGS[..4])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("cannot reach the server"), "{err}");
    assert!(err.contains(&endpoint), "{err}");
    assert!(err.contains(&format!("s3://{ARTIFACTS}/{PREFIX}")), "{err}");

    let out = testscope_with(&endpoint, ACCESS_KEY, SECRET_KEY)
        .arg("--upload")
        .args(SEED_FLAGS)
        .arg("--reports")
        .arg(project("assets/sample-run"))
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("upload failed"), "{err}");
    assert!(
        err.contains(&format!("s3://{STATS}/test_run_summary/{RUN}/1")),
        "{err}"
    );
    assert!(err.contains("cannot reach the server"), "{err}");
}

/// The server dies while the third object's body is half sent: the upload fails naming
/// that object, lists the two written before it, and after a restart every object that
/// exists is complete (the half-sent one is absent or whole, later ones absent).
#[test]
fn server_stopped_mid_upload_leaves_only_complete_objects() {
    let server = Arc::new(Mutex::new(Seaweed::start(&[STATS])));
    let (s3, upstream) = {
        let s = server.lock().unwrap();
        (s.client(), s.addr())
    };
    let run = sample_run();
    let local = local_objects(run.path());
    let third = format!("/{STATS}/test_run/{RUN}/1");
    let stopper = server.clone();
    let hook: Mutex<Option<Box<dyn FnOnce() + Send>>> = Mutex::new(Some(Box::new(move || {
        stopper.lock().unwrap().kill();
    })));
    let proxy = Proxy::start(upstream, move |h, _| {
        if h.method == "PUT"
            && h.path() == third
            && let Some(hook) = hook.lock().unwrap().take()
        {
            return Action::ForwardPartial(h.content_length / 2, hook);
        }
        Action::Forward
    });

    let out = testscope_with(&proxy.endpoint(), ACCESS_KEY, SECRET_KEY)
        .arg("--upload")
        .args(SEED_FLAGS)
        .arg("--reports")
        .arg(run.path())
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("upload failed: s3://{STATS}/test_run/{RUN}/1")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "already written: {STATS}/test_run_summary/{RUN}/1, {STATS}/failed_test_runs/{RUN}/1"
        )),
        "{err}"
    );

    server.lock().unwrap().restart();
    let mut present = Vec::new();
    for o in &local {
        if let Some((body, encoding, _)) = get_object(&s3, STATS, &o.key) {
            assert_eq!(encoding, "gzip");
            assert!(
                gunzip(&body) == gunzip(&o.body.to_vec()),
                "{} is incomplete",
                o.key
            );
            present.push(o.collection);
        }
    }
    assert!(
        present == ["test_run_summary", "failed_test_runs"]
            || present == ["test_run_summary", "failed_test_runs", "test_run"],
        "{present:?}"
    );
}

/// 500, 503, a dropped connection, a slow answer, no answer at all and a download that
/// breaks off: the SDK (or the source, for a broken body) retries, the upload completes and
/// every object is whole. A key that keeps failing is named with
/// the error after the standard three attempts.
#[test]
fn injected_faults_are_retried_and_objects_complete() {
    let server = Seaweed::start(&[ARTIFACTS, STATS, "stats-b"]);
    let s3 = server.client();
    let run = sample_run();
    fill_bucket(&s3, run.path());
    let local = local_objects(run.path());
    let proxy = Proxy::start(server.addr(), |h, n| {
        let p = h.path();
        let put = h.method == "PUT";
        if h.is_list() && n == 0 {
            Action::Drop
        } else if h.method == "GET" && p.ends_with(".zip") && n == 0 {
            Action::Error(503, "SlowDown")
        } else if h.method == "GET" && p.ends_with(".zip") && p.contains("test-jsons") && n == 1 {
            // The answer breaks off mid-body: fetched again from the start.
            Action::TruncateAnswer(100)
        } else if put && p == format!("/{STATS}/test_run_summary/{RUN}/1") && n < 2 {
            [
                Action::Error(500, "InternalError"),
                Action::Delay(Duration::from_secs(1)),
            ]
            .into_iter()
            .nth(n)
            .unwrap()
        } else if put && p == format!("/{STATS}/failed_test_runs/{RUN}/1") && n == 0 {
            Action::Hang
        } else if put && p == format!("/{STATS}/test_run/{RUN}/1") && n == 0 {
            Action::Drop
        } else if put && p.starts_with("/stats-b/additional_info/reruns/") {
            Action::Error(503, "ServiceUnavailable")
        } else {
            Action::Forward
        }
    });

    let up = testscope_with(&proxy.endpoint(), ACCESS_KEY, SECRET_KEY)
        .arg("--upload")
        .args(SEED_FLAGS)
        .args(["--s3-timeout", "2"])
        .output()
        .unwrap();
    assert_exit(&up, 0);
    assert_uploaded(&s3, STATS, &local, true);
    // 500, then a slow answer that succeeds.
    assert_eq!(proxy.count("PUT", "/test_run_summary/1000000001/1"), 2);
    // No answer within --s3-timeout, then success.
    assert_eq!(proxy.count("PUT", "/failed_test_runs/1000000001/1"), 2);
    assert_eq!(proxy.count("PUT", "/test_run/1000000001/1"), 2);
    for zip in list_keys(&s3, ARTIFACTS) {
        let tries = if zip.contains("test-jsons") { 3 } else { 2 };
        assert_eq!(proxy.count("GET", &zip), tries, "{zip}");
    }

    // A key that keeps failing: named with the error, after three attempts; the objects
    // before it are written and whole, the ones after it are not attempted.
    let up = testscope_with(&proxy.endpoint(), ACCESS_KEY, SECRET_KEY)
        .arg("--upload")
        .args(SEED_FLAGS)
        .args(["--stats-bucket", "stats-b", "--reports"])
        .arg(run.path())
        .output()
        .unwrap();
    assert_exit(&up, 1);
    let err = stderr(&up);
    assert!(
        err.contains(&format!(
            "upload failed: s3://stats-b/additional_info/reruns/{RUN}/1: ServiceUnavailable (HTTP 503)"
        )),
        "{err}"
    );
    assert!(
        err.contains("already written: stats-b/test_run_summary/"),
        "{err}"
    );
    assert_eq!(
        proxy.count("PUT", "/stats-b/additional_info/reruns/1000000001/1"),
        3
    );
    let written: Vec<_> = local.iter().take(3).cloned().collect();
    assert_uploaded(&s3, "stats-b", &written, true);
    assert_eq!(list_keys(&s3, "stats-b").len(), 3);
}

/// The same round trip against moto (SigV4 checked), as a cross-check of SeaweedFS. The
/// harness installs moto when it is missing, so this always runs.
#[test]
fn sample_run_round_trip_through_moto() {
    let moto = Moto::start(&[ARTIFACTS, STATS]);
    let s3 = moto.client();
    let run = sample_run();
    fill_bucket(&s3, run.path());
    let progress = Arc::new(FetchProgress::default());
    let listing = fetched_listing(moto.client(), &progress);
    assert_eq!(shape(&listing), shape(&local_listing(run.path())));

    let up = testscope_with(&moto.endpoint(), &moto.access_key, &moto.secret_key)
        .arg("--upload")
        .args(SEED_FLAGS)
        .output()
        .unwrap();
    assert_exit(&up, 0);
    assert_uploaded(&s3, STATS, &local_objects(run.path()), true);

    let out = testscope_with(&moto.endpoint(), &moto.access_key, "WrongSecretValue/0123")
        .args(&SEED_FLAGS[..4])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(!err.contains(&moto.secret_key), "secret leaked: {err}");
}

/// A malformed endpoint is a usage error, before anything is sent.
#[test]
fn endpoint_must_be_an_http_url() {
    let out = testscope_with("127.0.0.1:9000", ACCESS_KEY, SECRET_KEY)
        .args(&SEED_FLAGS[..4])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("http:// or https://"),
        "{}",
        stderr(&out)
    );
}

/// The plain report's body (after its first line, which names the source).
fn report_body(o: &Output) -> String {
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.split_once('\n')
        .map(|(_, rest)| rest.to_string())
        .unwrap()
}

/// A public artifacts bucket is read without credentials (unsigned, as `aws s3
/// --no-sign-request`); `--no-sign-request` forces it; an upload without credentials fails
/// before reading anything; a bucket that refuses anonymous reads says so.
#[test]
fn public_buckets_are_read_without_credentials() {
    let server = Seaweed::start_public(&[ARTIFACTS, STATS], ARTIFACTS);
    let s3 = server.client();
    let run = sample_run();
    fill_bucket(&s3, run.path());
    let from_disk = testscope_env(ACCESS_KEY, SECRET_KEY)
        .arg(run.path())
        .args(&SEED_FLAGS[..4])
        .output()
        .unwrap();
    assert_exit(&from_disk, 0);
    let anonymous = || {
        let mut c = testscope_env("", "");
        c.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .args(["--s3-endpoint", &server.endpoint(), "--s3-path-style"]);
        c
    };
    let anon = anonymous().args(&SEED_FLAGS[..4]).output().unwrap();
    assert_exit(&anon, 0);
    assert_eq!(report_body(&anon), report_body(&from_disk));
    assert!(stderr(&anon).contains("unsigned"), "{}", stderr(&anon));

    // Forced: wrong credentials are not even sent.
    let forced = testscope_with(&server.endpoint(), "wrong", "wrong")
        .arg("--no-sign-request")
        .args(&SEED_FLAGS[..4])
        .output()
        .unwrap();
    assert_exit(&forced, 0);
    assert_eq!(report_body(&forced), report_body(&from_disk));

    // Uploads are never unsigned: refused before anything is read or written.
    let upload = anonymous()
        .arg("--upload")
        .args(SEED_FLAGS)
        .arg("--job-names")
        .arg(run.path().join("job-names.json"))
        .output()
        .unwrap();
    assert_exit(&upload, 1);
    assert!(
        stderr(&upload).contains("no AWS credentials found"),
        "{}",
        stderr(&upload)
    );
    assert!(!stderr(&upload).contains("fetched"), "{}", stderr(&upload));
    let listed = s3
        .block_on(s3.client().list_objects_v2().bucket(STATS).send())
        .unwrap();
    assert_eq!(listed.key_count().unwrap_or(0), 0, "nothing written");

    // The server refuses an anonymous write to the public bucket (read-only for anonymous).
    let unsigned = S3::connect(&testscope::s3_client::S3Settings {
        endpoint: Some(server.endpoint()),
        path_style: true,
        unsigned: testscope::s3_client::Unsigned::Always,
        ..Default::default()
    })
    .unwrap();
    assert!(unsigned.is_anonymous());
    let put = unsigned.block_on(
        unsigned
            .client()
            .put_object()
            .bucket(ARTIFACTS)
            .key("anonymous.txt")
            .body(b"x".to_vec().into())
            .send(),
    );
    assert!(put.is_err(), "an anonymous write was accepted");
    assert!(
        s3.block_on(
            s3.client()
                .head_object()
                .bucket(ARTIFACTS)
                .key("anonymous.txt")
                .send()
        )
        .is_err(),
        "nothing written"
    );

    // A bucket that is not public: refused, and said why.
    let private = anonymous()
        .args(["--artifacts-bucket", STATS])
        .args(&SEED_FLAGS[..4])
        .output()
        .unwrap();
    assert_exit(&private, 1);
    assert!(
        stderr(&private).contains("does not allow anonymous reads"),
        "{}",
        stderr(&private)
    );
}

/// Downloaded archives are kept: the same run opened again downloads nothing and reads the
/// same; a cached archive that no longer matches (truncated) is fetched again.
#[test]
fn a_run_opened_again_comes_from_the_download_cache() {
    let server = Seaweed::start(&[ARTIFACTS, STATS]);
    let s3 = server.client();
    let run = sample_run();
    fill_bucket(&s3, run.path());
    let cache = tempfile::tempdir().unwrap();
    let open = || {
        testscope_with(&server.endpoint(), ACCESS_KEY, SECRET_KEY)
            .arg("--cache-dir")
            .arg(cache.path())
            .args(&SEED_FLAGS[..4])
            .output()
            .unwrap()
    };
    let first = open();
    assert_exit(&first, 0);
    assert!(
        !stderr(&first).contains("download cache"),
        "{}",
        stderr(&first)
    );
    let second = open();
    assert_exit(&second, 0);
    assert!(
        stderr(&second).contains("6 from the download cache"),
        "{}",
        stderr(&second)
    );
    assert_eq!(report_body(&second), report_body(&first));
    // Truncate one cached archive: it no longer matches, and is fetched again.
    let dir = cache
        .path()
        .join(format!("s3_{ARTIFACTS}/pytorch/pytorch/{RUN}/1"));
    let victim = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".zip"))
        .unwrap();
    let len = std::fs::metadata(&victim).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&victim)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let third = open();
    assert_exit(&third, 0);
    assert!(
        stderr(&third).contains("5 from the download cache"),
        "{}",
        stderr(&third)
    );
    assert_eq!(report_body(&third), report_body(&first));
    assert_eq!(
        std::fs::metadata(&victim).unwrap().len(),
        len,
        "fetched again, whole"
    );
    // --no-cache keeps nothing and reads nothing kept.
    let none = testscope_with(&server.endpoint(), ACCESS_KEY, SECRET_KEY)
        .arg("--no-cache")
        .args(&SEED_FLAGS[..4])
        .output()
        .unwrap();
    assert_exit(&none, 0);
    assert!(!stderr(&none).contains("download cache"));
}

/// Zips are parsed while the rest of the run downloads: the last report zip's download is
/// held until the load has folded a file of the first; the reports, every byte fetched
/// (each zip once) and the uploads are those of the same zips on disk (in process and
/// through the binary, which keeps the zips in the download cache).
#[test]
fn zips_are_parsed_while_the_rest_of_the_run_downloads() {
    let server = Seaweed::start(&[ARTIFACTS, STATS]);
    let s3 = server.client();
    let run = larger_run();
    let keys = fill_bucket(&s3, run.path());
    let size = |k: &String| {
        std::fs::metadata(run.path().join(ARTIFACTS).join(k))
            .unwrap()
            .len()
    };
    let last = last_report_zip(&keys);
    let gate = Gate::default();
    let held = Arc::new(Mutex::new(None));
    let (door, seen) = (gate.clone(), held.clone());
    let proxy = Proxy::start(server.addr(), move |h, _| {
        if h.method == "GET" && h.path().ends_with(&last) {
            *seen.lock().unwrap() = Some(door.wait());
        }
        Action::Forward
    });

    let progress = Arc::new(FetchProgress::default());
    let reader = Arc::new(client_for(&proxy.endpoint(), ACCESS_KEY, SECRET_KEY));
    let listing =
        testscope::source::bucket::discover(&reader, &s3_spec(ARTIFACTS), &progress).unwrap();
    // Listed, nothing fetched yet: the load fetches.
    assert!(listing.reports.is_empty() && listing.feed.is_some());
    assert_eq!(progress.objects_done.load(Ordering::Relaxed), 0);
    let opened = gate.clone();
    let planned = plan_listing(listing, RUN, &mut |_| opened.open());
    assert_eq!(
        *held.lock().unwrap(),
        Some(true),
        "the last zip's download waited for the first file to be parsed"
    );
    let local_run = run_pipeline(run.path(), RUN, "1", "main", "pytorch/pytorch");
    let rels = |r: &testscope::run::LoadedRun| -> Vec<String> {
        r.reports.iter().map(|f| f.rel.to_string()).collect()
    };
    assert_eq!(rels(&planned.run), rels(&local_run.run));
    let local = local_objects(run.path());
    assert_same_objects(&planned.objects, &local);
    // Every archive fetched once, whole.
    assert_eq!(progress.objects_done.load(Ordering::Relaxed), 6);
    assert_eq!(
        progress.bytes_done.load(Ordering::Relaxed),
        keys.iter().map(size).sum::<u64>()
    );
    for key in &keys {
        assert_eq!(proxy.count("GET", key.as_str()), 1, "{key}");
    }

    // The binary: the same uploads, and the zips kept in the download cache.
    let (out, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let up = testscope_with(&server.endpoint(), ACCESS_KEY, SECRET_KEY)
        .args(["--upload", "--out-dir"])
        .arg(out.path())
        .arg("--cache-dir")
        .arg(cache.path())
        .args(SEED_FLAGS)
        .output()
        .unwrap();
    assert_exit(&up, 0);
    assert!(
        stderr(&up).contains("fetched 6 artifacts (0 failed)"),
        "{}",
        stderr(&up)
    );
    for o in &local {
        let got = std::fs::read(out.path().join(STATS).join(&o.key)).unwrap();
        assert!(gunzip(&got) == gunzip(&o.body.to_vec()), "{}", o.key);
    }
    let kept = cache
        .path()
        .join(format!("s3_{ARTIFACTS}/pytorch/pytorch/{RUN}/1"));
    for key in &keys {
        let name = key.rsplit('/').next().unwrap();
        assert_eq!(
            std::fs::read(kept.join(name)).unwrap(),
            std::fs::read(run.path().join(ARTIFACTS).join(key)).unwrap(),
            "{name} kept whole"
        );
    }
}

/// A zip whose download fails while the run loads is named with the reason; the rest of
/// the run loads.
#[test]
fn a_download_that_fails_during_the_load_loses_only_its_zip() {
    let server = Seaweed::start(&[ARTIFACTS, STATS]);
    let s3 = server.client();
    let run = larger_run();
    let keys = fill_bucket(&s3, run.path());
    let victim = keys
        .iter()
        .filter(|k| k.contains("test-reports-"))
        .min()
        .unwrap()
        .clone();
    let name = victim.rsplit('/').next().unwrap().to_string();
    let failing = name.clone();
    let proxy = Proxy::start(server.addr(), move |h, _| {
        if h.method == "GET" && h.path().ends_with(&failing) {
            Action::Error(403, "AccessDenied")
        } else {
            Action::Forward
        }
    });
    let out = testscope_with(&proxy.endpoint(), ACCESS_KEY, SECRET_KEY)
        .args(&SEED_FLAGS[..4])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("fetched 5 artifacts (1 failed)"), "{err}");
    let stem = name.trim_end_matches(".zip");
    let all = local_listing(run.path()).reports;
    let in_zip = all
        .iter()
        .filter(|r| r.rel.first() == format!("unzipped-{stem}"))
        .count();
    assert!(in_zip > 0);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        report.contains(&format!("{} files", all.len() - in_zip)),
        "{report}"
    );
    assert!(
        report
            .lines()
            .any(|l| l.contains(&format!("s3://{ARTIFACTS}/{victim}"))
                && l.contains("AccessDenied (HTTP 403)")),
        "{report}"
    );
}
