//! PyTorch's disabled tests: parsing `disabled-tests-condensed.json`, deciding whether an
//! entry disables a given test in a given job (an offline copy of
//! `common_utils.check_if_enable`, with platforms matched against the job's name), and
//! recognising the skip message a disabled test leaves in its JUnit `<skipped message=…>`.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

/// One disabling issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disabled {
    /// The issue number, as the file spells it (a string, e.g. `"186910"`).
    pub issue: String,
    pub url: String,
    /// As written in the file; empty means every platform.
    pub platforms: Vec<String>,
}

/// The parsed `disabled-tests-condensed.json`, indexed for [`lookup`](DisabledTests::lookup).
#[derive(Debug, Clone, Default)]
pub struct DisabledTests {
    entries: Vec<Entry>,
    /// Entry indices per disabled method name, in file order.
    by_method: HashMap<String, Vec<usize>>,
    malformed: usize,
}

#[derive(Debug, Clone)]
struct Entry {
    /// The last dot-component of the key's class part.
    class: String,
    /// The platforms PyTorch honours; empty means everywhere (see [`platforms_match`]).
    platforms: Vec<Platform>,
    disabled: Disabled,
}

/// `test_x (__main__.TestY)`, as `check_if_enable`'s `target.split()` reads it: a method,
/// then a parenthesised class.
static KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(\S+)\s+\(([^()\s]+)\)\s*$").expect("static regex"));

impl DisabledTests {
    /// Parses the file. Entries whose key or value has the wrong shape are skipped and
    /// counted in [`malformed`](DisabledTests::malformed); only invalid JSON or a top level
    /// that is not an object is an error.
    ///
    /// Keys are `<method> (<module>.<Class>)`; any module part is accepted (`__main__.`,
    /// `test_nn.`, or none), because PyTorch itself keeps only the class's last
    /// dot-component. Text after the parenthesised class makes a key malformed (PyTorch's
    /// `split()` would ignore it; the flaky bot never writes it).
    ///
    /// Values are `[issue, url, [platforms]]`, the issue a string or a non-negative
    /// integer. The two-element `[url, [platforms]]` of the local
    /// `.pytorch-disabled-tests.json` is accepted too, the issue then read from the URL's
    /// last path segment (empty if that is not a number). Duplicate keys: the last wins.
    pub fn parse(json: &str) -> Result<Self, String> {
        let top: Value = serde_json::from_str(json)
            .map_err(|e| format!("disabled tests: not valid JSON: {e}"))?;
        let Value::Object(map) = top else {
            return Err(format!(
                "disabled tests: expected an object of \"test (Class)\": [issue, url, platforms] entries at the top level, found {}",
                kind(&top)
            ));
        };
        let mut out = DisabledTests::default();
        for (key, value) in &map {
            match parse_entry(key, value) {
                Some((method, entry)) => {
                    out.by_method
                        .entry(method)
                        .or_default()
                        .push(out.entries.len());
                    out.entries.push(entry);
                }
                None => out.malformed += 1,
            }
        }
        Ok(out)
    }

    /// Usable entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries skipped because their key or value had the wrong shape.
    pub fn malformed(&self) -> usize {
        self.malformed
    }

