//! The GitHub Actions source: a run's test-report artifacts through GitHub's REST API, for
//! the projects that keep their JUnit reports there rather than in a bucket.
//!
//! `GET /repos/{repo}/actions/runs/{id}/artifacts` is listed page by page (100 a page,
//! following the `Link` header); artifacts whose names start with a wanted prefix are kept,
//! those of other attempts dropped by PyTorch's rule (a `runattempt<N>` atom of the name,
//! split on `-`), expired ones reported. Each archive is fetched from its
//! `archive_download_url`: GitHub answers with a redirect to a storage host, which is
//! followed by hand with a request that carries no token. An archive may hold the report
//! files or the `test-reports*` zips themselves; both are read, in memory, as the same zips
//! on disk would be.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;

use super::bucket::FetchProgress;
use super::local::add_archive;
use super::zipped::{ZipLimits, ZipSource};
use super::{Listing, SourceError};

/// Which run to read, and how.
#[derive(Debug, Clone)]
pub struct ActionsSpec {
    /// REST API root, no trailing slash (`https://api.github.com`).
    pub api_url: String,
    /// `OWNER/REPO`.
    pub repo: String,
    pub run_id: String,
    pub attempt: i64,
    pub token: Option<String>,
    /// Artifact name prefixes of reports (`test-report`); `test-jsons` ones are read for
    /// td_exclusions.
    pub report_prefix: String,
    pub zip_limits: ZipLimits,
    /// Archives downloaded at once.
    pub concurrency: usize,
    /// Whole-request budget.
    pub timeout: Duration,
    /// Where downloaded archives are kept (none: `--no-cache`).
    pub cache: Option<super::cache::Cache>,
}

/// One artifact of the run, as the API lists it.
#[derive(Debug, Clone)]
struct Artifact {
    name: String,
    size: u64,
    expired: bool,
    url: String,
}

/// Where a download's outcome waits for the listing to be made in order.
type Slot = std::sync::Mutex<Option<Result<Got, String>>>;

/// Said when no token is at hand.
pub const NO_TOKEN: &str = "reading GitHub Actions artifacts needs a token: set GITHUB_TOKEN \
    or GH_TOKEN (one that can read the repository's Actions)";

fn agent(spec: &ActionsSpec, redirects: u32) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(spec.timeout))
        .max_redirects(redirects)
        .user_agent(format!("testscope/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// Why a request failed, for a person: what GitHub said, and what to do about it.
fn status_message(code: u16, url: &str, repo: &str) -> String {
    let hint = match code {
        401 => " (the token is not valid: check GITHUB_TOKEN/GH_TOKEN)",
        403 => " (forbidden or rate limited: the token may lack Actions read access)",
        404 => " (no such run in the repository, or not visible to the token)",
        410 => " (the artifact has expired)",
        _ => "",
    };
    format!("HTTP {code} from {url}{hint} [{repo}]")
}

/// GET `url` with the token, retrying 5xx and rate limits that ask for a short wait.
fn get_api(
    agent: &ureq::Agent,
    url: &str,
    token: &str,
    repo: &str,
) -> Result<ureq::http::Response<ureq::Body>, String> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let resp = agent
            .get(url)
            .header("Authorization", format!("token {token}"))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .call()
            .map_err(|e| format!("request to {url} failed: {e}").replace(token, "<redacted>"))?;
        let code = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let limited =
            matches!(code, 403 | 429) && header("x-ratelimit-remaining") == Some(0) || code == 429;
        let wait = header("retry-after").or_else(|| {
            let reset = header("x-ratelimit-reset")?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_secs();
            Some(reset.saturating_sub(now))
        });
        let retry = (code >= 500 || limited) && attempt < 4;
        match (retry, wait) {
            (true, Some(w)) if w <= 60 => std::thread::sleep(Duration::from_secs(w)),
            (true, None) => std::thread::sleep(Duration::from_millis(200 * attempt)),
            _ if (200..400).contains(&code) => return Ok(resp),
            _ if limited => {
                return Err(format!(
                    "rate limited by GitHub at {url}, for longer than a minute; try again later"
                ));
            }
            _ => return Err(status_message(code, url, repo)),
        }
    }
}

