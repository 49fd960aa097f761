//! The S3 source: one run's artifacts in the artifacts bucket
//! (`s3://<bucket>/<owner>/<repo>/<run>/<attempt>/artifact/`, docs/compatibility.md section 1). The listing is
//! paginated, `test-report*` and `test-jsons*` zips are fetched concurrently (bounded) into
//! memory, never to disk, and opened exactly as the local bucket layout opens them. A key
//! names its zip's folder (`unzipped-<stem>`), so the order of the run's reports is known by
//! folder before any zip is here: the zips are fetched in that order while the load runs,
//! and each folder's reports are published ([`super::feed`]) as soon as it and the folders
//! before it are in, so parsing starts with the first zip. The reports come out as the same
//! bucket laid out on disk lists them.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};

use bytes::Bytes;

use crate::s3_client::{S3, explain};

use super::cache::Cache;
pub use super::downloads::FetchProgress;
use super::downloads::{Downloads, in_order};
use super::feed::Feed;
use super::local::{JSONS_PREFIX, REPORT_PREFIX, add_archive};
use super::zipped::{ZipLimits, ZipSource};
use super::{Listing, SourceError};

/// Which run to read.
#[derive(Debug, Clone)]
pub struct S3Spec {
    /// The artifacts bucket (`--artifacts-bucket`, default `gha-artifacts`).
    pub bucket: String,
    /// `<owner>/<repo>` (`--artifacts-repo`).
    pub artifacts_repo: String,
    /// The run id exactly as given.
    pub run_id: String,
    /// The attempt as a number: the reference formats the int argparse parsed.
    pub attempt: i64,
    pub zip_limits: ZipLimits,
    /// Downloads in flight at once.
    pub concurrency: usize,
    /// Where downloaded archives are kept (none: `--no-cache`).
    pub cache: Option<Cache>,
}

/// The default artifacts bucket of the reference.
pub const DEFAULT_ARTIFACTS_BUCKET: &str = "gha-artifacts";

/// Downloads in flight at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

impl S3Spec {
    /// `<owner>/<repo>/<run>/<attempt>/artifact/`.
    pub fn prefix(&self) -> String {
        format!(
            "{}/{}/{}/artifact/",
            self.artifacts_repo.trim_matches('/'),
            self.run_id,
            self.attempt
        )
    }
}

/// One artifact to fetch.
#[derive(Debug, Clone)]
struct Artifact {
    key: String,
    name: String,
    size: u64,
    etag: Option<String>,
}

/// A body that fails mid-stream is fetched again this many times in all (the SDK retries
/// the request itself, not a body that breaks after the answer started).
const BODY_ATTEMPTS: usize = 3;

/// List the run's artifacts; the listing's [`Listing::downloads`] (which the load runs)
/// fetch them, 8 at a time, and its [`Listing::feed`] publishes each folder's reports as
/// soon as it and the folders before it are here. Listing failures (no bucket, no access,
/// no server) are errors; a zip that cannot be fetched or opened is a problem entry.
pub fn discover(
    s3: &Arc<S3>,
    spec: &S3Spec,
    progress: &Arc<FetchProgress>,
) -> Result<Listing, SourceError> {
    let prefix = spec.prefix();
    let location = format!("s3://{}/{prefix}", spec.bucket);
    let artifacts = s3
        .block_on(list_artifacts(s3, &spec.bucket, &prefix, progress))
        .map_err(|message| {
            let refused = message.contains("(HTTP 403)");
            SourceError::Other(format!(
                "cannot list {location} (endpoint {}): {message}{}",
                s3.endpoint(),
                if refused && s3.is_anonymous() {
                    format!("; {}", crate::s3_client::NOT_PUBLIC)
                } else {
                    String::new()
                }
            ))
        })?;
    progress
        .objects_total
        .store(artifacts.len() as u64, Ordering::Relaxed);
    progress.bytes_total.store(
        artifacts.iter().map(|a| a.size).sum::<u64>(),
        Ordering::Relaxed,
    );
    progress.listed.store(true, Ordering::Relaxed);

    let cache = spec.cache.as_ref().map(|c| {
        let dir = c.run_dir(
            &format!("s3/{}", spec.bucket),
            &spec.artifacts_repo,
            &spec.run_id,
            spec.attempt,
        );
        (c.clone(), dir)
    });
    let feed = Arc::new(Feed::new(progress.bytes_total.load(Ordering::Relaxed)));
    let fetch = Fetch {
        s3: s3.clone(),
        spec: spec.clone(),
        artifacts,
        cache,
        progress: progress.clone(),
        feed: feed.clone(),
    };
    let closing = feed.clone();
    let downloads = Downloads::new(
        Box::new(move || fetch.run()),
        Box::new(move || closing.close()),
        progress.clone(),
    );
    Ok(Listing {
        description: location,
        run_id: Some(spec.run_id.clone()),
        attempt: Some(spec.attempt.to_string()),
        downloads: Some(downloads),
        feed: Some(feed),
        ..Listing::default()
    })
}

