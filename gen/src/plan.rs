//! The shape of a run: which jobs exist (one shard of a matrix template
//! each, with its GitHub job id and name), which test files each test config
//! runs, and what the test classes and test names of a test file are.

use super::rng::Rng;
use super::vocab::{self, Os, Template};

/// One test job of the workflow run.
#[derive(Debug, Clone)]
pub struct Job {
    /// Position in the run (0-based); also the job's RNG stream.
    pub index: usize,
    /// Build environment; repeated rounds of the matrix get a `-rN` suffix.
    pub build: String,
    pub tpl: Template,
    pub shard: u32,
    /// GitHub's job id (11 digits).
    pub job_id: u64,
}

impl Job {
    /// GitHub's job name, `<build> / test (<config>, <shard>, <num_shards>, <runner>)`.
    pub fn name(&self) -> String {
        format!(
            "{} / test ({}, {}, {}, {})",
            self.build, self.tpl.config, self.shard, self.tpl.num_shards, self.tpl.runner
        )
    }

    /// The artifact suffix, `test-<config>-<shard>-<num_shards>-<runner>_<job_id>`.
    pub fn suffix(&self) -> String {
        format!(
            "test-{}-{}-{}-{}_{}",
            self.tpl.config, self.shard, self.tpl.num_shards, self.tpl.runner, self.job_id
        )
    }

    /// Environment prefix PyTorch prints in repro commands for this config.
    pub fn repro_env(&self) -> &'static str {
        match self.tpl.config {
            "dynamo_wrapped" => "PYTORCH_TEST_WITH_DYNAMO=1 ",
            "crossref" => "PYTORCH_TEST_WITH_CROSSREF=1 ",
            "slow" => "PYTORCH_TEST_WITH_SLOW=1 ",
            "inductor" | "inductor_cpu" => "PYTORCH_TEST_WITH_INDUCTOR=1 ",
            _ if self.build.contains("rocm") => "PYTORCH_TEST_WITH_ROCM=1 ",
            _ => "",
        }
    }
}

/// The first `n` jobs of the matrix, shard-major (every template's shard 1,
/// then every shard 2, ...), wrapping into further rounds when `n` exceeds
/// the matrix. Job ids increase in plan order, as GitHub assigns them.
pub fn plan_jobs(n: usize, seed: u64, run_id: u64) -> Vec<Job> {
    let templates = vocab::templates();
    let max_shards = templates.iter().map(|t| t.num_shards).max().unwrap_or(1);
    let mut expanded: Vec<(String, Template, u32)> = Vec::with_capacity(n);
    let mut round = 0;
    while expanded.len() < n {
        for shard in 1..=max_shards {
            for t in &templates {
                if shard <= t.num_shards {
                    let build = if round == 0 {
                        t.build.to_string()
                    } else {
                        format!("{}-r{round}", t.build)
                    };
                    expanded.push((build, *t, shard));
                }
            }
        }
        round += 1;
    }
    let mut rng = Rng::derive("jobs", &[seed, run_id]);
    let mut id = 30_000_000_000 + rng.range(0, 4_999_999_999);
    expanded
        .into_iter()
        .take(n)
        .enumerate()
        .map(|(index, (build, tpl, shard))| {
            id += rng.range(1, 400);
            Job {
                index,
                build,
                tpl,
                shard,
                job_id: id,
            }
        })
        .collect()
}

