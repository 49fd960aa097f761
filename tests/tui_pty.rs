#![cfg(feature = "net")]
//! End to end: the real `testscope` binary in a pseudo-terminal, its screen read back through
//! a vt100 parser. Keys go in as bytes; every assertion waits for text to appear on the
//! parsed screen (with a generous deadline that only guards against hangs).

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};
use vt100::MouseProtocolMode;

const ROWS: u16 = 40;
const COLS: u16 = 140;
/// A hang guard, not a timing assertion.
const DEADLINE: Duration = Duration::from_secs(60);
const ENTER: &str = "\r";
const ESC: &str = "\x1b";

/// The parsed screen, fed by the reader thread.
type Screen = Arc<Mutex<vt100::Parser>>;

struct Tui {
    screen: Screen,
    /// Every byte the child wrote, for checks on the sequences themselves.
    transcript: Arc<Mutex<Vec<u8>>>,
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    /// Signalled when the reader thread has seen the end of the output.
    reader_done: mpsc::Receiver<()>,
    // Kept open while the child runs: dropping the master hangs up the terminal.
    _master: Box<dyn MasterPty + Send>,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Start the binary in a 140x40 pseudo-terminal with `args`, cwd = the crate root.
fn spawn(args: &[&str], extra_env: &[(&str, &str)]) -> Tui {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_testscope"));
    cmd.args(args);
    cmd.cwd(manifest_dir());
    cmd.env("TERM", "xterm-256color");
    // The panic message must fit on the screen: no backtrace.
    cmd.env("RUST_BACKTRACE", "0");
    cmd.env_remove("RUST_LIB_BACKTRACE");
    cmd.env_remove("NO_COLOR");
    cmd.env_remove("GITHUB_TOKEN");
    cmd.env_remove("GH_TOKEN");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(&key);
        }
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let child = pair.slave.spawn_command(cmd).expect("spawn testscope");
    // Only the child holds the slave now, so the reader sees EOF when it exits.
    drop(pair.slave);

    let screen: Screen = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
    let mut reader = pair.master.try_clone_reader().expect("pty reader");
    let transcript = Arc::new(Mutex::new(Vec::new()));
    let (done_tx, reader_done) = mpsc::channel();
    {
        let (screen, transcript) = (screen.clone(), transcript.clone());
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        transcript.lock().unwrap().extend_from_slice(&buf[..n]);
                        screen.lock().unwrap().process(&buf[..n]);
                    }
                }
            }
            let _ = done_tx.send(());
        });
    }
    let writer = pair.master.take_writer().expect("pty writer");
    Tui {
        screen,
        transcript,
        child,
        writer,
        reader_done,
        _master: pair.master,
    }
}

fn contents(screen: &Screen) -> String {
    screen.lock().unwrap().screen().contents()
}

