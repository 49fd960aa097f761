//! Failure clusters: failing cases grouped by their normalised signature
//! ([`super::signature`]), across jobs and configs, so one root cause shows as one row
//! instead of hundreds.

use std::collections::HashSet;

use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::xxh3_64;

use super::compare::config_of_file;
use super::signature::signature;
use crate::run::{CaseBrief, LoadedRun};
use crate::stats::CaseStatus;

/// One root cause.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Stable across runs: a hash of the signature.
    pub id: String,
    pub signature: String,
    /// Indices into the run's failed and retried cases ([`LoadedRun::notable`]), run order.
    pub members: Vec<u32>,
    /// Distinct tests (classname, name), jobs and configs among the members.
    pub tests: usize,
    pub jobs: usize,
    pub configs: usize,
}

impl Cluster {
    pub fn cases(&self) -> usize {
        self.members.len()
    }
}

/// Every failing case of a run, each in exactly one cluster.
#[derive(Debug, Clone, Default)]
pub struct Clusters {
    /// Most cases first; ties in order of first appearance.
    pub clusters: Vec<Cluster>,
    /// The cluster (index into `clusters`) of each entry of [`LoadedRun::notable`], `None`
    /// for cases that did not fail (flaky passes).
    pub of_brief: Vec<Option<u32>>,
}

impl Clusters {
    /// The cluster of failed case `brief` (an index into the run's notable cases).
    pub fn of(&self, brief: usize) -> Option<&Cluster> {
        let c = (*self.of_brief.get(brief)?)?;
        self.clusters.get(c as usize)
    }
}

/// Whether a brief is a failing case (what clusters and repro scripts cover).
pub fn is_failing(b: &CaseBrief) -> bool {
    matches!(b.status, CaseStatus::Failure | CaseStatus::Error)
}

/// A failing case's signature: the one computed while it was parsed, else one from the
/// message line the brief kept.
pub fn signature_of(b: &CaseBrief) -> String {
    match &b.triage {
        Some(t) => t.signature.clone(),
        None => signature("", &b.message, ""),
    }
}

/// The short id of a signature.
pub fn cluster_id(signature: &str) -> String {
    format!("{:08x}", xxh3_64(signature.as_bytes()) >> 32)
}

/// Cluster the failing cases of `run`.
pub fn clusters(run: &LoadedRun) -> Clusters {
    let mut by_sig: FxHashMap<String, usize> = FxHashMap::default();
    let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
    let mut of_brief = vec![None; run.notable.len()];
    for (i, b) in run.notable.iter().enumerate() {
        if !is_failing(b) {
            continue;
        }
        let sig = signature_of(b);
        let g = *by_sig.entry(sig.clone()).or_insert_with(|| {
            groups.push((sig, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(i as u32);
        of_brief[i] = Some(g as u32);
    }
    let mut configs_of_file: FxHashMap<usize, String> = FxHashMap::default();
    let mut clusters: Vec<(usize, Cluster)> = groups
        .into_iter()
        .enumerate()
        .map(|(first, (sig, members))| {
            let mut tests = HashSet::new();
            let mut jobs = HashSet::new();
            let mut configs = HashSet::new();
            for &m in &members {
                let b = &run.notable[m as usize];
                tests.insert((b.classname.as_str(), b.name.as_str()));
                if let Some(f) = run.files.get(b.file_index) {
                    jobs.insert(crate::run::display_value(&f.job_id));
                }
                let config = configs_of_file
                    .entry(b.file_index)
                    .or_insert_with(|| {
                        if b.file_index < run.files.len() {
                            config_of_file(run, b.file_index)
                        } else {
                            String::new()
                        }
                    })
                    .clone();
                configs.insert(config);
            }
            let c = Cluster {
                id: cluster_id(&sig),
                signature: sig,
                tests: tests.len(),
                jobs: jobs.len(),
                configs: configs.len(),
                members,
            };
            (first, c)
        })
        .collect();
    clusters.sort_by(|(fa, a), (fb, b)| b.cases().cmp(&a.cases()).then(fa.cmp(fb)));
    // Clusters were numbered in order of first appearance: renumber by the sorted order.
    let mut new_index = vec![0u32; clusters.len()];
    for (new, (old, _)) in clusters.iter().enumerate() {
        new_index[*old] = new as u32;
    }
    for c in of_brief.iter_mut().flatten() {
        *c = new_index[*c as usize];
    }
    Clusters {
        clusters: clusters.into_iter().map(|(_, c)| c).collect(),
        of_brief,
    }
}