    /// The entry that disables report test `classname`/`name` in the job named `job_name`,
    /// matched as `check_if_enable` does:
    /// * the class: the report classname's last dot-component (`test_nn.TestNNDeviceTypeCUDA`
    ///   → `TestNNDeviceTypeCUDA`) must *start with* the key's class, so `TestNNDeviceType`
    ///   disables every device's instantiation;
    /// * the method: the key's method must equal `name`, or `name` without its
    ///   `_<device>_<dtype>` / `_<dtype>` suffix (`test_foo_cuda_float32` → `test_foo`);
    /// * the platforms must match the job (see [`platforms_match`]).
    ///
    /// The first such entry in file order wins, as PyTorch's loop breaks at it.
    pub fn lookup(&self, classname: &str, name: &str, job_name: &str) -> Option<&Disabled> {
        let indices = |method: &str| self.by_method.get(method).map_or(&[][..], Vec::as_slice);
        let exact = indices(name);
        let stripped = remove_device_and_dtype_suffixes(name);
        let sanitized = if stripped == name {
            &[][..]
        } else {
            indices(stripped)
        };
        // Most tests are not disabled: no tokenising for them.
        if exact.is_empty() && sanitized.is_empty() {
            return None;
        }
        let class = last_component(classname);
        let tokens = JobTokens::new(job_name);
        let first = |indices: &[usize]| {
            indices.iter().copied().find(|&i| {
                let e = &self.entries[i];
                class.starts_with(&e.class) && tokens.matches_any(&e.platforms)
            })
        };
        // Each list is in file order, so the smaller of the two firsts is the first overall.
        let i = match (first(exact), first(sanitized)) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(&self.entries[i].disabled)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn last_component(dotted: &str) -> &str {
    dotted.rsplit('.').next().unwrap_or(dotted)
}

fn parse_entry(key: &str, value: &Value) -> Option<(String, Entry)> {
    let caps = KEY.captures(key)?;
    let method = caps[1].to_string();
    let class = last_component(&caps[2]).to_string();
    if class.is_empty() {
        return None;
    }
    let (issue, url, platforms) = match value.as_array()?.as_slice() {
        [issue, url, platforms] => {
            let issue = match issue {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.as_u64()?.to_string(),
                _ => return None,
            };
            (issue, url.as_str()?, platforms)
        }
        [url, platforms] => {
            let url = url.as_str()?;
            let last = url.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            let issue = if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
                last.to_string()
            } else {
                String::new()
            };
            (issue, url, platforms)
        }
        _ => return None,
    };
    let platforms: Vec<String> = platforms
        .as_array()?
        .iter()
        .map(|p| p.as_str().map(str::to_string))
        .collect::<Option<_>>()?;
    let entry = Entry {
        class,
        platforms: known_platforms(&platforms),
        disabled: Disabled {
            issue,
            url: url.to_string(),
            platforms,
        },
    };
    Some((method, entry))
}

/// The platforms `check_if_enable` knows (its `platform_to_conditional` keys, newest copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    Linux,
    Mac,
    Windows,
    Rocm,
    Xpu,
    Asan,
    Dynamo,
    Inductor,
    Slow,
}

fn platform(name: &str) -> Option<Platform> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "linux" => Platform::Linux,
        "mac" | "macos" => Platform::Mac,
        "win" | "windows" => Platform::Windows,
        "rocm" => Platform::Rocm,
        "xpu" => Platform::Xpu,
        "asan" => Platform::Asan,
        "dynamo" | "dynamo_wrapped" => Platform::Dynamo,
        "inductor" => Platform::Inductor,
        "slow" => Platform::Slow,
        _ => return None,
    })
}

/// PyTorch drops platforms it does not know (printing a warning) and then treats an empty
/// list as "everywhere", so `["cuda"]` disables a test on every platform: kept as is.
fn known_platforms(names: &[String]) -> Vec<Platform> {
    names.iter().filter_map(|p| platform(p)).collect()
}

