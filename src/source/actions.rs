//! The GitHub Actions source: a run's test-report artifacts through GitHub's REST API, for
//! the projects that keep their JUnit reports there rather than in a bucket.
//!
//! `GET /repos/{repo}/actions/runs/{id}/artifacts` is listed page by page (100 a page,
//! following the `Link` header); artifacts whose names start with a wanted prefix are kept,
//! those of other attempts dropped by PyTorch's rule (a `runattempt<N>` atom of the name,
//! split on `-`), expired ones reported. Each archive is fetched from its
//! `archive_download_url`: GitHub answers with a redirect to a storage host, which is
//! followed by hand with a request that carries no token. An archive may hold the report
//! files or the `test-reports*` zips themselves, so its name does not say where its reports
//! go: each is opened from its tail first (a ranged read of its central directory,
//! [`super::remote`]), which names its folders; the rest downloads during the load, and
//! each folder is handed to the load ([`super::feed`]) once the archives it comes from, and
//! every folder before it, are whole. Both kinds read, in memory, as the same zips on disk.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::cache::Cache;
use super::downloads::{Downloads, FetchProgress};
use super::feed::Feed;
use super::local::add_archive;
use super::remote::{Download, Ranged, Remote, open_ranged};
use super::zipped::{ZipLimits, ZipSource, path_stem};
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
    pub cache: Option<Cache>,
    /// Bytes of each archive's tail read first (see [`super::remote::DEFAULT_TAIL`]).
    pub tail_bytes: u64,
}

/// One artifact of the run, as the API lists it.
#[derive(Debug, Clone)]
struct Artifact {
    name: String,
    size: u64,
    expired: bool,
    url: String,
}

/// Where an opened archive waits for the listing to be made in order.
type Slot = Mutex<Option<Result<ZipSource, String>>>;

/// Said when no token is at hand.
pub const NO_TOKEN: &str = "reading GitHub Actions artifacts needs a token: set GITHUB_TOKEN \
    or GH_TOKEN (one that can read the repository's Actions)";

