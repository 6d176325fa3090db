//! A small SMTP server for the tests (RFC 5321, no TLS): it takes the mail
//! that Pyruse sends over SMTP and keeps it in memory.
//!
//! It listens on 127.0.0.1 only, in a thread, one more thread per
//! connection (16 at most at once). It speaks what lettre and a plain
//! client need: the 220 greeting, EHLO (advertising `SIZE` and `8BITMIME`,
//! and `AUTH PLAIN` once [`SmtpSink::require_auth`] was called; never
//! `STARTTLS`), HELO, MAIL FROM (with `SIZE=` and `BODY=`), RCPT TO, DATA
//! (dot-unstuffed), RSET, NOOP, VRFY, HELP, QUIT. It is strict where a real
//! relay may be: commands need EHLO/HELO first, command lines are at most
//! 512 octets, text lines 1000 (CRLF included), and a message with a bare CR
//! or LF is refused (554), as Postfix's `smtpd_forbid_bare_newline` does.
//!
//! Each accepted message is kept as a [`Received`]: the envelope sender and
//! recipients (the text between `<` and `>`) and the data exactly as the
//! client meant it (dot-unstuffing undone, final CRLF kept, terminating
//! `.` line dropped).
//!
//! Bounded: a connection that sends no complete line for
//! [`SmtpSink::IDLE_LIMIT`] is closed, and [`SmtpSink::stop`] (or dropping
//! the sink) closes the listener and every connection within about 50 ms.
//!
//! To test retries, stop the sink (its port then refuses connections) and
//! start a new one on the same port with [`SmtpSink::start_on`]; to test
//! error replies, make it answer a command with a given reply
//! ([`SmtpSink::reply`]).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One message accepted by the sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The MAIL FROM address, without `<>` (empty for the null sender).
    pub from: String,
    /// The RCPT TO addresses, without `<>`, in order.
    pub to: Vec<String>,
    /// The message: the DATA lines with their CRLF, dot-unstuffed.
    pub data: Vec<u8>,
}

#[derive(Default)]
struct Behaviour {
    /// Verb (upper case, or CONNECT) → reply to send instead.
    replies: HashMap<String, String>,
    /// Credentials that AUTH PLAIN must give before MAIL.
    auth: Option<(String, String)>,
}

struct Shared {
    received: Mutex<Vec<Received>>,
    behaviour: Mutex<Behaviour>,
    stop: AtomicBool,
}

/// The test SMTP server; stops when dropped.
pub struct SmtpSink {
    pub port: u16,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

const NAME: &str = "sink.test";
/// Advertised with SIZE; larger messages are refused (552).
const MAX_SIZE: usize = 10 * 1024 * 1024;
const MAX_RECIPIENTS: usize = 100;
const MAX_CONNECTIONS: usize = 16;
/// RFC 5321 §4.5.3.1.4 and §4.5.3.1.6, CRLF included.
const MAX_COMMAND_LINE: usize = 512;
const MAX_TEXT_LINE: usize = 1000;
/// How often blocked reads look at the stop flag.
const POLL: Duration = Duration::from_millis(50);
/// How often the listener looks for a connection (or the stop flag).
const ACCEPT_POLL: Duration = Duration::from_millis(5);

impl SmtpSink {
    /// How long a connection may stay without sending a complete line.
    pub const IDLE_LIMIT: Duration = Duration::from_secs(10);

    /// Start on a free port of 127.0.0.1.
    pub fn start() -> SmtpSink {
        SmtpSink::start_on(0).expect("the SMTP sink can listen on 127.0.0.1")
    }

