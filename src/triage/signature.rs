//! Failure signatures: one short line per cause, so that the instances of one failure (other
//! tests, shards, jobs and runs) group together while different causes stay apart.
//!
//! This module owns choosing a `<failure>`/`<error>`'s exception type and message, dropping
//! PyTorch's repro block, and masking what varies between instances of one cause: numbers,
//! sizes, durations, addresses, pids, temporary paths, quoted values and shapes. It is
//! hand-written because no crate does this: template miners (Drain and kin) learn templates
//! from a whole corpus, so one failure's key would depend on the others, whereas a signature
//! must be a pure function of one failure, with rules fitted to Python, pytest and PyTorch text.
//!
//! Only the exception line and the message lines after it are used, never traceback frames,
//! so the failing test's own name and location do not enter the signature.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// At most this many non-blank message lines are kept: the first lines name the cause, later
/// ones are detail (sample inputs, C++ frames, hints).
const MAX_LINES: usize = 3;
/// The message part is capped at this many chars (after masking).
const MAX_CHARS: usize = 300;
/// Kept lines are joined with this, so a signature stays one line (a list label, a map key).
const LINE_SEP: &str = " | ";

/// PyTorch's `print_repro_on_failure` header; the line after it is the command.
const REPRO_HEADER: &str = "To execute this test, run the following from the base repo dir:";
/// PyTorch's footer under the repro command.
const REPRO_FOOTER: &str =
    "This message can be suppressed by setting PYTORCH_PRINT_REPRO_ON_FAILURE=0";
/// Python's traceback header.
const TRACEBACK: &str = "Traceback (most recent call last)";
/// Python's sentences between the tracebacks of chained exceptions.
const CHAINED: [&str; 2] = [
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
];

/// A failure's normalised signature: what stays the same across instances of one cause.
///
/// `kind`, `message` and `text` are the failure/error element's `type` attribute, `message`
/// attribute and body; any may be empty. The result is `"<Type>: <message>"`, or just the
/// type or the message when the other is unknown, or `""` when all three are empty.
///
/// * Type: `kind`, else the prefix of `message` when it is shaped like `SomeError: …` (the
///   exception's own summary, as pytest writes it), else the exception line of `text`.
///   Only its last dotted part is kept: `torch.OutOfMemoryError` and the older
///   `torch.cuda.OutOfMemoryError` are one class, and unittest reports give bare names.
/// * Message: `message`, else the exception line of `text` and the lines after it, else the
///   first non-blank line of `text`; a leading `Type: ` equal to the type is dropped.
///   pytest's `failed on setup with "…"` is unwrapped to the inner message plus `(on setup)`.
/// * The first 3 non-blank message lines, up to a stack or hint trailer, are masked and
///   joined with `" | "`, capped at 300 chars (then `…`).
pub fn signature(kind: &str, message: &str, text: &str) -> String {
    let (message, phase) = unwrap_phase(message);
    let msg_lines: Vec<&str> = clean_lines(message, false).iter().map(|l| l.text).collect();
    let msg_first = msg_lines
        .iter()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim_start());
    let msg_exc = msg_first.and_then(parse_exception);
    let kind = kind.trim();
    // The traceback (often thousands of lines) is read only when the message and the type
    // attribute leave something unknown: most reports need neither.
    let need_text = msg_first.is_none() || (kind.is_empty() && msg_exc.is_none());
    let text_lines = if need_text {
        clean_lines(text, true)
    } else {
        Vec::new()
    };
    let text_exc = exception_span(&text_lines);
    let full_type = if !kind.is_empty() {
        kind
    } else if let Some((ty, _)) = msg_exc {
        ty
    } else if let Some((start, _)) = text_exc {
        parse_exception(text_lines[start].text).map_or("", |(ty, _)| ty)
    } else {
        ""
    };
    let ty = short_name(full_type);

    let mut lines: Vec<&str> = if msg_first.is_some() {
        msg_lines
    } else if let Some((start, end)) = text_exc {
        text_lines[start..end].iter().map(|l| l.text).collect()
    } else {
        // No exception line (a bare message, an elided traceback): its first plain line.
        text_lines
            .iter()
            .map(|l| l.text)
            .find(|l| !l.trim().is_empty() && !is_trailer(l))
            .into_iter()
            .collect()
    };
    // Drop the message's own `Type: ` when it repeats the type; a different exception
    // named there (a wrapper's cause) is kept as part of the message.
    if let Some(first) = lines.iter_mut().find(|l| !l.trim().is_empty())
        && let Some((name, rest)) = parse_exception(first.trim_start())
        && short_name(name) == ty
    {
        *first = rest;
    }

    let mut msg = message_part(&lines);
    if let Some(phase) = phase {
        // Kept: the same exception in setup and in the test body are usually different bugs.
        if !msg.is_empty() {
            msg.push(' ');
        }
        msg.push_str("(on ");
        msg.push_str(phase);
        msg.push(')');
    }
    match (ty.is_empty(), msg.is_empty()) {
        (true, _) => msg,
        (false, true) => ty.to_owned(),
        (false, false) => format!("{ty}: {msg}"),
    }
}