/// The `next` link of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// Every artifact of the run, page by page.
fn list(
    spec: &ActionsSpec,
    token: &str,
    progress: &FetchProgress,
) -> Result<Vec<Artifact>, String> {
    let agent = agent(spec, 0);
    let mut url = Some(format!(
        "{}/repos/{}/actions/runs/{}/artifacts?per_page=100",
        spec.api_url, spec.repo, spec.run_id
    ));
    let mut out = Vec::new();
    while let Some(page) = url.take() {
        let mut resp = get_api(&agent, &page, token, &spec.repo)?;
        url = resp
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
        let body = resp
            .body_mut()
            .read_to_vec()
            .map_err(|e| format!("reading {page}: {e}"))?;
        let doc: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("{page}: not JSON: {e}"))?;
        let items = doc
            .get("artifacts")
            .and_then(|a| a.as_array())
            .ok_or_else(|| format!("{page}: no `artifacts` list"))?;
        for a in items {
            progress.keys_listed.fetch_add(1, Ordering::Relaxed);
            let text = |k: &str| a.get(k).and_then(|v| v.as_str()).map(str::to_string);
            let (Some(name), Some(url)) = (text("name"), text("archive_download_url")) else {
                continue;
            };
            out.push(Artifact {
                name,
                url,
                size: a.get("size_in_bytes").and_then(|v| v.as_u64()).unwrap_or(0),
                expired: a.get("expired").and_then(|v| v.as_bool()).unwrap_or(false),
            });
        }
    }
    Ok(out)
}

/// PyTorch's rule: an artifact of another attempt carries `runattempt<N>` as an atom of its
/// name (split on `-`) with another N.
fn of_other_attempt(name: &str, attempt: i64) -> bool {
    name.split('-').any(|atom| {
        atom.strip_prefix("runattempt")
            .and_then(|n| n.parse::<i64>().ok())
            .is_some_and(|n| n != attempt)
    })
}

/// Fetch one archive: the API answers with a redirect to a storage host, followed here
/// without the token.
fn fetch(spec: &ActionsSpec, token: &str, a: &Artifact, max: u64) -> Result<Vec<u8>, String> {
    let first = get_api(&agent(spec, 0), &a.url, token, &spec.repo)?;
    let code = first.status().as_u16();
    let mut resp = if (300..400).contains(&code) {
        let location = first
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("HTTP {code} from {} without a Location", a.url))?
            .to_string();
        let resp = agent(spec, 3)
            .get(&location)
            .call()
            .map_err(|e| format!("download failed: {e}"))?;
        let code = resp.status().as_u16();
        if !(200..300).contains(&code) {
            return Err(format!("HTTP {code} from the storage host"));
        }
        resp
    } else {
        first
    };
    let mut out = Vec::new();
    resp.body_mut()
        .with_config()
        .limit(max.saturating_add(1))
        .reader()
        .read_to_end(&mut out)
        .map_err(|e| format!("download failed: {e}"))?;
    if out.len() as u64 > max {
        return Err(format!("larger than {max} bytes (--max-zip-total-mib)"));
    }
    Ok(out)
}

/// An archive in memory, or kept in the download cache.
enum Got {
    Memory(Vec<u8>),
    Cached(std::path::PathBuf),
}

/// Add one downloaded archive: its reports, or the report zips it holds.
fn add(listing: &mut Listing, name: &str, got: Got, spec: &ActionsSpec) -> Result<(), String> {
    let is_reports = name.starts_with(&spec.report_prefix);
    // The artifact's name is its folder as is: it has no `.zip` suffix to strip.
    let zip_name = format!("{name}.zip");
    let outer = match got {
        Got::Memory(bytes) => ZipSource::open(&zip_name, Bytes::from(bytes), spec.zip_limits),
        Got::Cached(path) => ZipSource::open_file(&zip_name, &path, spec.zip_limits),
    }
    .map_err(|e| e.to_string())?;
    let inner: Vec<usize> = outer
        .entries()
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.components.last().is_some_and(|last| {
                last.ends_with(".zip")
                    && (last.starts_with(&spec.report_prefix) || last.starts_with("test-jsons"))
            })
        })
        .map(|(i, _)| i)
        .collect();
    if inner.is_empty() {
        add_archive(Arc::new(outer), is_reports, listing);
        return Ok(());
    }
    for i in inner {
        let file = outer.entries()[i]
            .components
            .last()
            .cloned()
            .unwrap_or_default();
        let data = outer
            .read_entry(i, spec.zip_limits.max_total_bytes)
            .map_err(|e| format!("{file}: {e}"))?;
        match ZipSource::open(&file, Bytes::from(data), spec.zip_limits) {
            Ok(zip) => add_archive(
                Arc::new(zip),
                file.starts_with(&spec.report_prefix),
                listing,
            ),
            Err(e) => listing
                .problems
                .push((format!("{name}!{file}"), e.to_string())),
        }
    }
    Ok(())
}

