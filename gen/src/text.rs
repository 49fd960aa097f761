//! Text building blocks: XML escaping the way Python's ElementTree writes it,
//! test durations and their varied spellings, timestamps, machine paths, and
//! the prose of failures (exception messages, tracebacks, captured output).

use super::rng::Rng;
use super::vocab::{INNER_FRAMES, OUTER_FRAMES, Os};

/// Appends `s` escaped for a double-quoted attribute value, as
/// `xml.etree.ElementTree` does (`& < > "` and `\r \n \t` as references).
pub fn esc_attr(out: &mut String, s: &str) {
    if !s.contains(['&', '<', '>', '"', '\r', '\n', '\t']) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#09;"),
            c => out.push(c),
        }
    }
}

/// Appends `s` escaped as element text (`& < >`).
pub fn esc_text(out: &mut String, s: &str) {
    if !s.contains(['&', '<', '>']) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// Appends `s` as one or more CDATA sections (a `]]>` inside is split).
pub fn cdata(out: &mut String, s: &str) {
    out.push_str("<![CDATA[");
    out.push_str(&s.replace("]]>", "]]]]><![CDATA[>"));
    out.push_str("]]>");
}

/// Appends ` name="value"` with the value escaped.
pub fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    esc_attr(out, value);
    out.push('"');
}

/// What `ElementTree.write(path)` does with its default `us-ascii` encoding:
/// every non-ASCII character becomes a decimal character reference. Only
/// valid for documents without comments or CDATA sections.
pub fn to_ascii_refs(doc: &str) -> String {
    if doc.is_ascii() {
        return doc.to_string();
    }
    let mut out = String::with_capacity(doc.len() + 64);
    for c in doc.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str("&#");
            out.push_str(&u32::from(c).to_string());
            out.push(';');
        }
    }
    out
}

/// Text-mode writes on Windows: every `\n` becomes `\r\n`.
pub fn to_crlf(doc: &str) -> String {
    doc.replace('\n', "\r\n")
}

/// How long a test ran, in microseconds, for a given kind of outcome.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    Pass,
    Skip,
    Fail,
}

/// A duration in microseconds: mostly a few milliseconds, a long tail of
/// seconds and minutes.
pub fn duration_us(rng: &mut Rng, pace: Pace) -> u64 {
    // (low, high, weight) buckets; uniform inside one.
    let buckets: &[(u64, u64, u32)] = match pace {
        Pace::Pass => &[
            (0, 400, 100),
            (400, 2_000, 300),
            (2_000, 50_000, 350),
            (50_000, 1_000_000, 210),
            (1_000_000, 10_000_000, 37),
            (10_000_000, 120_000_000, 3),
        ],
        Pace::Skip => &[(0, 450, 70), (450, 3_000, 28), (3_000, 900_000, 2)],
        Pace::Fail => &[
            (5_000, 1_000_000, 40),
            (1_000_000, 60_000_000, 45),
            (60_000_000, 900_000_000, 15),
        ],
    };
    let weights: Vec<u32> = buckets.iter().map(|b| b.2).collect();
    let (lo, hi, _) = buckets[rng.weighted(&weights)];
    rng.range(lo, hi - 1)
}