/// The kept message lines, masked, joined and capped. The first non-blank line stays even if
/// trailer-shaped; a later trailer ends the message. When that trailer starts a traceback
/// embedded in the message (a child process's, a DataLoader worker's), that traceback's
/// exception line is kept too, as the last line: it is the actual cause.
fn message_part(lines: &[&str]) -> String {
    let lines: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let end = (1..lines.len())
        .find(|&i| is_trailer(lines[i]))
        .unwrap_or(lines.len());
    let mut kept: Vec<String> = lines[..end]
        .iter()
        .map(|l| normalise_line(l))
        .filter(|l| !l.is_empty())
        .take(MAX_LINES)
        .collect();
    let embedded = lines
        .get(end)
        .filter(|l| l.contains(TRACEBACK))
        .and_then(|_| {
            lines[end..]
                .iter()
                .find(|l| !l.starts_with(char::is_whitespace) && parse_exception(l).is_some())
        });
    if let Some(line) = embedded {
        kept.truncate(MAX_LINES - 1);
        kept.push(normalise_line(line));
    }
    cap(kept.join(LINE_SEP))
}

/// `failed on setup with "RuntimeError: x"` (pytest's error message for fixture failures) to
/// the inner message and the phase; masking the quoted part would lose the whole cause.
fn unwrap_phase(message: &str) -> (&str, Option<&str>) {
    static PHASE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?s)^\s*failed on (setup|teardown) with "(.*)"\s*$"#).expect("static regex")
    });
    match PHASE.captures(message) {
        Some(c) => {
            let (phase, inner) = (c.get(1).expect("group 1"), c.get(2).expect("group 2"));
            (&message[inner.range()], Some(&message[phase.range()]))
        }
        None => (message, None),
    }
}

/// A line of a message or body, cleaned.
#[derive(Clone, Copy)]
struct Line<'a> {
    text: &'a str,
    /// It carried pytest's `E   ` prefix (an exception line of a long traceback).
    pytest_e: bool,
}

/// The lines of `s` without PyTorch's repro block; with `strip_e`, also without pytest's
/// `E   ` prefix (its long tracebacks put the exception lines behind it).
fn clean_lines(s: &str, strip_e: bool) -> Vec<Line<'_>> {
    // Searching every line of a long traceback is the costly part: look once in the whole
    // text, and per line only when the repro block is there.
    static FINDERS: LazyLock<[memchr::memmem::Finder<'static>; 2]> = LazyLock::new(|| {
        [
            memchr::memmem::Finder::new(REPRO_HEADER),
            memchr::memmem::Finder::new(REPRO_FOOTER),
        ]
    });
    let repro = FINDERS.iter().any(|f| f.find(s.as_bytes()).is_some());
    if !repro {
        return s
            .lines()
            .map(|raw| {
                let raw = raw.trim_end_matches('\r');
                let text = if strip_e { strip_pytest_e(raw) } else { raw };
                Line {
                    text,
                    pytest_e: text.len() < raw.len(),
                }
            })
            .collect();
    }
    let mut out = Vec::new();
    let mut skip_next = false;
    for raw in s.lines() {
        let raw = raw.trim_end_matches('\r');
        let mut text = if strip_e { strip_pytest_e(raw) } else { raw };
        let pytest_e = text.len() < raw.len();
        if std::mem::take(&mut skip_next) {
            continue;
        }
        if let Some(at) = text.find(REPRO_HEADER) {
            // The command follows on the next line, or on this one when newlines were lost.
            skip_next = text[at + REPRO_HEADER.len()..].trim().is_empty();
            text = &text[..at];
        }
        if let Some(at) = text.find(REPRO_FOOTER) {
            text = &text[..at];
        }
        out.push(Line { text, pytest_e });
    }
    out
}

/// `E       AssertionError: x` → `AssertionError: x`.
fn strip_pytest_e(line: &str) -> &str {
    match line.strip_prefix('E') {
        Some("") => "",
        Some(rest) if rest.starts_with(char::is_whitespace) => rest.trim_start(),
        _ => line,
    }
}

/// `Name: rest` or a bare `Name` where Name looks like a Python exception class, optionally
/// module-qualified: (full name, rest of the line).
fn parse_exception(line: &str) -> Option<(&str, &str)> {
    // Exception class names end so by convention; this keeps `Expected: 3` or `Note: …` out.
    const SUFFIXES: [&str; 11] = [
        "Error",
        "Exception",
        "Warning",
        "Exit",
        "Interrupt",
        "Iteration",
        "Failed",
        "Failure",
        "Timeout",
        "Unsupported",
        "Skipped",
    ];
    // By hand rather than a regex with captures (one of these runs per traceback line):
    // `^((?:[A-Za-z_]\w*\.)*([A-Z]\w*))(?:(:)\s*(.*?))?\s*$`, `\w` as in regex (Unicode).
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let end = line
        .find(|c: char| !(word(c) || c == '.'))
        .unwrap_or(line.len());
    let full = &line[..end];
    let rest_all = &line[end..];
    let (has_colon, rest) = match rest_all.strip_prefix(':') {
        Some(r) => (true, r.trim()),
        None if rest_all.trim().is_empty() => (false, ""),
        None => return None,
    };
    if full.is_empty() || full.ends_with('.') || full.starts_with('.') || full.contains("..") {
        return None;
    }
    let mut parts = full.split('.');
    let last = full.rsplit('.').next().unwrap_or(full);
    let starts_ok = |p: &str| {
        p.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    };
    if !parts.all(starts_ok) || !last.starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    // A module-qualified name with a message is what tracebacks print for non-builtins
    // (`torch.fx…GuardOnDataDependentSymNode: …`) even without the usual suffix.
    let exceptional =
        SUFFIXES.iter().any(|s| last.ends_with(s)) || (has_colon && full.contains('.'));
    exceptional.then_some((full, rest))
}

