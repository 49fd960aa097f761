//! Test identity that survives shards and re-launches: the config label of a job (from its
//! GitHub name, Dr. CI's way, or from its artifact's name when no GitHub name is known) and
//! the [`TestKey`] that results are matched on between a run and its base.
//!
//! A test moves between shards from run to run, and run_test.py writes a fresh XML when it
//! re-launches a file, so neither the shard, the runner nor the XML path may be part of a
//! test's identity (Dr. CI's "ran in 2 different shards" complaint, test-infra#4328).

use std::sync::LazyLock;

use regex::Regex;

/// Dr. CI's `REMOVE_JOB_NAME_SUFFIX_REGEX`, anchored: the shard, the shard count, the runner
/// and anything after them (e.g. `, unstable`) inside the job name's last parentheses.
static SHARD_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r", [0-9]+, [0-9]+, .+\)$").expect("static regex"));

/// A GitHub job name without its shard and runner, as Dr. CI groups jobs:
/// `linux-jammy-py3.10-gcc11 / test (default, 2, 5, linux.2xlarge)` becomes
/// `linux-jammy-py3.10-gcc11 / test (default)`. Names without that shape come back unchanged.
pub fn config_of_job_name(name: &str) -> String {
    SHARD_SUFFIX.replace(name, ")").into_owned()
}

/// What a PyTorch artifact's name says about its job.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArtifactLabel {
    /// The matrix config, e.g. `default`, `dynamo_wrapped`, `inductor-micro-benchmark`.
    pub config: String,
    /// `(shard, num_shards)`; None when the name carries no shard numbers.
    pub shard: Option<(u32, u32)>,
    /// The runner label as written (fleet prefix included); empty when the name has none.
    pub runner: String,
}

/// Artifact kinds that share PyTorch's `<kind>-<file-suffix>` naming
/// (`.github/actions/upload-test-artifacts`); `test-report-` is the listing prefix callers
/// pass to `download_s3_artifacts`, kept for names cut at it.
const ARTIFACT_KINDS: [&str; 4] = [
    "test-reports-",
    "test-run-reports-",
    "test-jsons-",
    "test-report-",
];

/// `${{ github.job }}` values of PyTorch's reusable test workflows, as dash-separated atoms,
/// longest first: `_linux-test.yml` has both `test` and `test-osdc`.
const JOB_IDS: [&[&str]; 2] = [&["test", "osdc"], &["test"]];

/// The parts of a PyTorch test artifact's name, or None when it is not one.
///
/// Accepted shapes (the file suffix is
/// `${github.job}-${config}-${shard}-${num_shards}-${runner}_${job_id}`):
/// * `test-reports-test-default-1-3-linux.2xlarge_1234567.zip` (S3);
/// * `test-reports-runattempt1-test-default-1-3-linux.2xlarge_1234567.zip` (the GitHub
///   fallback; a `runattempt<N>` atom is dropped wherever it is);
/// * the same without the job part (`test-reports-default-1-3-…`), without `_<job id>` (or
///   with an empty one, `…_`), without `.zip` (GitHub artifact names), without the runner;
/// * `unzipped-…` directory names, and any path: only the last `/` component is read;
/// * the sibling kinds `test-run-reports-…[.report].zip` and `test-jsons-…`.
///
/// Config and runner may hold dashes, so the shard is the first `<n>-<of>` pair of numbers
/// (1 ≤ n ≤ of) after at least one config atom. A name with no such pair (e.g. bazel's
/// `test-reports-bazel-build-and-test_123`) gives the whole rest, job atom included, as
/// config and no shard.
pub fn parse_artifact_name(name: &str) -> Option<ArtifactLabel> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut stem = base.strip_prefix("unzipped-").unwrap_or(base);
    while let Some(s) = stem.strip_suffix(".zip") {
        stem = s;
    }
    let stem = stem.strip_suffix(".report").unwrap_or(stem);
    let stem = ARTIFACT_KINDS
        .iter()
        .find_map(|kind| stem.strip_prefix(kind))?;
    // The job id is digits after the last `_`; a runner or config may hold `_` too, so only
    // a numeric (or empty, when the job id step failed) tail is dropped.
    let stem = match stem.rsplit_once('_') {
        Some((s, id)) if id.bytes().all(|b| b.is_ascii_digit()) => s,
        _ => stem,
    };
    let atoms: Vec<&str> = stem.split('-').filter(|a| !is_run_attempt(a)).collect();
    // The job part is dropped only when a shard follows a config after it: without shard
    // numbers there is no telling a job atom from the first atom of a config.
    let rest = JOB_IDS
        .iter()
        .filter_map(|job| atoms.strip_prefix(*job))
        .find(|rest| split_shard(rest).is_some_and(|(_, shard, _)| shard.is_some()))
        .unwrap_or(&atoms);
    let (config, shard, runner) = split_shard(rest)?;
    if config.is_empty() || config.iter().any(|a| a.is_empty()) {
        return None;
    }
    Some(ArtifactLabel {
        config: config.join("-"),
        shard,
        runner: runner.join("-"),
    })
}