/// The run's archives to fetch, and where their reports go.
struct Fetch {
    s3: Arc<S3>,
    spec: S3Spec,
    /// In key order.
    artifacts: Vec<Artifact>,
    cache: Option<(Cache, PathBuf)>,
    progress: Arc<FetchProgress>,
    feed: Arc<Feed>,
}

impl Fetch {
    /// Fetch every archive, in the order the load reads them, and publish each folder once
    /// it and the folders before it are here.
    fn run(self) {
        // Each archive's reports lie under its own folder, `unzipped-<stem>`; the listing's
        // order is by folder, and among archives of one folder (same stem) by key, later
        // paths replacing earlier ones as extraction would.
        let folder = |a: &Artifact| super::zipped::path_stem(&a.name).to_string();
        let mut order: Vec<usize> = (0..self.artifacts.len()).collect();
        order.sort_by(|&a, &b| {
            let (fa, fb) = (folder(&self.artifacts[a]), folder(&self.artifacts[b]));
            fa.cmp(&fb).then(a.cmp(&b))
        });
        let opened: Mutex<Vec<Option<Result<ZipSource, String>>>> =
            Mutex::new(self.artifacts.iter().map(|_| None).collect());
        let arrived = Condvar::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                in_order(order.clone(), self.spec.concurrency, |i| {
                    let result = self.fetch_one(&self.artifacts[i]);
                    opened.lock().expect("no panics while held")[i] = Some(result);
                    arrived.notify_all();
                });
            });
            let mut at = 0;
            while at < order.len() {
                let name = folder(&self.artifacts[order[at]]);
                let end = at
                    + order[at..]
                        .iter()
                        .take_while(|&&i| folder(&self.artifacts[i]) == name)
                        .count();
                let mut part = Listing::default();
                let compressed = order[at..end].iter().map(|&i| self.artifacts[i].size).sum();
                for &i in &order[at..end] {
                    let result = {
                        let mut slots = opened.lock().expect("no panics while held");
                        loop {
                            match slots[i].take() {
                                Some(result) => break result,
                                None => slots = arrived.wait(slots).expect("no panics while held"),
                            }
                        }
                    };
                    let artifact = &self.artifacts[i];
                    match result {
                        Ok(zip) => add_archive(
                            Arc::new(zip),
                            artifact.name.starts_with(REPORT_PREFIX),
                            &mut part,
                        ),
                        Err(message) => self.feed.problem(
                            i,
                            format!("s3://{}/{}", self.spec.bucket, artifact.key),
                            message,
                        ),
                    }
                }
                self.feed.publish(part, compressed);
                at = end;
            }
            self.feed.close();
        });
    }

    /// One archive, opened: read in place from the download cache, else fetched whole into
    /// memory (and kept in the cache).
    fn fetch_one(&self, artifact: &Artifact) -> Result<ZipSource, String> {
        let progress = &self.progress;
        let hit = self.cache.as_ref().and_then(|(c, dir)| {
            c.get(dir, &artifact.name, artifact.size, artifact.etag.as_deref())
        });
        let fetched = if let Some(path) = hit {
            progress.objects_cached.fetch_add(1, Ordering::Relaxed);
            progress
                .bytes_done
                .fetch_add(artifact.size, Ordering::Relaxed);
            Ok(Got::Cached(path))
        } else if progress.cancelled.load(Ordering::Relaxed) {
            Err("cancelled".to_string())
        } else {
            let s3 = &self.s3;
            s3.block_on(fetch_whole(s3, &self.spec.bucket, artifact, progress))
                .map(|bytes| {
                    if let Some((c, dir)) = &self.cache {
                        // A cache that cannot be written only costs a download later.
                        let _ = c.put(dir, &artifact.name, &bytes, artifact.etag.as_deref());
                    }
                    Got::Memory(bytes)
                })
        };
        progress.objects_opened.fetch_add(1, Ordering::Relaxed);
        match &fetched {
            Ok(_) => progress.objects_done.fetch_add(1, Ordering::Relaxed),
            Err(_) => progress.objects_failed.fetch_add(1, Ordering::Relaxed),
        };
        let limits = self.spec.zip_limits;
        match fetched? {
            Got::Memory(bytes) => ZipSource::open(&artifact.name, Bytes::from(bytes), limits),
            // Read in place, as local zips are.
            Got::Cached(path) => ZipSource::open_file(&artifact.name, &path, limits),
        }
        .map_err(|e| e.to_string())
    }
}