/// `a.b.SomeError` → `SomeError`.
fn short_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// The exception of a traceback: the range of its `Type: message` line and the message lines
/// under it. In pytest's long format that is the last run of `E` lines (the last section of a
/// chain), from its first exception-shaped line. Otherwise it is the first unindented
/// exception-shaped line after the traceback header of the exception raised last (frames are
/// indented), or in the whole text when there is no header. The first, not the last: message
/// lines can quote other exceptions.
fn exception_span(lines: &[Line]) -> Option<(usize, usize)> {
    if let Some(end) = lines.iter().rposition(|l| l.pytest_e) {
        let end = end + 1;
        let start = lines[..end]
            .iter()
            .rposition(|l| !l.pytest_e)
            .map_or(0, |i| i + 1);
        if let Some(at) = (start..end).find(|&i| parse_exception(lines[i].text).is_some()) {
            return Some((at, end));
        }
    }
    // The header of the exception raised last: the first header, or one that follows
    // Python's chaining sentence. Other headers are tracebacks quoted inside a message
    // (a child process's), which belong to that message.
    let mut after_header = 0;
    let mut prev_text = None;
    for (i, l) in lines.iter().enumerate() {
        if l.text.starts_with(TRACEBACK)
            && (after_header == 0 || prev_text.is_some_and(|p: &str| CHAINED.contains(&p)))
        {
            after_header = i + 1;
        }
        if !l.text.trim().is_empty() {
            prev_text = Some(l.text.trim());
        }
    }
    let at = (after_header..lines.len()).find(|&i| {
        let l = lines[i].text;
        !l.starts_with(char::is_whitespace) && parse_exception(l).is_some()
    })?;
    Some((at, lines.len()))
}

/// A line that ends a message's meaningful part: what follows is a stack (Python, C++ or
/// the user code dynamo traced), logging hints, or the OpInfo sample that failed, all of
/// which vary between instances of one cause or name the test.
fn is_trailer(line: &str) -> bool {
    const STARTS: [&str; 10] = [
        TRACEBACK,
        "Original Traceback",
        "File \"",
        "from user code:",
        "Exception raised from ",
        "frame #",
        "Set TORCH_LOGS=",
        "Set TORCHDYNAMO_VERBOSE=",
        "Caused by sample input",
        "Caused by reference input",
    ];
    let t = line.trim_start();
    STARTS.iter().any(|s| t.starts_with(s))
}

/// Masks one message line and tidies its whitespace.
fn normalise_line(line: &str) -> String {
    let s = mask_temp_paths(line);
    let s = mask_quotes(&s);
    let s = mask_hex(&s);
    let s = mask_shapes(&s);
    static SIZE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b\d+(?:\.\d+)?\s*(?:[KMGTPE]i?B|[kK]B|bytes?)\b").expect("static regex")
    });
    let s = SIZE.replace_all(&s, "<size>");
    static DURATION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b",
            r"|\b\d+(?:\.\d+)?(?:ms|us|µs|ns|s|m|h)\b",
            r"|\b\d+(?:\.\d+)?\s*(?:milliseconds?|seconds?|secs?|minutes?|mins?|hours?)\b",
        ))
        .expect("static regex")
    });
    let s = DURATION.replace_all(&s, "<dur>");
    static PID: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(pid|process)(\s*[:=#]?\s*)\d+\b").expect("static regex")
    });
    let s = PID.replace_all(&s, "${1}${2}<pid>");
    let s = mask_numbers(&s);
    collapse_repeats(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `/tmp/…`, macOS `/var/folders/…`, `/dev/shm/…` and Windows `…\Temp\…` → `<path>`. The
/// char before must not be part of a path (so `/home/x/tmp/y` stays), and a trailing `.` or
/// `:` is given back as sentence punctuation.
fn mask_temp_paths(s: &str) -> String {
    static TEMP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"(^|[^\w./\\-])("#,
            r#"/tmp/[^\s'"`,;()\[\]<>]*|/tmp\b"#,
            r#"|(?:/private)?/var/folders/[^\s'"`,;()\[\]<>]*"#,
            r#"|/dev/shm/[^\s'"`,;()\[\]<>]*"#,
            r#"|(?i:[a-z]:[\\/](?:[^\\/\s'"`]+[\\/])*?(?:temp|tmp)[\\/][^\s'"`,;()\[\]<>]*)"#,
            r#")"#,
        ))
        .expect("static regex")
    });
    TEMP.replace_all(s, |c: &Captures| {
        let path = &c[2];
        let kept = path.trim_end_matches(['.', ':']);
        format!("{}<path>{}", &c[1], &path[kept.len()..])
    })
    .into_owned()
}

/// `'…'` and `"…"` → `<str>`. A quote opens only at the start, after whitespace or after one
/// of `([{<,:=`, and closes only before the end, whitespace or one of `,.;:!?)]}>`, so
/// apostrophes (`can't`) are left alone and reprs nested in quotes split less badly; an
/// unclosed quote stays as is.
fn mask_quotes(s: &str) -> String {
    let opens_after =
        |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || "([{<,:=".contains(c));
    let closes_before =
        |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || ",.;:!?)]}>".contains(c));
    // Once a quote char finds no close, no later one can (its candidates are a subset): not
    // searching again keeps a line full of stray quotes linear.
    let mut unclosed = [false; 2];
    let mut out = String::with_capacity(s.len());
    let mut prev: Option<char> = None;
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        let slot = match c {
            '\'' => Some(0),
            '"' => Some(1),
            _ => None,
        };
        if let Some(slot) = slot.filter(|&i| !unclosed[i] && opens_after(prev)) {
            let close = after
                .match_indices(c)
                .find(|&(i, _)| closes_before(after[i + 1..].chars().next()));
            match close {
                Some((i, _)) => {
                    out.push_str("<str>");
                    prev = Some(c);
                    rest = &after[i + 1..];
                    continue;
                }
                None => unclosed[slot] = true,
            }
        }
        out.push(c);
        prev = Some(c);
        rest = after;
    }
    out
}