/// `"%.3f"` of a microsecond count, rounding half up.
pub fn secs3(us: u64) -> String {
    let ms = (us + 500) / 1000;
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// A duration as some writer spelled it: mostly `"%.3f"` (pytest,
/// xmlrunner), now and then Python `repr` style with up to six decimals, or a
/// bare integer number of seconds.
pub fn time_attr(rng: &mut Rng, us: u64) -> String {
    match rng.below(100) {
        0..=87 => secs3(us),
        88..=95 => {
            let mut s = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
            while s.ends_with('0') && !s.ends_with(".0") {
                s.pop();
            }
            s
        }
        _ => ((us + 500_000) / 1_000_000).to_string(),
    }
}

/// Day of January 2025 and time of day, `secs` after 2025-01-15T10:00:00.
fn clock(secs: u64) -> (u64, u64, u64, u64) {
    let t = secs + 10 * 3600;
    let day = (15 + t / 86_400).min(31);
    (day, (t / 3600) % 24, (t / 60) % 60, t % 60)
}

/// An ISO timestamp `secs` after 2025-01-15T10:00:00 (the run's start),
/// with microseconds; `utc` adds pytest 8's `+00:00` offset.
pub fn iso_timestamp(secs: u64, micros: u64, utc: bool) -> String {
    let (d, h, m, s) = clock(secs);
    let tz = if utc { "+00:00" } else { "" };
    format!("2025-01-{d:02}T{h:02}:{m:02}:{s:02}.{micros:06}{tz}")
}

/// The same instant without fractional seconds, as xmlrunner writes it.
pub fn iso_seconds(secs: u64) -> String {
    let (d, h, m, s) = clock(secs);
    format!("2025-01-{d:02}T{h:02}:{m:02}:{s:02}")
}

/// Where a job's checkout and Python installation live.
#[derive(Debug, Clone)]
pub struct Machine {
    pub os: Os,
    /// `.../test` of the checkout, with the OS's separators.
    pub test_dir: String,
    /// `.../site-packages`.
    pub site: String,
    /// The executable in error messages.
    pub python: String,
}

impl Machine {
    /// Paths for a build name such as `linux-focal-cuda12.4-py3.10-gcc9`.
    pub fn new(os: Os, build: &str) -> Machine {
        let minor = build
            .split('-')
            .find_map(|p| p.strip_prefix("py3."))
            .and_then(|m| m.split(|c: char| !c.is_ascii_digit()).next())
            .filter(|m| !m.is_empty())
            .unwrap_or("10");
        match os {
            Os::Linux => Machine {
                os,
                test_dir: "/var/lib/jenkins/workspace/test".into(),
                site: format!("/opt/conda/envs/py_3.{minor}/lib/python3.{minor}/site-packages"),
                python: format!("/opt/conda/envs/py_3.{minor}/bin/python"),
            },
            Os::Windows => Machine {
                os,
                test_dir: r"C:\actions-runner\_work\pytorch\pytorch\test".into(),
                site: r"C:\Jenkins\Miniconda3\lib\site-packages".into(),
                python: r"C:\Jenkins\Miniconda3\python.exe".into(),
            },
            Os::Macos => Machine {
                os,
                test_dir: "/Users/ec2-user/runner/_work/pytorch/pytorch/test".into(),
                site: format!(
                    "/Users/ec2-user/runner/_work/_temp/conda_environment_1/lib/python3.{minor}/site-packages"
                ),
                python: "/Users/ec2-user/runner/_work/_temp/conda_environment_1/bin/python".into(),
            },
        }
    }

    /// `rel` (with `/`) joined under `base`, using the OS's separator.
    pub fn join(&self, base: &str, rel: &str) -> String {
        if self.os == Os::Windows {
            format!("{base}\\{}", rel.replace('/', "\\"))
        } else {
            format!("{base}/{rel}")
        }
    }
}

/// What a traceback is about: the test's source file, line and repro command.
pub struct Site<'a> {
    pub machine: &'a Machine,
    /// Source file relative to `test/`, e.g. `nn/test_pooling.py`.
    pub file: &'a str,
    pub line: u32,
    pub class: &'a str,
    pub name: &'a str,
    /// Environment prefix of the repro command (`PYTORCH_TEST_WITH_DYNAMO=1 `).
    pub env: &'a str,
}

