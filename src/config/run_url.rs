//! A workflow run's URL, as a browser shows it, wherever a PATH goes:
//! `https://github.com/OWNER/REPO/actions/runs/ID`, `.../runs/ID/attempts/N` and
//! `.../runs/ID/job/JOB` (its run), with or without a trailing slash, query or fragment. Any
//! host is taken (GitHub Enterprise serves the same paths).

/// What a run URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunUrl {
    /// `OWNER/REPO`.
    pub repo: String,
    pub run_id: String,
    /// From `/attempts/N`; otherwise the latest attempt is meant.
    pub attempt: Option<String>,
    /// From `/job/JOB`.
    pub job: Option<String>,
}

/// Whether `s` is meant as a URL rather than a path.
pub fn is_url(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

/// Parse a run URL; an error says what a run URL looks like.
pub fn parse(s: &str) -> Result<RunUrl, String> {
    let bad = |why: &str| {
        format!(
            "{s}: {why}; expected a workflow run's URL: \
             https://github.com/OWNER/REPO/actions/runs/ID (optionally /attempts/N or /job/ID)"
        )
    };
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| bad("not an http(s) URL"))?;
    // Query and fragment say nothing about the run.
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let mut parts = rest.split('/').filter(|p| !p.is_empty());
    let _host = parts.next().ok_or_else(|| bad("no host"))?;
    let parts: Vec<&str> = parts.collect();
    let number = |p: &str| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [owner, repo, "actions", "runs", id, tail @ ..] => {
            if !number(id) {
                return Err(bad("the run id is not a number"));
            }
            let (attempt, job) = match tail {
                [] => (None, None),
                ["attempts", n] if number(n) && !n.trim_start_matches('0').is_empty() => {
                    (Some(n.to_string()), None)
                }
                ["attempts", _] => return Err(bad("the attempt is not a positive number")),
                ["job", j] if number(j) => (None, Some(j.to_string())),
                ["job", _] => return Err(bad("the job id is not a number")),
                _ => return Err(bad("unexpected path after the run id")),
            };
            Ok(RunUrl {
                repo: format!("{owner}/{repo}"),
                run_id: id.to_string(),
                attempt,
                job,
            })
        }
        _ => Err(bad("not a workflow run")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(repo: &str, run: &str, attempt: Option<&str>, job: Option<&str>) -> RunUrl {
        RunUrl {
            repo: repo.into(),
            run_id: run.into(),
            attempt: attempt.map(Into::into),
            job: job.map(Into::into),
        }
    }

    #[test]
    fn every_form() {
        let base = "https://github.com/pytorch/pytorch/actions/runs/12345678901";
        let plain = url("pytorch/pytorch", "12345678901", None, None);
        for s in [
            base.to_string(),
            format!("{base}/"),
            format!("{base}?pr=123"),
            format!("{base}/?pr=123#summary"),
            format!("{base}#step:3:1"),
            base.replace("https://", "http://"),
        ] {
            assert_eq!(parse(&s), Ok(plain.clone()), "{s}");
        }
        assert_eq!(
            parse(&format!("{base}/attempts/2")),
            Ok(url("pytorch/pytorch", "12345678901", Some("2"), None))
        );
        assert_eq!(
            parse(&format!("{base}/attempts/3/")),
            Ok(url("pytorch/pytorch", "12345678901", Some("3"), None))
        );
        assert_eq!(
            parse(&format!("{base}/job/33333333333?pr=1")),
            Ok(url(
                "pytorch/pytorch",
                "12345678901",
                None,
                Some("33333333333")
            ))
        );
        // GitHub Enterprise: any host, the same paths.
        assert_eq!(
            parse("https://ghe.example.com/org/tool/actions/runs/7"),
            Ok(url("org/tool", "7", None, None))
        );
    }

    #[test]
    fn bad_urls_say_what_a_run_url_is() {
        for s in [
            "https://github.com/pytorch/pytorch/pull/123",
            "https://github.com/pytorch/pytorch/actions/runs/abc",
            "https://github.com/pytorch/pytorch/actions/runs/",
            "https://github.com/pytorch/pytorch/actions/runs/1/attempts/0",
            "https://github.com/pytorch/pytorch/actions/runs/1/attempts/x",
            "https://github.com/pytorch/pytorch/actions/runs/1/job/x",
            "https://github.com/pytorch/pytorch/actions/runs/1/artifacts/2",
            "https://github.com/pytorch",
            "https://",
            "ftp://github.com/pytorch/pytorch/actions/runs/1",
        ] {
            let err = parse(s).unwrap_err();
            assert!(err.contains("expected a workflow run's URL"), "{s}: {err}");
            assert!(err.starts_with(s), "{s}: {err}");
        }
        assert!(is_url("https://x") && is_url("http://x"));
        assert!(!is_url("assets/sample-run") && !is_url("ftp://x"));
    }
}