/// One screen row (0-based), trailing blanks trimmed.
fn row(screen: &Screen, y: u16) -> String {
    let p = screen.lock().unwrap();
    p.screen()
        .rows(0, COLS)
        .nth(usize::from(y))
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

fn dump(screen: &Screen) -> String {
    let p = screen.lock().unwrap();
    let s = p.screen();
    let mut out = String::new();
    for (i, line) in s.rows(0, COLS).enumerate() {
        out.push_str(&format!("{i:2}|{}\n", line.trim_end()));
    }
    out.push_str(&format!(
        "(alternate screen: {}, mouse: {:?})",
        s.alternate_screen(),
        s.mouse_protocol_mode()
    ));
    out
}

/// Poll the screen until `ok` holds; fail with the screen after the deadline.
fn wait_until(screen: &Screen, what: &str, ok: impl Fn(&Screen) -> bool) {
    let start = Instant::now();
    loop {
        if ok(screen) {
            return;
        }
        if start.elapsed() > DEADLINE {
            panic!(
                "waited {DEADLINE:?} for {what}; the screen:\n{}",
                dump(screen)
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Wait until `needle` is on the screen.
fn wait_for(screen: &Screen, needle: &str) {
    wait_until(screen, &format!("{needle:?}"), |s| {
        contents(s).contains(needle)
    });
}

/// Wait until row `y` contains `needle`.
fn wait_for_row(screen: &Screen, y: u16, needle: &str) {
    wait_until(screen, &format!("{needle:?} on row {y}"), |s| {
        row(s, y).contains(needle)
    });
}

/// Wait until `needle` is gone from the screen.
fn wait_gone(screen: &Screen, needle: &str) {
    wait_until(screen, &format!("{needle:?} to go away"), |s| {
        !contents(s).contains(needle)
    });
}

impl Tui {
    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("write keys");
        self.writer.flush().expect("flush keys");
    }

    /// Esc alone: read together with the next byte it would be an Alt-key, so pause after.
    fn esc(&mut self) {
        self.send(ESC);
        thread::sleep(Duration::from_millis(150));
    }

    /// Wait for the child to exit; then for the reader to drain everything it wrote.
    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if start.elapsed() > DEADLINE {
                let _ = self.child.kill();
                panic!(
                    "testscope did not exit within {DEADLINE:?}; the screen:\n{}",
                    dump(&self.screen)
                );
            }
            thread::sleep(Duration::from_millis(20));
        };
        // EOF (EIO on Linux) comes once the child's end of the pty is closed.
        if self
            .reader_done
            .recv_timeout(Duration::from_secs(10))
            .is_err()
        {
            panic!(
                "the pty output did not end after testscope exited; the screen:\n{}",
                dump(&self.screen)
            );
        }
        status
    }

    /// The terminal is back to normal: main screen, no mouse reporting.
    fn assert_restored(&self) {
        let p = self.screen.lock().unwrap();
        let s = p.screen();
        assert!(
            !s.alternate_screen(),
            "still on the alternate screen:\n{}",
            s.contents()
        );
        assert_eq!(
            s.mouse_protocol_mode(),
            MouseProtocolMode::None,
            "mouse reporting left on"
        );
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        // A failed assertion must not leave the child behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Every regular file below `dir`, as paths relative to it.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn browse_search_and_commit_in_a_real_terminal() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().unwrap();
    let mut tui = spawn(
        &[
            "assets/sample-run",
            "--out-dir",
            out_dir,
            "--head-branch",
            "main",
            "--head-repository",
            "pytorch/pytorch",
            "--job-names",
            "assets/sample-run/job-names.json",
        ],
        &[],
    );
    let screen = tui.screen.clone();

    // Summary, once every file is in.
    wait_for_row(&screen, 0, "run 1000000001 attempt 1");
    wait_for_row(&screen, 2, "1 Summary");
    wait_for(&screen, "TestSerializeCPU");
    {
        let p = screen.lock().unwrap();
        assert!(
            p.screen().alternate_screen(),
            "the TUI uses the alternate screen"
        );
        assert_ne!(
            p.screen().mouse_protocol_mode(),
            MouseProtocolMode::None,
            "the TUI captures the mouse"
        );
    }

    // Failures, then a fuzzy filter down to the matching rows, then the filter cleared.
    tui.send("2");
    wait_for_row(&screen, 3, " Failures");
    wait_for_row(&screen, 3, "1/27 of 27");
    assert!(contents(&screen).contains("failed"), "{}", dump(&screen));
    // The sample has this case in each of its three jobs: three rows of 27 remain.
    tui.send("/long_traceback");
    tui.send(ENTER);
    wait_for_row(&screen, 3, "1/3 of 27");
    let title = row(&screen, 3);
    assert!(
        title.starts_with(" Failures") && title.contains("/long_traceback"),
        "title line: {title:?}"
    );
    assert!(
        title.ends_with("1/3 of 27"),
        "the position sits at the right: {title:?}"
    );
    for y in 5..8 {
        let r = row(&screen, y);
        assert!(
            r.starts_with("failed") && r.contains("test_showcase_long_traceback"),
            "row {y} matches the filter:\n{}",
            dump(&screen)
        );
    }
    assert_eq!(
        row(&screen, 8),
        "",
        "only the matching rows are left:\n{}",
        dump(&screen)
    );
    // `/` then Esc clears the filter (Esc alone in a list goes back): typing ends (the
    // cursor `▏` goes) and every row is back.
    tui.send("/");
    wait_for_row(&screen, 3, "▏");
    tui.esc();
    wait_until(&screen, "typing to end", |s| !row(s, 3).contains('▏'));
    let title = row(&screen, 3);
    assert!(
        !title.contains('▏') && !title.contains("/long") && title.ends_with("1/27 of 27"),
        "title line: {title:?}"
    );

    // Reruns: filter to a case that failed after its reruns, open it.
    tui.send("3");
    wait_for_row(&screen, 3, " Reruns");
    tui.send("/rerun_still_failing");
    tui.send(ENTER);
    // One per job, as for every showcase case: three of the 13 rerun cases.
    wait_for_row(&screen, 3, "1/3 of 13");
    wait_for(&screen, "test_showcase_rerun_still_fail");
    tui.send(ENTER);
    wait_for_row(&screen, 3, "test_showcase_rerun_still_failing");
    wait_for(&screen, "Attributes");
    // The attempt timeline opens the detail: two reruns, then the final failure.
    wait_for(&screen, "Attempts (3)");
    // Search the detail, then step to the second match.
    tui.send("/Traceback");
    tui.send(ENTER);
    wait_for_row(&screen, 3, "match 1/");
    tui.send("n");
    wait_for_row(&screen, 3, "match 2/");
    // Back to the list.
    tui.esc();
    wait_for_row(&screen, 3, " Reruns");
    wait_for_row(&screen, 3, "1/3 of 13");

    // Commit: the flags give branch and repository, so it plans and asks.
    tui.send("c");
    wait_for(&screen, "Write these 7 objects?");
    assert!(
        contents(&screen).contains("test_run: uploaded"),
        "{}",
        dump(&screen)
    );
    tui.send("y");
    wait_for(&screen, "Done: 7 objects written");
    tui.send(ENTER);
    wait_gone(&screen, "Done: 7 objects written");
    tui.send("q");
    let status = tui.wait_exit();
    assert!(
        status.success(),
        "exit status {status:?}; the screen:\n{}",
        dump(&screen)
    );
    tui.assert_restored();

    // The objects, byte for byte (decompressed) what the reference wrote.
    let expected = manifest_dir().join("tests/golden/sample/expected-named");
    let want: Vec<PathBuf> = common::ALL
        .iter()
        .map(|c| {
            Path::new("ossci-raw-job-status")
                .join(c)
                .join("1000000001/1")
        })
        .collect();
    let mut sorted = want.clone();
    sorted.sort();
    assert_eq!(
        files_below(out.path()),
        sorted,
        "exactly the 7 objects, nothing else"
    );
    for rel in &want {
        let got = common::gunzip(&std::fs::read(out.path().join(rel)).unwrap());
        let golden = common::gunzip(&std::fs::read(expected.join(rel)).unwrap());
        assert!(
            got == golden,
            "{}: {} bytes written, {} expected, first difference at byte {:?}",
            rel.display(),
            got.len(),
            golden.len(),
            got.iter().zip(&golden).position(|(a, b)| a != b)
        );
    }
}

#[test]
fn a_panic_restores_the_terminal_and_is_printed() {
    let mut tui = spawn(&["assets/sample-run"], &[("TESTSCOPE_TEST_PANIC", "1")]);
    let screen = tui.screen.clone();
    // The hook panics on the first key: press one once the summary is up.
    wait_for(&screen, "TestSerializeCPU");
    tui.writer.write_all(b"j").expect("write to the pty");
    tui.writer.flush().expect("flush the pty");
    let status = tui.wait_exit();
    assert!(
        !status.success(),
        "a panic must fail: {status:?}\n{}",
        dump(&screen)
    );
    tui.assert_restored();
    let text = contents(&screen);
    assert!(
        text.contains("deliberate panic"),
        "the panic message is printed on the normal screen:\n{}",
        dump(&screen)
    );
    // In order: the UI modes were entered, then left, then the panic was printed.
    let bytes = tui.transcript.lock().unwrap().clone();
    let at = |needle: &str| {
        bytes
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
            .unwrap_or_else(|| panic!("{needle:?} not in the output"))
    };
    let panic_at = at("deliberate panic");
    for (mode, enter, leave) in [
        ("the alternate screen", "\x1b[?1049h", "\x1b[?1049l"),
        ("mouse capture", "\x1b[?1003h", "\x1b[?1003l"),
    ] {
        assert!(
            at(enter) < at(leave) && at(leave) < panic_at,
            "{mode}: entered, then left, then the panic printed"
        );
    }
}

/// `testscope PATH --base BASE` in a real terminal: the Compare view first, a verdict
/// explained with Enter, the Clusters view a key away.
#[test]
fn compare_with_a_base_in_a_real_terminal() {
    let mut tui = spawn(
        &[
            "assets/sample-run",
            "--base",
            "assets/sample-base",
            "--job-names",
            "assets/sample-run/job-names.json",
        ],
        &[],
    );
    let screen = tui.screen.clone();
    wait_for_row(&screen, 2, "0 Compare");
    wait_for_row(&screen, 3, " Compare");
    wait_for(&screen, "new_failure");
    tui.send(ENTER);
    wait_for(&screen, "Verdict: new_failure");
    wait_for(&screen, "fails here and passed in the base run");
    tui.esc();
    tui.send("9");
    wait_for_row(&screen, 3, " Clusters");
    wait_for(&screen, "Signature");
    tui.send("q");
    let status = tui.wait_exit();
    assert!(status.success(), "{status:?}");
    tui.assert_restored();
}

/// A run read from S3 is browsable while it downloads: the header counts the zip still
/// coming (the last one, held until the test has seen the count), a failed case of a zip
/// already in opens with its detail, and the whole run shows once the last zip is in.
#[test]
fn a_run_from_s3_is_browsable_while_it_downloads() {
    use common::proxy::{Action, Proxy};
    use common::s3::{ACCESS_KEY, SECRET_KEY, Seaweed, put_tree};

    let server = Seaweed::start(&["gha-artifacts"]);
    let run = tempfile::tempdir().unwrap();
    let opts = testscope_gen::GenOptions::profile("sample").unwrap();
    testscope_gen::generate(&opts, run.path()).unwrap();
    let keys = put_tree(
        &server.client(),
        "gha-artifacts",
        &run.path().join("gha-artifacts"),
        "",
    );
    let last = common::last_report_zip(&keys);
    let gate = common::Gate::default();
    let door = gate.clone();
    let proxy = Proxy::start(server.addr(), move |h, _| {
        if h.method == "GET" && h.path().ends_with(&last) {
            door.wait();
        }
        Action::Forward
    });
    let endpoint = proxy.endpoint();
    let mut tui = spawn(
        &[
            "--workflow-run-id",
            "1000000001",
            "--workflow-run-attempt",
            "1",
            "--s3-endpoint",
            &endpoint,
            "--s3-path-style",
            "--no-cache",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent/testscope/aws-config"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/testscope/aws-credentials",
            ),
        ],
    );
    let screen = tui.screen.clone();
    wait_for(&screen, "1 artifact downloading");
    // A failed case of a zip already in: its detail is read again from that zip.
    tui.send("2");
    wait_for_row(&screen, 3, " Failures");
    wait_for(&screen, "failed");
    tui.send(ENTER);
    wait_for(&screen, "Attributes");
    wait_for(&screen, "Traceback");
    assert!(
        !contents(&screen).contains("could not be read again"),
        "{}",
        dump(&screen)
    );
    tui.esc();
    gate.open();
    wait_gone(&screen, "downloading");
    wait_for(&screen, "300 tests");
    tui.send("q");
    let status = tui.wait_exit();
    assert!(status.success(), "{status:?}: {}", dump(&screen));
    tui.assert_restored();
}