/// A Python traceback ending in `msg`, with PyTorch's repro footer. `long`
/// gives a chained, 20-60 frame traceback through dynamo/inductor.
pub fn traceback(rng: &mut Rng, site: &Site<'_>, msg: &str, long: bool) -> String {
    let m = site.machine;
    let mut t = String::with_capacity(1024);
    let test_path = m.join(&m.test_dir, site.file);
    let func = site.name.split('[').next().unwrap_or(site.name);
    let frames = |t: &mut String, rng: &mut Rng, pool: &[(&str, &str, &str)], n: usize| {
        for _ in 0..n {
            let (f, func, stmt) = *rng.pick(pool);
            let path = m.join(&m.site, f);
            let line = rng.range(100, 5000);
            t.push_str(&format!(
                "  File \"{path}\", line {line}, in {func}\n    {stmt}\n"
            ));
        }
    };
    let own = |t: &mut String, rng: &mut Rng| {
        let line = u64::from(site.line) + rng.range(3, 60);
        t.push_str(&format!(
            "  File \"{test_path}\", line {line}, in {func}\n    self.assertEqual(expected, actual)\n"
        ));
    };
    t.push_str("Traceback (most recent call last):\n");
    // the harness's wrappers: distributed tests run in spawned processes
    let outer = if site.file.starts_with("distributed/") {
        &OUTER_FRAMES[2..]
    } else {
        &OUTER_FRAMES[..2]
    };
    let n = rng.range(1, 2) as usize;
    frames(&mut t, rng, outer, n);
    own(&mut t, rng);
    if long {
        let n = rng.range(10, 30) as usize;
        frames(&mut t, rng, INNER_FRAMES, n);
        t.push_str("torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:\n");
        t.push_str("RuntimeError: compilation of the FX graph failed\n\n");
        t.push_str("The above exception was the direct cause of the following exception:\n\n");
        t.push_str("Traceback (most recent call last):\n");
        frames(&mut t, rng, outer, 2);
        own(&mut t, rng);
        let n = rng.range(10, 30) as usize;
        frames(&mut t, rng, INNER_FRAMES, n);
    } else {
        let n = rng.range(0, 4) as usize;
        frames(&mut t, rng, INNER_FRAMES, n);
    }
    t.push_str(msg);
    t.push_str("\n\nTo execute this test, run the following from the base repo dir:\n    ");
    t.push_str(&format!(
        "{}python test/{} -k {}.{}\n\n",
        site.env, site.file, site.class, site.name
    ));
    t.push_str("This message can be suppressed by setting PYTORCH_PRINT_REPRO_ON_FAILURE=0");
    t
}

/// An exception message (`Type: text`, possibly several lines).
pub fn error_message(rng: &mut Rng) -> String {
    let b = rng.range(2, 4096);
    let a = rng.range(1, b);
    let (i, j) = (rng.below(32), rng.below(32));
    match rng.below(13) {
        0 => format!(
            "AssertionError: Tensor-likes are not close!\n\nMismatched elements: {a} / {b} ({}.{}%)\n\
             Greatest absolute difference: 0.{:06} at index ({i}, {j}) (up to 1e-05 allowed)\n\
             Greatest relative difference: 0.{:06} at index ({i}, {j}) (up to 1.3e-06 allowed)",
            a * 100 / b,
            (a * 1000 / b) % 10,
            rng.range(11, 999_999),
            rng.range(11, 999_999),
        ),
        1 => "RuntimeError: CUDA error: an illegal memory access was encountered\n\
              CUDA kernel errors might be asynchronously reported at some other API call, so the \
              stacktrace below might be incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1\n\
              Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions."
            .to_string(),
        2 => "torch._dynamo.exc.Unsupported: call_function BuiltinVariable(setattr) [TensorVariable(), \
              ConstantVariable(str: 'requires_grad'), ConstantVariable(bool: True)] {}"
            .to_string(),
        3 => "torch._inductor.exc.InductorError: LoweringException: AssertionError: \n  \
              target: aten.convolution.default\n  args[0]: TensorBox(StorageBox(InputBuffer(name='primals_1', \
              layout=FixedLayout('cuda:0', torch.float32, size=[2, 3, 8, 8], stride=[192, 64, 8, 1]))))"
            .to_string(),
        4 => format!("TimeoutError: Timed out after {b} seconds waiting for process 0 to exit (exitcode None)"),
        5 => format!(
            "torch.distributed.DistBackendError: NCCL error in: \
             ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:{b}, unhandled system error \
             (run with NCCL_DEBUG=INFO for details), NCCL version 2.21.5"
        ),
        6 => "ValueError: Expected <device> & 'cpu' to match but got \"cuda:0\" ≠ “cpu” — λ=0.5 → ∞"
            .to_string(),
        7 => "AssertionError: '测试 🔥 résumé' != 'test'\n- 测试 🔥 résumé\n+ test".to_string(),
        8 => format!(
            "Exception: Caused by sample input at index {a}: SampleInput(input=Tensor[size=({i}, {j}), \
             device=\"cuda:0\", dtype=torch.float32], args=(), kwargs={{'dim': '1'}}, \
             broadcasts_input=False, name='')"
        ),
        9 => "RuntimeError: expected scalar type Float but found Half & <BFloat16> was \"unexpected\"".to_string(),
        10 => format!(
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate {a}.00 MiB. GPU 0 has a total \
             capacity of 22.19 GiB of which {b}.56 MiB is free."
        ),
        11 => format!(
            "AssertionError: Scalars are not equal!\n\nExpected {i} but got {j}.\nAbsolute difference: {}\n\
             Relative difference: inf",
            i.abs_diff(j)
        ),
        _ => format!(
            "RuntimeError: Process 1 exited with error code 10 and exception:\nTraceback (most recent call last):\n  \
             File \"torch/testing/_internal/common_distributed.py\", line {b}, in run_test\n    \
             getattr(self, test_name)()\nAssertionError: {a} != {b}"
        ),
    }
}