/// Whether a disabled entry with these platforms applies to the job named `job_name`.
///
/// An empty list applies everywhere, and so does a list of only unknown platforms (PyTorch
/// drops those, leaving an empty list). Otherwise some known platform must match the job's
/// name, which stands in for the runtime flags `check_if_enable` reads. The name is
/// lowercased and cut into alphanumeric tokens (`dynamo_wrapped` → `dynamo`, `wrapped`):
/// * `linux`: a `linux` token (ROCm and XPU jobs are Linux jobs too, as `IS_LINUX` says);
/// * `mac`, `macos`: a `mac` token or one starting with `macos`;
/// * `win`, `windows`: a `win` or `windows` token;
/// * `rocm`, `xpu`, `asan`, `inductor`: that token;
/// * `dynamo`, `dynamo_wrapped`: a `dynamo` token, or `inductor` (`TEST_WITH_TORCHDYNAMO` is
///   implied by `TEST_WITH_TORCHINDUCTOR`);
/// * `slow`: a `slow` token not followed by `gradcheck` (test.sh sets
///   `PYTORCH_TEST_WITH_SLOW` for the `slow` config, not for `slow-gradcheck` builds).
///
/// Platforms are compared trimmed and lowercased. An empty job name matches only entries
/// that apply everywhere. This is an approximation: a job of the `inductor` workflow
/// matches `inductor` even where its tests did not run with `PYTORCH_TEST_WITH_INDUCTOR`.
pub fn platforms_match(platforms: &[String], job_name: &str) -> bool {
    JobTokens::new(job_name).matches_any(&known_platforms(platforms))
}

struct JobTokens(Vec<String>);

impl JobTokens {
    fn new(job_name: &str) -> Self {
        JobTokens(
            job_name
                .to_ascii_lowercase()
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }

    fn has(&self, token: &str) -> bool {
        self.0.iter().any(|t| t == token)
    }

    fn matches_any(&self, platforms: &[Platform]) -> bool {
        platforms.is_empty() || platforms.iter().any(|&p| self.matches(p))
    }

    fn matches(&self, p: Platform) -> bool {
        match p {
            Platform::Linux => self.has("linux"),
            Platform::Mac => self.0.iter().any(|t| t == "mac" || t.starts_with("macos")),
            Platform::Windows => self.has("win") || self.has("windows"),
            Platform::Rocm => self.has("rocm"),
            Platform::Xpu => self.has("xpu"),
            Platform::Asan => self.has("asan"),
            Platform::Dynamo => self.has("dynamo") || self.has("inductor"),
            Platform::Inductor => self.has("inductor"),
            Platform::Slow => self
                .0
                .iter()
                .enumerate()
                .any(|(i, t)| t == "slow" && self.0.get(i + 1).is_none_or(|n| n != "gradcheck")),
        }
    }
}

/// Device types of `get_device_type_test_bases()` (the union over CI's machines).
const DEVICE_SUFFIXES: [&str; 6] = ["cpu", "cuda", "meta", "mps", "xpu", "hpu"];

/// `str(dtype)[len("torch."):]` for `get_all_dtypes()` with its defaults.
const DTYPE_SUFFIXES: [&str; 12] = [
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "bool",
    "complex64",
    "complex128",
];

/// PyTorch's `remove_device_and_dtype_suffixes`: `test_foo_cuda_float32` → `test_foo`,
/// `test_foo_float32` → `test_foo`; a device suffix without a dtype stays.
fn remove_device_and_dtype_suffixes(name: &str) -> &str {
    let Some((rest, dtype)) = name.rsplit_once('_') else {
        return name;
    };
    if !DTYPE_SUFFIXES.contains(&dtype) {
        return name;
    }
    match rest.rsplit_once('_') {
        Some((head, device)) if DEVICE_SUFFIXES.contains(&device) => head,
        _ => rest,
    }
}

/// The opening of `check_if_enable`'s skip reason, tolerant of case and spacing:
/// `Test is disabled because an issue exists disabling it: <url> for platform(s) …` (and
/// the older `…: <url> To enable set the environment variable PYTORCH_RUN_DISABLED_TESTS=1`).
static DISABLED_SKIP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\btest\s+is\s+disabled\s+because\s+an\s+issue\s+exists(?:\s+disabling\s+it)?(?:\s*:\s*(\S+))?",
    )
    .expect("static regex")
});

