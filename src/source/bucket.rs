//! The S3 source: one run's artifacts in the artifacts bucket
//! (`s3://<bucket>/<owner>/<repo>/<run>/<attempt>/artifact/`, docs/compatibility.md section 1). The listing is
//! paginated, `test-report*` and `test-jsons*` zips are fetched concurrently (bounded) into
//! memory, never to disk, and opened exactly as the local bucket layout opens them, so the
//! resulting [`Listing`] is the one the same bucket laid out on disk gives.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::s3_client::{S3, explain};

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
    pub cache: Option<super::cache::Cache>,
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

/// Counters a front-end polls while the run is fetched. Totals are known once `listed` is
/// set; `bytes_done` grows as bodies stream in (and shrinks back if a download restarts).
#[derive(Debug, Default)]
pub struct FetchProgress {
    /// Keys seen while listing (all pages so far, matching or not).
    pub keys_listed: AtomicU64,
    pub listed: AtomicBool,
    pub objects_total: AtomicU64,
    pub objects_done: AtomicU64,
    pub objects_failed: AtomicU64,
    pub bytes_total: AtomicU64,
    pub bytes_done: AtomicU64,
    /// Archives read from the download cache instead of fetched (counted in `objects_done`).
    pub objects_cached: AtomicU64,
    /// Set by the front-end to stop starting new downloads.
    pub cancelled: AtomicBool,
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

/// List, fetch and open the run's artifacts. Listing failures (no bucket, no access, no
/// server) are errors; a zip that cannot be fetched or opened is a problem entry.
pub fn discover(s3: &S3, spec: &S3Spec, progress: &FetchProgress) -> Result<Listing, SourceError> {
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

    let fetched = fetch_all(s3, spec, &artifacts, progress);

    let mut listing = Listing {
        description: location,
        run_id: Some(spec.run_id.clone()),
        attempt: Some(spec.attempt.to_string()),
        ..Listing::default()
    };
    // In key order, as the local layout adds its sorted folder entries.
    for (artifact, result) in artifacts.iter().zip(fetched) {
        let is_reports = artifact.name.starts_with(REPORT_PREFIX);
        let opened = result.and_then(|got| {
            match got {
                Got::Memory(bytes) => {
                    ZipSource::open(&artifact.name, Bytes::from(bytes), spec.zip_limits)
                }
                // Read in place, as local zips are.
                Got::Cached(path) => ZipSource::open_file(&artifact.name, &path, spec.zip_limits),
            }
            .map_err(|e| e.to_string())
        });
        match opened {
            Ok(zip) => add_archive(Arc::new(zip), is_reports, &mut listing),
            Err(message) => listing
                .problems
                .push((format!("s3://{}/{}", spec.bucket, artifact.key), message)),
        }
    }
    listing.finish();
    Ok(listing)
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

/// An artifact's bytes, or why they could not be had.
type Fetched = Result<Got, String>;

/// An archive in memory, or kept in the download cache.
enum Got {
    Memory(Vec<u8>),
    Cached(std::path::PathBuf),
}

/// Fetch every artifact, `concurrency` at a time: each worker thread drives one download
/// at a time on the shared runtime. Results come back in the artifacts' order.
fn fetch_all(
    s3: &S3,
    spec: &S3Spec,
    artifacts: &[Artifact],
    progress: &FetchProgress,
) -> Vec<Fetched> {
    let (bucket, concurrency) = (spec.bucket.as_str(), spec.concurrency);
    let cached = spec.cache.as_ref().map(|c| {
        (
            c,
            c.run_dir(
                &format!("s3/{bucket}"),
                &spec.artifacts_repo,
                &spec.run_id,
                spec.attempt,
            ),
        )
    });
    let results: Vec<Mutex<Option<Fetched>>> = artifacts.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = concurrency.clamp(1, artifacts.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(artifact) = artifacts.get(i) else {
                        break;
                    };
                    let hit = cached.as_ref().and_then(|(c, dir)| {
                        c.get(dir, &artifact.name, artifact.size, artifact.etag.as_deref())
                    });
                    let result = if let Some(path) = hit {
                        progress.objects_cached.fetch_add(1, Ordering::Relaxed);
                        progress
                            .bytes_done
                            .fetch_add(artifact.size, Ordering::Relaxed);
                        Ok(Got::Cached(path))
                    } else if progress.cancelled.load(Ordering::Relaxed) {
                        Err("cancelled".to_string())
                    } else {
                        s3.block_on(fetch_one(s3, bucket, artifact, progress))
                            .map(|bytes| {
                                if let Some((c, dir)) = &cached {
                                    // A cache that cannot be written only costs a download later.
                                    let _ = c.put(
                                        dir,
                                        &artifact.name,
                                        &bytes,
                                        artifact.etag.as_deref(),
                                    );
                                }
                                Got::Memory(bytes)
                            })
                    };
                    match &result {
                        Ok(_) => progress.objects_done.fetch_add(1, Ordering::Relaxed),
                        Err(_) => progress.objects_failed.fetch_add(1, Ordering::Relaxed),
                    };
                    *results[i].lock().expect("no panics while held") = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .expect("no panics while held")
                .expect("every artifact is fetched")
        })
        .collect()
}

/// One artifact into memory. A body that breaks off is fetched again from the start.
async fn fetch_one(
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
