//! GitHub job-name lookup: `job_id -> name` for `additional_info` (docs/compatibility.md section 6).
//!
//! This module owns every call to the GitHub REST API: the request
//! (`GET {api}/repos/{owner/repo}/actions/jobs/{id}`), its headers and token, bounded
//! concurrency, per-request timeouts, retries and rate-limit waits, and turning failures
//! into a few summary warnings. The reference (`test_dashboard.get_job_name`) maps any
//! failure to `NoJobName`; so do we, by leaving the id out of [`JobNames::names`]. Unlike
//! the reference we retry transient failures and never hang, because one flaky lookup
//! should not decide a run's build names and one dead host should not stall the upload.
//!
//! The token is a secret: it is only ever written into the `Authorization` header. It is
//! redacted from `Debug` and scrubbed from every warning.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ureq::http::{HeaderMap, StatusCode};

/// Default REST endpoint (GitHub Enterprise uses `https://host/api/v3`).
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// The warning given instead of any lookup when there is no token.
pub const NO_TOKEN_WARNING: &str =
    "no GITHUB_TOKEN/GH_TOKEN: job names unknown, additional_info uses NoJobName";

/// First retry delay when the server names none; doubles per retry, capped by `max_wait`.
const BASE_BACKOFF: Duration = Duration::from_millis(500);
/// GitHub's advice for a secondary rate limit that names no wait: at least a minute.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// How to reach GitHub. The token is redacted from `Debug`.
#[derive(Clone)]
pub struct GithubConfig {
    /// REST API root, no trailing slash: `https://api.github.com`, or
    /// `https://host/api/v3` for GitHub Enterprise.
    pub api_url: String,
    /// `owner/repo`, e.g. `pytorch/pytorch`.
    pub owner_repo: String,
    /// Sent as `Authorization: token …`; `None` means no lookups at all.
    pub token: Option<String>,
    /// Lookups in flight at once (default 8; 0 counts as 1).
    pub concurrency: usize,
    /// Whole-request budget, connect to last body byte (default 10 s).
    pub timeout: Duration,
    /// Retries after the first attempt (default 3).
    pub max_retries: u32,
    /// Cap on any single wait (backoff, `Retry-After`, rate-limit reset); a server asking
    /// for longer makes us give up on that id rather than sleep (default 60 s).
    pub max_wait: Duration,
}

impl GithubConfig {
    /// Defaults with an explicit token (empty or blank counts as absent).
    pub fn new(api_url: Option<String>, owner_repo: &str, token: Option<String>) -> Self {
        let api_url = api_url
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.to_string());
        GithubConfig {
            api_url,
            owner_repo: owner_repo.trim().trim_matches('/').to_string(),
            // Trimmed because tokens read from files often end in a newline, which
            // would make the header invalid.
            token: token
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
            concurrency: 8,
            timeout: Duration::from_secs(10),
            max_retries: 3,
            max_wait: Duration::from_secs(60),
        }
    }

    /// Defaults, with the token from `GITHUB_TOKEN`, else `GH_TOKEN` (empty counts as
    /// absent, so an empty `GITHUB_TOKEN` falls through to `GH_TOKEN`).
    pub fn from_env(api_url: Option<String>, owner_repo: &str) -> Self {
        let token = ["GITHUB_TOKEN", "GH_TOKEN"]
            .iter()
            .filter_map(|var| std::env::var(var).ok())
            .map(|t| t.trim().to_string())
            .find(|t| !t.is_empty());
        Self::new(api_url, owner_repo, token)
    }
}

impl fmt::Debug for GithubConfig {
    // By hand so the token can never reach a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubConfig")
            .field("api_url", &self.api_url)
            .field("owner_repo", &self.owner_repo)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("concurrency", &self.concurrency)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("max_wait", &self.max_wait)
            .finish()
    }
}

/// Result of [`job_names`]: the names found, and one warning per distinct failure kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobNames {
    /// Only ids whose lookup succeeded; the caller uses `NoJobName` for the rest.
    pub names: HashMap<i64, String>,
    /// Summaries, in order of the first id to hit each kind; never one per job.
    pub warnings: Vec<String>,
}

