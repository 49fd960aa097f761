//! A tiny scripted HTTP/1.1 server on 127.0.0.1 for tests that talk to GitHub's API.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use testscope::github::GithubConfig;

pub const TOKEN: &str = "ghp_S3cretTestToken0123456789";

// ---------------------------------------------------------------------------------------
// A tiny scripted HTTP/1.1 server: one thread per connection, `Connection: close`.

#[derive(Debug, Clone)]
pub struct Req {
    pub path: String,
    /// Lower-cased names.
    pub headers: HashMap<String, String>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
    /// The job id at the end of `/repos/o/r/actions/jobs/<id>`.
    pub fn job_id(&self) -> i64 {
        self.path.rsplit('/').next().unwrap().parse().unwrap()
    }
}

pub enum Reply {
    Respond {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Accept, read the request, never answer (the stream is held until the server drops).
    Hang,
    /// A binary body (an archive).
    Bytes {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
}

/// `body` as a storage host serves it: the `Range: bytes=a-b` asked for (206, with its
/// Content-Range), else the whole (200).
pub fn ranged(req: &Req, body: &[u8]) -> Reply {
    let range = req
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)));
    match range {
        Some((start, end)) if start <= end && end < body.len() => Reply::Bytes {
            status: 206,
            headers: vec![(
                "Content-Range",
                format!("bytes {start}-{end}/{}", body.len()),
            )],
            body: body[start..=end].to_vec(),
        },
        _ => Reply::Bytes {
            status: 200,
            headers: vec![],
            body: body.to_vec(),
        },
    }
}

pub fn json(status: u16, body: &str) -> Reply {
    Reply::Respond {
        status,
        headers: vec![],
        body: body.to_string(),
    }
}

pub fn with_headers(status: u16, headers: Vec<(&'static str, String)>, body: &str) -> Reply {
    Reply::Respond {
        status,
        headers,
        body: body.to_string(),
    }
}

/// `handler(request, attempt)` where `attempt` is how many earlier requests had this path.
pub type Handler = dyn Fn(&Req, usize) -> Reply + Send + Sync;

#[derive(Default)]
pub struct State {
    pub requests: Mutex<Vec<Req>>,
    pub connections: AtomicUsize,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    held: Mutex<Vec<TcpStream>>,
    stop: AtomicBool,
}

pub struct Server {
    pub addr: SocketAddr,
    pub state: Arc<State>,
}

impl Server {
    pub fn start(handler: impl Fn(&Req, usize) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let handler: Arc<Handler> = Arc::new(handler);
        let st = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if st.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                st.connections.fetch_add(1, Ordering::SeqCst);
                let (st, handler) = (st.clone(), handler.clone());
                std::thread::spawn(move || serve(stream, &st, &*handler));
            }
        });
        Server { addr, state }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Req> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    pub fn count_path(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path == path).count()
    }

    /// Accepted TCP connections (counted before reading, so robust against client timeouts).
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Config pointing here, with the test token and small waits.
    pub fn cfg(&self) -> GithubConfig {
        let mut cfg = GithubConfig::new(Some(self.url()), "pytorch/pytorch", Some(TOKEN.into()));
        cfg.timeout = Duration::from_secs(5);
        cfg.max_wait = Duration::from_millis(100);
        cfg
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(self.addr);
        self.state.held.lock().unwrap().clear();
    }
}

fn serve(mut stream: TcpStream, st: &State, handler: &Handler) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return, // the wake-up connection, or a client that gave up
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = text.split("\r\n");
    let path = lines.next().unwrap().split(' ').nth(1).unwrap().to_string();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let req = Req { path, headers };
    let attempt = {
        let mut reqs = st.requests.lock().unwrap();
        let attempt = reqs.iter().filter(|r| r.path == req.path).count();
        reqs.push(req.clone());
        attempt
    };
    let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    st.max_in_flight.fetch_max(now, Ordering::SeqCst);
    match handler(&req, attempt) {
        Reply::Hang => st.held.lock().unwrap().push(stream),
        Reply::Respond {
            status,
            headers,
            body,
        } => respond(
            &mut stream,
            status,
            "application/json",
            &headers,
            body.as_bytes(),
        ),
        Reply::Bytes {
            status,
            headers,
            body,
        } => respond(&mut stream, status, "application/zip", &headers, &body),
    }
    st.in_flight.fetch_sub(1, Ordering::SeqCst);
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    headers: &[(&'static str, String)],
    body: &[u8],
) {
    let mut out = format!(
        "HTTP/1.1 {status} Scripted\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}
