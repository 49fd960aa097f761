//! unittest reports as `xmlrunner` (unittest-xml-reporting) writes them for
//! test files PyTorch runs without pytest: one `TEST-<Class>-<stamp>.xml` per
//! test class, a `<testsuite>` root, tab-indented by minidom, tracebacks and
//! captured output in CDATA, docstrings as comments, no `<rerun>`.

use super::cases::{Case, Outcome, Problem};
use super::text::{attr, cdata, iso_seconds, secs3};

/// The reports for `cases` (grouped by class in first-seen order) as
/// `(file name, XML)`; `start_secs` is when the first class started.
pub fn render(cases: &[Case], start_secs: u64) -> Vec<(String, String)> {
    let mut order: Vec<&str> = Vec::new();
    for c in cases {
        if !order.contains(&c.classname.as_str()) {
            order.push(&c.classname);
        }
    }
    let mut now_us = start_secs * 1_000_000;
    let mut files = Vec::with_capacity(order.len());
    for class in order {
        let group: Vec<&Case> = cases.iter().filter(|c| c.classname == class).collect();
        let start = now_us / 1_000_000;
        let stamp = iso_seconds(start).replace(['-', ':', 'T'], "");
        let suite_us: u64 = group.iter().map(|c| c.time_us).sum();
        let failures = group.iter().filter(|c| c.is_failure()).count();
        let errors = group.iter().filter(|c| c.is_error()).count();
        let skipped = group.iter().filter(|c| c.is_skip()).count();
        let mut x = String::with_capacity(256 + group.len() * 220);
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite");
        attr(&mut x, "name", &format!("{class}-{stamp}"));
        attr(&mut x, "tests", &group.len().to_string());
        if let Some(f) = group.first().and_then(|c| c.file.as_deref()) {
            attr(&mut x, "file", f);
        }
        attr(&mut x, "time", &secs3(suite_us));
        attr(&mut x, "timestamp", &iso_seconds(start));
        attr(&mut x, "failures", &failures.to_string());
        attr(&mut x, "errors", &errors.to_string());
        attr(&mut x, "skipped", &skipped.to_string());
        x.push_str(">\n");
        let mut suite_out = String::new();
        for c in group {
            write_case(&mut x, c, now_us / 1_000_000);
            now_us += c.time_us;
            if let Some(s) = &c.stdout {
                suite_out.push_str(s);
            }
        }
        x.push_str("\t<system-out>\n");
        cdata(&mut x, &suite_out);
        x.push_str("\t</system-out>\n\t<system-err>\n");
        cdata(&mut x, "");
        x.push_str("\t</system-err>\n</testsuite>\n");
        files.push((format!("TEST-{class}-{stamp}.xml"), x));
        now_us += 250_000;
    }
    files
}

fn outcome_elem(x: &mut String, tag: &str, p: &Problem) {
    x.push_str("\t\t<");
    x.push_str(tag);
    attr(x, "type", &p.kind);
    attr(x, "message", &p.exc);
    x.push_str(">\n");
    cdata(x, &format!("{}\n", p.text));
    x.push_str("\t\t</");
    x.push_str(tag);
    x.push_str(">\n");
}

fn write_case(x: &mut String, c: &Case, at_secs: u64) {
    x.push_str("\t<testcase");
    attr(x, "classname", &c.classname);
    attr(x, "name", &c.name);
    attr(x, "time", &secs3(c.time_us));
    attr(x, "timestamp", &iso_seconds(at_secs));
    if let Some(f) = &c.file {
        attr(x, "file", f);
        attr(x, "line", &c.line.to_string());
    }
    let plain = matches!(c.outcome, Outcome::Pass)
        && c.doc.is_none()
        && c.stdout.is_none()
        && c.stderr.is_none();
    if plain {
        x.push_str("/>\n");
        return;
    }
    x.push_str(">\n");
    if let Some(d) = &c.doc {
        x.push_str("\t\t<!--");
        x.push_str(&d.replace("--", "&#45;&#45;"));
        x.push_str("-->\n");
    }
    match &c.outcome {
        Outcome::Pass => {}
        Outcome::Failure(p) => outcome_elem(x, "failure", p),
        Outcome::Error(p) => outcome_elem(x, "error", p),
        Outcome::Skip {
            xfail: true,
            message,
            ..
        } => {
            x.push_str("\t\t<skipped type=\"XFAIL\"");
            attr(x, "message", &format!("expected failure: {message}"));
            x.push_str("/>\n");
        }
        Outcome::Skip { message, .. } => {
            x.push_str("\t\t<skipped type=\"skip\"");
            attr(x, "message", message);
            x.push_str("/>\n");
        }
    }
    for (tag, body) in [("system-out", &c.stdout), ("system-err", &c.stderr)] {
        if let Some(b) = body {
            x.push_str("\t\t<");
            x.push_str(tag);
            x.push_str(">\n");
            cdata(x, b);
            x.push_str("\t\t</");
            x.push_str(tag);
            x.push_str(">\n");
        }
    }
    x.push_str("\t</testcase>\n");
}