/// Look up the name of every distinct id in `job_ids` (one request per id, however often
/// it repeats). Never fails: problems become missing names plus summary warnings.
pub fn job_names(cfg: &GithubConfig, job_ids: &[i64]) -> JobNames {
    let mut seen = HashSet::new();
    let ids: Vec<i64> = job_ids
        .iter()
        .copied()
        .filter(|id| seen.insert(*id))
        .collect();
    let mut out = JobNames::default();
    if ids.is_empty() {
        return out;
    }
    let Some(token) = cfg.token.as_deref().filter(|t| !t.is_empty()) else {
        out.warnings.push(NO_TOKEN_WARNING.to_string());
        return out;
    };

    let agent: ureq::Agent = ureq::Agent::config_builder()
        // Statuses are data here (401 vs 404 vs 5xx decide what happens next).
        .http_status_as_error(false)
        .timeout_global(Some(cfg.timeout))
        .user_agent(format!("testscope/{}", env!("CARGO_PKG_VERSION")))
        // A renamed repository answers 301 on the same host; keep the token for that.
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
        .max_idle_connections_per_host(cfg.concurrency.max(1))
        .build()
        .new_agent();

    let lookup = Lookup {
        cfg,
        agent,
        token,
        next: AtomicUsize::new(0),
        tripped: Mutex::new(None),
    };
    let workers = cfg.concurrency.clamp(1, ids.len());
    let mut results: HashMap<i64, Result<String, Failure>> = HashMap::with_capacity(ids.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| s.spawn(|| lookup.worker(&ids)))
            .collect();
        for h in handles {
            // A panicking worker loses only its ids' names, which then read as NoJobName.
            if let Ok(part) = h.join() {
                results.extend(part);
            }
        }
    });

    // Group failures by kind, in id order, so output is deterministic.
    let mut kinds: Vec<(String, Vec<i64>)> = Vec::new();
    for id in &ids {
        match results.remove(id) {
            Some(Ok(name)) => {
                out.names.insert(*id, name);
            }
            Some(Err(f)) => {
                let kind = f.describe(cfg);
                match kinds.iter_mut().find(|(k, _)| *k == kind) {
                    Some((_, v)) => v.push(*id),
                    None => kinds.push((kind, vec![*id])),
                }
            }
            None => {
                let kind = "lookup thread panicked".to_string();
                match kinds.iter_mut().find(|(k, _)| *k == kind) {
                    Some((_, v)) => v.push(*id),
                    None => kinds.push((kind, vec![*id])),
                }
            }
        }
    }
    for (kind, failed) in kinds {
        let examples: Vec<String> = failed.iter().take(3).map(i64::to_string).collect();
        let more = if failed.len() > 3 { ", ..." } else { "" };
        let msg = format!(
            "GitHub job lookup: {} of {} jobs failed: {kind} (job {}{more}); \
             additional_info uses NoJobName for them",
            failed.len(),
            ids.len(),
            examples.join(", "),
        );
        // Belt and braces: nothing above formats the token, but a server could echo it.
        out.warnings.push(msg.replace(token, "<redacted>"));
    }
    out
}

/// The latest attempt of run `run_id`: `run_attempt` of
/// `GET <api>/repos/<owner>/<repo>/actions/runs/<id>`. One request (a run URL is opened by a
/// person, who sees the error at once); an error says why, never with the token.
pub fn latest_attempt(cfg: &GithubConfig, run_id: &str) -> Result<u32, String> {
    let token = cfg
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| "no GITHUB_TOKEN/GH_TOKEN".to_string())?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(cfg.timeout))
        .user_agent(format!("testscope/{}", env!("CARGO_PKG_VERSION")))
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
        .build()
        .new_agent();
    let url = format!(
        "{}/repos/{}/actions/runs/{run_id}",
        cfg.api_url, cfg.owner_repo
    );
    let mut resp = agent
        .get(&url)
        .header("Authorization", format!("token {token}"))
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .call()
        .map_err(|e| format!("request failed: {e}").replace(token, "<redacted>"))?;
    let code = resp.status().as_u16();
    if code != 200 {
        return Err(format!("HTTP {code} from {url}"));
    }
    let body = resp
        .body_mut()
        .read_to_vec()
        .map_err(|e| format!("request failed: {e}"))?;
    serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("run_attempt")?.as_u64())
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{url}: no run_attempt in the response"))
}

