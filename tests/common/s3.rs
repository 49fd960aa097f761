//! S3 servers for the integration tests: SeaweedFS (`weed mini`) and moto, installed by
//! scripts/s3-servers.sh into venvs under ~/.cache, started here on free loopback ports and
//! stopped when the handle drops. Each server runs under a small `sh` watchdog that kills it
//! when the test process goes away (its stdin closes), so no server outlives its test.
//! Every wait is bounded: a server that does not come up fails the test with its log.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use testscope::s3_client::{S3, S3Settings};

pub const ACCESS_KEY: &str = "testscope-ci";
pub const SECRET_KEY: &str = "testscope-ci-S3cretKey/0123456789";

/// How long a server may take to come up before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(60);

fn s3_home() -> PathBuf {
    match std::env::var_os("TESTSCOPE_S3_HOME") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
            .join(".cache/testscope-s3"),
    }
}

/// Install (or check) a server's venv once per test process; panics with the script's
/// output when that fails.
fn installed(server: &'static str) -> PathBuf {
    static SEAWEED: OnceLock<Result<(), String>> = OnceLock::new();
    static MOTO: OnceLock<Result<(), String>> = OnceLock::new();
    let cell = if server == "moto" { &MOTO } else { &SEAWEED };
    let result = cell.get_or_init(|| {
        let script = super::project("scripts/s3-servers.sh");
        let out = Command::new("bash")
            .arg(&script)
            .args(["install", server])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} install {server} failed ({}):\n{}{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = result {
        panic!("the {server} server could not be installed: {e}");
    }
    s3_home().join(server).join("bin")
}

/// A free port on 127.0.0.1 (free when asked: the server may still lose a race for it, and
/// then the start is retried with other ports).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A free port whose +10000 neighbour is free too (SeaweedFS's admin gRPC port is always
/// its HTTP port + 10000, whatever the flags say).
fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let p = free_port();
        if p <= 55535 && port_is_free(p + 10000) {
            return p;
        }
    }
    panic!("no free port pair on 127.0.0.1");
}

/// A server process under the watchdog: `sh` starts it in the background, prints its pid,
/// then waits for a line on stdin ("term": SIGTERM, a graceful stop) or for stdin to close
/// (SIGKILL), and waits for it to exit.
struct Watched {
    child: Child,
    stdin: Option<ChildStdin>,
    pid: u32,
}

const WATCHDOG: &str = r#"
"$@" </dev/null >>"$SERVER_LOG" 2>&1 &
p=$!
echo "$p"
if read -r cmd && [ "$cmd" = term ]; then kill -TERM "$p" 2>/dev/null; else kill -KILL "$p" 2>/dev/null; fi
wait "$p"
exit 0
"#;

