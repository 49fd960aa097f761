//! The GitHub Actions artifacts source against a local stand-in of GitHub's API and its
//! storage host: paging, the attempt filter, expired artifacts, a redirect that must not
//! carry the token, archives holding reports or report zips, and errors. The uploads made
//! from it are byte-identical to the same run read from its zips on disk.
#![cfg(feature = "net")]

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use common::http::{Server, TOKEN, json, ranged, with_headers};
use common::*;

const RUN: &str = "1000000001";

/// The bundled sample, generated afresh: its artifact zips by name (without `.zip`).
fn sample_zips() -> (tempfile::TempDir, Vec<(String, Vec<u8>)>) {
    let dir = tempfile::tempdir().unwrap();
    let opts = testscope_gen::GenOptions::profile("sample").unwrap();
    testscope_gen::generate(&opts, dir.path()).unwrap();
    zips_of(dir)
}

/// A generated run's artifact zips by name (without `.zip`).
fn zips_of(dir: tempfile::TempDir) -> (tempfile::TempDir, Vec<(String, Vec<u8>)>) {
    let art = dir
        .path()
        .join(format!("gha-artifacts/pytorch/pytorch/{RUN}/1/artifact"));
    let mut zips: Vec<(String, Vec<u8>)> = std::fs::read_dir(&art)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    zips.sort();
    (dir, zips)
}

/// A zip holding one file: how GitHub serves an artifact that was uploaded as a zip.
fn wrapped(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file(format!("{name}.zip"), opts).unwrap();
    z.write_all(bytes).unwrap();
    z.finish().unwrap().into_inner()
}

/// The stand-in: the API lists the run's artifacts on two pages (plus one of another
/// attempt, one expired, and logs), redirects each download to the storage host, which
/// serves half the archives wrapped (a zip holding the report zip) and half as they are.
struct GitHub {
    api: Server,
    storage: Arc<Server>,
}

fn github(zips: &[(String, Vec<u8>)]) -> GitHub {
    github_with(zips, |_| None)
}