    /// Start on a given port of 127.0.0.1 (0 for a free one), e.g. the port
    /// of a sink stopped earlier, to accept connections there again.
    pub fn start_on(port: u16) -> io::Result<SmtpSink> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            received: Mutex::new(Vec::new()),
            behaviour: Mutex::new(Behaviour::default()),
            stop: AtomicBool::new(false),
        });
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("smtp-sink-{port}"))
            .spawn(move || serve(listener, s))?;
        Ok(SmtpSink {
            port,
            shared,
            thread: Some(thread),
        })
    }

    /// The messages accepted so far, in order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared.received).clone()
    }

    /// Wait up to `timeout` until at least `n` messages were accepted, and
    /// return them all.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let end = Instant::now() + timeout;
        loop {
            let r = self.received();
            if r.len() >= n || Instant::now() >= end {
                return r;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Answer `verb` (`EHLO`, `MAIL`, `RCPT`, `DATA`…, or `CONNECT` for the
    /// greeting) with `reply`, a whole reply line such as
    /// `"451 4.3.0 Try again later"`, instead of carrying it out: the
    /// command then has no effect. For DATA, the reply is the one after the
    /// message, which is read and not kept. After a greeting reply, the
    /// connection is closed. Until [`SmtpSink::clear_replies`].
    pub fn reply(&self, verb: &str, reply: &str) {
        lock(&self.shared.behaviour)
            .replies
            .insert(verb.to_ascii_uppercase(), reply.to_string());
    }

    /// Carry out every command again.
    pub fn clear_replies(&self) {
        lock(&self.shared.behaviour).replies.clear();
    }

    /// Advertise `AUTH PLAIN` and require these credentials before MAIL
    /// (530 without, 535 when wrong).
    pub fn require_auth(&self, user: &str, password: &str) {
        lock(&self.shared.behaviour).auth = Some((user.to_string(), password.to_string()));
    }

    /// Settings for Pyruse to send here: plain SMTP, no credentials.
    pub fn config(&self) -> pyruse::config::Smtp {
        pyruse::config::Smtp {
            host: Ipv4Addr::LOCALHOST.to_string(),
            port: Some(self.port),
            security: "none".into(),
            user: None,
            password: None,
        }
    }

    /// Stop listening and close every connection; the port then refuses
    /// connections.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking test thread must not hide the messages from the others.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((mut stream, _)) => {
                sessions.retain(|h| !h.is_finished());
                if sessions.len() >= MAX_CONNECTIONS {
                    let _ = stream.write_all(b"421 4.7.0 sink.test Too many connections\r\n");
                    continue;
                }
                let s = Arc::clone(&shared);
                sessions.push(std::thread::spawn(move || {
                    let _ = Session::new(stream, s).and_then(Session::run);
                }));
            }
            Err(_) => std::thread::sleep(ACCEPT_POLL),
        }
    }
    drop(listener);
    for h in sessions {
        let _ = h.join();
    }
}

/// How a read of a line ended without a line.
enum End {
    /// The client closed the connection, was idle too long, or the sink stops.
    Closed,
    /// A line of more than 64 KiB: not SMTP.
    Flood,
}

struct Session {
    stream: TcpStream,
    shared: Arc<Shared>,
    buf: Vec<u8>,
    greeted: bool,
    authenticated: bool,
    from: Option<String>,
    to: Vec<String>,
}