/// The HTTP client for requests with this timeout that follow this many redirects. Shared
/// by every request that asks for the same: an agent keeps its connections alive between
/// requests, and building one sets up TLS afresh (hundreds of artifacts take three requests
/// each).
fn agent(spec: &ActionsSpec, redirects: u32) -> ureq::Agent {
    type Agents = Mutex<Vec<((Duration, u32), ureq::Agent)>>;
    static AGENTS: std::sync::OnceLock<Agents> = std::sync::OnceLock::new();
    let key = (spec.timeout, redirects);
    let mut agents = AGENTS
        .get_or_init(Mutex::default)
        .lock()
        .expect("no panics while held");
    if let Some((_, agent)) = agents.iter().find(|(k, _)| *k == key) {
        return agent.clone();
    }
    // Each step has the timeout rather than the whole request: with a whole-request
    // timeout the name lookup runs on a thread of its own, one new thread a request.
    let step = Some(spec.timeout);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(step)
        .timeout_send_request(step)
        .timeout_recv_response(step)
        .timeout_recv_body(step)
        .max_redirects(redirects)
        .user_agent(format!("testscope/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    agents.push((key, agent.clone()));
    agent
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

/// Where an archive's bytes are: the storage host GitHub redirected to (its address is
/// signed for about a minute), or the API's own answer.
enum Located {
    Storage { url: String, at: Instant },
    Body(Bytes),
}

/// A storage address this old is asked for again before it is used.
const STORAGE_URL_FRESH: Duration = Duration::from_secs(45);

/// Ask the API where one archive is. Its answer is a redirect to a storage host, which is
/// followed later without the token, or (some servers) the archive itself.
fn locate(spec: &ActionsSpec, token: &str, a: &Artifact, max: u64) -> Result<Located, String> {
    let mut first = get_api(&agent(spec, 0), &a.url, token, &spec.repo)?;
    let code = first.status().as_u16();
    if (300..400).contains(&code) {
        let url = first
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("HTTP {code} from {} without a Location", a.url))?
            .to_string();
        return Ok(Located::Storage {
            url,
            at: Instant::now(),
        });
    }
    read_limited(&mut first, max).map(Located::Body)
}

/// A body of at most `max` bytes.
fn read_limited(resp: &mut ureq::http::Response<ureq::Body>, max: u64) -> Result<Bytes, String> {
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
    Ok(Bytes::from(out))
}

/// Bytes `start..end` of the archive of `len` bytes at the storage address `url` (the whole
/// without a range), with no token. A range is only taken as such when the host says it
/// is one of an archive of the listed length; anything else counts as the whole archive.
fn fetch_storage(
    spec: &ActionsSpec,
    url: &str,
    len: u64,
    range: Option<(u64, u64)>,
    progress: &FetchProgress,
) -> Result<Ranged, String> {
    let mut request = agent(spec, 3).get(url);
    if let Some((start, end)) = range {
        request = request.header("Range", format!("bytes={start}-{}", end.saturating_sub(1)));
    }
    let mut resp = request
        .call()
        .map_err(|e| format!("download failed: {e}"))?;
    let code = resp.status().as_u16();
    if !(200..300).contains(&code) {
        return Err(format!("HTTP {code} from the storage host"));
    }
    let of_len = resp
        .headers()
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit('/').next())
        .and_then(|total| total.trim().parse::<u64>().ok());
    let part = code == 206 && range.is_some() && of_len == Some(len);
    let bytes = read_limited(&mut resp, spec.zip_limits.max_total_bytes)?;
    progress
        .bytes_done
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    Ok(if part {
        Ranged::Part(bytes)
    } else if code == 206 {
        // A range of something else than the listed archive: fetch it whole.
        return fetch_storage(spec, url, len, None, progress);
    } else {
        Ranged::Whole(bytes)
    })
}

/// Whether an archive's entry is a test-reports (or test-jsons) zip.
fn is_inner_zip(e: &super::zipped::ZipEntry, spec: &ActionsSpec) -> bool {
    e.components.last().is_some_and(|last| {
        last.ends_with(".zip")
            && (last.starts_with(&spec.report_prefix) || last.starts_with("test-jsons"))
    })
}

/// Where an opened archive's reports go: the folder of the archive itself, or of one of
/// the report zips it holds (its entry `inner`).
struct Unit {
    folder: String,
    artifact: usize,
    inner: Option<usize>,
}

/// The folders an opened archive's reports go to, from its central directory.
fn units_of(outer: &ZipSource, artifact: usize, spec: &ActionsSpec) -> Vec<Unit> {
    let inner: Vec<Unit> = outer
        .entries()
        .iter()
        .enumerate()
        .filter(|(_, e)| is_inner_zip(e, spec))
        .map(|(i, e)| Unit {
            folder: format!(
                "unzipped-{}",
                path_stem(e.components.last().map_or("", |c| c))
            ),
            artifact,
            inner: Some(i),
        })
        .collect();
    if inner.is_empty() {
        return vec![Unit {
            folder: outer.extract_folder(),
            artifact,
            inner: None,
        }];
    }
    inner
}

/// Publish the run's folders in order, each once the archives it comes from are whole;
/// then close the feed.
fn publish_all(
    spec: &ActionsSpec,
    wanted: &[Artifact],
    zips: &[Option<Arc<ZipSource>>],
    units: &[Unit],
    feed: &Feed,
) {
    let mut failed = vec![false; wanted.len()];
    let mut counted = vec![false; wanted.len()];
    let mut at = 0;
    while at < units.len() {
        let end = at
            + units[at..]
                .iter()
                .take_while(|u| u.folder == units[at].folder)
                .count();
        let mut part = Listing::default();
        let mut compressed = 0;
        for unit in &units[at..end] {
            let (i, name) = (unit.artifact, &wanted[unit.artifact].name);
            let Some(outer) = &zips[i] else { continue };
            if !std::mem::replace(&mut counted[i], true) {
                compressed += wanted[i].size;
            }
            if let Some(remote) = outer.remote()
                && let Err(why) = remote.whole()
            {
                if !std::mem::replace(&mut failed[i], true) {
                    feed.problem(i, format!("artifact {name}"), why);
                }
                continue;
            }
            if failed[i] {
                continue;
            }
            let Some(entry) = unit.inner else {
                let is_reports = name.starts_with(&spec.report_prefix);
                add_archive(outer.clone(), is_reports, &mut part);
                continue;
            };
            let file = outer.entries()[entry]
                .components
                .last()
                .cloned()
                .unwrap_or_default();
            let opened = outer
                .read_entry(entry, spec.zip_limits.max_total_bytes)
                .and_then(|data| ZipSource::open(&file, Bytes::from(data), spec.zip_limits));
            match opened {
                Ok(zip) => add_archive(
                    Arc::new(zip),
                    file.starts_with(&spec.report_prefix),
                    &mut part,
                ),
                Err(e) => feed.problem(i, format!("{name}!{file}"), e.to_string()),
            }
        }
        feed.publish(part, compressed);
        at = end;
    }
    feed.close();
}

/// List the run's artifacts and open each from its tail; the rest of each is fetched by the
/// listing's [`Listing::downloads`], which the load runs. A listing that fails is an error;
/// an archive that cannot be fetched or opened, or has expired, is a problem entry.
pub fn discover(spec: &ActionsSpec, progress: &Arc<FetchProgress>) -> Result<Listing, SourceError> {
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

    let cache = spec.cache.as_ref().map(|c| {
        let dir = c.run_dir("github", &spec.repo, &spec.run_id, spec.attempt);
        (c.clone(), dir)
    });
    let next = AtomicUsize::new(0);
    let results: Vec<Slot> = wanted.iter().map(|_| Slot::default()).collect();
    let storage: Vec<Mutex<Option<(String, Instant)>>> =
        wanted.iter().map(|_| Mutex::default()).collect();
    std::thread::scope(|s| {
        // Tails are small, but each costs an API request: twice the downloads at once.
        for _ in 0..(spec.concurrency * 2).clamp(1, wanted.len().max(1)) {
            s.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(a) = wanted.get(index) else {
                        break;
                    };
                    let fetch_failed = AtomicBool::new(false);
                    let at = (&storage[index], &fetch_failed);
                    let r = open_one(spec, token, a, cache.as_ref(), progress, at);
                    progress.count_opened(&r, fetch_failed.into_inner());
                    *results[index].lock().expect("no panics while held") = Some(r);
                }
            });
        }
    });
    let mut rests = Vec::new();
    let mut zips: Vec<Option<Arc<ZipSource>>> = Vec::with_capacity(wanted.len());
    let mut units = Vec::new();
    for (i, ((a, r), url)) in wanted.iter().zip(results).zip(storage).enumerate() {
        let r = r
            .into_inner()
            .expect("no panics while held")
            .unwrap_or_else(|| Err("not fetched".into()));
        match r {
            Ok(outer) => {
                if let Some(remote) = outer.remote() {
                    let url = url.into_inner().expect("no panics while held");
                    let cache = cache.clone();
                    rests.push(rest_of(spec, token, a, remote, url, cache, progress));
                }
                units.extend(units_of(&outer, i, spec));
                zips.push(Some(Arc::new(outer)));
            }
            Err(message) => {
                listing
                    .problems
                    .push((format!("artifact {}", a.name), message));
                zips.push(None);
            }
        }
    }
    // The listing's order is by folder; among archives of one folder (or zips of one
    // name), the artifact sorted later replaces the earlier's paths, as extraction would.
    units.sort_by(|a, b| (&a.folder, a.artifact, a.inner).cmp(&(&b.folder, b.artifact, b.inner)));
    let compressed = wanted.iter().map(|a| a.size).sum();
    let feed = Arc::new(Feed::new(compressed));
    let rests = Downloads::of_rests(rests, spec.concurrency, progress.clone());
    let (publishing, closing) = (feed.clone(), feed.clone());
    let spec = spec.clone();
    let job = move || {
        std::thread::scope(|s| {
            if let Some(rests) = rests {
                s.spawn(move || rests.run());
            }
            publish_all(&spec, &wanted, &zips, &units, &publishing);
        });
    };
    listing.downloads = Some(Downloads::new(
        Box::new(job),
        Box::new(move || closing.close()),
        progress.clone(),
    ));
    listing.feed = Some(feed);
    Ok(listing)
}