/// Why one id has no name. Each variant renders to one warning kind (no per-id detail).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// A final HTTP status; `attempts` > 1 when it was retried (5xx).
    Status {
        code: u16,
        attempts: u32,
    },
    /// Still rate limited when retries ran out.
    RateLimited {
        attempts: u32,
    },
    /// GitHub asked for a wait longer than `max_wait`.
    RateLimitTooLong,
    Timeout {
        attempts: u32,
    },
    /// Transport failure, already rendered (ureq's messages carry no secrets or ids).
    Transport {
        msg: String,
        attempts: u32,
    },
    /// A non-retryable client-side error (bad URL, TLS, ...).
    Fatal(String),
    BadJson,
    NoName,
}

impl Failure {
    fn describe(&self, cfg: &GithubConfig) -> String {
        let after = |n: u32| {
            if n > 1 {
                format!(" after {n} attempts")
            } else {
                String::new()
            }
        };
        match self {
            Failure::Status { code: 401, .. } => {
                "HTTP 401 Unauthorized (check GITHUB_TOKEN/GH_TOKEN)".to_string()
            }
            Failure::Status { code: 403, .. } => format!(
                "HTTP 403 Forbidden (the token may lack actions read access to {})",
                cfg.owner_repo
            ),
            Failure::Status { code: 404, .. } => format!(
                "HTTP 404 Not Found (job not in {}, or not visible to the token)",
                cfg.owner_repo
            ),
            Failure::Status { code, attempts } => {
                let reason = StatusCode::from_u16(*code)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default();
                format!("HTTP {code}{reason}{}", after(*attempts))
            }
            Failure::RateLimited { attempts } => {
                format!("still rate limited by GitHub{}", after(*attempts))
            }
            Failure::RateLimitTooLong => format!(
                "rate limited by GitHub, and the wait it asks for exceeds the {}s cap",
                cfg.max_wait.as_secs_f64()
            ),
            Failure::Timeout { attempts } => format!(
                "request timed out (limit {}s){}",
                cfg.timeout.as_secs_f64(),
                after(*attempts)
            ),
            Failure::Transport { msg, attempts } => {
                format!("request failed: {msg}{}", after(*attempts))
            }
            Failure::Fatal(msg) => format!("request failed: {msg}"),
            Failure::BadJson => "response is not valid JSON".to_string(),
            Failure::NoName => "response has no string `name`".to_string(),
        }
    }

    /// Failures that would repeat for every remaining id (bad token, long rate limit,
    /// unreachable host, bad URL): once seen, the other ids stop asking.
    fn trips_breaker(&self) -> bool {
        matches!(
            self,
            Failure::Status { code: 401, .. }
                | Failure::RateLimitTooLong
                | Failure::Timeout { .. }
                | Failure::Transport { .. }
                | Failure::Fatal(_)
        )
    }
}

/// What one attempt says to do next.
enum Step {
    Done(String),
    /// Give up on this id.
    Fail(Failure),
    /// Try again; `wait` is the server's demand, else our backoff applies.
    Retry {
        failure: Failure,
        wait: Option<Duration>,
        rate_limited: bool,
    },
}

struct Lookup<'a> {
    cfg: &'a GithubConfig,
    agent: ureq::Agent,
    token: &'a str,
    /// Index of the next id to take from the shared list.
    next: AtomicUsize,
    /// Set by a failure that would repeat for every id; later ids get it without asking.
    tripped: Mutex<Option<Failure>>,
}