impl Watched {
    fn spawn(program: &Path, args: &[String], envs: &[(&str, &str)], log: &Path) -> Watched {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(program)
            .args(args)
            .env("SERVER_LOG", log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn sh");
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("read the server's pid");
        let pid = line.trim().parse().expect("the watchdog prints a pid");
        Watched { child, stdin, pid }
    }

    fn running(&self) -> bool {
        // The server is the watchdog's child: gone, or a zombie the watchdog has yet to reap.
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .map(|s| {
                !s.rsplit_once(')')
                    .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
            })
            .unwrap_or(false)
    }

    /// Stop the server (gracefully or not) and wait for the watchdog to finish.
    fn stop(&mut self, graceful: bool) {
        if let Some(mut stdin) = self.stdin.take() {
            if graceful {
                let _ = stdin.write_all(b"term\n");
            }
            drop(stdin);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            if Instant::now() > deadline {
                // The server ignored SIGTERM: kill it ourselves (our own child's child).
                let _ = Command::new("kill")
                    .args(["-KILL", &self.pid.to_string()])
                    .status();
                let _ = self.child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.stop(false);
    }
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// One raw HTTP/1.1 request on loopback; the status code, or None when nothing answers.
pub fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// A SeaweedFS `weed mini` on loopback ports, with one fixed access key.
pub struct Seaweed {
    dir: tempfile::TempDir,
    ports: SeaweedPorts,
    process: Option<Watched>,
}

#[derive(Debug, Clone, Copy)]
struct SeaweedPorts {
    s3: u16,
    s3_grpc: u16,
    master: u16,
    master_grpc: u16,
    volume: u16,
    volume_grpc: u16,
    filer: u16,
    filer_grpc: u16,
    admin: u16,
}

impl SeaweedPorts {
    fn pick() -> Self {
        let mut seen = std::collections::HashSet::new();
        let admin = free_port_pair();
        seen.insert(admin);
        seen.insert(admin + 10000);
        let mut next = || loop {
            let p = free_port();
            if seen.insert(p) {
                return p;
            }
        };
        SeaweedPorts {
            s3: next(),
            s3_grpc: next(),
            master: next(),
            master_grpc: next(),
            volume: next(),
            volume_grpc: next(),
            filer: next(),
            filer_grpc: next(),
            admin,
        }
    }
}

impl Seaweed {
    /// Start a fresh server with the buckets given, ready for requests.
    pub fn start(buckets: &[&str]) -> Seaweed {
        Self::start_with(buckets, None)
    }

    /// [`Seaweed::start`] with `public` readable and listable by anonymous requests.
    pub fn start_public(buckets: &[&str], public: &str) -> Seaweed {
        Self::start_with(buckets, Some(public))
    }

    fn start_with(buckets: &[&str], public: Option<&str>) -> Seaweed {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        let mut identities = vec![serde_json::json!({
            "name": "ci",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        })];
        if let Some(bucket) = public {
            // SeaweedFS's name for unsigned requests.
            identities.push(serde_json::json!({
                "name": "anonymous",
                "actions": [format!("Read:{bucket}"), format!("List:{bucket}")],
            }));
        }
        std::fs::write(
            dir.path().join("s3.json"),
            serde_json::json!({ "identities": identities }).to_string(),
        )
        .unwrap();
        let mut server = Seaweed {
            dir,
            ports: SeaweedPorts::pick(),
            process: None,
        };
        let mut failures = Vec::new();
        for attempt in 0..3 {
            if attempt > 0 {
                // Most likely a port taken between picking and binding: new ports.
                server.ports = SeaweedPorts::pick();
            }
            match server.launch() {
                Ok(()) => {
                    let s3 = server.client();
                    for b in buckets {
                        create_bucket(&s3, b);
                    }
                    return server;
                }
                Err(e) => failures.push(e),
            }
        }
        panic!(
            "SeaweedFS did not start (3 tries):\n{}",
            failures.join("\n---\n")
        );
    }

    fn launch(&mut self) -> Result<(), String> {
        let bin = installed("seaweedfs").join("weed");
        let d = self.dir.path();
        let p = self.ports;
        let args: Vec<String> = vec![
            "mini".into(),
            format!("-dir={}", d.join("data").display()),
            // Loopback only, nothing reported home, no bucket created behind our back.
            "-ip=127.0.0.1".into(),
            "-ip.bind=127.0.0.1".into(),
            "-master.telemetry=false".into(),
            "-s3.autoCreateBucket=false".into(),
            format!("-s3.config={}", d.join("s3.json").display()),
            // Extras off.
            "-webdav=false".into(),
            "-admin.ui=false".into(),
            "-s3.port.iceberg=0".into(),
            "-s3.port.lance=0".into(),
            format!("-s3.port={}", p.s3),
            format!("-s3.port.grpc={}", p.s3_grpc),
            format!("-master.port={}", p.master),
            format!("-master.port.grpc={}", p.master_grpc),
            format!("-volume.port={}", p.volume),
            format!("-volume.port.grpc={}", p.volume_grpc),
            format!("-filer.port={}", p.filer),
            format!("-filer.port.grpc={}", p.filer_grpc),
            format!("-admin.port={}", p.admin),
            format!("-s3.localSocket={}", d.join("s3.sock").display()),
            format!("-filer.localSocket={}", d.join("filer.sock").display()),
        ];
        let log = d.join("weed.log");
        // weed's own log files go to TMPDIR: keep them in the server's folder.
        let tmp = d.join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let process = Watched::spawn(&bin, &args, &[("TMPDIR", tmp.to_str().unwrap())], &log);
        let started = Instant::now();
        let s3 = self.client();
        let failure = loop {
            if !process.running() {
                break "weed exited early";
            }
            // Ready when a signed request succeeds (the S3 port answers before the filer
            // behind it is up).
            if http_status(self.addr(), "/").is_some()
                && s3.block_on(s3.client().list_buckets().send()).is_ok()
            {
                self.process = Some(process);
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                break "weed did not answer in time";
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        drop(process);
        self.remove_sockets();
        Err(format!(
            "{failure} (waited at most {START_TIMEOUT:?}); log {}:\n{}",
            log.display(),
            log_tail(&log)
        ))
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.ports.s3))
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// A client with the server's key, for seeding and reading back.
    pub fn client(&self) -> S3 {
        client_for(&self.endpoint(), ACCESS_KEY, SECRET_KEY)
    }

    /// SIGTERM and wait until it has exited.
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop(true);
        }
    }

    /// SIGKILL: the server dies on the spot.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop(false);
            self.remove_sockets();
        }
    }

    /// weed puts its gRPC unix sockets in /tmp whatever TMPDIR says, and removes them only
    /// on a graceful stop: remove the ones of our ports after a kill.
    fn remove_sockets(&self) {
        let p = self.ports;
        for (kind, port) in [
            ("master", p.master_grpc),
            ("volume", p.volume_grpc),
            ("filer", p.filer_grpc),
            ("s3", p.s3_grpc),
            ("admin", p.admin + 10000),
        ] {
            let _ = std::fs::remove_file(format!("/tmp/seaweedfs-{kind}-grpc-{port}.sock"));
        }
    }

    /// Start again on the same data and ports (after [`Self::stop`] or [`Self::kill`]).
    pub fn restart(&mut self) {
        self.stop();
        let mut failures = Vec::new();
        for _ in 0..3 {
            match self.launch() {
                Ok(()) => return,
                Err(e) => failures.push(e),
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("SeaweedFS did not restart:\n{}", failures.join("\n---\n"));
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        // Killed: the data folder is thrown away with the test.
        self.kill();
    }
}

/// moto in server mode with SigV4 checked: the first three (unauthenticated) calls create
/// an IAM user and its random access key; every later request must be signed with it.
pub struct Moto {
    _dir: tempfile::TempDir,
    port: u16,
    pub access_key: String,
    pub secret_key: String,
    _process: Watched,
}

impl Moto {
    pub fn start(buckets: &[&str]) -> Moto {
        let bin = installed("moto");
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("moto.log");
        let port = free_port();
        let process = Watched::spawn(
            &bin.join("moto_server"),
            &[
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ],
            &[("INITIAL_NO_AUTH_ACTION_COUNT", "3")],
            &log,
        );
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        // /moto-api/ does not use up one of the three free actions.
        while http_status(addr, "/moto-api/") != Some(200) {
            assert!(
                process.running(),
                "moto exited early; log {}:\n{}",
                log.display(),
                log_tail(&log)
            );
            assert!(
                started.elapsed() < START_TIMEOUT,
                "moto did not answer within {START_TIMEOUT:?}; log {}:\n{}",
                log.display(),
                log_tail(&log)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let out = Command::new(bin.join("python"))
            .arg(super::project("scripts/s3/moto-bootstrap.py"))
            .arg(format!("http://{addr}"))
            .stdin(Stdio::null())
            .output()
            .expect("run moto-bootstrap.py");
        assert!(
            out.status.success(),
            "moto bootstrap failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let keys: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let moto = Moto {
            _dir: dir,
            port,
            access_key: keys["access_key"].as_str().unwrap().to_string(),
            secret_key: keys["secret_key"].as_str().unwrap().to_string(),
            _process: process,
        };
        let s3 = moto.client();
        for b in buckets {
            create_bucket(&s3, b);
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn client(&self) -> S3 {
        client_for(&self.endpoint(), &self.access_key, &self.secret_key)
    }
}

pub fn client_for(endpoint: &str, key: &str, secret: &str) -> S3 {
    S3::connect(&S3Settings {
        endpoint: Some(endpoint.to_string()),
        path_style: true,
        region: Some("us-east-1".into()),
        credentials: Some(aws_sdk_s3::config::Credentials::new(
            key, secret, None, None, "tests",
        )),
        ..S3Settings::default()
    })
    .expect("S3 client")
}

pub fn create_bucket(s3: &S3, bucket: &str) {
    s3.block_on(s3.client().create_bucket().bucket(bucket).send())
        .unwrap_or_else(|e| {
            panic!(
                "create bucket {bucket}: {}",
                testscope::s3_client::explain(&e)
            )
        });
}

/// Upload every file below `dir` as `<prefix><relative path>`, 8 at a time.
pub fn put_tree(s3: &S3, bucket: &str, dir: &Path, prefix: &str) -> Vec<String> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files);
    let items: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|(rel, path)| (format!("{prefix}{rel}"), std::fs::read(path).unwrap()))
        .collect();
    put_many(s3, bucket, &items);
    items.into_iter().map(|(k, _)| k).collect()
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.push((rel, p));
        }
    }
}

/// `request`'s result, tried again while it fails with a 5xx and the server may still be
/// starting (weed's parts come up one after another); any other error, or a 5xx that lasts
/// past [`START_TIMEOUT`] from `started`, fails the test with `what`.
fn while_starting<T, E>(
    started: Instant,
    what: &str,
    // Boxed: the SDK's error is several hundred bytes.
    mut request: impl FnMut() -> Result<T, Box<SdkError<E, HttpResponse>>>,
) -> T
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    loop {
        match request() {
            Ok(done) => return done,
            Err(e)
                if e.raw_response()
                    .is_some_and(|r| r.status().is_server_error())
                    && started.elapsed() < START_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("{what}: {}", testscope::s3_client::explain(&e)),
        }
    }
}

/// Put objects in parallel (8 threads driving the client's runtime).
pub fn put_many(s3: &S3, bucket: &str, items: &[(String, Vec<u8>)]) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                while let Some((key, body)) =
                    items.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                {
                    // A fresh weed answers listings before its volume server has registered
                    // with the master: writes then fail with a 500 for a moment.
                    while_starting(started, &format!("put {key}"), || {
                        s3.block_on(
                            s3.client()
                                .put_object()
                                .bucket(bucket)
                                .key(key)
                                .body(body.clone().into())
                                .send(),
                        )
                        .map_err(Box::new)
                    });
                }
            });
        }
    });
}