/// `0x7f3a…` and bare hex runs of 8+ chars holding a digit (hashes, ids) → `<hex>`. Runs of
/// only digits, or shaped like `1e100000`, are numbers and left for [`mask_numbers`].
fn mask_hex(s: &str) -> String {
    static HEX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(?:0[xX][0-9a-fA-F]+|[0-9a-fA-F]{8,})\b").expect("static regex")
    });
    static SCI: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\d+[eE]\d+$").expect("static regex"));
    HEX.replace_all(s, |c: &Captures| {
        let m = &c[0];
        let prefixed = m.starts_with("0x") || m.starts_with("0X");
        let mixed = m.bytes().any(|b| b.is_ascii_digit()) && !m.bytes().all(|b| b.is_ascii_digit());
        if prefixed || (mixed && !SCI.is_match(m)) {
            "<hex>".to_owned()
        } else {
            m.to_owned()
        }
    })
    .into_owned()
}

/// `torch.Size([3, 4])`, numeric lists `[3, 4]` and tuples `(0, 1, 2)`, `(3,)` → `<shape>`,
/// nested ones too (a tensor's printed values). Parenthesised single numbers are not tuples.
fn mask_shapes(s: &str) -> String {
    static SIZE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"torch\.Size\(\[[^\]]*\]\)").expect("static regex"));
    static SEQ: LazyLock<Regex> = LazyLock::new(|| {
        let e = r"(?:-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|<shape>)";
        Regex::new(&format!(
            r"\[\s*{e}(?:\s*,\s*{e})*\s*,?\s*\]|\(\s*{e}(?:\s*,\s*{e})+\s*,?\s*\)|\(\s*{e}\s*,\s*\)"
        ))
        .expect("static regex")
    });
    let mut s = SIZE.replace_all(s, "<shape>").into_owned();
    // Inner lists first, then the lists made of them.
    for _ in 0..8 {
        let next = SEQ.replace_all(&s, "<shape>");
        if next == s {
            break;
        }
        s = next.into_owned();
    }
    s
}

/// Remaining numbers → `<n>`, except the ones that name the cause: exit codes, signals and
/// errnos (`exit code 1` and `exit code -11` are different failures).
fn mask_numbers(s: &str) -> String {
    static NUM: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b\d+(?:\.\d+)*(?:[eE][-+]?\d+)?\b").expect("static regex"));
    const KEEP_AFTER: [&str; 7] = [
        "exit code",
        "exitcode",
        "exit status",
        "returncode",
        "return code",
        "signal",
        "errno",
    ];
    NUM.replace_all(s, |c: &Captures| {
        let m = c.get(0).expect("whole match");
        let before = s[..m.start()].trim_end_matches([' ', '=', ':', '-', '[']);
        if KEEP_AFTER.iter().any(|k| ends_with_ignore_case(before, k)) {
            m.as_str().to_owned()
        } else {
            "<n>".to_owned()
        }
    })
    .into_owned()
}

/// `s.to_lowercase().ends_with(suffix)` for an ASCII `suffix`, without copying `s`.
fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Collapses consecutive repeated sentences: after masking, an OOM report's
/// `Process <pid> has <size> memory in use.` repeats once per process on the GPU.
fn collapse_repeats(line: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for sentence in line.split(". ") {
        match out.last_mut() {
            Some(last) if last.trim_end_matches('.') == sentence.trim_end_matches('.') => {
                *last = sentence
            }
            _ => out.push(sentence),
        }
    }
    out.join(". ")
}