impl Lookup<'_> {
    fn worker(&self, ids: &[i64]) -> Vec<(i64, Result<String, Failure>)> {
        let mut out = Vec::new();
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(&id) = ids.get(i) else { break };
            let tripped = self.tripped.lock().map(|g| g.clone()).unwrap_or(None);
            let r = match tripped {
                Some(f) => Err(f),
                None => self.lookup(id),
            };
            if let Err(f) = &r
                && f.trips_breaker()
                && let Ok(mut g) = self.tripped.lock()
            {
                g.get_or_insert_with(|| f.clone());
            }
            out.push((id, r));
        }
        out
    }

    fn lookup(&self, id: i64) -> Result<String, Failure> {
        let url = format!(
            "{}/repos/{}/actions/jobs/{id}",
            self.cfg.api_url, self.cfg.owner_repo
        );
        let mut retries = 0u32;
        loop {
            let attempts = retries + 1;
            match self.attempt(&url, attempts) {
                Step::Done(name) => return Ok(name),
                Step::Fail(f) => return Err(f),
                Step::Retry {
                    failure,
                    wait,
                    rate_limited,
                } => {
                    if retries >= self.cfg.max_retries {
                        return Err(if rate_limited {
                            Failure::RateLimited { attempts }
                        } else {
                            failure
                        });
                    }
                    let wait = match wait {
                        // Sleeping less than the server asks would only earn another refusal.
                        Some(w) if w > self.cfg.max_wait => {
                            return Err(if rate_limited {
                                Failure::RateLimitTooLong
                            } else {
                                failure
                            });
                        }
                        Some(w) => w,
                        None => BASE_BACKOFF
                            .saturating_mul(1u32 << retries.min(16))
                            .min(self.cfg.max_wait),
                    };
                    std::thread::sleep(wait);
                    retries += 1;
                }
            }
        }
    }

    /// One request; `attempts` counts this one, for messages.
    fn attempt(&self, url: &str, attempts: u32) -> Step {
        let resp = self
            .agent
            .get(url)
            .header("Authorization", format!("token {}", self.token))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .call();
        let mut resp = match resp {
            Ok(r) => r,
            // Only if status-as-error were on; handled anyway.
            Err(ureq::Error::StatusCode(code)) => {
                return status_step(code, &HeaderMap::new(), b"", attempts);
            }
            Err(e) => return error_step(e, attempts),
        };
        let code = resp.status().as_u16();
        let body = match resp.body_mut().read_to_vec() {
            Ok(b) => b,
            Err(e) if (200..300).contains(&code) => return error_step(e, attempts),
            // The body of an error only refines the message; the status decides.
            Err(_) => Vec::new(),
        };
        if !(200..300).contains(&code) {
            return status_step(code, resp.headers(), &body, attempts);
        }
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return Step::Fail(Failure::BadJson);
        };
        match json.get("name").and_then(|n| n.as_str()) {
            Some(name) => Step::Done(name.to_string()),
            None => Step::Fail(Failure::NoName),
        }
    }
}

/// Decide on a non-2xx status.
fn status_step(code: u16, headers: &HeaderMap, body: &[u8], attempts: u32) -> Step {
    let failure = Failure::Status { code, attempts };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let retry_after = header("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs);
    let exhausted = header("x-ratelimit-remaining") == Some("0");
    let reset_wait = || {
        header("x-ratelimit-reset")
            .and_then(|v| v.parse::<u64>().ok())
            .map(|reset| {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                // One second of slack: retrying on the reset second itself can race
                // GitHub's clock and be refused again.
                Duration::from_secs(reset.saturating_sub(now) + 1)
            })
            .unwrap_or(DEFAULT_RATE_LIMIT_WAIT)
    };
    match code {
        403 | 429 => {
            // GitHub's documented order: Retry-After, then the reset time, then (for a
            // secondary limit that says neither) at least a minute.
            let mentions_limit = String::from_utf8_lossy(body)
                .to_ascii_lowercase()
                .contains("rate limit");
            let wait = if let Some(w) = retry_after {
                w
            } else if exhausted {
                reset_wait()
            } else if code == 429 || mentions_limit {
                DEFAULT_RATE_LIMIT_WAIT
            } else {
                // A plain 403 is a permissions answer; asking again will not change it.
                return Step::Fail(failure);
            };
            Step::Retry {
                failure,
                wait: Some(wait),
                rate_limited: true,
            }
        }
        500..=599 => Step::Retry {
            failure,
            wait: retry_after,
            rate_limited: false,
        },
        _ => Step::Fail(failure),
    }
}

/// Decide on a transport-level error.
fn error_step(e: ureq::Error, attempts: u32) -> Step {
    let retry = |failure| Step::Retry {
        failure,
        wait: None,
        rate_limited: false,
    };
    match e {
        ureq::Error::Timeout(_) => retry(Failure::Timeout { attempts }),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            retry(Failure::Timeout { attempts })
        }
        e @ (ureq::Error::Io(_)
        | ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound
        | ureq::Error::Protocol(_)
        | ureq::Error::BodyStalled) => retry(Failure::Transport {
            msg: e.to_string(),
            attempts,
        }),
        // Its message holds the whole URL, id included, which would split the summary.
        ureq::Error::BadUri(_) => Step::Fail(Failure::Fatal("invalid API URL".to_string())),
        // TLS, proxy misconfiguration...: the same for every id and every try.
        e => Step::Fail(Failure::Fatal(e.to_string())),
    }
}