/// Open one archive: in place from the download cache, else from its tail at the storage
/// host (whose address is kept in `storage` for the rest of it). `fetch_failed` tells a
/// download that failed from an archive that came but cannot be read.
fn open_one(
    spec: &ActionsSpec,
    token: &str,
    a: &Artifact,
    cache: Option<&(Cache, PathBuf)>,
    progress: &FetchProgress,
    (storage, fetch_failed): (&Mutex<Option<(String, Instant)>>, &AtomicBool),
) -> Result<ZipSource, String> {
    // The artifact's name is its folder as is: it has no `.zip` suffix to strip.
    let zip_name = format!("{}.zip", a.name);
    if let Some(path) = cache.and_then(|(c, dir)| c.get(dir, &a.name, a.size, None)) {
        progress.objects_cached.fetch_add(1, Ordering::Relaxed);
        progress.bytes_done.fetch_add(a.size, Ordering::Relaxed);
        return ZipSource::open_file(&zip_name, &path, spec.zip_limits).map_err(|e| e.to_string());
    }
    if progress.cancelled.load(Ordering::Relaxed) {
        fetch_failed.store(true, Ordering::Relaxed);
        return Err("cancelled".to_string());
    }
    let failed = |e: String| {
        fetch_failed.store(true, Ordering::Relaxed);
        e
    };
    let keep = |bytes: &Bytes| {
        if let Some((c, dir)) = cache
            && bytes.len() as u64 == a.size
        {
            // A cache that cannot be written only costs a download later.
            let _ = c.put(dir, &a.name, bytes, None);
        }
    };
    let max = spec.zip_limits.max_total_bytes;
    let url = match locate(spec, token, a, max).map_err(failed)? {
        Located::Body(bytes) => {
            progress
                .bytes_done
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            keep(&bytes);
            return ZipSource::open(&zip_name, bytes, spec.zip_limits).map_err(|e| e.to_string());
        }
        Located::Storage { url, at } => {
            *storage.lock().expect("no panics while held") = Some((url.clone(), at));
            url
        }
    };
    let mut fetch = |start: u64, end: u64| {
        let range = (start > 0 || end < a.size).then_some((start, end));
        let got = fetch_storage(spec, &url, a.size, range, progress).map_err(failed)?;
        if let Ranged::Whole(bytes) = &got {
            keep(bytes);
        }
        Ok(got)
    };
    open_ranged(
        &zip_name,
        a.size,
        spec.tail_bytes,
        spec.zip_limits,
        &mut fetch,
    )
}