/// Whether a `<skipped message=…>` is PyTorch's "Test is disabled because an issue exists
/// disabling it: …". Matched anywhere in the message (pytest may prefix it, e.g.
/// `Skipped: `), case- and whitespace-insensitively.
pub fn is_disabled_skip(message: &str) -> bool {
    DISABLED_SKIP.is_match(message)
}

/// The issue URL of a disabled-test skip message, if it has one.
pub fn disabled_skip_url(message: &str) -> Option<&str> {
    let url = DISABLED_SKIP.captures(message)?.get(1)?.as_str();
    let url = url.trim_end_matches(['.', ',', ';']);
    (!url.is_empty()).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "test_Embedding_discontiguous_cuda (__main__.TestNN)": [
        "186910", "https://github.com/pytorch/pytorch/issues/186910", ["rocm"] ],
      "test_everywhere (__main__.TestEverywhere)": [
        "100", "https://github.com/pytorch/pytorch/issues/100", [] ],
      "test_bitwise_ops (__main__.TestBinaryUfuncs)": [
        "101", "https://github.com/pytorch/pytorch/issues/101", ["linux", "mac"] ],
      "test_module_prefix (test_nn.TestModulePrefix)": [
        "102", "https://github.com/pytorch/pytorch/issues/102", ["win"] ],
      "test_no_module (TestNoModule)": [
        103, "https://github.com/pytorch/pytorch/issues/103", ["dynamo"] ],
      "test_unknown_only (__main__.TestUnknown)": [
        "104", "https://github.com/pytorch/pytorch/issues/104", ["cuda", "sm86"] ],
      "test_local_shape (__main__.TestLocal)": [
        "https://github.com/pytorch/pytorch/issues/105", ["slow"] ]
    }"#;

    const LINUX: &str = "linux-jammy-py3.10-gcc11 / test (default, 1, 5, linux.2xlarge)";
    const ROCM: &str = "linux-jammy-rocm-py3.10 / test (default, 1, 6, linux.rocm.gpu.2)";
    const WIN: &str = "win-vs2022-cpu-py3 / test (default, 1, 3, windows.4xlarge.nonephemeral)";
    const MAC: &str = "macos-py3-arm64 / test (default, 1, 3, macos-m1-stable)";

    fn sample() -> DisabledTests {
        DisabledTests::parse(SAMPLE).unwrap()
    }

    fn issue(d: &DisabledTests, class: &str, name: &str, job: &str) -> Option<String> {
        d.lookup(class, name, job).map(|x| x.issue.clone())
    }

    #[test]
    fn parses_entries() {
        let d = sample();
        assert_eq!(d.len(), 7);
        assert!(!d.is_empty());
        assert_eq!(d.malformed(), 0);
        let e = d
            .lookup("TestNN", "test_Embedding_discontiguous_cuda", ROCM)
            .unwrap();
        assert_eq!(
            e,
            &Disabled {
                issue: "186910".into(),
                url: "https://github.com/pytorch/pytorch/issues/186910".into(),
                platforms: vec!["rocm".into()],
            }
        );
        // An integer issue number and the two-element local shape.
        assert_eq!(
            issue(
                &d,
                "TestNoModule",
                "test_no_module",
                "x / test (dynamo_wrapped, 1, 2, y)"
            )
            .as_deref(),
            Some("103")
        );
        assert_eq!(
            issue(
                &d,
                "TestLocal",
                "test_local_shape",
                "slow / linux / test (slow, 1, 2, x)"
            )
            .as_deref(),
            Some("105")
        );
    }

    #[test]
    fn platforms_limit_where_a_test_is_disabled() {
        let d = sample();
        let nn = |job| {
            issue(
                &d,
                "test_nn.TestNN",
                "test_Embedding_discontiguous_cuda",
                job,
            )
        };
        assert_eq!(nn(ROCM).as_deref(), Some("186910"));
        assert_eq!(nn(LINUX), None);
        assert_eq!(nn(WIN), None);
        assert_eq!(nn(""), None);

        // No platforms: everywhere, even with no job name.
        for job in [LINUX, ROCM, WIN, MAC, ""] {
            assert_eq!(
                issue(&d, "TestEverywhere", "test_everywhere", job).as_deref(),
                Some("100")
            );
        }

        // linux also covers ROCm jobs; mac covers macOS runners.
        let bw = |job| issue(&d, "TestBinaryUfuncs", "test_bitwise_ops", job);
        assert_eq!(bw(LINUX).as_deref(), Some("101"));
        assert_eq!(bw(ROCM).as_deref(), Some("101"));
        assert_eq!(bw(MAC).as_deref(), Some("101"));
        assert_eq!(bw(WIN), None);

        // Only unknown platforms: PyTorch drops them and disables everywhere.
        assert_eq!(
            issue(&d, "TestUnknown", "test_unknown_only", WIN).as_deref(),
            Some("104")
        );
    }

    #[test]
    fn class_and_method_match_like_check_if_enable() {
        let d = sample();
        // Any module part on either side; the key's class is a prefix of the report's.
        assert_eq!(
            issue(&d, "TestModulePrefix", "test_module_prefix", WIN).as_deref(),
            Some("102")
        );
        assert_eq!(
            issue(
                &d,
                "test_binary_ufuncs.TestBinaryUfuncsCUDA",
                "test_bitwise_ops",
                LINUX
            )
            .as_deref(),
            Some("101")
        );
        // Device and dtype suffixes are stripped from the report's name.
        for name in [
            "test_bitwise_ops_cuda_int32",
            "test_bitwise_ops_int32",
            "test_bitwise_ops_cpu_bool",
        ] {
            assert_eq!(
                issue(&d, "TestBinaryUfuncsCPU", name, LINUX).as_deref(),
                Some("101"),
                "{name}"
            );
        }
        // ...but not a device alone, nor unknown suffixes.
        assert_eq!(
            issue(&d, "TestBinaryUfuncs", "test_bitwise_ops_cuda", LINUX),
            None
        );
        assert_eq!(
            issue(&d, "TestBinaryUfuncs", "test_bitwise_ops_x_int32", LINUX),
            None
        );
        // The class must start with the key's class, not merely contain it.
        assert_eq!(
            issue(&d, "MyTestBinaryUfuncs", "test_bitwise_ops", LINUX),
            None
        );
        assert_eq!(issue(&d, "TestBinary", "test_bitwise_ops", LINUX), None);
        assert_eq!(issue(&d, "TestBinaryUfuncs", "test_other", LINUX), None);
    }

    #[test]
    fn first_entry_in_file_order_wins() {
        let d = DisabledTests::parse(
            r#"{
              "test_a (__main__.TestX)": ["1", "u1", ["win"]],
              "test_a_cuda_float32 (__main__.TestXCUDA)": ["2", "u2", []],
              "test_a (__main__.TestXCUDA)": ["3", "u3", []]
            }"#,
        )
        .unwrap();
        assert_eq!(
            issue(&d, "TestXCUDA", "test_a_cuda_float32", WIN).as_deref(),
            Some("1")
        );
        assert_eq!(
            issue(&d, "TestXCUDA", "test_a_cuda_float32", LINUX).as_deref(),
            Some("2")
        );
        assert_eq!(
            issue(&d, "TestXCUDA", "test_a", LINUX).as_deref(),
            Some("3")
        );
    }

    #[test]
    fn malformed_entries_are_skipped_and_counted() {
        let d = DisabledTests::parse(
            r#"{
              "test_ok (__main__.TestOk)": ["1", "u", []],
              "no parens": ["2", "u", []],
              "test_x (__main__.)": ["3", "u", []],
              "test_x (__main__.TestY) extra": ["4", "u", []],
              "test_x": ["5", "u", []],
              "test_y (__main__.TestY)": "not an array",
              "test_y (__main__.TestZ)": ["6", "u"],
              "test_y (__main__.TestW)": ["7", "u", "linux"],
              "test_y (__main__.TestV)": ["8", "u", [1]],
              "test_y (__main__.TestU)": [null, "u", []],
              "test_y (__main__.TestT)": ["9", 5, []],
              "test_y (__main__.TestS)": [-1, "u", []],
              "test_y (__main__.TestR)": ["10", "u", [], "extra"],
              "test_y (__main__.TestQ)": []
            }"#,
        )
        .unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d.malformed(), 13);
        assert!(d.lookup("TestOk", "test_ok", "").is_some());
        assert!(d.lookup("TestY", "test_y", LINUX).is_none());

        let dup = DisabledTests::parse(
            r#"{"test_d (__main__.TestD)": ["1", "u", []], "test_d (__main__.TestD)": ["2", "u", []]}"#,
        )
        .unwrap();
        assert_eq!((dup.len(), dup.malformed()), (1, 0));
        assert_eq!(issue(&dup, "TestD", "test_d", "").as_deref(), Some("2"));

        let empty = DisabledTests::parse("{}").unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.malformed(), 0);
        assert!(empty.lookup("TestY", "test_y", LINUX).is_none());
    }

    #[test]
    fn bad_top_levels_are_errors() {
        for (json, needle) in [
            ("[]", "found an array"),
            ("\"x\"", "found a string"),
            ("null", "found null"),
            ("3", "found a number"),
            ("", "not valid JSON"),
            ("{\"a\": ", "not valid JSON"),
            ("{} trailing", "not valid JSON"),
        ] {
            let err = DisabledTests::parse(json).unwrap_err();
            assert!(err.contains(needle), "{json:?}: {err}");
            assert!(err.starts_with("disabled tests: "), "{err}");
        }
    }

    #[test]
    fn platform_tokens() {
        let m = |plats: &[&str], job: &str| {
            platforms_match(
                &plats.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                job,
            )
        };
        assert!(m(&[], ""));
        assert!(m(&["linux"], LINUX));
        assert!(!m(&["linux"], WIN));
        assert!(!m(&["linux"], MAC));
        assert!(m(&["win"], WIN));
        assert!(m(&["windows"], WIN));
        assert!(!m(&["win"], LINUX));
        assert!(m(&["mac"], MAC));
        assert!(m(
            &["macos"],
            "macos-py3-arm64-mps / test (mps, 1, 1, macos-m2-15)"
        ));
        assert!(!m(&["macos"], LINUX));
        assert!(m(&["rocm"], ROCM));
        assert!(m(&["linux"], ROCM));
        assert!(!m(&["rocm"], LINUX));
        assert!(m(
            &["xpu"],
            "linux-jammy-xpu-2025.1-py3.9 / test (default, 1, 4, linux.idc.xpu)"
        ));
        assert!(!m(&["xpu"], LINUX));
        assert!(m(
            &["asan"],
            "linux-jammy-py3.10-clang18-asan / test (default, 1, 6, linux.4xlarge)"
        ));
        assert!(!m(&["asan"], LINUX));
        let dynamo = "linux-jammy-py3.10-gcc11 / test (dynamo_wrapped, 1, 3, linux.2xlarge)";
        let inductor = "inductor / linux-jammy-cuda12.8-py3.10-gcc11-sm86 / test (inductor, 1, 2, linux.g5.4xlarge.nvidia.gpu)";
        assert!(m(&["dynamo"], dynamo));
        assert!(m(&["dynamo_wrapped"], dynamo));
        assert!(m(&["dynamo"], inductor));
        assert!(m(&["inductor"], inductor));
        assert!(!m(&["inductor"], dynamo));
        assert!(!m(&["dynamo"], LINUX));
        assert!(m(
            &["slow"],
            "linux-jammy-py3.10-gcc11 / test (slow, 1, 2, linux.2xlarge)"
        ));
        assert!(!m(
            &["slow"],
            "linux-jammy-cuda12.8-py3-gcc11-slow-gradcheck / test (default, 1, 8, linux.g5.4xlarge.nvidia.gpu)"
        ));
        assert!(!m(&["slow"], LINUX));
        // Artifact-derived labels carry the runner, which is enough for the OS.
        assert!(m(&["linux"], "default (linux.2xlarge)"));
        assert!(m(&["win"], "default (windows.4xlarge)"));
        // Case and spacing in the file do not matter; unknown ones are dropped.
        assert!(m(&[" Linux "], LINUX));
        assert!(m(&["cuda", "win"], WIN));
        assert!(!m(&["cuda", "win"], LINUX));
        assert!(m(&["cuda"], LINUX));
        // Substrings are not tokens.
        assert!(!m(&["win"], "linux-x / test (twin, 1, 1, darwinian)"));
        assert!(!m(&["asan"], "linux-x / test (tsan_asan2, 1, 1, x)"));
    }

    #[test]
    fn device_and_dtype_suffixes() {
        let r = remove_device_and_dtype_suffixes;
        assert_eq!(r("test_foo_cuda_float32"), "test_foo");
        assert_eq!(r("test_foo_float32"), "test_foo");
        assert_eq!(r("test_foo_cpu_complex128"), "test_foo");
        assert_eq!(r("test_foo_cuda"), "test_foo_cuda");
        assert_eq!(r("test_foo"), "test_foo");
        assert_eq!(r("test_foo_float8"), "test_foo_float8");
        assert_eq!(r("float32"), "float32");
        assert_eq!(r("cuda_float32"), "cuda");
    }

    #[test]
    fn disabled_skip_messages() {
        let now = "Test is disabled because an issue exists disabling it: https://github.com/pytorch/pytorch/issues/186910 for platform(s) rocm. If you're seeing this on your local machine and would like to enable this test, please make sure CI is not set and you are not using the flag --import-disabled-tests.";
        let all = "Test is disabled because an issue exists disabling it: https://github.com/pytorch/pytorch/issues/100 for allplatform(s) . If you're seeing this on your local machine and would like to enable this test, please make sure CI is not set and you are not using the flag --import-disabled-tests.";
        let old = "Test is disabled because an issue exists disabling it: https://github.com/pytorch/pytorch/issues/7 To enable set the environment variable PYTORCH_RUN_DISABLED_TESTS=1";
        let prefixed =
            "Skipped: test is disabled  because an\nissue exists disabling it: https://x/issues/8.";
        for m in [now, all, old, prefixed] {
            assert!(is_disabled_skip(m), "{m}");
        }
        assert_eq!(
            disabled_skip_url(now),
            Some("https://github.com/pytorch/pytorch/issues/186910")
        );
        assert_eq!(
            disabled_skip_url(all),
            Some("https://github.com/pytorch/pytorch/issues/100")
        );
        assert_eq!(
            disabled_skip_url(old),
            Some("https://github.com/pytorch/pytorch/issues/7")
        );
        assert_eq!(disabled_skip_url(prefixed), Some("https://x/issues/8"));
        assert_eq!(
            disabled_skip_url("Test is disabled because an issue exists disabling it"),
            None
        );

        for m in [
            "",
            "test is slow; run with PYTORCH_TEST_WITH_SLOW to enable test",
            "Test is enabled but --rerun-disabled-tests verification mode is set, so only disabled tests are run",
            "{\"num_red\": 0, \"num_green\": 50, \"max_num_retries\": 3, \"rerun_disabled_test\": true}",
            "Test is disabled because it is slow",
            "contest is disabled because an issue exists",
        ] {
            assert!(!is_disabled_skip(m), "{m}");
            assert_eq!(disabled_skip_url(m), None);
        }
    }
}