/// The exception type at the start of a message (`AssertionError`, ...).
pub fn exception_type(msg: &str) -> &str {
    msg.split([':', '\n'])
        .next()
        .unwrap_or("Exception")
        .rsplit('.')
        .next()
        .unwrap_or("Exception")
}

/// pytest's `message` attribute: the whole exception text, or now and then
/// only its first line.
pub fn message_attr(rng: &mut Rng, msg: &str) -> String {
    if rng.chance(0.7) {
        msg.to_string()
    } else {
        msg.lines().next().unwrap_or("").to_string()
    }
}

/// Captured stdout/stderr: `lines` log lines (random count if 0), each ending
/// in a newline. ESC is spelled `#x1B` as pytest's `bin_xml_escape` writes it.
pub fn captured_output(rng: &mut Rng, class: &str, name: &str, lines: usize) -> String {
    let n = if lines == 0 {
        rng.range(1, 8) as usize
    } else {
        lines
    };
    let mut out = String::new();
    for _ in 0..n {
        let s = rng.range(0, 59);
        let us = rng.range(0, 999_999);
        let a = rng.range(10, 9999);
        let line = match rng.below(9) {
            0 => format!("Running {name} ..."),
            1 => format!(
                "[W115 12:00:{s:02}.{us:06} ProcessGroupNCCL.cpp:1250] Warning: WARNING: process group \
                 has NOT been destroyed before we destruct ProcessGroupNCCL."
            ),
            2 => format!("#x1B[32mPASSED#x1B[0m  {class}.{name}"),
            3 => format!(
                "I0115 12:00:{s:02} torch/_inductor/codecache.py:{a}] [0/0] fx graph cache miss for key f{}",
                rng.hex(8)
            ),
            4 => format!(
                "torch/_tensor.py:{a}: UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor \
                 is being accessed. <Its .grad> & \"stuff\""
            ),
            5 => format!(
                "V0115 12:00:{s:02} guards.py:{a}] [__guards] GLOBAL_STATE guard ✓ → TENSOR_MATCH 'L[\"x\"]'"
            ),
            6 => format!(
                "E0115 12:00:{s:02}.{us:06} api.py:{a}] failed (exitcode: -6) local_rank: 0 (pid: {}) of binary: \
                 /opt/conda/envs/py_3.10/bin/python",
                rng.range(1000, 99999)
            ),
            7 => format!("  {a} ms  {:>5.1}%  aten::addmm", (a % 1000) as f64 / 10.0),
            _ => format!("seed = {us}; rtol = 1.3e-06; atol = 1e-05"),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_elementtree() {
        let mut s = String::new();
        esc_attr(&mut s, "a&b<c>\"d\"\n\te\r");
        assert_eq!(s, "a&amp;b&lt;c&gt;&quot;d&quot;&#10;&#09;e&#13;");
        let mut s = String::new();
        esc_text(&mut s, "x < y & \"z\"");
        assert_eq!(s, "x &lt; y &amp; \"z\"");
        let mut s = String::new();
        cdata(&mut s, "a]]>b");
        assert_eq!(s, "<![CDATA[a]]]]><![CDATA[>b]]>");
        assert_eq!(to_ascii_refs("é🔥"), "&#233;&#128293;");
    }

    #[test]
    fn durations_format() {
        assert_eq!(secs3(0), "0.000");
        assert_eq!(secs3(1_234_567), "1.235");
        assert_eq!(iso_timestamp(3725, 42, false), "2025-01-15T11:02:05.000042");
        assert_eq!(iso_seconds(14 * 3600 + 1), "2025-01-16T00:00:01");
        assert_eq!(
            exception_type("torch._dynamo.exc.Unsupported: x"),
            "Unsupported"
        );
    }
}
