//! The S3 source: one run's artifacts in the artifacts bucket
//! (`s3://<bucket>/<owner>/<repo>/<run>/<attempt>/artifact/`, docs/compatibility.md section 1). The listing is
//! paginated, `test-report*` and `test-jsons*` zips are opened from their tails (ranged
//! reads, concurrently) exactly as the local bucket layout opens them, so the resulting
//! [`Listing`] is the one the same bucket laid out on disk gives; the rest of each zip is
//! fetched into memory, never to disk, while the load parses the zips already here
//! ([`super::remote`]).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::s3_client::{S3, explain};

use super::cache::Cache;
use super::local::{JSONS_PREFIX, REPORT_PREFIX, add_archive};
pub use super::remote::FetchProgress;
use super::remote::{Download, Downloads, Ranged, open_ranged};
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
    /// Bytes of each zip's tail read first (see [`super::remote::DEFAULT_TAIL`]).
    pub tail_bytes: u64,
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

/// List the run's artifacts and open each from its tail; the rest of each is fetched by the
/// listing's [`Listing::downloads`], which the load runs. Listing failures (no bucket, no
/// access, no server) are errors; a zip that cannot be fetched or opened is a problem entry.
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
    let opened = open_all(s3, spec, &artifacts, cache.as_ref(), progress);

    let mut listing = Listing {
        description: location,
        run_id: Some(spec.run_id.clone()),
        attempt: Some(spec.attempt.to_string()),
        ..Listing::default()
    };
    let mut downloads = Vec::new();
    // In key order, as the local layout adds its sorted folder entries; the downloads go in
    // this order too, which is (nearly) the order the load reads the zips in.
    for (artifact, result) in artifacts.iter().zip(opened) {
        match result {
            Ok(zip) => {
                if let Some(remote) = zip.remote() {
                    downloads.push(rest_of(s3, spec, artifact, remote, cache.clone(), progress));
                }
                add_archive(
                    Arc::new(zip),
                    artifact.name.starts_with(REPORT_PREFIX),
                    &mut listing,
                );
            }
            Err(message) => listing
                .problems
                .push((format!("s3://{}/{}", spec.bucket, artifact.key), message)),
        }
    }
    listing.finish();
    listing.downloads = Downloads::new(downloads, spec.concurrency, progress.clone());
    Ok(listing)
}

/// The download of the rest of `artifact`, kept in the cache once whole.
fn rest_of(
    s3: &Arc<S3>,
    spec: &S3Spec,
    artifact: &Artifact,
    remote: Arc<super::remote::Remote>,
    cache: Option<(Cache, std::path::PathBuf)>,
    progress: &Arc<FetchProgress>,
) -> Download {
    let (s3, bucket, progress) = (s3.clone(), spec.bucket.clone(), progress.clone());
    let fetched = artifact.clone();
    let kept = artifact.clone();
    Download {
        remote,
        fetch: Box::new(move |at| {
            match s3.block_on(fetch_range(
                &s3,
                &bucket,
                &fetched,
                Some((0, at)),
                &progress,
            ))? {
                Ranged::Part(head) => Ok(head),
                // A server that ignores ranges: the head of what it sent.
                Ranged::Whole(all) => Ok(all.slice(..(at as usize).min(all.len()))),
            }
        }),
        done: Box::new(move |whole| {
            if let Some((c, dir)) = &cache {
                // A cache that cannot be written only costs a download later.
                let _ = c.put(dir, &kept.name, whole, kept.etag.as_deref());
            }
        }),
    }
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

/// Open every artifact, many at once (the reads are small): from the download cache, else
/// from its tail. Results come back in the artifacts' order.
fn open_all(
    s3: &S3,
    spec: &S3Spec,
    artifacts: &[Artifact],
    cache: Option<&(Cache, std::path::PathBuf)>,
    progress: &FetchProgress,
) -> Vec<Result<ZipSource, String>> {
    let results: Vec<Mutex<Option<Result<ZipSource, String>>>> =
        artifacts.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    // Tails are small: latency, not bandwidth, bounds this step.
    let workers = (spec.concurrency * 4).clamp(1, artifacts.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(artifact) = artifacts.get(i) else {
                        break;
                    };
                    let fetch_failed = AtomicBool::new(false);
                    let result = open_one(s3, spec, artifact, cache, progress, &fetch_failed);
                    progress.count_opened(&result, fetch_failed.into_inner());
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
                .expect("every artifact is opened")
        })
        .collect()
}

/// Open one artifact: read in place from the download cache, else from its tail (the whole
/// of a small one, kept in the cache). `fetch_failed` tells a download that failed from an
/// archive that came but cannot be read.
fn open_one(
    s3: &S3,
    spec: &S3Spec,
    artifact: &Artifact,
    cache: Option<&(Cache, std::path::PathBuf)>,
    progress: &FetchProgress,
    fetch_failed: &AtomicBool,
) -> Result<ZipSource, String> {
    let hit = cache
        .and_then(|(c, dir)| c.get(dir, &artifact.name, artifact.size, artifact.etag.as_deref()));
    if let Some(path) = hit {
        progress.objects_cached.fetch_add(1, Ordering::Relaxed);
        progress
            .bytes_done
            .fetch_add(artifact.size, Ordering::Relaxed);
        return ZipSource::open_file(&artifact.name, &path, spec.zip_limits)
            .map_err(|e| e.to_string());
    }
    if progress.cancelled.load(Ordering::Relaxed) {
        fetch_failed.store(true, Ordering::Relaxed);
        return Err("cancelled".to_string());
    }
    let mut fetch = |start: u64, end: u64| {
        let whole = start == 0 && end == artifact.size;
        let range = (!whole).then_some((start, end));
        let got = s3
            .block_on(fetch_range(s3, &spec.bucket, artifact, range, progress))
            .inspect_err(|_| fetch_failed.store(true, Ordering::Relaxed))?;
        if let (Ranged::Whole(bytes), Some((c, dir))) = (&got, cache) {
            // A cache that cannot be written only costs a download later.
            let _ = c.put(dir, &artifact.name, bytes, artifact.etag.as_deref());
        }
        Ok(got)
    };
    open_ranged(
        &artifact.name,
        artifact.size,
        spec.tail_bytes,
        spec.zip_limits,
        &mut fetch,
    )
}

/// Bytes `start..end` of one artifact (all of it without a range) into memory. A body that
/// breaks off is fetched again from the start.
async fn fetch_range(
    s3: &S3,
    bucket: &str,
    artifact: &Artifact,
    range: Option<(u64, u64)>,
    progress: &FetchProgress,
) -> Result<Ranged, String> {
    let mut last_error = String::new();
    for _ in 0..BODY_ATTEMPTS {
        let mut request = s3.client().get_object().bucket(bucket).key(&artifact.key);
        if let Some((start, end)) = range {
            request = request.range(format!("bytes={start}-{}", end.saturating_sub(1)));
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("download failed: {}", explain(&e)))?;
        // A server that ignores the range answers with the whole object.
        let part = range.is_some() && response.content_range().is_some();
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
                Ok(None) => {
                    let bytes = Bytes::from(bytes);
                    return Ok(if part {
                        Ranged::Part(bytes)
                    } else {
                        Ranged::Whole(bytes)
                    });
                }
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
