//! pytest junitxml reports as PyTorch CI leaves them (conftest's
//! `LogXMLReruns` output after `sanitize_pytest_xml`): one `<testsuites>`
//! with one `<testsuite name="pytest">`, testcases with `classname`, `name`,
//! `time`, `file` in that order, `<rerun>` children for failed attempts.
//! Written on one line, or now and then indented like the golden files.

use super::cases::{Case, Outcome, Problem};
use super::text::{attr, esc_text};

/// A testcase given as literal XML (the showcase), with what it counts as.
#[derive(Debug, Clone, Default)]
pub struct RawCase {
    pub xml: String,
    pub failures: u32,
    pub errors: u32,
    pub skipped: u32,
}

/// Suite-level facts and the writing style of one report.
pub struct Suite<'a> {
    pub hostname: &'a str,
    pub timestamp: &'a str,
    /// Two-space indentation, one element per line.
    pub pretty: bool,
    /// Re-written by `ElementTree.write(path)` (what `sanitize_pytest_xml`
    /// does): no XML declaration, non-ASCII as character references. Only
    /// for reports without CDATA or comments.
    pub ascii: bool,
    /// Extra seconds of suite time beyond the tests' own (collection, ...).
    pub overhead_us: u64,
}

fn problem(out: &mut String, tag: &str, p: &Problem) {
    out.push('<');
    out.push_str(tag);
    attr(out, "message", &p.message);
    out.push('>');
    esc_text(out, &p.text);
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

fn text_elem(out: &mut String, tag: &str, body: &str) {
    out.push('<');
    out.push_str(tag);
    out.push('>');
    esc_text(out, body);
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

/// Appends one `<testcase>`; `ind` separates children ("" or a newline and
/// indentation), `close` precedes the end tag.
pub fn write_case(out: &mut String, c: &Case, ind: &str, close: &str) {
    out.push_str("<testcase");
    attr(out, "classname", &c.classname);
    attr(out, "name", &c.name);
    attr(out, "time", &c.time);
    if let Some(f) = &c.file {
        attr(out, "file", f);
    }
    let has_children = !c.properties.is_empty()
        || !c.reruns.is_empty()
        || !matches!(c.outcome, Outcome::Pass)
        || c.stdout.is_some()
        || c.stderr.is_some();
    if !has_children {
        out.push_str(" />");
        return;
    }
    out.push('>');
    if !c.properties.is_empty() {
        out.push_str(ind);
        out.push_str("<properties>");
        for (k, v) in &c.properties {
            out.push_str("<property");
            attr(out, "name", k);
            attr(out, "value", v);
            out.push_str(" />");
        }
        out.push_str("</properties>");
    }
    for r in &c.reruns {
        out.push_str(ind);
        problem(out, "rerun", r);
    }
    match &c.outcome {
        Outcome::Pass => {}
        Outcome::Failure(p) => {
            out.push_str(ind);
            problem(out, "failure", p);
        }
        Outcome::Error(p) => {
            out.push_str(ind);
            problem(out, "error", p);
        }
        Outcome::Skip {
            xfail,
            message,
            text,
        } => {
            out.push_str(ind);
            out.push_str("<skipped");
            attr(
                out,
                "type",
                if *xfail {
                    "pytest.xfail"
                } else {
                    "pytest.skip"
                },
            );
            attr(out, "message", message);
            match text {
                Some(t) => {
                    out.push('>');
                    esc_text(out, t);
                    out.push_str("</skipped>");
                }
                None => out.push_str(" />"),
            }
        }
    }
    if let Some(s) = &c.stdout {
        out.push_str(ind);
        text_elem(out, "system-out", s);
    }
    if let Some(s) = &c.stderr {
        out.push_str(ind);
        text_elem(out, "system-err", s);
    }
    out.push_str(close);
    out.push_str("</testcase>");
}

/// The whole report: the showcase's literal cases first, then `cases`.
pub fn render(suite: &Suite<'_>, raw: &[RawCase], cases: &[Case]) -> String {
    let (mut failures, mut errors, mut skipped) = (0u64, 0u64, 0u64);
    for r in raw {
        failures += u64::from(r.failures);
        errors += u64::from(r.errors);
        skipped += u64::from(r.skipped);
    }
    let mut total_us = suite.overhead_us;
    for c in cases {
        failures += u64::from(c.is_failure());
        errors += u64::from(c.is_error());
        skipped += u64::from(c.is_skip());
        total_us += c.time_us;
    }
    let tests = raw.len() + cases.len();
    let sampled = cases.len().clamp(1, 64);
    let avg = 160
        + cases
            .iter()
            .take(sampled)
            .map(|c| c.name.len() + c.classname.len() + c.file.as_ref().map_or(0, |f| f.len()))
            .sum::<usize>()
            / sampled;
    let mut out =
        String::with_capacity(256 + tests * avg + raw.iter().map(|r| r.xml.len()).sum::<usize>());
    let (sep, ind, close) = if suite.pretty {
        ("\n    ", "\n      ", "\n    ")
    } else {
        ("", "", "")
    };
    if !suite.ascii {
        out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
        if suite.pretty {
            out.push('\n');
        }
    }
    out.push_str(if suite.pretty {
        "<testsuites>\n  "
    } else {
        "<testsuites>"
    });
    out.push_str(&format!(
        "<testsuite name=\"pytest\" errors=\"{errors}\" failures=\"{failures}\" skipped=\"{skipped}\" \
         tests=\"{tests}\" time=\"{}\"",
        super::text::secs3(total_us)
    ));
    attr(&mut out, "timestamp", suite.timestamp);
    attr(&mut out, "hostname", suite.hostname);
    out.push('>');
    for r in raw {
        out.push_str(sep);
        out.push_str(&r.xml);
    }
    for c in cases {
        out.push_str(sep);
        write_case(&mut out, c, ind, close);
    }
    if suite.pretty {
        out.push_str("\n  </testsuite>\n</testsuites>\n");
    } else {
        out.push_str("</testsuite></testsuites>");
    }
    if suite.ascii {
        out = super::text::to_ascii_refs(&out);
    }
    out
}