/// The test files (invoking files, without `.py`) a test config runs.
pub fn config_pool(config: &str, device: &str) -> Vec<String> {
    let core = vocab::list(vocab::CORE);
    let nested = vocab::list(vocab::NESTED);
    let words = vocab::list(vocab::WORDS);
    let own = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let extra = |prefix: &str, k: usize| -> Vec<String> {
        words[..k]
            .iter()
            .map(|w| format!("{prefix}/test_{w}"))
            .collect()
    };
    let mut pool: Vec<String> = match config {
        "default" | "slow" | "nogpu_AVX512" => own(&[core.as_slice(), nested.as_slice()].concat()),
        "distributed" => own(&vocab::list(vocab::DIST))
            .into_iter()
            .chain(extra("distributed", 40))
            .collect(),
        "inductor" | "inductor_cpu" => own(&vocab::list(vocab::INDUCTOR))
            .into_iter()
            .chain(extra("inductor", 40))
            .collect(),
        "dynamo_wrapped" => own(&vocab::list(vocab::DYNAMO))
            .into_iter()
            .chain(own(&core[..40]))
            .chain(extra("dynamo", 30))
            .collect(),
        "crossref" => own(&[&core[..50], &nested[..12]].concat()),
        "jit_legacy" => own(&[
            &["test_jit_legacy", "test_jit_fuser_legacy", "test_jit"],
            vocab::list(vocab::JIT_FILES).as_slice(),
        ]
        .concat()),
        "mps" => own(&[
            "test_mps",
            "test_metal",
            "test_nn",
            "test_modules",
            "test_view_ops",
            "test_optim",
        ]),
        "docs_test" => own(&[
            "test_testing",
            "test_public_bindings",
            "test_license",
            "test_utils",
        ]),
        _ => own(&core),
    };
    if device == "cpu" {
        pool.retain(|p| !p.contains("cuda") && !p.contains("nccl"));
    }
    pool
}

/// One test class of a test file.
#[derive(Debug, Clone)]
pub struct ClassSpec {
    pub name: String,
    /// Source file relative to `test/`, with `.py`. Usually the invoking
    /// file; `test_jit` runs classes defined under `jit/`.
    pub file: String,
    /// First line of the class in its source file.
    pub line: u32,
    /// Device-generic (OpInfo-style) names, `test_<variant>_<op>_<device>_<dtype>`.
    pub generic: bool,
    pub device: &'static str,
    variants: Vec<&'static str>,
    ops: Vec<&'static str>,
    dtypes: Vec<&'static str>,
    words: Vec<&'static str>,
    /// Some dynamo/inductor/export tests carry pytest-style `[...]` ids.
    brackets: bool,
}

/// The classes of one test file on one device. The same file has the same
/// classes and test names in every job of a run.
#[derive(Debug, Clone)]
pub struct FileSpec {
    pub invoking: String,
    pub classes: Vec<ClassSpec>,
}