/// `runattempt<N>`, the atom the GitHub fallback adds (and `upload_artifacts.py` strips).
fn is_run_attempt(atom: &str) -> bool {
    atom.strip_prefix("runattempt")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

type Split<'a, 'b> = (&'a [&'b str], Option<(u32, u32)>, &'a [&'b str]);

/// Config atoms, shard and runner atoms; None for an empty name.
fn split_shard<'a, 'b>(atoms: &'a [&'b str]) -> Option<Split<'a, 'b>> {
    if atoms.is_empty() {
        return None;
    }
    let num = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let found = (1..atoms.len().saturating_sub(1)).find_map(|i| {
        let (n, of) = (num(atoms[i])?, num(atoms[i + 1])?);
        (1 <= n && n <= of).then_some((i, n, of))
    });
    Some(match found {
        Some((i, n, of)) => (&atoms[..i], Some((n, of)), &atoms[i + 2..]),
        None => (atoms, None, &[]),
    })
}

/// Runner-label prefixes that PyTorch's runner determinator adds per fleet experiment
/// (`lf.`, `lf.c.` canary, `mt-`/`c-mt-`/`lf-` ARC, `amz2023.` AMI, `amd-do-`). The same
/// job lands on either fleet from run to run, so they are not part of a config's identity.
const FLEET_PREFIXES: [&str; 7] = ["lf.c.", "lf.", "c-mt-", "mt-", "lf-", "amz2023.", "amd-do-"];

/// A config label for a job whose GitHub name is unknown: `<config> (<runner>)`, e.g.
/// `default (linux.2xlarge)`, or just `<config>` when the artifact names no runner.
///
/// The shard is left out (tests move between shards) and so are the runner's fleet prefixes
/// (`lf.linux.2xlarge` → `linux.2xlarge`). The runner stays because it is the only thing
/// left in an artifact name that tells e.g. the CPU, CUDA and Windows `default` configs
/// apart. This never equals a [`config_of_job_name`] label (that one carries the build
/// environment), so both sides of a comparison must be labelled the same way.
pub fn config_of_label(label: &ArtifactLabel) -> String {
    let mut runner = label.runner.as_str();
    while let Some(rest) = FLEET_PREFIXES
        .iter()
        .find_map(|p| runner.strip_prefix(p).filter(|r| !r.is_empty()))
    {
        runner = rest;
    }
    if runner.is_empty() {
        label.config.clone()
    } else {
        format!("{} ({runner})", label.config)
    }
}