/// An archive in memory, or kept in the download cache.
enum Got {
    Memory(Vec<u8>),
    Cached(PathBuf),
}

/// Every `test-report*` and `test-jsons*` object directly under `prefix`, in key (UTF-8
/// byte) order. Listed by those two prefixes, as the reference filters its listing; keys
/// deeper down (`artifact/test-reports-x/y.zip`) are not artifacts of the run, as a
/// sub-folder of the local layout is not.
async fn list_artifacts(
    s3: &S3,
    bucket: &str,
    prefix: &str,
    progress: &FetchProgress,
) -> Result<Vec<Artifact>, String> {
    let mut out = Vec::new();
    for wanted in [JSONS_PREFIX, REPORT_PREFIX] {
        let mut pages = s3
            .client()
            .list_objects_v2()
            .bucket(bucket)
            .prefix(format!("{prefix}{wanted}"))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| explain(&e))?;
            for object in page.contents() {
                progress.keys_listed.fetch_add(1, Ordering::Relaxed);
                let Some(key) = object.key() else { continue };
                let Some(name) = key.strip_prefix(prefix) else {
                    continue;
                };
                if name.contains('/') || !name.starts_with(wanted) {
                    continue;
                }
                out.push(Artifact {
                    key: key.to_string(),
                    name: name.to_string(),
                    size: object.size().unwrap_or(0).max(0) as u64,
                    etag: object.e_tag().map(str::to_string),
                });
            }
        }
    }
    // S3 already answers in this order; sorting keeps other stores honest too.
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out.dedup_by(|a, b| a.key == b.key);
    Ok(out)
}

/// One artifact into memory. A body that breaks off is fetched again from the start.
async fn fetch_whole(
    s3: &S3,
    bucket: &str,
    artifact: &Artifact,
    progress: &FetchProgress,
) -> Result<Vec<u8>, String> {
    let mut last_error = String::new();
    for _ in 0..BODY_ATTEMPTS {
        let response = s3
            .client()
            .get_object()
            .bucket(bucket)
            .key(&artifact.key)
            .send()
            .await
            .map_err(|e| format!("download failed: {}", explain(&e)))?;
        // The listed size is only a hint for the allocation (capped: a wrong size must not
        // reserve gigabytes).
        let hint = response
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(artifact.size)
            .min(256 << 20);
        let mut bytes = Vec::with_capacity(hint as usize);
        let mut body = response.body;
        let mut counted = 0u64;
        loop {
            match body.try_next().await {
                Ok(Some(chunk)) => {
                    bytes.extend_from_slice(&chunk);
                    counted += chunk.len() as u64;
                    progress
                        .bytes_done
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
                Ok(None) => return Ok(bytes),
                Err(e) => {
                    progress.bytes_done.fetch_sub(counted, Ordering::Relaxed);
                    last_error = format!(
                        "download broke off after {counted} bytes: {}",
                        crate::s3_client::chain(&e)
                    );
                    break;
                }
            }
        }
    }
    Err(last_error)
}