fn camel(s: &str) -> String {
    s.split(['_', '/'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The last path component of an invoking file.
pub fn basename(invoking: &str) -> &str {
    invoking.rsplit('/').next().unwrap_or(invoking)
}

impl FileSpec {
    pub fn new(invoking: &str, device: &'static str, seed: u64) -> FileSpec {
        let mut rng = Rng::derive_str("spec", &[seed], &format!("{invoking}:{device}"));
        let base = basename(invoking);
        let stem = camel(base.strip_prefix("test_").unwrap_or(base));
        let opsy = vocab::list(vocab::OPSY).contains(&base);
        let known = vocab::known_classes(base);
        let n = match known {
            Some(k) => rng.range(1, k.len() as u64) as usize,
            None if opsy => rng.range(3, 7) as usize,
            None => rng.range(1, 6) as usize,
        };
        let variants = vocab::list(vocab::VARIANTS);
        let ops = vocab::list(vocab::OPS);
        let words = vocab::list(vocab::WORDS);
        let jit_files = vocab::list(vocab::JIT_FILES);
        const SUFFIXES: [&str; 13] = [
            "",
            "Common",
            "MathBits",
            "FakeTensor",
            "CompositeCompliance",
            "Tags",
            "Refs",
            "Decomp",
            "DeviceType",
            "Misc",
            "Api",
            "Repro",
            "Dynamic",
        ];
        let mut classes = Vec::with_capacity(n);
        for c in 0..n {
            let generic = opsy || (device != "cpu" && rng.chance(0.6)) || rng.chance(0.35);
            let (name, file) = if invoking == "test_jit" && c > 0 {
                let jf = *rng.pick(&jit_files);
                let b = basename(jf);
                (
                    format!("Test{}", camel(b.strip_prefix("test_").unwrap_or(b))),
                    format!("{jf}.py"),
                )
            } else if let Some(k) = known {
                (k[c].to_string(), format!("{invoking}.py"))
            } else {
                let dev = if generic {
                    vocab::device_suffix(device)
                } else {
                    ""
                };
                (
                    format!("Test{stem}{}{dev}", SUFFIXES[c % SUFFIXES.len()]),
                    format!("{invoking}.py"),
                )
            };
            let nv = if opsy {
                rng.range(8, variants.len() as u64) as usize
            } else {
                4
            };
            let nd = rng.range(3, vocab::dtypes(device).len() as u64) as usize;
            let no = rng.range(40, ops.len() as u64) as usize;
            let nw = rng.range(15, words.len() as u64) as usize;
            classes.push(ClassSpec {
                name,
                file,
                line: rng.range(40, 4000) as u32,
                generic,
                device,
                variants: rng.sample(&variants, nv),
                ops: rng.sample(&ops, no),
                dtypes: vocab::dtypes(device)[..nd].to_vec(),
                words: rng.sample(&words, nw),
                brackets: ["dynamo/", "inductor/", "export/"]
                    .iter()
                    .any(|p| invoking.starts_with(p))
                    && rng.chance(0.4),
            });
        }
        FileSpec {
            invoking: invoking.to_string(),
            classes,
        }
    }

    /// The class of the `j`-th of `total` tests in one run of the file:
    /// classes run one after the other, in equal blocks.
    pub fn class_at(&self, j: usize, total: usize) -> &ClassSpec {
        let n = self.classes.len();
        &self.classes[(j * n / total.max(1)).min(n - 1)]
    }
}

impl ClassSpec {
    /// The `k`-th test name of this class (distinct for distinct `k`).
    pub fn test_name(&self, k: usize) -> String {
        if self.generic {
            let (nv, no, nd) = (self.variants.len(), self.ops.len(), self.dtypes.len());
            let v = self.variants[k % nv];
            let o = self.ops[(k / nv) % no];
            let d = self.dtypes[(k / (nv * no)) % nd];
            let rep = k / (nv * no * nd);
            let s = format!("test_{v}_{o}_{}_{d}", self.device);
            return if rep == 0 { s } else { format!("{s}_{rep}") };
        }
        let nw = self.words.len();
        let a = self.words[k % nw];
        let b = self.words[(k / nw) % nw];
        let rep = k / (nw * nw);
        let tail = if rep == 0 {
            String::new()
        } else {
            format!("_{rep}")
        };
        if self.brackets && k.is_multiple_of(3) {
            let mode = if k % 2 == 1 { "dynamic" } else { "static" };
            return format!("test_{a}_{b}{tail}[{}-{mode}]", self.device);
        }
        format!("test_{a}_{b}{tail}")
    }

    /// The line of the `k`-th test (stable, after the class line).
    pub fn test_line(&self, k: usize) -> u32 {
        self.line + 3 + (k as u32 % 997) * 7 % 2900
    }
}

/// The host name a job's runner reports.
pub fn hostname(rng: &mut Rng, os: Os) -> String {
    match os {
        Os::Linux => format!("ip-10-0-{}-{}", rng.range(0, 255), rng.range(1, 254)),
        Os::Windows => format!("EC2AMAZ-{}", rng.hex(7).to_ascii_uppercase()),
        Os::Macos => format!("ghrunner-m1-{}", rng.range(1, 99)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_named_like_pytorch() {
        let jobs = plan_jobs(3, 0, 1);
        assert_eq!(jobs.len(), 3);
        assert_eq!(
            jobs[0].name(),
            "linux-jammy-py3.9-gcc11 / test (default, 1, 5, linux.2xlarge)"
        );
        assert!(
            jobs[0]
                .suffix()
                .starts_with("test-default-1-5-linux.2xlarge_")
        );
        assert_eq!(jobs[0].job_id.to_string().len(), 11);
        assert!(jobs[1].job_id > jobs[0].job_id);
        let many = plan_jobs(130, 0, 1);
        assert!(many[129].build.contains("-r"));
    }

    #[test]
    fn names_are_distinct_within_a_class() {
        let spec = FileSpec::new("test_ops", "cpu", 0);
        let c = &spec.classes[0];
        let names: std::collections::HashSet<String> = (0..5000).map(|k| c.test_name(k)).collect();
        assert_eq!(names.len(), 5000);
    }
}
