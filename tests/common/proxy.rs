//! A small fault-injecting HTTP/1.1 proxy on 127.0.0.1 for the S3 fault tests. Each request
//! is shown to a test's `decide` function, which forwards it to the real server, delays it,
//! answers with an S3 error, never answers, drops the connection, or forwards only part of
//! its body and runs a hook (to stop the server mid-upload). Forwarded requests get
//! `Connection: close`, so every request opens its own upstream connection and the proxy
//! never has to parse a response. Requests are signed over the Host header, which is
//! forwarded unchanged, so signatures stay valid.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The request line and headers of one request.
#[derive(Debug, Clone)]
pub struct Head {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub content_length: usize,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query (`/bucket/key`).
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn is_list(&self) -> bool {
        self.method == "GET" && self.target.contains("list-type=2")
    }
}

pub enum Action {
    Forward,
    /// Wait, then forward.
    Delay(Duration),
    /// Answer with this status and S3 error code, without forwarding.
    Error(u16, &'static str),
    /// Read the request and never answer (the client's timeout must fire).
    Hang,
    /// Close the connection without an answer.
    Drop,
    /// Forward the head and this many body bytes, run the hook, then close both sides.
    ForwardPartial(usize, Box<dyn FnOnce() + Send>),
    /// Forward, but pass on only the answer's head and this many bytes of its body.
    TruncateAnswer(usize),
}

/// `decide(request, n)`: `n` is how many earlier requests had the same method and target.
type Decide = dyn Fn(&Head, usize) -> Action + Send + Sync;

#[derive(Default)]
struct State {
    log: Mutex<Vec<(String, String)>>,
    stop: AtomicBool,
}

pub struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
}

impl Proxy {
    pub fn start(
        upstream: SocketAddr,
        decide: impl Fn(&Head, usize) -> Action + Send + Sync + 'static,
    ) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let decide: Arc<Decide> = Arc::new(decide);
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (st, decide) = (st.clone(), decide.clone());
                std::thread::spawn(move || serve(conn, upstream, &st, &*decide));
            }
        });
        Proxy { addr, state }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request seen: (method, target).
    pub fn log(&self) -> Vec<(String, String)> {
        self.state.log.lock().unwrap().clone()
    }

    /// How many requests had this method and a path ending in `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.log()
            .iter()
            .filter(|(m, t)| m == method && t.split('?').next().unwrap_or("").ends_with(suffix))
            .count()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(mut client: TcpStream, upstream: SocketAddr, state: &State, decide: &Decide) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(60)));
    // One request per connection: every answer closes it (`Connection: close`).
    let Some((head, raw_head)) = read_head(&mut client) else {
        return;
    };
    let n = {
        let mut log = state.log.lock().unwrap();
        let n = log
            .iter()
            .filter(|(m, t)| *m == head.method && *t == head.target)
            .count();
        log.push((head.method.clone(), head.target.clone()));
        n
    };
    // With `Expect: 100-continue` the body only comes after a `100 Continue`: an answer
    // given instead must not wait for it.
    let body_sent = !head
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    match decide(&head, n) {
        Action::Forward => forward(client, upstream, &head, &raw_head, None),
        Action::Delay(d) => {
            std::thread::sleep(d);
            forward(client, upstream, &head, &raw_head, None);
        }
        Action::ForwardPartial(bytes, hook) => {
            forward(client, upstream, &head, &raw_head, Some((bytes, hook)));
        }
        Action::TruncateAnswer(bytes) => truncate_answer(client, upstream, &raw_head, bytes),
        Action::Error(status, code) => {
            if body_sent && discard(&mut client, head.content_length).is_err() {
                return;
            }
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                 <Message>injected by the test proxy</Message><RequestId>proxy</RequestId>\
                 </Error>"
            );
            let reason = match status {
                500 => "Internal Server Error",
                503 => "Service Unavailable",
                _ => "Error",
            };
            let _ = write!(
                client,
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = client.flush();
            let _ = client.shutdown(Shutdown::Write);
            // Let the client read the answer before the socket goes away.
            let _ = client.read(&mut [0u8; 1]);
        }
        Action::Hang => {
            if body_sent {
                let _ = discard(&mut client, head.content_length);
            }
            // Hold the connection until the client gives up (or the read timeout passes).
            let _ = client.read(&mut [0u8; 1]);
        }
        Action::Drop => {
            if body_sent {
                let _ = discard(&mut client, head.content_length);
            }
            let _ = client.shutdown(Shutdown::Both);
        }
    }
}

/// Read a request head; None on EOF or a broken request.
fn read_head(client: &mut TcpStream) -> Option<(Head, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => raw.push(byte[0]),
            _ => return None,
        }
        if raw.len() > 64 * 1024 {
            return None;
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let mut lines = text.split("\r\n");
    let mut request = lines.next()?.split(' ');
    let method = request.next()?.to_string();
    let target = request.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let content_length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    Some((
        Head {
            method,
            target,
            headers,
            content_length,
        },
        raw,
    ))
}

fn discard(client: &mut TcpStream, mut n: usize) -> std::io::Result<()> {
    let mut buf = [0u8; 8192];
    while n > 0 {
        let got = client.read(&mut buf[..n.min(8192)])?;
        if got == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        n -= got;
    }
    Ok(())
}

/// The head with any Connection header replaced by `Connection: close`.
fn closing_head(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

fn forward(
    client: TcpStream,
    upstream: SocketAddr,
    head: &Head,
    raw_head: &[u8],
    partial: Option<(usize, Box<dyn FnOnce() + Send>)>,
) {
    let Ok(mut server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(2)) else {
        // Nothing there (the server was stopped): the client sees a dropped connection.
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    if server.write_all(&closing_head(raw_head)).is_err() {
        return;
    }
    if let Some((bytes, hook)) = partial {
        let mut c = client.try_clone().unwrap();
        let mut left = bytes.min(head.content_length);
        let mut buf = [0u8; 8192];
        while left > 0 {
            match c.read(&mut buf[..left.min(8192)]) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    left -= n;
                }
            }
        }
        hook();
        let _ = server.shutdown(Shutdown::Both);
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    // Full duplex: the body up (exactly Content-Length bytes, which may wait for a
    // `100 Continue` coming down), everything the server says down until it closes.
    let mut up_from = client.try_clone().unwrap();
    let mut up_to = server.try_clone().unwrap();
    let length = head.content_length;
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut (&mut up_from).take(length as u64), &mut up_to);
    });
    let mut down_to = client.try_clone().unwrap();
    let _ = std::io::copy(&mut server, &mut down_to);
    let _ = client.shutdown(Shutdown::Both);
    let _ = up.join();
}

/// Forward a request without a body, then pass on the answer cut `bytes` into its body.
fn truncate_answer(mut client: TcpStream, upstream: SocketAddr, raw_head: &[u8], bytes: usize) {
    let Ok(mut server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(2)) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let mut answer = Vec::new();
    if server.write_all(&closing_head(raw_head)).is_err()
        || server.read_to_end(&mut answer).is_err()
    {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let body_start = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |i| i + 4);
    let _ = client.write_all(&answer[..(body_start + bytes).min(answer.len())]);
    let _ = client.shutdown(Shutdown::Both);
}