impl Session {
    fn new(stream: TcpStream, shared: Arc<Shared>) -> io::Result<Session> {
        stream.set_nonblocking(false)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(POLL))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        Ok(Session {
            stream,
            shared,
            buf: Vec::new(),
            greeted: false,
            authenticated: false,
            from: None,
            to: Vec::new(),
        })
    }

    /// Send a reply in one write (two would wait for a delayed ACK).
    fn send(&mut self, reply: &str) -> io::Result<()> {
        self.stream.write_all(format!("{reply}\r\n").as_bytes())
    }

    fn canned(&self, verb: &str) -> Option<String> {
        lock(&self.shared.behaviour).replies.get(verb).cloned()
    }

    /// The next line, with its line end (LF, maybe after CR).
    fn line(&mut self) -> Result<Vec<u8>, End> {
        let mut last = Instant::now();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                return Ok(self.buf.drain(..=i).collect());
            }
            if self.buf.len() > 64 * 1024 {
                return Err(End::Flood);
            }
            if self.shared.stop.load(Ordering::SeqCst) || last.elapsed() > SmtpSink::IDLE_LIMIT {
                return Err(End::Closed);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(End::Closed),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    last = Instant::now();
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => return Err(End::Closed),
            }
        }
    }

    fn reset(&mut self) {
        self.from = None;
        self.to.clear();
    }

    fn run(mut self) -> io::Result<()> {
        if let Some(r) = self.canned("CONNECT") {
            return self.send(&r);
        }
        self.send(&format!("220 {NAME} ESMTP test sink"))?;
        loop {
            let line = match self.line() {
                Ok(l) => l,
                Err(End::Flood) => return self.send("500 5.5.2 Line too long, closing"),
                Err(End::Closed) => {
                    let _ = self.send("421 4.4.2 sink.test Closing connection");
                    return Ok(());
                }
            };
            if line.len() > MAX_COMMAND_LINE {
                self.send("500 5.5.2 Line too long")?;
                continue;
            }
            let Ok(text) = std::str::from_utf8(&line) else {
                self.send("500 5.5.2 Not a command")?;
                continue;
            };
            let text = text.trim_end_matches(['\r', '\n']);
            let (verb, arg) = match text.split_once(' ') {
                Some((v, a)) => (v.to_ascii_uppercase(), a.trim()),
                None => (text.to_ascii_uppercase(), ""),
            };
            if let Some(r) = self.canned(&verb).filter(|_| verb != "DATA") {
                self.send(&r)?;
                continue;
            }
            match verb.as_str() {
                "EHLO" | "HELO" if arg.is_empty() => self.send("501 5.5.4 Syntax: EHLO domain")?,
                "EHLO" => {
                    self.reset();
                    self.greeted = true;
                    let mut lines = vec![
                        format!("{NAME} Hello {arg}"),
                        format!("SIZE {MAX_SIZE}"),
                        "8BITMIME".into(),
                    ];
                    if lock(&self.shared.behaviour).auth.is_some() {
                        lines.push("AUTH PLAIN".into());
                    }
                    let last = lines.len() - 1;
                    let reply = lines
                        .iter()
                        .enumerate()
                        .map(|(i, l)| format!("250{}{l}", if i == last { ' ' } else { '-' }))
                        .collect::<Vec<_>>()
                        .join("\r\n");
                    self.send(&reply)?;
                }
                "HELO" => {
                    self.reset();
                    self.greeted = true;
                    self.send(&format!("250 {NAME}"))?;
                }
                "AUTH" => self.auth(arg)?,
                "MAIL" => self.mail(arg)?,
                "RCPT" => self.rcpt(arg)?,
                "DATA" if !arg.is_empty() => self.send("501 5.5.4 Syntax: DATA")?,
                "DATA" => self.data()?,
                "RSET" => {
                    self.reset();
                    self.send("250 2.0.0 Ok")?;
                }
                "NOOP" => self.send("250 2.0.0 Ok")?,
                "VRFY" => self.send("252 2.5.2 Cannot VRFY user")?,
                "HELP" => self.send("214 2.0.0 See RFC 5321")?,
                "QUIT" => {
                    self.send(&format!("221 2.0.0 {NAME} Bye"))?;
                    return Ok(());
                }
                "STARTTLS" => self.send("502 5.5.1 STARTTLS not offered")?,
                _ => self.send("500 5.5.2 Command not recognized")?,
            }
        }
    }

    /// `<path>` and the parameters after it, from `FROM:<path> params`.
    fn path<'a>(arg: &'a str, keyword: &str) -> Option<(String, Vec<&'a str>)> {
        let head = arg.get(..keyword.len())?;
        if !head.eq_ignore_ascii_case(keyword) {
            return None;
        }
        let rest = arg[keyword.len()..].trim_start();
        let rest = rest.strip_prefix('<')?;
        let close = rest.find('>')?;
        let path = &rest[..close];
        // A source route (`@a,@b:user@c`) is to be ignored (RFC 5321 §3.3).
        let path = match path.starts_with('@') {
            true => path.split_once(':').map_or(path, |(_, p)| p),
            false => path,
        };
        if path.contains(char::is_whitespace) {
            return None;
        }
        Some((
            path.to_string(),
            rest[close + 1..].split_whitespace().collect(),
        ))
    }

    fn mail(&mut self, arg: &str) -> io::Result<()> {
        if !self.greeted {
            return self.send("503 5.5.1 Send EHLO first");
        }
        if self.from.is_some() {
            return self.send("503 5.5.1 Nested MAIL command");
        }
        if lock(&self.shared.behaviour).auth.is_some() && !self.authenticated {
            return self.send("530 5.7.0 Authentication required");
        }
        let Some((from, params)) = Session::path(arg, "FROM:") else {
            return self.send("501 5.5.4 Syntax: MAIL FROM:<address>");
        };
        for p in params {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            match k.to_ascii_uppercase().as_str() {
                "SIZE" => match v.parse::<usize>() {
                    Ok(n) if n > MAX_SIZE => {
                        return self.send("552 5.3.4 Message size exceeds fixed limit")
                    }
                    Ok(_) => {}
                    Err(_) => return self.send("501 5.5.4 Bad SIZE parameter"),
                },
                "BODY" if v.eq_ignore_ascii_case("7BIT") || v.eq_ignore_ascii_case("8BITMIME") => {}
                _ => return self.send("555 5.5.4 Unsupported parameter"),
            }
        }
        self.from = Some(from);
        self.send("250 2.1.0 Ok")
    }

    fn rcpt(&mut self, arg: &str) -> io::Result<()> {
        if self.from.is_none() {
            return self.send("503 5.5.1 Need MAIL command");
        }
        let Some((to, params)) = Session::path(arg, "TO:") else {
            return self.send("501 5.5.4 Syntax: RCPT TO:<address>");
        };
        if to.is_empty() {
            return self.send("501 5.1.3 Empty recipient");
        }
        if !params.is_empty() {
            return self.send("555 5.5.4 Unsupported parameter");
        }
        if self.to.len() >= MAX_RECIPIENTS {
            return self.send("452 4.5.3 Too many recipients");
        }
        self.to.push(to);
        self.send("250 2.1.5 Ok")
    }

    fn data(&mut self) -> io::Result<()> {
        if self.from.is_none() {
            return self.send("503 5.5.1 Need MAIL command");
        }
        if self.to.is_empty() {
            return self.send("554 5.5.1 No valid recipients");
        }
        self.send("354 End data with <CR><LF>.<CR><LF>")?;
        let mut data = Vec::new();
        let (mut too_long, mut bare, mut too_big) = (false, false, false);
        loop {
            let line = match self.line() {
                Ok(l) => l,
                Err(End::Flood) => return self.send("500 5.5.2 Line too long, closing"),
                Err(End::Closed) => return Ok(()),
            };
            if line == b".\r\n" {
                break;
            }
            too_long |= line.len() > MAX_TEXT_LINE;
            // Every CR and LF must be part of a CRLF.
            let body = line.strip_suffix(b"\r\n");
            bare |= body.is_none_or(|b| b.contains(&b'\r') || b.contains(&b'\n'));
            let line = line.strip_prefix(b".").unwrap_or(&line);
            if data.len() + line.len() > MAX_SIZE {
                too_big = true;
            } else {
                data.extend_from_slice(line);
            }
        }
        let from = self.from.take().unwrap_or_default();
        let to = std::mem::take(&mut self.to);
        if let Some(r) = self.canned("DATA") {
            return self.send(&r);
        }
        if too_big {
            return self.send("552 5.3.4 Message size exceeds fixed limit");
        }
        if too_long {
            return self.send("554 5.6.0 Line longer than 1000 octets");
        }
        if bare {
            return self.send("554 5.6.0 Bare CR or LF in message");
        }
        let n = {
            let mut r = lock(&self.shared.received);
            r.push(Received { from, to, data });
            r.len()
        };
        self.send(&format!("250 2.0.0 Ok: queued as {n}"))
    }

    fn auth(&mut self, arg: &str) -> io::Result<()> {
        let Some((user, password)) = lock(&self.shared.behaviour).auth.clone() else {
            return self.send("502 5.5.1 AUTH not offered");
        };
        if !self.greeted || self.authenticated || self.from.is_some() {
            return self.send("503 5.5.1 AUTH not allowed now");
        }
        let (mechanism, initial) = arg.split_once(' ').unwrap_or((arg, ""));
        if !mechanism.eq_ignore_ascii_case("PLAIN") {
            return self.send("504 5.5.4 Unrecognized authentication type");
        }
        let response = if initial.is_empty() {
            self.send("334 ")?;
            match self.line() {
                Ok(l) => String::from_utf8_lossy(&l).trim().to_string(),
                Err(_) => return Ok(()),
            }
        } else {
            initial.trim().to_string()
        };
        if response == "*" {
            return self.send("501 5.7.0 Authentication cancelled");
        }
        let decoded = if response == "=" {
            Some(Vec::new())
        } else {
            base64_decode(&response)
        };
        let Some(decoded) = decoded else {
            return self.send("501 5.5.2 Cannot decode response");
        };
        // authzid NUL authcid NUL passwd (RFC 4616)
        let parts: Vec<&[u8]> = decoded.split(|&b| b == 0).collect();
        if parts.len() == 3 && parts[1] == user.as_bytes() && parts[2] == password.as_bytes() {
            self.authenticated = true;
            self.send("235 2.7.0 Authentication successful")
        } else {
            self.send("535 5.7.8 Authentication credentials invalid")
        }
    }
}

/// Standard base64 with padding, as AUTH uses (RFC 4648 §4).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (i, quad) in s.chunks(4).enumerate() {
        let last = i == s.len() / 4 - 1;
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = (n << 6) | u32::from(value(c)?);
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}