/// List, fetch and open the run's artifacts. A listing that fails is an error; an archive
/// that cannot be fetched or opened, or has expired, is a problem entry.
pub fn discover(spec: &ActionsSpec, progress: &FetchProgress) -> Result<Listing, SourceError> {
    let token = spec
        .token
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| SourceError::Other(NO_TOKEN.to_string()))?;
    let location = format!(
        "GitHub Actions artifacts of {} run {} attempt {}",
        spec.repo, spec.run_id, spec.attempt
    );
    let all = list(spec, token, progress)
        .map_err(|e| SourceError::Other(format!("cannot list the {location}: {e}")))?;
    let mut listing = Listing {
        description: location,
        run_id: Some(spec.run_id.clone()),
        attempt: Some(spec.attempt.to_string()),
        ..Listing::default()
    };
    let mut wanted: Vec<Artifact> = Vec::new();
    for a in all {
        let kept = a.name.starts_with(&spec.report_prefix) || a.name.starts_with("test-jsons");
        if !kept || of_other_attempt(&a.name, spec.attempt) {
            continue;
        }
        if a.expired {
            listing.problems.push((
                format!("artifact {}", a.name),
                "expired: GitHub no longer keeps it".into(),
            ));
            continue;
        }
        wanted.push(a);
    }
    // Sorted by name, as a bucket lists its keys.
    wanted.sort_by(|a, b| a.name.cmp(&b.name));
    progress
        .objects_total
        .store(wanted.len() as u64, Ordering::Relaxed);
    progress
        .bytes_total
        .store(wanted.iter().map(|a| a.size).sum(), Ordering::Relaxed);
    progress.listed.store(true, Ordering::Relaxed);

    let cached = spec.cache.as_ref().map(|c| {
        (
            c,
            c.run_dir("github", &spec.repo, &spec.run_id, spec.attempt),
        )
    });
    let next = AtomicUsize::new(0);
    let results: Vec<Slot> = wanted.iter().map(|_| Slot::default()).collect();
    std::thread::scope(|s| {
        for _ in 0..spec.concurrency.clamp(1, wanted.len().max(1)) {
            s.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(a) = wanted.get(index) else {
                        break;
                    };
                    let hit = cached
                        .as_ref()
                        .and_then(|(c, dir)| c.get(dir, &a.name, a.size, None));
                    let r = if let Some(path) = hit {
                        progress.objects_cached.fetch_add(1, Ordering::Relaxed);
                        Ok(Got::Cached(path))
                    } else if progress.cancelled.load(Ordering::Relaxed) {
                        Err("cancelled".to_string())
                    } else {
                        fetch(spec, token, a, spec.zip_limits.max_total_bytes).map(|bytes| {
                            if let Some((c, dir)) = &cached
                                && bytes.len() as u64 == a.size
                            {
                                // A cache that cannot be written only costs a download later.
                                let _ = c.put(dir, &a.name, &bytes, None);
                            }
                            Got::Memory(bytes)
                        })
                    };
                    match &r {
                        Ok(_) => {
                            progress.objects_done.fetch_add(1, Ordering::Relaxed);
                            progress.bytes_done.fetch_add(a.size, Ordering::Relaxed);
                        }
                        Err(_) => {
                            progress.objects_failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    *results[index].lock().expect("no panics while held") = Some(r);
                }
            });
        }
    });
    for (a, r) in wanted.iter().zip(results) {
        let r = r
            .into_inner()
            .expect("no panics while held")
            .unwrap_or_else(|| Err("not fetched".into()));
        let added = r.and_then(|got| add(&mut listing, &a.name, got, spec));
        if let Err(message) = added {
            listing
                .problems
                .push((format!("artifact {}", a.name), message));
        }
    }
    listing.finish();
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_and_attempt_atoms() {
        let link = r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/x?page=2")
        );
        assert_eq!(next_link(r#"<https://a/x?page=1>; rel="prev""#), None);
        assert!(of_other_attempt(
            "test-reports-runattempt2-test-default-1-2-x_1",
            1
        ));
        assert!(!of_other_attempt(
            "test-reports-runattempt1-test-default-1-2-x_1",
            1
        ));
        assert!(!of_other_attempt("test-reports-test-default-1-2-x_1", 3));
    }
}