/// The download of the rest of archive `a` from the storage host (asked for again when its
/// address may have expired), kept in the cache once whole.
fn rest_of(
    spec: &ActionsSpec,
    token: &str,
    a: &Artifact,
    remote: Arc<Remote>,
    storage: Option<(String, Instant)>,
    cache: Option<(Cache, PathBuf)>,
    progress: &Arc<FetchProgress>,
) -> Download {
    let (spec, token, progress) = (spec.clone(), token.to_string(), progress.clone());
    let (fetched, kept) = (a.clone(), a.clone());
    Download {
        remote,
        fetch: Box::new(move |at| {
            let max = spec.zip_limits.max_total_bytes;
            let url = match storage {
                Some((url, when)) if when.elapsed() < STORAGE_URL_FRESH => url,
                _ => match locate(&spec, &token, &fetched, max)? {
                    Located::Storage { url, .. } => url,
                    Located::Body(b) => return Ok(b.slice(..(at as usize).min(b.len()))),
                },
            };
            match fetch_storage(&spec, &url, fetched.size, Some((0, at)), &progress)? {
                Ranged::Part(head) => Ok(head),
                Ranged::Whole(b) => Ok(b.slice(..(at as usize).min(b.len()))),
            }
        }),
        done: Box::new(move |whole| {
            if let Some((c, dir)) = &cache
                && whole.len() as u64 == kept.size
            {
                // A cache that cannot be written only costs a download later.
                let _ = c.put(dir, &kept.name, whole, None);
            }
        }),
    }
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