/// [`github`], whose storage host runs `hook` on each request first: its reply, if it gives
/// one, is the answer (else the archive, ranges as asked).
fn github_with(
    zips: &[(String, Vec<u8>)],
    hook: impl Fn(&common::http::Req) -> Option<common::http::Reply> + Send + Sync + 'static,
) -> GitHub {
    let blobs: HashMap<String, Vec<u8>> = zips
        .iter()
        .enumerate()
        .map(|(i, (name, bytes))| {
            let served = if i % 2 == 0 {
                wrapped(name, bytes)
            } else {
                bytes.clone()
            };
            (format!("/blob/{name}"), served)
        })
        .collect();
    let sizes: HashMap<String, usize> = blobs
        .iter()
        .map(|(path, b)| (path.trim_start_matches("/blob/").to_string(), b.len()))
        .collect();
    let storage = Arc::new(Server::start(move |req, _| {
        if let Some(reply) = hook(req) {
            return reply;
        }
        match blobs.get(&req.path) {
            Some(b) => ranged(req, b),
            None => json(404, "{}"),
        }
    }));
    let storage_url = storage.url();
    let names: Vec<String> = zips.iter().map(|(n, _)| n.clone()).collect();
    let api = Server::start(move |req, _| {
        if req.header("authorization") != Some(&format!("token {TOKEN}")) {
            return json(401, r#"{"message": "Bad credentials"}"#);
        }
        let base = format!("/repos/pytorch/pytorch/actions/runs/{RUN}/artifacts");
        let artifact = |name: &str, expired: bool, host: &str| {
            serde_json::json!({
                "name": name,
                "size_in_bytes": sizes.get(name).copied().unwrap_or(1000),
                "expired": expired,
                "archive_download_url": format!("{host}/download/{name}"),
            })
        };
        let host = format!("http://{}", req.header("host").unwrap_or("127.0.0.1"));
        if req.path == format!("{base}?per_page=100") {
            let first: Vec<_> = names[..3]
                .iter()
                .map(|n| artifact(n, false, &host))
                .collect();
            return with_headers(
                200,
                vec![(
                    "Link",
                    format!(
                        "<{host}{base}?per_page=100&page=2>; rel=\"next\", <{host}{base}?per_page=100&page=2>; rel=\"last\""
                    ),
                )],
                &serde_json::json!({"total_count": 9, "artifacts": first}).to_string(),
            );
        }
        if req.path == format!("{base}?per_page=100&page=2") {
            let mut rest: Vec<_> = names[3..]
                .iter()
                .map(|n| artifact(n, false, &host))
                .collect();
            rest.push(artifact(
                "test-reports-runattempt2-test-default-1-1-linux.2xlarge_99",
                false,
                &host,
            ));
            rest.push(artifact(
                "test-reports-test-slow-1-1-linux.2xlarge_98",
                true,
                &host,
            ));
            rest.push(artifact("logs-test-default-1-1_97", false, &host));
            return json(
                200,
                &serde_json::json!({"total_count": 9, "artifacts": rest}).to_string(),
            );
        }
        if let Some(name) = req.path.strip_prefix("/download/") {
            return with_headers(
                302,
                vec![("Location", format!("{storage_url}/blob/{name}"))],
                "",
            );
        }
        json(404, r#"{"message": "Not Found"}"#)
    });
    GitHub { api, storage }
}

fn from_github(api: &str) -> std::process::Command {
    from_github_run(api, RUN)
}

fn from_github_run(api: &str, run: &str) -> std::process::Command {
    let mut c = testscope_cmd();
    c.env("GITHUB_TOKEN", TOKEN).args([
        "--from",
        "github",
        "--github-api-url",
        api,
        "--workflow-run-id",
        run,
        "--workflow-run-attempt",
        "1",
    ]);
    c
}

fn objects(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let key = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((key, gunzip(&std::fs::read(&p).unwrap())));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn artifacts_read_through_the_api_upload_what_the_zips_on_disk_do() {
    let (run, zips) = sample_zips();
    let gh = github(&zips);
    let upload = |cmd: &mut std::process::Command, out: &Path| {
        cmd.args([
            "--upload",
            "--head-branch",
            "main",
            "--head-repository",
            "pytorch/pytorch",
        ])
        .args(["--job-names"])
        .arg(run.path().join("job-names.json"))
        .arg("--out-dir")
        .arg(out)
        .output()
        .unwrap()
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let got = upload(&mut from_github(&gh.api.url()), a.path());
    let stderr = String::from_utf8_lossy(&got.stderr).into_owned();
    assert!(got.status.success(), "{stderr}");
    let mut local = testscope_cmd();
    local
        .arg(run.path())
        .args(["--workflow-run-id", RUN, "--workflow-run-attempt", "1"]);
    let want = upload(&mut local, b.path());
    assert!(
        want.status.success(),
        "{}",
        String::from_utf8_lossy(&want.stderr)
    );
    let (got_objects, want_objects) = (objects(a.path()), objects(b.path()));
    assert_eq!(got_objects.len(), 7);
    assert_eq!(got_objects, want_objects, "byte-identical uploads");

    // The expired artifact is named; the other attempt's and the logs are not fetched.
    assert!(stderr.contains("expired"), "{stderr}");
    let fetched: Vec<String> = gh.api.requests().iter().map(|r| r.path.clone()).collect();
    assert!(
        fetched
            .iter()
            .all(|p| !p.contains("runattempt2") && !p.contains("logs-"))
    );
    assert_eq!(
        fetched
            .iter()
            .filter(|p| p.starts_with("/download/"))
            .count(),
        6
    );
    // The token went to the API only, never to the storage host.
    assert!(
        gh.api
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_some())
    );
    assert_eq!(gh.storage.count(), 6);
    assert!(
        gh.storage
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none()),
        "the token must not follow the redirect"
    );
    assert!(!stderr.contains(TOKEN));
}

#[test]
fn a_token_is_required_and_refusals_are_explained() {
    let (_run, zips) = sample_zips();
    let gh = github(&zips);
    let mut no_token = from_github(&gh.api.url());
    no_token.env_remove("GITHUB_TOKEN").arg("--plain");
    let out = no_token.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GITHUB_TOKEN or GH_TOKEN"), "{err}");
    assert_eq!(gh.api.count(), 0, "nothing asked without a token");

    let mut bad = from_github(&gh.api.url());
    bad.env("GITHUB_TOKEN", "ghp_wrong").arg("--plain");
    let out = bad.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("HTTP 401") && err.contains("check GITHUB_TOKEN"),
        "{err}"
    );
    assert!(!err.contains("ghp_wrong"));

    // A run GitHub does not know.
    let mut missing = from_github_run(&gh.api.url(), "5");
    missing.arg("--plain");
    let out = missing.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 404"));
}

/// Rate limits are waited out when GitHub asks for a short wait; a plain 403 says what to
/// check.
#[test]
fn rate_limits_are_honoured_and_403_explained() {
    let api = Server::start(|req, attempt| {
        if req.path.ends_with("/artifacts?per_page=100") && attempt == 0 {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            return with_headers(
                403,
                vec![
                    ("x-ratelimit-remaining", "0".into()),
                    ("x-ratelimit-reset", now.to_string()),
                ],
                r#"{"message": "API rate limit exceeded"}"#,
            );
        }
        if req.path.contains(&format!("/runs/{RUN}/")) {
            return json(200, r#"{"total_count": 0, "artifacts": []}"#);
        }
        json(
            403,
            r#"{"message": "Resource not accessible by integration"}"#,
        )
    });
    let out = from_github(&api.url()).arg("--plain").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(api.count(), 2, "the rate-limited listing was asked again");

    let out = from_github_run(&api.url(), "6")
        .arg("--plain")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("HTTP 403") && err.contains("Actions read access"),
        "{err}"
    );
}

/// Archives fetched once are kept: the run opened again fetches none from the storage host.
#[test]
fn archives_come_from_the_download_cache_the_second_time() {
    let (_run, zips) = sample_zips();
    let gh = github(&zips);
    let cache = tempfile::tempdir().unwrap();
    let open = || {
        let out = from_github(&gh.api.url())
            .arg("--cache-dir")
            .arg(cache.path())
            .arg("--plain")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let first = open();
    assert_eq!(gh.storage.count(), 6);
    let second = open();
    assert_eq!(gh.storage.count(), 6, "nothing downloaded again");
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("6 from the download cache"), "{err}");
    assert_eq!(first.stdout, second.stdout);
}

/// Archives are listed from their tails and parsed while the rest downloads, those that
/// hold report zips too: the download of one that does is held until the load has folded a
/// file; the uploads are those of the zips on disk, each archive takes one request for its
/// tail and one for the rest, and no storage request carries the token.
#[test]
fn archives_are_parsed_while_the_rest_of_the_run_downloads() {
    let (run, zips) = zips_of(larger_run());
    let tail = testscope::source::remote::DEFAULT_TAIL as usize;
    // Larger than two tails: opened from their tails. Served as they are at odd places,
    // wrapped (a zip holding the report zip) at even ones.
    let big: Vec<(usize, String)> = zips
        .iter()
        .enumerate()
        .filter(|(_, (_, b))| b.len() > 2 * tail)
        .map(|(i, (n, _))| (i, n.clone()))
        .collect();
    assert_eq!(
        big.len(),
        3,
        "{:?}",
        zips.iter().map(|(n, b)| (n, b.len())).collect::<Vec<_>>()
    );
    let wrapped = &big.iter().find(|(i, _)| i % 2 == 0).unwrap().1;
    assert_ne!(wrapped, &big[0].1, "a plain archive is read first");
    let held_path = format!("/blob/{wrapped}");
    let gate = Gate::default();
    let held = Arc::new(std::sync::Mutex::new(None));
    let (door, seen) = (gate.clone(), held.clone());
    let gh = github_with(&zips, move |req| {
        let head = req
            .header("range")
            .is_some_and(|r| r.starts_with("bytes=0-"));
        if head && req.path == held_path {
            *seen.lock().unwrap() = Some(door.wait());
        }
        None
    });
    let spec = testscope::source::actions::ActionsSpec {
        api_url: gh.api.url(),
        repo: "pytorch/pytorch".into(),
        run_id: RUN.into(),
        attempt: 1,
        token: Some(TOKEN.into()),
        report_prefix: "test-report".into(),
        zip_limits: testscope::source::ZipLimits::default(),
        concurrency: 4,
        timeout: std::time::Duration::from_secs(30),
        cache: None,
        tail_bytes: tail as u64,
    };
    let progress = Arc::new(testscope::source::downloads::FetchProgress::default());
    let listing = testscope::source::actions::discover(&spec, &progress).unwrap();
    assert!(listing.downloads.is_some());
    let opened = gate.clone();
    let planned = plan_listing(listing, RUN, &mut |_| opened.open());
    assert_eq!(
        *held.lock().unwrap(),
        Some(true),
        "the last archive's download waited for the first file to be parsed"
    );
    let local = run_pipeline(run.path(), RUN, "1", "main", "pytorch/pytorch").objects;
    assert_same_objects(&planned.objects, &local);
    // A tail, then the rest, for each large archive; nothing to storage with the token.
    for (_, name) in &big {
        let asked: Vec<String> = gh
            .storage
            .requests()
            .iter()
            .filter(|r| r.path == format!("/blob/{name}"))
            .map(|r| r.header("range").unwrap_or("").to_string())
            .collect();
        assert_eq!(asked.len(), 2, "{name}: {asked:?}");
        assert!(
            asked[0].starts_with("bytes=") && asked[1].starts_with("bytes=0-"),
            "{asked:?}"
        );
    }
    assert!(
        gh.storage
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
    assert_eq!(
        progress
            .objects_done
            .load(std::sync::atomic::Ordering::Relaxed),
        6
    );

    // The binary: the same uploads.
    let out = tempfile::tempdir().unwrap();
    let up = from_github(&gh.api.url())
        .args([
            "--upload",
            "--head-branch",
            "main",
            "--head-repository",
            "pytorch/pytorch",
        ])
        .arg("--out-dir")
        .arg(out.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&up.stderr).into_owned();
    assert!(up.status.success(), "{err}");
    assert!(err.contains("fetched 6 artifacts (0 failed)"), "{err}");
    for o in &local {
        let got = std::fs::read(out.path().join("ossci-raw-job-status").join(&o.key)).unwrap();
        assert!(gunzip(&got) == gunzip(&o.body.to_vec()), "{}", o.key);
    }
}

/// An archive whose download fails after it was listed from its tail is named with the
/// reason; the rest of the run loads.
#[test]
fn an_archive_that_fails_after_its_listing_loses_only_its_reports() {
    let (run, zips) = zips_of(larger_run());
    let tail = testscope::source::remote::DEFAULT_TAIL as usize;
    let (victim, _) = zips
        .iter()
        .enumerate()
        .filter(|(i, (_, b))| i % 2 == 1 && b.len() > 2 * tail)
        .map(|(_, z)| z)
        .next()
        .unwrap()
        .clone();
    let failing = format!("/blob/{victim}");
    let gh = github_with(&zips, move |req| {
        let head = req
            .header("range")
            .is_some_and(|r| r.starts_with("bytes=0-"));
        (head && req.path == failing).then(|| json(500, "{}"))
    });
    let out = from_github(&gh.api.url()).arg("--plain").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("fetched 5 artifacts (1 failed)"), "{err}");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        report
            .lines()
            .any(|l| l.contains(&format!("artifact {victim}"))
                && l.contains("archive not downloaded: HTTP 500 from the storage host")),
        "{report}"
    );
    let local = testscope::source::discover(&testscope::source::LocalSpec {
        path: run.path().to_path_buf(),
        circleci: false,
        artifacts_repo: "pytorch/pytorch".into(),
        run_id: Some(RUN.into()),
        attempt: Some("1".into()),
        zip_limits: testscope::source::ZipLimits::default(),
    })
    .unwrap();
    let in_victim = local
        .reports
        .iter()
        .filter(|r| r.rel.first() == format!("unzipped-{victim}"))
        .count();
    assert!(in_victim > 0);
    assert!(
        report.contains(&format!("{} files", local.reports.len() - in_victim)),
        "{report}"
    );
}
