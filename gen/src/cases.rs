//! One test case as data (identity, duration, outcome, reruns, captured
//! output), independent of the report format, and the draw that decides it:
//! about 97% pass, 2% skipped (some xfail), 0.25% failure, 0.25% error and
//! 0.5% flaky (1-3 reruns, then a pass or a failure).

use super::plan::ClassSpec;
use super::rng::Rng;
use super::text::{self, Machine, Pace, Site};
use super::vocab::{SKIP_REASONS, XFAIL_REASONS};

/// A failed attempt: the `message` attribute and the traceback text.
#[derive(Debug, Clone)]
pub struct Problem {
    pub message: String,
    pub text: String,
    /// The exception's type name (xmlrunner's `type` attribute).
    pub kind: String,
    /// The exception's text without its type (xmlrunner's `message`).
    pub exc: String,
}

/// How the last attempt of a case ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Pass,
    Skip {
        xfail: bool,
        message: String,
        /// pytest writes `path:line: reason` as the text of a plain skip.
        text: Option<String>,
    },
    Failure(Problem),
    /// A setup/teardown error; the message is `failed on setup with "..."`.
    Error(Problem),
}

/// One test case, ready to be written by any of the report writers.
#[derive(Debug, Clone)]
pub struct Case {
    pub classname: String,
    pub name: String,
    /// Source file relative to `test/` (`None`: no `file` attribute).
    pub file: Option<String>,
    pub line: u32,
    pub time_us: u64,
    /// The `time` attribute as written.
    pub time: String,
    pub outcome: Outcome,
    /// Failed earlier attempts (pytest-rerunfailures `<rerun>` children).
    pub reruns: Vec<Problem>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
    pub properties: Vec<(String, String)>,
    /// The test's docstring (xmlrunner writes it as a comment).
    pub doc: Option<String>,
}

impl Case {
    pub fn is_failure(&self) -> bool {
        matches!(self.outcome, Outcome::Failure(_))
    }
    pub fn is_error(&self) -> bool {
        matches!(self.outcome, Outcome::Error(_))
    }
    pub fn is_skip(&self) -> bool {
        matches!(self.outcome, Outcome::Skip { .. })
    }
}

/// What the draw must produce instead of a random outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Force {
    /// A failure (the last test a process ran before run_test relaunched it).
    Fail,
    /// The first test of a relaunched process: the one that failed before.
    Retry,
}

/// Per-job facts a case draw needs.
pub struct Ctx<'a> {
    pub machine: &'a Machine,
    pub repro_env: &'static str,
    /// Long chained tracebacks are likelier under dynamo/inductor.
    pub long_rate: f64,
}

/// Running totals of what was drawn.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub cases: u64,
    pub passed: u64,
    pub skipped: u64,
    pub failures: u64,
    pub errors: u64,
    pub flaky: u64,
}

impl Tally {
    pub fn count(&mut self, c: &Case) {
        self.cases += 1;
        match c.outcome {
            Outcome::Pass => self.passed += 1,
            Outcome::Skip { .. } => self.skipped += 1,
            Outcome::Failure(_) => self.failures += 1,
            Outcome::Error(_) => self.errors += 1,
        }
        if !c.reruns.is_empty() {
            self.flaky += 1;
        }
    }
    pub fn add(&mut self, o: &Tally) {
        self.cases += o.cases;
        self.passed += o.passed;
        self.skipped += o.skipped;
        self.failures += o.failures;
        self.errors += o.errors;
        self.flaky += o.flaky;
    }
}

/// A failed attempt of test `name` of class `cs`.
pub fn problem(rng: &mut Rng, ctx: &Ctx<'_>, cs: &ClassSpec, name: &str, line: u32) -> Problem {
    let msg = text::error_message(rng);
    let site = Site {
        machine: ctx.machine,
        file: &cs.file,
        line,
        class: &cs.name,
        name,
        env: ctx.repro_env,
    };
    let long = rng.chance(ctx.long_rate);
    Problem {
        message: text::message_attr(rng, &msg),
        text: text::traceback(rng, &site, &msg, long),
        kind: text::exception_type(&msg).to_string(),
        exc: msg
            .split_once(": ")
            .map_or(msg.as_str(), |(_, rest)| rest)
            .to_string(),
    }
}

fn skip(rng: &mut Rng, ctx: &Ctx<'_>, cs: &ClassSpec, line: u32) -> Outcome {
    let n = rng.range(1000, 150_000).to_string();
    if rng.chance(0.12) {
        let reason = rng.pick(XFAIL_REASONS).replace("{n}", &n);
        return Outcome::Skip {
            xfail: true,
            message: reason,
            text: None,
        };
    }
    let reason = rng.pick(SKIP_REASONS).replace("{n}", &n);
    let m = ctx.machine;
    let path = if rng.chance(0.5) {
        m.join(&m.test_dir, &cs.file)
    } else {
        m.join(&m.site, "torch/testing/_internal/common_device_type.py")
    };
    Outcome::Skip {
        xfail: false,
        text: Some(format!("{path}:{line}: {reason}")),
        message: reason,
    }
}

