//! Human names for a run's jobs: the GitHub job name where known, else what the artifact's
//! name says (`test-reports-<job>-<config>-<shard>-<num_shards>-<runner>_<id>`).

use std::collections::HashMap;

use crate::report::Value;

/// What an artifact's name says about its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactParts {
    pub job: String,
    pub config: String,
    pub shard: String,
    pub num_shards: String,
    pub runner: String,
}

impl ArtifactParts {
    /// `test (default, 1, 5, linux.2xlarge)`, as PyTorch's job names spell it.
    pub fn label(&self) -> String {
        format!(
            "{} ({}, {}, {}, {})",
            self.job, self.config, self.shard, self.num_shards, self.runner
        )
    }
}

/// The parts of `unzipped-test-reports-<job>-<config>-<shard>-<num_shards>-<runner>_<id>`;
/// None when the artifact name has no such parts.
pub fn artifact_parts(first_component: &str) -> Option<ArtifactParts> {
    let stem = first_component.strip_prefix("unzipped-")?;
    let stem = stem
        .strip_prefix("test-reports-")
        .or_else(|| stem.strip_prefix("test-report-"))?;
    let stem = stem.rsplit_once('_').map_or(stem, |(s, _)| s);
    // A `runattempt<N>` atom (artifacts of re-run attempts) says nothing about the job.
    let parts: Vec<&str> = stem
        .split('-')
        .filter(|p| {
            !p.strip_prefix("runattempt")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    // [<job>-]<config>-<shard>-<num_shards>-<runner>: config and runner may hold dashes, so
    // anchor on the first two numbers. The job part (`test`) is left out of some names.
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let i =
        (1..parts.len().saturating_sub(1)).find(|&i| numeric(parts[i]) && numeric(parts[i + 1]))?;
    let (job, config) = if i == 1 {
        ("test".to_string(), parts[0].to_string())
    } else {
        (parts[0].to_string(), parts[1..i].join("-"))
    };
    Some(ArtifactParts {
        job,
        config,
        shard: parts[i].to_string(),
        num_shards: parts[i + 1].to_string(),
        runner: parts[i + 2..].join("-"),
    })
}

/// `test (default, 1, 5, linux.2xlarge)` from a report's first path component, as PyTorch's
/// job names spell it; None when the artifact name has no such parts.
pub fn artifact_label(first_component: &str) -> Option<String> {
    artifact_parts(first_component).map(|p| p.label())
}

/// Label per job id: the GitHub name if known, else the artifact label, else the id.
pub fn labels<'a>(
    files: impl IntoIterator<Item = (&'a Value, &'a str)>,
    names: &HashMap<i64, String>,
) -> HashMap<String, String> {
    let mut out = HashMap::new();
    // Files of a job come together: repeats of the last one are skipped without a lookup.
    let mut last: Option<&Value> = None;
    for (job_id, first) in files {
        if last.replace(job_id) == Some(job_id) {
            continue;
        }
        let key = crate::run::display_value(job_id);
        if out.contains_key(&key) {
            continue;
        }
        let known = match job_id {
            Value::Int(id) => names.get(id).cloned(),
            _ => None,
        };
        let label = known.or_else(|| artifact_label(first)).unwrap_or_else(|| {
            if key.is_empty() {
                "no job id".into()
            } else {
                format!("job {key}")
            }
        });
        out.insert(key, label);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_from_artifact_names() {
        let l = |s| artifact_label(s);
        assert_eq!(
            l("unzipped-test-reports-test-default-1-5-linux.2xlarge_30329732543").as_deref(),
            Some("test (default, 1, 5, linux.2xlarge)")
        );
        assert_eq!(
            l("unzipped-test-reports-test-distributed-6-8-lf-l-x86iamx-8-64_112017841325")
                .as_deref(),
            Some("test (distributed, 6, 8, lf-l-x86iamx-8-64)")
        );
        assert_eq!(
            l("unzipped-test-reports-test-dynamo_wrapped-2-3-linux.2xlarge_").as_deref(),
            Some("test (dynamo_wrapped, 2, 3, linux.2xlarge)")
        );
        // Without the job part, and with a re-run attempt's atom.
        assert_eq!(
            l("unzipped-test-reports-default-1-3-linux.2xlarge_123").as_deref(),
            Some("test (default, 1, 3, linux.2xlarge)")
        );
        assert_eq!(
            l("unzipped-test-reports-runattempt2-test-inductor-2-4-linux.g5.4xlarge.nvidia.gpu_9")
                .as_deref(),
            Some("test (inductor, 2, 4, linux.g5.4xlarge.nvidia.gpu)")
        );
        assert_eq!(l("unzipped-test-reports-corpus_42"), None);
        assert_eq!(l("test"), None);
    }

    #[test]
    fn known_names_win() {
        let names = HashMap::from([(7, "linux-jammy / test (default, 1, 2, x)".to_string())]);
        let (a, b, c) = (Value::Int(7), Value::Int(8), Value::Null);
        let files = [
            (&a, "unzipped-test-reports-test-default-1-2-x_7"),
            (&b, "unzipped-test-reports-test-slow-1-1-y_8"),
            (&c, "unzipped-zzz"),
        ];
        let got = labels(files, &names);
        assert_eq!(got["7"], "linux-jammy / test (default, 1, 2, x)");
        assert_eq!(got["8"], "test (slow, 1, 1, y)");
        assert_eq!(got[""], "no job id");
    }
}