/// An object's bytes and its Content-Encoding and Content-Type, or None when absent.
pub fn get_object(s3: &S3, bucket: &str, key: &str) -> Option<(Vec<u8>, String, String)> {
    let head = match s3.block_on(s3.client().head_object().bucket(bucket).key(key).send()) {
        Ok(h) => h,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return None,
        Err(e) => panic!("head {key}: {}", testscope::s3_client::explain(&e)),
    };
    // Right after a restart weed's filer answers (so HEAD works) before the volume server
    // holding the bytes has registered again.
    let got = while_starting(Instant::now(), &format!("get {key}"), || {
        s3.block_on(s3.client().get_object().bucket(bucket).key(key).send())
            .map_err(Box::new)
    });
    let body = s3
        .block_on(got.body.collect())
        .unwrap_or_else(|e| panic!("read {key}: {e}"))
        .to_vec();
    Some((
        body,
        head.content_encoding().unwrap_or("").to_string(),
        head.content_type().unwrap_or("").to_string(),
    ))
}

/// Every key in a bucket (paginated).
pub fn list_keys(s3: &S3, bucket: &str) -> Vec<String> {
    s3.block_on(async {
        let mut keys = Vec::new();
        let mut pages = s3
            .client()
            .list_objects_v2()
            .bucket(bucket)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page
                .unwrap_or_else(|e| panic!("list {bucket}: {}", testscope::s3_client::explain(&e)));
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(String::from)),
            );
        }
        keys
    })
}

/// The testscope binary pointed at `endpoint` (path style), with [`testscope_env`].
pub fn testscope_with(endpoint: &str, key: &str, secret: &str) -> Command {
    let mut c = testscope_env(key, secret);
    c.args(["--s3-endpoint", endpoint, "--s3-path-style"]);
    c
}

/// The testscope binary with an AWS environment of the test's making only: the caller's
/// AWS_* and GitHub variables removed, no config files, instance metadata off.
pub fn testscope_env(key: &str, secret: &str) -> Command {
    let mut c = super::testscope_cmd();
    c.env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/testscope/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/testscope/aws-credentials",
        );
    c
}
