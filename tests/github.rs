//! `testscope::github` against a real HTTP server on 127.0.0.1 (scripted per test), so the
//! request line, headers, retries and timeouts go through ureq exactly as in production.
#![cfg(feature = "net")] // the binary and tests/common need the default `net` feature

mod common;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::http::*;

use testscope::github::{GithubConfig, JobNames, NO_TOKEN_WARNING, job_names};

/// A 200 carrying the name `job-<id>`.
fn named(req: &Req) -> Reply {
    let id = req.job_id();
    json(
        200,
        &format!(r#"{{"id": {id}, "name": "job-{id}", "status": "completed"}}"#),
    )
}

/// The token must not leak into anything the caller might print.
fn assert_no_token(out: &JobNames) {
    for w in &out.warnings {
        assert!(!w.contains(TOKEN), "token leaked into warning: {w}");
    }
    assert!(!format!("{out:?}").contains(TOKEN));
}

// ---------------------------------------------------------------------------------------

#[test]
fn names_for_200s_one_request_per_distinct_id() {
    let server = Server::start(|req, _| named(req));
    let mut cfg = server.cfg();
    cfg.concurrency = 2;
    let out = job_names(&cfg, &[11, 22, 11, 33, 22, 33, 11]);

    let expected: HashMap<i64, String> = [11, 22, 33]
        .into_iter()
        .map(|id| (id, format!("job-{id}")))
        .collect();
    assert_eq!(out.names, expected);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(server.count(), 3);
    for id in [11, 22, 33] {
        assert_eq!(
            server.count_path(&format!("/repos/pytorch/pytorch/actions/jobs/{id}")),
            1
        );
    }
    for req in server.requests() {
        assert_eq!(
            req.header("authorization"),
            Some(format!("token {TOKEN}").as_str())
        );
        assert_eq!(req.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(req.header("x-github-api-version"), Some("2022-11-28"));
        let ua = req.header("user-agent").unwrap();
        assert_eq!(ua, format!("testscope/{}", env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn concurrency_is_bounded() {
    let server = Server::start(|req, _| {
        std::thread::sleep(Duration::from_millis(30));
        named(req)
    });
    let mut cfg = server.cfg();
    cfg.concurrency = 3;
    let ids: Vec<i64> = (1..=12).collect();
    let out = job_names(&cfg, &ids);
    assert_eq!(out.names.len(), 12);
    assert_eq!(server.count(), 12);
    let max = server.state.max_in_flight.load(Ordering::SeqCst);
    // The server counts a request as finished only after writing its reply, so a worker
    // that got its reply may already have connected again: at most one over the bound.
    // Unbounded lookups would show all 12 at once (each reply takes 30 ms).
    assert!(max <= 3 + 1, "{max} requests in flight with concurrency 3");
}

#[test]
fn api_url_trailing_slash_and_enterprise_prefix() {
    let server = Server::start(|req, _| named(req));
    let mut cfg = GithubConfig::new(
        Some(format!("{}/api/v3/", server.url())),
        "org/repo",
        Some(TOKEN.into()),
    );
    cfg.max_wait = Duration::from_millis(100);
    let out = job_names(&cfg, &[5]);
    assert_eq!(out.names.get(&5).map(String::as_str), Some("job-5"));
    assert_eq!(
        server.requests()[0].path,
        "/api/v3/repos/org/repo/actions/jobs/5"
    );
}

#[test]
fn unauthorized_401_is_not_retried_and_warns_once() {
    let server = Server::start(|_, _| json(401, r#"{"message": "Bad credentials"}"#));
    let mut cfg = server.cfg();
    cfg.concurrency = 1;
    let out = job_names(&cfg, &[1, 2, 3]);

    assert!(out.names.is_empty());
    // Not retried, and a bad token is bad for every id: later ids are not even asked.
    assert_eq!(server.count(), 1);
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    let w = &out.warnings[0];
    assert!(w.contains("401"), "{w}");
    assert!(w.contains("GITHUB_TOKEN"), "{w}");
    assert!(w.contains("3 of 3"), "{w}");
    assert_no_token(&out);
}

#[test]
fn not_found_404_is_not_retried() {
    let server = Server::start(|req, _| {
        if req.job_id() == 7 {
            json(404, r#"{"message": "Not Found"}"#)
        } else {
            named(req)
        }
    });
    let out = job_names(&server.cfg(), &[7, 8]);

    assert_eq!(out.names.len(), 1);
    assert_eq!(out.names[&8], "job-8");
    assert_eq!(
        server.count_path("/repos/pytorch/pytorch/actions/jobs/7"),
        1
    );
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(out.warnings[0].contains("404"), "{}", out.warnings[0]);
    assert!(out.warnings[0].contains("1 of 2"), "{}", out.warnings[0]);
    assert_no_token(&out);
}

#[test]
fn server_error_then_success_is_retried() {
    let server = Server::start(|req, attempt| {
        if attempt == 0 {
            json(500, "oops")
        } else {
            named(req)
        }
    });
    let out = job_names(&server.cfg(), &[42]);

    assert_eq!(out.names[&42], "job-42");
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(server.count(), 2);
}

#[test]
fn server_error_forever_gives_up_after_max_retries() {
    let server = Server::start(|_, _| json(502, "bad gateway"));
    let mut cfg = server.cfg();
    cfg.max_retries = 2;
    let out = job_names(&cfg, &[1, 2]);

    assert!(out.names.is_empty());
    // Each id: the first try plus max_retries.
    assert_eq!(
        server.count_path("/repos/pytorch/pytorch/actions/jobs/1"),
        3
    );
    assert_eq!(
        server.count_path("/repos/pytorch/pytorch/actions/jobs/2"),
        3
    );
    // One summary for both ids, not one per job.
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    let w = &out.warnings[0];
    assert!(
        w.contains("502") && w.contains("3 attempts") && w.contains("2 of 2"),
        "{w}"
    );
    assert_no_token(&out);
}

#[test]
fn retry_after_429_is_honoured() {
    let server = Server::start(|req, attempt| {
        if attempt == 0 {
            with_headers(
                429,
                vec![("Retry-After", "1".into())],
                r#"{"message": "slow down"}"#,
            )
        } else {
            named(req)
        }
    });
    let mut cfg = server.cfg();
    cfg.max_wait = Duration::from_secs(5);
    let out = job_names(&cfg, &[9]);

    assert_eq!(out.names[&9], "job-9");
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(server.count(), 2);
}

#[test]
fn rate_limit_reset_beyond_max_wait_gives_up() {
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let server = Server::start(move |_, _| {
        with_headers(
            403,
            vec![
                ("x-ratelimit-remaining", "0".into()),
                ("x-ratelimit-reset", reset.to_string()),
            ],
            r#"{"message": "API rate limit exceeded"}"#,
        )
    });
    let mut cfg = server.cfg();
    cfg.concurrency = 1;
    cfg.max_wait = Duration::from_millis(200);
    // Returning at all shows it did not sleep the hour.
    let out = job_names(&cfg, &[1, 2]);

    assert!(out.names.is_empty());
    // No retry (the wait is beyond the cap), and the other id is not asked.
    assert_eq!(server.count(), 1);
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    let w = &out.warnings[0];
    assert!(w.contains("rate limited") && w.contains("2 of 2"), "{w}");
    assert_no_token(&out);
}

#[test]
fn plain_403_is_not_retried() {
    let server = Server::start(|_, _| json(403, r#"{"message": "Resource not accessible"}"#));
    let out = job_names(&server.cfg(), &[3]);
    assert!(out.names.is_empty());
    assert_eq!(server.count(), 1);
    assert_eq!(out.warnings.len(), 1);
    assert!(out.warnings[0].contains("403"), "{}", out.warnings[0]);
}

#[test]
fn hanging_server_times_out() {
    let server = Server::start(|_, _| Reply::Hang);
    let mut cfg = server.cfg();
    cfg.timeout = Duration::from_millis(300);
    cfg.max_retries = 1;
    cfg.max_wait = Duration::from_millis(50);
    cfg.concurrency = 1;
    let out = job_names(&cfg, &[1, 2]);

    assert!(out.names.is_empty());
    // Two tries for the first id; after that the host counts as unreachable.
    assert_eq!(server.connections(), 2);
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    let w = &out.warnings[0];
    assert!(w.contains("timed out") && w.contains("2 of 2"), "{w}");
    assert_no_token(&out);
}

#[test]
fn connection_refused_is_a_warning_not_a_panic() {
    // Bind then drop, so the port is (almost certainly) closed.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut cfg = GithubConfig::new(
        Some(format!("http://{addr}")),
        "pytorch/pytorch",
        Some(TOKEN.into()),
    );
    cfg.max_retries = 1;
    cfg.max_wait = Duration::from_millis(20);
    let out = job_names(&cfg, &[1, 2, 3]);
    assert!(out.names.is_empty());
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(out.warnings[0].contains("3 of 3"), "{}", out.warnings[0]);
    assert_no_token(&out);
}

#[test]
fn no_token_makes_no_request() {
    let server = Server::start(|req, _| named(req));
    for token in [None, Some(String::new()), Some("  \n".to_string())] {
        let cfg = GithubConfig::new(Some(server.url()), "pytorch/pytorch", token);
        assert!(cfg.token.is_none());
        let out = job_names(&cfg, &[1, 2, 2]);
        assert!(out.names.is_empty());
        assert_eq!(out.warnings, vec![NO_TOKEN_WARNING.to_string()]);
    }
    assert_eq!(server.connections(), 0);
    assert_eq!(
        NO_TOKEN_WARNING,
        "no GITHUB_TOKEN/GH_TOKEN: job names unknown, additional_info uses NoJobName"
    );
    // Nothing to look up: nothing to warn about.
    let cfg = GithubConfig::new(Some(server.url()), "pytorch/pytorch", None);
    assert_eq!(job_names(&cfg, &[]), JobNames::default());
}

#[test]
fn ok_without_name_is_unnamed() {
    let server = Server::start(|req, _| match req.job_id() {
        1 => json(200, r#"{"id": 1, "status": "completed"}"#),
        2 => json(200, r#"{"id": 2, "name": null}"#),
        3 => json(200, "<html>not json</html>"),
        _ => named(req),
    });
    let out = job_names(&server.cfg(), &[1, 2, 3, 4]);

    assert_eq!(out.names.len(), 1);
    assert_eq!(out.names[&4], "job-4");
    assert_eq!(server.count(), 4); // a 200 is an answer: no retry
    assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
    assert!(
        out.warnings[0].contains("name") && out.warnings[0].contains("2 of 4"),
        "{}",
        out.warnings[0]
    );
    assert!(out.warnings[1].contains("JSON"), "{}", out.warnings[1]);
}

#[test]
fn debug_redacts_token() {
    let cfg = GithubConfig::new(None, "pytorch/pytorch", Some(TOKEN.into()));
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains(TOKEN), "{dbg}");
    assert!(dbg.contains("<redacted>"), "{dbg}");
    assert!(dbg.contains("https://api.github.com"), "{dbg}");
    let pretty = format!("{cfg:#?}");
    assert!(!pretty.contains(TOKEN));

    let none = GithubConfig::new(None, "pytorch/pytorch", None);
    assert!(format!("{none:?}").contains("token: None"));
}

#[test]
fn defaults() {
    let cfg = GithubConfig::new(None, "pytorch/pytorch", None);
    assert_eq!(cfg.api_url, "https://api.github.com");
    assert_eq!(cfg.owner_repo, "pytorch/pytorch");
    assert_eq!(cfg.concurrency, 8);
    assert_eq!(cfg.timeout, Duration::from_secs(10));
    assert_eq!(cfg.max_retries, 3);
    assert_eq!(cfg.max_wait, Duration::from_secs(60));
}

/// `from_env` reads process-wide variables, so each case runs in a child process (this
/// test binary, filtered to `from_env_child`) with its own environment.
#[test]
fn from_env_prefers_github_token_then_gh_token() {
    let cases: [(Option<&str>, Option<&str>, &str); 5] = [
        (Some("tok-a"), Some("tok-b"), "tok-a"),
        (Some(""), Some("tok-b"), "tok-b"),
        (None, Some("tok-b"), "tok-b"),
        (Some(""), Some(""), "<none>"),
        (None, None, "<none>"),
    ];
    for (github, gh, expect) in cases {
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "from_env_child",
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env("TESTSCOPE_FROM_ENV_CHILD", "1")
        .env("TESTSCOPE_EXPECT_TOKEN", expect)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN");
        if let Some(v) = github {
            cmd.env("GITHUB_TOKEN", v);
        }
        if let Some(v) = gh {
            cmd.env("GH_TOKEN", v);
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "case {github:?}/{gh:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn from_env_child() {
    let Ok(expect) = std::env::var("TESTSCOPE_EXPECT_TOKEN") else {
        return; // only meaningful when spawned by the test above
    };
    if std::env::var("TESTSCOPE_FROM_ENV_CHILD").as_deref() != Ok("1") {
        return;
    }
    let cfg = GithubConfig::from_env(None, "pytorch/pytorch");
    let expect = (expect != "<none>").then_some(expect);
    assert_eq!(cfg.token, expect);
    assert_eq!(cfg.api_url, "https://api.github.com");
    let ghe = GithubConfig::from_env(Some("https://ghe.example/api/v3/".into()), "o/r");
    assert_eq!(ghe.api_url, "https://ghe.example/api/v3");
}