/// Caps at [`MAX_CHARS`] chars, backing off to a space so a mask token is not cut in half.
fn cap(s: String) -> String {
    let Some((cut, _)) = s.char_indices().nth(MAX_CHARS) else {
        return s;
    };
    let head = &s[..cut];
    let head = match head.rfind(' ') {
        Some(sp) if sp >= cut * 2 / 3 => &head[..sp],
        _ => head,
    };
    format!("{}…", head.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PyTorch-style failure as pytest writes it under `--tb=native`: the message attribute
    /// (with the repro block appended by `print_repro_on_failure`) and the traceback body.
    fn pytorch_failure(exc: &str, frame_fn: &str) -> (String, String) {
        let repro = "\n\nTo execute this test, run the following from the base repo dir:\n    \
                     PYTORCH_TEST_WITH_INDUCTOR=1 python test/inductor/test_torchinductor.py CpuTests.test_add_cpu\n\n\
                     This message can be suppressed by setting PYTORCH_PRINT_REPRO_ON_FAILURE=0";
        let message = format!("{exc}{repro}");
        let text = format!(
            "Traceback (most recent call last):\n  \
             File \"/var/lib/jenkins/pytorch/test/inductor/test_torchinductor.py\", line 1234, in {frame_fn}\n    \
             self.assertEqual(actual, expected)\n  \
             File \"/opt/conda/lib/python3.10/site-packages/torch/testing/_comparison.py\", line 1530, in assert_close\n    \
             raise error_metas[0].to_error(msg)\n{message}\n"
        );
        (message, text)
    }

    /// Signature from the message attribute, from the body alone, and (unittest style) from a
    /// bare type plus message: all three must agree.
    fn sig_all_ways(exc: &str, frame_fn: &str) -> String {
        let (message, text) = pytorch_failure(exc, frame_fn);
        let from_message = signature("", &message, &text);
        assert_eq!(signature("", "", &text), from_message, "body only: {exc}");
        if let Some((ty, rest)) = exc.split_once(": ") {
            let short = ty.rsplit('.').next().unwrap();
            assert_eq!(
                signature(short, rest, &text),
                from_message,
                "xmlrunner style: {exc}"
            );
        }
        from_message
    }

    const TENSOR_A: &str = "AssertionError: Tensor-likes are not close!\n\n\
        Mismatched elements: 3 / 12 (25.0%)\n\
        Greatest absolute difference: 0.5 at index (1, 2) (up to 1e-05 allowed)\n\
        Greatest relative difference: 0.25 at index (1, 2) (up to 1.3e-06 allowed)";
    const TENSOR_B: &str = "AssertionError: Tensor-likes are not close!\n\n\
        Mismatched elements: 117 / 4096 (2.9%)\n\
        Greatest absolute difference: 0.001953125 at index (3, 17, 1) (up to 0.001 allowed)\n\
        Greatest relative difference: inf at index (0, 0, 5) (up to 0.016 allowed)";
    const SCALARS: &str = "AssertionError: Scalars are not equal!\n\n\
        Expected 3 but got 4.\nAbsolute difference: 1\nRelative difference: 0.3333333333333333";

    #[test]
    fn tensor_mismatches_merge_and_differ_from_scalars() {
        let a = sig_all_ways(TENSOR_A, "test_add");
        let b = sig_all_ways(TENSOR_B, "test_mul");
        assert_eq!(
            a,
            "AssertionError: Tensor-likes are not close! | Mismatched elements: <n> / <n> (<n>%) \
             | Greatest absolute difference: <n> at index <shape> (up to <n> allowed)"
        );
        assert_eq!(a, b);
        let s = sig_all_ways(SCALARS, "test_add");
        assert_eq!(
            s,
            "AssertionError: Scalars are not equal! | Expected <n> but got <n>. | Absolute difference: <n>"
        );
        assert_ne!(a, s);
    }

    const CUDA_TAIL: &str = "\nCUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.\n\
        For debugging consider passing CUDA_LAUNCH_BLOCKING=1\n\
        Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.\n";

    #[test]
    fn cuda_errors_keep_their_words() {
        let illegal = sig_all_ways(
            &format!(
                "RuntimeError: CUDA error: an illegal memory access was encountered{CUDA_TAIL}"
            ),
            "test_a",
        );
        let illegal_again = sig_all_ways(
            &format!(
                "RuntimeError: CUDA error: an illegal memory access was encountered{CUDA_TAIL}"
            ),
            "test_b",
        );
        let assert = sig_all_ways(
            &format!("RuntimeError: CUDA error: device-side assert triggered{CUDA_TAIL}"),
            "test_a",
        );
        assert_eq!(illegal, illegal_again);
        assert_ne!(illegal, assert);
        assert!(illegal.starts_with("RuntimeError: CUDA error: an illegal memory access was encountered | CUDA kernel errors"));
        assert!(assert.starts_with("RuntimeError: CUDA error: device-side assert triggered | "));
    }

    #[test]
    fn oom_reports_merge_across_sizes_and_processes() {
        let one = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total \
            capacity of 14.75 GiB of which 3.06 MiB is free. Process 12345 has 14.74 GiB memory in use. Of the \
            allocated memory 14.50 GiB is allocated by PyTorch, and 100.00 MiB is reserved by PyTorch but \
            unallocated. If reserved but unallocated memory is large try setting \
            PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for \
            Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)";
        let two = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 1 has a total \
            capacity of 79.15 GiB of which 1.12 GiB is free. Process 801 has 40.10 GiB memory in use. Process \
            99211 has 37.90 GiB memory in use. Of the allocated memory 36.00 GiB is allocated by PyTorch, and \
            1.50 GiB is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try \
            setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation \
            for Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)";
        let a = sig_all_ways(one, "test_big");
        let b = sig_all_ways(two, "test_bigger");
        assert_eq!(a, b);
        assert!(a.starts_with(
            "OutOfMemoryError: CUDA out of memory. Tried to allocate <size>. GPU <n> has a total capacity of \
             <size> of which <size> is free. Process <pid> has <size> memory in use. Of the allocated"
        ));
        assert!(a.chars().count() <= "OutOfMemoryError: ".len() + MAX_CHARS + 1);
        assert!(a.ends_with('…'));
        // The older class path is the same class.
        assert_eq!(signature("", &one.replace("torch.", "torch.cuda."), ""), a);
        // A CPU allocation failure is another cause.
        let cpu = "RuntimeError: [enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough \
            memory: you tried to allocate 34359738368 bytes.";
        assert_eq!(
            signature("", cpu, ""),
            "RuntimeError: [enforce fail at alloc_cpu.cpp:<n>] data. DefaultCPUAllocator: not enough memory: \
             you tried to allocate <size>."
        );
    }

    #[test]
    fn timeouts_merge_per_shape() {
        assert_eq!(signature("", "Timeout (0:05:00)!", ""), "Timeout (<dur>)!");
        assert_eq!(
            signature("", "Timeout (0:05:00)!", ""),
            signature("", "Timeout (1:30:00)!", "")
        );
        let a = signature("", "TimeoutError: Timed out after 300 seconds", "");
        assert_eq!(a, "TimeoutError: Timed out after <dur>");
        assert_eq!(
            a,
            signature("", "TimeoutError: Timed out after 1800 seconds", "")
        );
        assert_eq!(a, signature("TimeoutError", "Timed out after 12.5s", ""));
        // pytest-timeout, through pytest.fail.
        let p = signature("", "Failed: Timeout >300.0s", "");
        assert_eq!(p, "Failed: Timeout ><dur>");
        assert_eq!(p, signature("", "Failed: Timeout >900.0s", ""));
        assert_ne!(p, a);
        assert_eq!(
            signature(
                "",
                "RuntimeError: Watchdog caught collective operation timeout: WorkNCCL(SeqNum=21, OpType=ALLREDUCE, NumelIn=1048576, NumelOut=1048576, Timeout(ms)=600000) ran for 600081 milliseconds before timing out.",
                ""
            ),
            "RuntimeError: Watchdog caught collective operation timeout: WorkNCCL(SeqNum=<n>, OpType=ALLREDUCE, NumelIn=<n>, NumelOut=<n>, Timeout(ms)=<n>) ran for <dur> before timing out."
        );
    }

    #[test]
    fn temp_paths_and_quoted_values() {
        let a = sig_all_ways(
            "FileNotFoundError: [Errno 2] No such file or directory: '/tmp/tmpk2j3h4/model.pt'",
            "test_save",
        );
        let b = sig_all_ways(
            "FileNotFoundError: [Errno 2] No such file or directory: '/tmp/tmpzq81x0/model.pt'",
            "test_load",
        );
        assert_eq!(
            a,
            "FileNotFoundError: [Errno 2] No such file or directory: <str>"
        );
        assert_eq!(a, b);
        // The errno names the cause.
        assert_ne!(
            a,
            signature(
                "",
                "PermissionError: [Errno 13] Permission denied: '/tmp/tmpk2j3h4/model.pt'",
                ""
            )
        );
        // Unquoted temporary paths, pytest's, macOS's and Windows'.
        for path in [
            "/tmp/tmpab12cd/lib.so",
            "/tmp/pytest-of-runner/pytest-7/test_export0/lib.so",
            "/var/folders/x1/abc_123/T/tmpq1/lib.so",
            r"C:\Users\runneradmin\AppData\Local\Temp\tmpab12cd\lib.so",
        ] {
            assert_eq!(
                signature(
                    "OSError",
                    &format!("cannot load {path}: undefined symbol"),
                    ""
                ),
                "OSError: cannot load <path>: undefined symbol",
                "{path}"
            );
        }
        // A non-temporary path keeps its words; `tmp` inside it is not a temp dir.
        assert_eq!(
            signature("OSError", "cannot load /home/ci/tmp/lib.so", ""),
            "OSError: cannot load /home/ci/tmp/lib.so"
        );
        // Apostrophes are not quotes; double quotes are.
        assert_eq!(
            signature(
                "",
                "RuntimeError: \"addmm_cuda\" not implemented for 'Half', and it can't be",
                ""
            ),
            "RuntimeError: <str> not implemented for <str>, and it can't be"
        );
    }

    #[test]
    fn dynamo_graph_breaks() {
        let setattr_a = "torch._dynamo.exc.Unsupported: call_function BuiltinVariable(setattr) \
            [TensorVariable(), ConstantVariable(str: 'weight'), ConstantVariable(int: 3)] {}\n\n\
            from user code:\n   File \"/var/lib/jenkins/pytorch/test/dynamo/test_misc.py\", line 88, in fn\n    \
            setattr(x, 'weight', 3)\n\n\
            Set TORCH_LOGS=\"+dynamo\" and TORCHDYNAMO_VERBOSE=1 for more information\n";
        let setattr_b = setattr_a
            .replace("int: 3", "int: 7")
            .replace("line 88, in fn", "line 12, in g");
        let class_call = "torch._dynamo.exc.Unsupported: call_function UserDefinedClassVariable() [] {}\n\n\
            from user code:\n   File \"/var/lib/jenkins/pytorch/test/dynamo/test_misc.py\", line 88, in fn\n    \
            return Foo()\n";
        let a = sig_all_ways(setattr_a, "test_setattr");
        assert_eq!(
            a,
            "Unsupported: call_function BuiltinVariable(setattr) [TensorVariable(), ConstantVariable(str: <str>), \
             ConstantVariable(int: <n>)] {}"
        );
        assert_eq!(a, sig_all_ways(&setattr_b, "test_setattr2"));
        let c = sig_all_ways(class_call, "test_cls");
        assert_eq!(
            c,
            "Unsupported: call_function UserDefinedClassVariable() [] {}"
        );
        assert_ne!(a, c);
        // The newer, structured form keeps its explanation; backticked names are not masked.
        let new = "torch._dynamo.exc.Unsupported: Attempted to call function marked as skipped\n  \
            Explanation: Dynamo developers have intentionally marked that the function `foo` in file \
            `/tmp/tmpx1/mod.py` should not be traced.\n  Hint: Avoid calling the function `foo`.\n  \
            Developer debug context: module: mod, qualname: foo, skip reason: <missing reason>\n";
        assert_eq!(
            sig_all_ways(new, "test_skip"),
            "Unsupported: Attempted to call function marked as skipped | Explanation: Dynamo developers have \
             intentionally marked that the function `foo` in file `<path>` should not be traced. | Hint: Avoid \
             calling the function `foo`."
        );
    }

    #[test]
    fn assertion_errors_with_numbers_merge() {
        let a = sig_all_ways("AssertionError: 3 != 4", "test_a");
        assert_eq!(a, "AssertionError: <n> != <n>");
        assert_eq!(a, sig_all_ways("AssertionError: 12 != 1024", "test_b"));
        assert_eq!(
            sig_all_ways(
                "AssertionError: False is not true : expected 0.25 got 1.5e-3 after 4 tries",
                "t"
            ),
            "AssertionError: False is not true : expected <n> got <n> after <n> tries"
        );
        // The golden pytest reports' reruns: one cause, three attempts.
        let r: Vec<String> = (1..=3)
            .map(|i| {
                signature(
                    "",
                    &format!("AssertionError: attempt {i} fails"),
                    "Traceback (most recent call last):\nELIDED",
                )
            })
            .collect();
        assert!(
            r.iter().all(|s| s == "AssertionError: attempt <n> fails"),
            "{r:?}"
        );
        assert_ne!(
            signature("", "AssertionError: values differ", ""),
            signature("", "RuntimeError: runtime error!", "")
        );
    }

    #[test]
    fn masks_shapes_hex_pids_sizes() {
        assert_eq!(
            signature(
                "",
                "RuntimeError: shape mismatch: torch.Size([3, 4]) vs torch.Size([4, 3]) at [0, 1]",
                ""
            ),
            "RuntimeError: shape mismatch: <shape> vs <shape> at <shape>"
        );
        assert_eq!(
            signature(
                "",
                "RuntimeError: The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1",
                ""
            ),
            "RuntimeError: The size of tensor a (<n>) must match the size of tensor b (<n>) at non-singleton dimension <n>"
        );
        assert_eq!(
            signature(
                "",
                "AssertionError: tensor([[1., 2.], [3., 4.]]) != tensor([[1.0000, 2.5000]])",
                ""
            ),
            "AssertionError: tensor(<shape>) != tensor(<shape>)"
        );
        assert_eq!(
            signature(
                "",
                "RuntimeError: bad object <Foo at 0x7f3a2c1d9e80> in pid 1234 (process 99)",
                ""
            ),
            "RuntimeError: bad object <Foo at <hex>> in pid <pid> (process <pid>)"
        );
        assert_eq!(
            signature(
                "",
                "RuntimeError: artifact 271de5e392c25fc0 missing, 1024 bytes, 1.5 KB",
                ""
            ),
            "RuntimeError: artifact <hex> missing, <size>, <size>"
        );
        // Words with digits survive: dtypes, devices' names, Conv3d.
        assert_eq!(
            signature(
                "",
                "RuntimeError: float16 Conv3d on cuda:0 failed, 2nd try",
                ""
            ),
            "RuntimeError: float16 Conv3d on cuda:<n> failed, 2nd try"
        );
        // Exit codes and signals name the cause.
        assert_ne!(
            signature(
                "",
                "RuntimeError: Process 0 terminated with exit code 1",
                ""
            ),
            signature(
                "",
                "RuntimeError: Process 0 terminated with exit code -11",
                ""
            )
        );
        assert_eq!(
            signature(
                "",
                "RuntimeError: Process 3 terminated with exit code -11",
                ""
            ),
            "RuntimeError: Process <pid> terminated with exit code -11"
        );
    }

    #[test]
    fn repro_block_is_dropped_everywhere() {
        let message = "RuntimeError: boom\n\nTo execute this test, run the following from the base repo dir:\n    \
                       python test/test_ops.py TestCommonCUDA.test_x_cuda_float32\n\n\
                       This message can be suppressed by setting PYTORCH_PRINT_REPRO_ON_FAILURE=0";
        assert_eq!(signature("", message, ""), "RuntimeError: boom");
        // Older form with `-k`, CRLF, and the header where newlines were lost.
        let older = "RuntimeError: boom\r\n\r\nTo execute this test, run the following from the base repo dir:\r\n     \
                     python test/test_mps.py -k test_output_match_add\r\n\r\n\
                     This message can be suppressed by setting PYTORCH_PRINT_REPRO_ON_FAILURE=0\r\n";
        assert_eq!(signature("", older, ""), "RuntimeError: boom");
        let flat = "RuntimeError: boom To execute this test, run the following from the base repo dir: \
                    python test/test_ops.py TestCommonCUDA.test_x This message can be suppressed by setting \
                    PYTORCH_PRINT_REPRO_ON_FAILURE=0";
        assert_eq!(signature("", flat, ""), "RuntimeError: boom");
    }

    #[test]
    fn type_and_message_sources() {
        // xmlrunner: the type attribute, an empty message and a bare exception line.
        let text = "Traceback (most recent call last):\n  File \"{{PATH}}/xmlrunner/tests/testsuite_cases.py\", \
                    line 34, in test_failure\n    self.assertTrue(None)\nAssertionError\n";
        assert_eq!(signature("AssertionError", "", text), "AssertionError");
        assert_eq!(signature("", "", text), "AssertionError");
        let text = "Traceback (most recent call last):\n  File \"{{PATH}}/xmlrunner/tests/testsuite_cases.py\", \
                    line 37, in test_errord\n    None + 1\nTypeError: unsupported operand type(s) for +: 'NoneType' and 'int'\n";
        let want = "TypeError: unsupported operand type(s) for +: <str> and <str>";
        assert_eq!(
            signature(
                "TypeError",
                "unsupported operand type(s) for +: 'NoneType' and 'int'",
                text
            ),
            want
        );
        assert_eq!(signature("", "", text), want);
        // pytest's setup/teardown errors are unwrapped, and keep their phase.
        let setup = signature(
            "",
            "failed on setup with \"RuntimeError: setup error\"",
            "Traceback (most recent call last):\nELIDED",
        );
        assert_eq!(setup, "RuntimeError: setup error (on setup)");
        assert_ne!(
            setup,
            signature(
                "",
                "failed on teardown with \"RuntimeError: setup error\"",
                ""
            )
        );
        // No exception anywhere: the message as is, or the body's first plain line.
        assert_eq!(
            signature(
                "",
                "[XPASS(strict)] strictly expected to fail",
                "[XPASS(strict)] strictly expected to fail"
            ),
            "[XPASS(strict)] strictly expected to fail"
        );
        assert_eq!(
            signature("", "", "Traceback (most recent call last):\nELIDED"),
            "ELIDED"
        );
        assert_eq!(signature("", "", ""), "");
        assert_eq!(signature("  ", " \n ", "\n"), "");
        // The kind wins; a different exception named in the message stays in it.
        assert_eq!(
            signature("Failed", "AssertionError: x", ""),
            "Failed: AssertionError: x"
        );
        assert_eq!(
            signature("builtins.KeyError", "KeyError: 'w'", ""),
            "KeyError: <str>"
        );
        // Lines like `Expected: 3` are not exception lines.
        assert_eq!(signature("", "", "Expected: 3\nActual: 4"), "Expected: <n>");
    }

    #[test]
    fn chained_and_pytest_long_tracebacks() {
        let chained = "Traceback (most recent call last):\n  File \"a.py\", line 1, in f\n    g()\n\
            KeyError: 'x'\n\nThe above exception was the direct cause of the following exception:\n\n\
            Traceback (most recent call last):\n  File \"a.py\", line 3, in test_it\n    f()\n\
            RuntimeError: Failed running call_function <built-in function add>:\nValueError: inner detail 3\n";
        assert_eq!(
            signature("", "", chained),
            "RuntimeError: Failed running call_function <built-in function add>: | ValueError: inner detail <n>"
        );
        let long = "self = <test_x.TestFoo testMethod=test_bar>\n\n    def test_bar(self):\n\
            >       raise RuntimeError(\"bad value 3\")\n\
            E       RuntimeError: bad value 3\n\
            E       second line\n\ntest_x.py:5: RuntimeError";
        assert_eq!(
            signature("", "", long),
            "RuntimeError: bad value <n> | second line"
        );
        assert_eq!(
            signature("", "RuntimeError: bad value 9\nsecond line", long),
            "RuntimeError: bad value <n> | second line"
        );
    }

    #[test]
    fn tracebacks_quoted_in_a_message_add_their_exception() {
        let spawn = |rank: u32| {
            format!(
                "torch.multiprocessing.spawn.ProcessRaisedException: \n\n\
                 -- Process {rank} terminated with the following error:\n\
                 Traceback (most recent call last):\n  File \"/opt/conda/lib/python3.10/site-packages/torch/\
                 multiprocessing/spawn.py\", line 90, in _wrap\n    fn(i, *args)\n\
                 ValueError: bad rank {rank}"
            )
        };
        let a = sig_all_ways(&spawn(0), "test_ddp");
        assert_eq!(
            a,
            "ProcessRaisedException: -- Process <pid> terminated with the following error: | ValueError: bad rank <n>"
        );
        assert_eq!(a, sig_all_ways(&spawn(3), "test_fsdp"));
        let worker = "RuntimeError: Caught KeyError in DataLoader worker process 1.\n\
            Original Traceback (most recent call last):\n  File \"/opt/w.py\", line 3, in f\n    g()\n\
            KeyError: 'label'";
        assert_eq!(
            sig_all_ways(worker, "test_loader"),
            "RuntimeError: Caught KeyError in DataLoader worker process <pid>. | KeyError: <str>"
        );
    }

    #[test]
    fn huge_lines_stay_linear() {
        // A printed tensor or a line of stray quotes, 200k chars: must not go quadratic.
        let values = (0..40_000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let s = signature("", &format!("AssertionError: tensor([{values}]) != 'x"), "");
        assert_eq!(s, "AssertionError: tensor(<shape>) != 'x");
        let quotes = "'a ".repeat(70_000);
        let s = signature("ValueError", &quotes, "");
        assert!(s.starts_with("ValueError: 'a 'a") && s.ends_with('…'));
    }

    #[test]
    fn caps_at_char_boundaries() {
        let long = "é".repeat(1000);
        let s = signature("ValueError", &long, "");
        assert_eq!(s.chars().count(), "ValueError: ".len() + MAX_CHARS + 1);
        assert!(s.ends_with('…'));
        let words = "wörd ".repeat(200);
        let s = signature("ValueError", &words, "");
        assert!(s.ends_with("wörd…"), "{s}");
        // Only the first three meaningful lines.
        assert_eq!(
            signature("E", "a\n\nb\nc\nd", ""),
            "a | b | c".replace("a", "E: a").as_str()
        );
    }
}