/// One test's identity across runs: its job's config label (from [`config_of_job_name`] or
/// [`config_of_label`]), the file run_test.py launched, and the JUnit classname and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TestKey {
    pub config: String,
    pub invoking_file: String,
    pub classname: String,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(config: &str, shard: Option<(u32, u32)>, runner: &str) -> Option<ArtifactLabel> {
        Some(ArtifactLabel {
            config: config.into(),
            shard,
            runner: runner.into(),
        })
    }

    #[test]
    fn job_names_lose_shard_and_runner() {
        assert_eq!(
            config_of_job_name("linux-jammy-py3.10-gcc11 / test (default, 2, 5, linux.2xlarge)"),
            "linux-jammy-py3.10-gcc11 / test (default)"
        );
        assert_eq!(
            config_of_job_name(
                "linux-jammy-cuda12.8-py3.10-gcc11-sm86 / test (default, 1, 5, linux.g5.4xlarge.nvidia.gpu, unstable)"
            ),
            "linux-jammy-cuda12.8-py3.10-gcc11-sm86 / test (default)"
        );
        // Different shards of one config meet on the same label.
        assert_eq!(
            config_of_job_name("pull / linux-x / test (dynamo_wrapped, 1, 3, lf.linux.2xlarge)"),
            config_of_job_name("pull / linux-x / test (dynamo_wrapped, 3, 3, linux.2xlarge)"),
        );
    }

    #[test]
    fn job_names_without_shards_are_unchanged() {
        for name in [
            "linux-jammy-py3.10-gcc11 / build",
            "lintrunner-noclang / linux-job",
            "linux-x / test (default)",
            "linux-x / test (default, 1, linux.2xlarge)",
            "linux-x / test (default, 1, 5, linux.2xlarge) trailing",
            "",
        ] {
            assert_eq!(config_of_job_name(name), name);
        }
    }

    #[test]
    fn artifact_names_with_job_and_id() {
        let p = parse_artifact_name;
        assert_eq!(
            p("test-reports-test-default-1-3-linux.2xlarge_1234567.zip"),
            label("default", Some((1, 3)), "linux.2xlarge")
        );
        assert_eq!(
            p("test-reports-test-distributed-6-8-lf-l-x86iamx-8-64_112017841325.zip"),
            label("distributed", Some((6, 8)), "lf-l-x86iamx-8-64")
        );
        assert_eq!(
            p("test-reports-test-default-1-3-macos-m1-stable_77.zip"),
            label("default", Some((1, 3)), "macos-m1-stable")
        );
        assert_eq!(
            p("test-reports-test-osdc-default-2-5-mt-l-x86iavx512-29-115_9.zip"),
            label("default", Some((2, 5)), "mt-l-x86iavx512-29-115")
        );
    }

    #[test]
    fn artifact_names_without_job_part_or_suffixes() {
        let p = parse_artifact_name;
        assert_eq!(
            p("test-reports-default-1-3-linux.2xlarge_1234567.zip"),
            label("default", Some((1, 3)), "linux.2xlarge")
        );
        assert_eq!(
            p("test-reports-test-default-1-3-linux.2xlarge"),
            label("default", Some((1, 3)), "linux.2xlarge")
        );
        assert_eq!(
            p("test-reports-test-default-1-3-linux.2xlarge.zip"),
            label("default", Some((1, 3)), "linux.2xlarge")
        );
        // No job id at all, so a config's own `_` must survive.
        assert_eq!(
            p("test-reports-test-dynamo_wrapped-2-3-linux.2xlarge"),
            label("dynamo_wrapped", Some((2, 3)), "linux.2xlarge")
        );
        // An empty job id (the job-id step failed).
        assert_eq!(
            p("unzipped-test-reports-test-dynamo_wrapped-2-3-linux.2xlarge_"),
            label("dynamo_wrapped", Some((2, 3)), "linux.2xlarge")
        );
        // No runner (older and out-of-tree suffixes).
        assert_eq!(
            p("test-reports-test-default-1-2.zip"),
            label("default", Some((1, 2)), "")
        );
    }

    #[test]
    fn artifact_names_with_run_attempt() {
        let p = parse_artifact_name;
        assert_eq!(
            p(
                "test-reports-runattempt1-test-distributed-2-3-linux.g4dn.12xlarge.nvidia.gpu_987.zip"
            ),
            label(
                "distributed",
                Some((2, 3)),
                "linux.g4dn.12xlarge.nvidia.gpu"
            )
        );
        assert_eq!(
            p("test-reports-runattempt12-default-1-6-linux.rocm.gpu.2"),
            label("default", Some((1, 6)), "linux.rocm.gpu.2")
        );
        // `runattempt` without digits is an ordinary atom.
        assert_eq!(
            p("test-reports-test-runattempt-1-1-x_1"),
            label("runattempt", Some((1, 1)), "x")
        );
    }

    #[test]
    fn configs_and_runners_with_dashes() {
        let p = parse_artifact_name;
        assert_eq!(
            p("test-reports-test-inductor-micro-benchmark-1-1-linux.aws.a100_5.zip"),
            label("inductor-micro-benchmark", Some((1, 1)), "linux.aws.a100")
        );
        assert_eq!(
            p("test-reports-inductor-micro-benchmark-cpu-x86-1-1-linux.24xl.spr-metal"),
            label(
                "inductor-micro-benchmark-cpu-x86",
                Some((1, 1)),
                "linux.24xl.spr-metal"
            )
        );
        assert_eq!(
            p("test-reports-test-nogpu_AVX512-1-2-linux.2xlarge_3"),
            label("nogpu_AVX512", Some((1, 2)), "linux.2xlarge")
        );
        // A config called `test` is not mistaken for the job part.
        assert_eq!(
            p("test-reports-test-1-2-linux.2xlarge_3"),
            label("test", Some((1, 2)), "linux.2xlarge")
        );
    }

    #[test]
    fn paths_and_sibling_kinds() {
        let p = parse_artifact_name;
        assert_eq!(
            p(
                "pytorch/pytorch/123/1/artifact/test-reports-test-default-1-2-linux.2xlarge_9636028803.zip"
            ),
            label("default", Some((1, 2)), "linux.2xlarge")
        );
        assert_eq!(
            p("test-run-reports-test-distributed-6-8-lf-l-x86iamx-8-64_112017841325.report.zip"),
            label("distributed", Some((6, 8)), "lf-l-x86iamx-8-64")
        );
        assert_eq!(
            p("test-jsons-test-slow-1-1-linux.4xlarge_1.zip"),
            label("slow", Some((1, 1)), "linux.4xlarge")
        );
    }

    #[test]
    fn names_without_shards() {
        let p = parse_artifact_name;
        assert_eq!(
            p("test-reports-bazel-build-and-test_123.zip"),
            label("bazel-build-and-test", None, "")
        );
        assert_eq!(
            p("unzipped-test-reports-corpus_42"),
            label("corpus", None, "")
        );
        // 0-of-n and n-of-smaller are not shards; with no shard the job atom stays.
        assert_eq!(
            p("test-reports-test-default-0-3-x_1"),
            label("test-default-0-3-x", None, "")
        );
        assert_eq!(
            p("test-reports-test-default-4-3-x_1"),
            label("test-default-4-3-x", None, "")
        );
        // Larger than u32: not a shard.
        assert_eq!(
            p("test-reports-a-99999999999-99999999999"),
            label("a-99999999999-99999999999", None, "")
        );
    }

    #[test]
    fn not_artifact_names() {
        for name in [
            "",
            "test",
            "test-reports-",
            "test-reports-_123.zip",
            "test-reports-runattempt1_5",
            "test-reports--1-2-x",
            "logs-test-default-1-2-linux.2xlarge_1.zip",
            "unzipped-zzz",
            "sccache-stats-test-default-1-2-x_1.zip",
        ] {
            assert_eq!(parse_artifact_name(name), None, "{name:?}");
        }
    }

    #[test]
    fn config_labels_from_artifacts() {
        let l = |name| config_of_label(&parse_artifact_name(name).unwrap());
        assert_eq!(
            l("test-reports-test-default-1-3-linux.2xlarge_1.zip"),
            "default (linux.2xlarge)"
        );
        // Shards and fleets of one config meet on one label.
        assert_eq!(
            l("test-reports-test-default-3-3-lf.linux.2xlarge_2.zip"),
            "default (linux.2xlarge)"
        );
        assert_eq!(
            l("test-reports-test-default-2-3-lf.c.linux.2xlarge_2.zip"),
            "default (linux.2xlarge)"
        );
        assert_eq!(
            l("test-reports-test-default-1-3-lf.amz2023.linux.2xlarge_2"),
            "default (linux.2xlarge)"
        );
        assert_eq!(
            l("test-reports-test-distributed-6-8-lf-l-x86iamx-8-64_1"),
            l("test-reports-test-distributed-1-8-mt-l-x86iamx-8-64_2"),
        );
        assert_eq!(
            l("test-reports-test-distributed-1-8-mt-l-x86iamx-8-64_2"),
            "distributed (l-x86iamx-8-64)"
        );
        // Different runners of one config stay apart.
        assert_ne!(
            l("test-reports-test-default-1-3-linux.2xlarge_1"),
            l("test-reports-test-default-1-3-windows.4xlarge.nonephemeral_1"),
        );
        assert_eq!(
            l("test-reports-bazel-build-and-test_123"),
            "bazel-build-and-test"
        );
        // A runner that is only a prefix is kept as written.
        let bare = ArtifactLabel {
            config: "default".into(),
            shard: None,
            runner: "lf.".into(),
        };
        assert_eq!(config_of_label(&bare), "default (lf.)");
    }

    #[test]
    fn test_keys_order_by_config_then_file_class_name() {
        let k = |c: &str, f: &str, cl: &str, n: &str| TestKey {
            config: c.into(),
            invoking_file: f.into(),
            classname: cl.into(),
            name: n.into(),
        };
        let mut keys = vec![
            k("b", "a", "a", "a"),
            k("a", "b", "a", "a"),
            k("a", "a", "a", "b"),
            k("a", "a", "b", "a"),
        ];
        keys.sort();
        assert_eq!(
            keys,
            vec![
                k("a", "a", "a", "b"),
                k("a", "a", "b", "a"),
                k("a", "b", "a", "a"),
                k("b", "a", "a", "a"),
            ]
        );
        let set: std::collections::HashSet<_> = [k("a", "a", "a", "a"), k("a", "a", "a", "a")]
            .into_iter()
            .collect();
        assert_eq!(set.len(), 1);
    }
}
