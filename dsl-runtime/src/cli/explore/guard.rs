//! The explorer's front door: bounds what a connection may send before
//! `tiny_http` sees it.
//!
//! `tiny_http` 0.12 reads a request line or header line into a buffer
//! that grows until the line ends, and takes any number of header lines,
//! so a client that sends one endless line grows the server's memory
//! without limit. The guard accepts on the explorer's port, reads each
//! request head itself within [`MAX_LINE`], [`MAX_HEADERS`] and
//! [`MAX_HEAD`] (answering `431` and closing past them, `408` when the
//! head does not come within [`HEAD_TIMEOUT`]), and only then hands the
//! connection to the `tiny_http` server on a private loopback port: the
//! head it read, with `Connection: close` so that the next request comes
//! through the guard again on a new connection, then the rest of the
//! bytes both ways. At most [`MAX_CONNECTIONS`] connections are open at
//! once; one more is answered `503` and closed.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The longest request line or header line, in bytes (with its CRLF).
pub const MAX_LINE: usize = 8 << 10;
/// The most header lines a request may have.
pub const MAX_HEADERS: usize = 64;
/// The longest request head (request line and headers), in bytes.
pub const MAX_HEAD: usize = 32 << 10;
/// Connections open at once.
pub const MAX_CONNECTIONS: usize = 32;
/// How long a client may take to send its request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request head was refused.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// 431: a line, the header count or the head too large.
    TooLarge(&'static str),
    /// 400: not a request head (a bare LF, no request line).
    Malformed,
    /// 408: the head did not come in time.
    Slow,
    /// The client went away; nothing to answer.
    Gone,
}

/// Accepts connections on `public` for ever, guarding each and passing it
/// on to the server at `inner`.
pub fn serve(public: TcpListener, inner: SocketAddr) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in public.incoming() {
        let Ok(mut client) = stream else { continue };
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::SeqCst);
            refuse(
                &mut client,
                "503 Service Unavailable",
                "too many connections",
            );
            continue;
        }
        let counted = open.clone();
        let spawned = std::thread::Builder::new()
            .name("explore-conn".into())
            .spawn(move || {
                pass_on(client, inner);
                counted.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// One connection: its head read within bounds, then handed on.
fn pass_on(mut client: TcpStream, inner: SocketAddr) {
    let _ = client.set_read_timeout(Some(HEAD_TIMEOUT));
    let head = match read_head(&mut client) {
        Ok(head) => head,
        Err(Refusal::TooLarge(what)) => {
            return refuse(&mut client, "431 Request Header Fields Too Large", what)
        }
        Err(Refusal::Malformed) => return refuse(&mut client, "400 Bad Request", "not HTTP"),
        Err(Refusal::Slow) => {
            return refuse(
                &mut client,
                "408 Request Timeout",
                "the request head was too slow",
            )
        }
        Err(Refusal::Gone) => return,
    };
    let _ = client.set_read_timeout(None);
    let Ok(mut server) = TcpStream::connect(inner) else {
        return refuse(
            &mut client,
            "503 Service Unavailable",
            "the explorer is not up",
        );
    };
    if server.write_all(&closing(&head)).is_err() {
        return;
    }
    let (Ok(mut from_client), Ok(mut to_server)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    // The body (if any) goes on while the answer comes back.
    let upload = std::thread::spawn(move || {
        let _ = io::copy(&mut from_client, &mut to_server);
        let _ = to_server.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
    let _ = upload.join();
}

/// Reads a request head, up to and with its empty line, within the
/// bounds. Bytes after the head stay in the socket.
fn read_head(client: &mut impl Read) -> Result<Vec<u8>, Refusal> {
    let mut head = Vec::with_capacity(1024);
    let (mut line_start, mut lines) = (0usize, 0usize);
    let mut byte = [0u8; 1];
    loop {
        match client.read(&mut byte) {
            Ok(0) => return Err(Refusal::Gone),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Refusal::Slow)
            }
            Err(_) => return Err(Refusal::Gone),
        }
        head.push(byte[0]);
        if head.len() - line_start > MAX_LINE {
            return Err(Refusal::TooLarge(
                "a request line or header line is too long",
            ));
        }
        if head.len() > MAX_HEAD {
            return Err(Refusal::TooLarge("the request head is too large"));
        }
        if byte[0] != b'\n' {
            continue;
        }
        if !head[..head.len() - 1].ends_with(b"\r") {
            return Err(Refusal::Malformed);
        }
        let line_len = head.len() - line_start;
        line_start = head.len();
        if line_len == 2 {
            return if lines == 0 {
                Err(Refusal::Malformed)
            } else {
                Ok(head)
            };
        }
        lines += 1;
        if lines > MAX_HEADERS + 1 {
            return Err(Refusal::TooLarge("too many header lines"));
        }
    }
}

/// `head` with any `Connection` header replaced by `Connection: close`.
fn closing(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len() + 19);
    let body = &head[..head.len() - 2];
    for line in body.split_inclusive(|&b| b == b'\n') {
        let name = line.split(|&b| b == b':').next().unwrap_or(&[]);
        if name.eq_ignore_ascii_case(b"connection") {
            continue;
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// Answers `status` with a short text and closes.
fn refuse(client: &mut TcpStream, status: &str, why: &str) {
    let text = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{why}\n",
        why.len() + 1
    );
    let _ = client.write_all(text.as_bytes());
    let _ = client.flush();
    // Drop what else the client sent, briefly, so that closing does not
    // reset the connection before it reads the answer.
    let _ = client.shutdown(Shutdown::Write);
    let _ = client.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 4096];
    let mut left = 1 << 20;
    while left > 0 {
        match client.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => left -= n.min(left),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &[u8]) -> Result<Vec<u8>, Refusal> {
        read_head(&mut &text[..])
    }

    #[test]
    fn a_head_within_bounds_is_read_to_its_empty_line_and_no_further() {
        let got = head(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY").unwrap();
        assert_eq!(got, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(
            closing(&got),
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        );
        let kept = closing(b"GET / HTTP/1.1\r\nconnection: keep-alive\r\n\r\n");
        assert_eq!(kept, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    }

    #[test]
    fn long_lines_many_headers_and_bare_line_feeds_are_refused() {
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_LINE));
        assert!(matches!(head(&long), Err(Refusal::TooLarge(_))));
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend(format!("X-{i}: 1\r\n").bytes());
        }
        many.extend(b"\r\n");
        assert_eq!(head(&many), Err(Refusal::TooLarge("too many header lines")));
        assert_eq!(
            head(b"GET / HTTP/1.1\nHost: x\n\n"),
            Err(Refusal::Malformed)
        );
        assert_eq!(head(b"\r\n"), Err(Refusal::Malformed));
        assert_eq!(head(b"GET / HTTP/1.1\r\n"), Err(Refusal::Gone));
    }
}