fn tame_property(rng: &mut Rng) -> (String, String) {
    let (k, v) = match rng.below(5) {
        0 => ("seed", rng.range(0, 99_999).to_string()),
        1 => ("device", "cuda:0".to_string()),
        2 => ("num_retries", rng.range(1, 3).to_string()),
        3 => (
            "wall_time",
            format!("{}.{:02}", rng.range(0, 99), rng.range(0, 99)),
        ),
        _ => (
            "disabled_issue",
            format!(
                "https://github.com/pytorch/pytorch/issues/{}",
                rng.range(1000, 150_000)
            ),
        ),
    };
    (k.to_string(), v)
}

/// Draws test `k` of class `cs`.
pub fn draw(rng: &mut Rng, ctx: &Ctx<'_>, cs: &ClassSpec, k: usize, force: Option<Force>) -> Case {
    let name = cs.test_name(k);
    let line = cs.test_line(k);
    let r = match force {
        None => rng.unit(),
        Some(Force::Fail) => 0.004,
        Some(Force::Retry) => {
            if rng.chance(0.3) {
                0.004
            } else {
                0.5
            }
        }
    };
    let mut reruns = Vec::new();
    let outcome = if r < 0.0025 {
        let mut p = problem(rng, ctx, cs, &name, line);
        let when = if rng.chance(0.7) { "setup" } else { "teardown" };
        p.message = format!("failed on {when} with \"{}\"", p.message);
        Outcome::Error(p)
    } else if r < 0.005 {
        Outcome::Failure(problem(rng, ctx, cs, &name, line))
    } else if r < 0.010 {
        let n = 1 + usize::from(rng.chance(0.3)) + usize::from(rng.chance(0.1));
        for _ in 0..n {
            reruns.push(problem(rng, ctx, cs, &name, line));
        }
        if rng.chance(0.4) {
            Outcome::Failure(problem(rng, ctx, cs, &name, line))
        } else {
            Outcome::Pass
        }
    } else if r < 0.030 {
        skip(rng, ctx, cs, line)
    } else {
        Outcome::Pass
    };
    let pace = match (&outcome, reruns.is_empty()) {
        (Outcome::Pass, true) => Pace::Pass,
        (Outcome::Skip { .. }, _) => Pace::Skip,
        _ => Pace::Fail,
    };
    let time_us = text::duration_us(rng, pace);
    let time = text::time_attr(rng, time_us);
    let troubled = !matches!(outcome, Outcome::Pass | Outcome::Skip { .. }) || !reruns.is_empty();
    let (p_out, p_err) = if troubled { (0.6, 0.4) } else { (0.03, 0.01) };
    let stdout = rng
        .chance(p_out)
        .then(|| text::captured_output(rng, &cs.name, &name, 0));
    let stderr = rng
        .chance(p_err)
        .then(|| text::captured_output(rng, &cs.name, &name, 0));
    let properties = if !troubled && rng.chance(0.003) {
        (0..rng.range(1, 3)).map(|_| tame_property(rng)).collect()
    } else {
        Vec::new()
    };
    Case {
        classname: cs.name.clone(),
        name,
        file: Some(cs.file.clone()),
        line,
        time_us,
        time,
        outcome,
        reruns,
        stdout,
        stderr,
        properties,
        doc: None,
    }
}

/// What a base run has for a test the head run draws as `c`, decided by a hash of its name
/// (no random draws, so every stream stays aligned with the head's): two failures in
/// three passed (new failures in the head), one pass in a hundred failed (fixed in the
/// head), one in a hundred had another name (a new test and a missing one in the head),
/// and nothing was retried (the head's retried tests are flaky there).
pub fn as_base(mut c: Case) -> Case {
    let h = name_hash(&c.classname, &c.name);
    c.reruns.clear();
    c.outcome = match c.outcome {
        Outcome::Failure(_) | Outcome::Error(_) if !h.is_multiple_of(3) => Outcome::Pass,
        Outcome::Pass if h % 100 == 7 => Outcome::Failure(Problem {
            message: "AssertionError: Scalars are not equal! (base run)".into(),
            text: "Traceback (most recent call last):\nAssertionError: Scalars are not equal!"
                .into(),
            kind: "AssertionError".into(),
            exc: "Scalars are not equal!".into(),
        }),
        Outcome::Pass if h % 100 == 11 => {
            c.name.push_str("_old");
            Outcome::Pass
        }
        other => other,
    };
    c
}

/// FNV-1a of a test's class and name.
fn name_hash(classname: &str, name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in classname.bytes().chain([0]).chain(name.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// [`as_base`] for a prewritten testcase: two failing ones in three passed in the base
/// (the element is kept up to its start tag, closed empty).
pub fn raw_as_base(raw: crate::pytest::RawCase) -> crate::pytest::RawCase {
    let Some(end) = raw.xml.find('>') else {
        return raw;
    };
    let open = raw.xml[..end].trim_end_matches('/');
    let failing = raw.failures + raw.errors > 0;
    if !failing
        || name_hash(open, "").is_multiple_of(3)
        || !raw.xml.trim_start().starts_with("<testcase")
    {
        return raw;
    }
    let tail = if raw.xml.ends_with('\n') { "\n" } else { "" };
    crate::pytest::RawCase {
        xml: format!("{}/>{tail}", open.trim_end()),
        failures: 0,
        errors: 0,
        skipped: 0,
    }
}
