//! RESP2, the Redis protocol's wire format: commands in, values out.
//!
//! A command is an array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`)
//! or, as a person types it, an inline line (`GET k\r\n`). [`parse`]
//! reads one from the front of a buffer, or says that more bytes are
//! needed; every size it reads is checked against [`RespLimits`] before
//! anything is allocated, so oversized or malformed input is an error,
//! never a large allocation or a panic. [`RespValue::encode`] writes a
//! reply. The server that speaks it is [`crate::runtime::resp_gateway`].

use std::fmt;

/// Bounds on what one command may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RespLimits {
    /// The longest bulk string, in bytes.
    pub max_bulk: usize,
    /// The most elements of a command array.
    pub max_args: usize,
    /// The longest inline command or header line, in bytes.
    pub max_line: usize,
    /// The most bytes one command may span, all elements together.
    pub max_command: usize,
}

impl Default for RespLimits {
    fn default() -> Self {
        RespLimits {
            max_bulk: 1 << 20,
            max_args: 1024,
            max_line: 64 << 10,
            max_command: 4 << 20,
        }
    }
}

/// Why the input is not a command: the connection is answered with
/// `-ERR Protocol error: ...` and closed, as Redis does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RespError(pub String);

impl fmt::Display for RespError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Protocol error: {}", self.0)
    }
}

/// One parsed command: its arguments, the name first, and how many bytes
/// of the buffer it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The arguments (an empty inline line gives none).
    pub args: Vec<Vec<u8>>,
    /// Bytes consumed from the front of the buffer.
    pub used: usize,
}

/// Reads the command at the front of `buf`: `Ok(None)` when it is not
/// complete yet (read more and call again with the longer buffer).
pub fn parse(buf: &[u8], limits: &RespLimits) -> Result<Option<Parsed>, RespError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first != b'*' {
        return parse_inline(buf, limits);
    }
    let Some((count, mut at)) = header_line(buf, 0, limits)? else {
        return Ok(None);
    };
    let count = number(count, "the array length")?;
    if count <= 0 {
        // `*0` and `*-1` are no command; Redis skips them.
        return Ok(Some(Parsed {
            args: Vec::new(),
            used: at,
        }));
    }
    let count = count as usize;
    if count > limits.max_args {
        return Err(RespError(format!(
            "a command of {count} arguments is more than the {} allowed",
            limits.max_args
        )));
    }
    let mut args = Vec::with_capacity(count);
    let mut declared = 0usize;
    for _ in 0..count {
        if at >= buf.len() {
            return Ok(None);
        }
        if buf[at] != b'$' {
            return Err(RespError(format!(
                "expected '$', got '{}'",
                (buf[at] as char).escape_default()
            )));
        }
        let Some((len, next)) = header_line(buf, at, limits)? else {
            return Ok(None);
        };
        let len = number(len, "the bulk length")?;
        if len < 0 || len as u64 > limits.max_bulk as u64 {
            return Err(RespError(format!(
                "invalid bulk length {len} (at most {} bytes)",
                limits.max_bulk
            )));
        }
        let len = len as usize;
        declared = declared.saturating_add(len);
        if declared > limits.max_command {
            return Err(RespError(format!(
                "a command of more than {} bytes",
                limits.max_command
            )));
        }
        let end = next + len;
        if buf.len() < end + 2 {
            return Ok(None);
        }
        if &buf[end..end + 2] != b"\r\n" {
            return Err(RespError("a bulk string does not end in CRLF".into()));
        }
        args.push(buf[next..end].to_vec());
        at = end + 2;
    }
    Ok(Some(Parsed { args, used: at }))
}

/// A header line (`*N` or `$N`) starting at `at`: its text after the type
/// byte and where the next line starts.
fn header_line<'a>(
    buf: &'a [u8],
    at: usize,
    limits: &RespLimits,
) -> Result<Option<(&'a [u8], usize)>, RespError> {
    let rest = &buf[at..];
    let window = &rest[..rest.len().min(limits.max_line)];
    match window.iter().position(|&b| b == b'\n') {
        Some(nl) => {
            let line = &rest[1..nl];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            Ok(Some((line, at + nl + 1)))
        }
        None if rest.len() >= limits.max_line => Err(RespError(format!(
            "a line longer than {} bytes",
            limits.max_line
        ))),
        None => Ok(None),
    }
}

/// A decimal length.
fn number(text: &[u8], what: &str) -> Result<i64, RespError> {
    std::str::from_utf8(text)
        .ok()
        .filter(|t| !t.is_empty() && t.len() <= 20)
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| {
            RespError(format!(
                "invalid {what} '{}'",
                String::from_utf8_lossy(&text[..text.len().min(32)])
            ))
        })
}

/// An inline command: words separated by spaces, up to a newline.
fn parse_inline(buf: &[u8], limits: &RespLimits) -> Result<Option<Parsed>, RespError> {
    let window = &buf[..buf.len().min(limits.max_line)];
    let Some(nl) = window.iter().position(|&b| b == b'\n') else {
        if buf.len() >= limits.max_line {
            return Err(RespError(format!(
                "an inline command longer than {} bytes",
                limits.max_line
            )));
        }
        return Ok(None);
    };
    let line = &buf[..nl];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let args: Vec<Vec<u8>> = line
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|w| !w.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    if args.len() > limits.max_args {
        return Err(RespError(format!(
            "a command of {} arguments is more than the {} allowed",
            args.len(),
            limits.max_args
        )));
    }
    Ok(Some(Parsed { args, used: nl + 1 }))
}

/// A reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RespValue {
    /// `+OK`: a short status text (no CR or LF).
    Simple(String),
    /// `-ERR ...`: an error text (no CR or LF), its first word the kind.
    Error(String),
    /// `:5`.
    Integer(i64),
    /// `$3\r\nabc`.
    Bulk(Vec<u8>),
    /// `$-1`: no value.
    Nil,
    /// `*N`, then the elements.
    Array(Vec<RespValue>),
}

impl RespValue {
    /// `+OK`.
    pub fn ok() -> Self {
        RespValue::Simple("OK".into())
    }

    /// `-ERR text`.
    pub fn err(text: impl fmt::Display) -> Self {
        RespValue::Error(format!("ERR {text}"))
    }

    /// A bulk string, or nil for `None`.
    pub fn bulk_or_nil(value: Option<Vec<u8>>) -> Self {
        value.map_or(RespValue::Nil, RespValue::Bulk)
    }

    /// Appends the wire form to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            RespValue::Simple(s) => line(out, b'+', s.as_bytes()),
            RespValue::Error(s) => line(out, b'-', s.as_bytes()),
            RespValue::Integer(n) => line(out, b':', n.to_string().as_bytes()),
            RespValue::Bulk(b) => {
                line(out, b'$', b.len().to_string().as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            RespValue::Nil => out.extend_from_slice(b"$-1\r\n"),
            RespValue::Array(items) => {
                line(out, b'*', items.len().to_string().as_bytes());
                for item in items {
                    item.encode(out);
                }
            }
        }
    }
}

/// A type byte, a line with CR and LF replaced by spaces, CRLF.
fn line(out: &mut Vec<u8>, kind: u8, text: &[u8]) {
    out.push(kind);
    out.extend(
        text.iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(mut buf: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, RespError> {
        let limits = RespLimits::default();
        let mut out = Vec::new();
        while let Some(p) = parse(buf, &limits)? {
            out.push(p.args);
            buf = &buf[p.used..];
        }
        Ok(out)
    }

    fn words(s: &[&str]) -> Vec<Vec<u8>> {
        s.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn pipelined_arrays_and_inline_commands_are_read_in_order() {
        let got = all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv\n\r\nGET k\r\nPING\n").unwrap();
        assert_eq!(
            got,
            vec![
                words(&["SET", "k", "v\n"]),
                words(&["GET", "k"]),
                words(&["PING"])
            ]
        );
    }

    #[test]
    fn every_prefix_of_a_command_asks_for_more() {
        let cmd = b"*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
        let limits = RespLimits::default();
        for n in 0..cmd.len() {
            assert_eq!(parse(&cmd[..n], &limits), Ok(None), "prefix of {n} bytes");
        }
        assert_eq!(parse(cmd, &limits).unwrap().unwrap().used, cmd.len());
    }

    #[test]
    fn oversized_and_malformed_input_is_an_error_not_an_allocation() {
        let limits = RespLimits::default();
        let cases: [&[u8]; 7] = [
            b"*99999999999\r\n",
            b"*2\r\n$999999999999\r\n",
            b"*1\r\n$-5\r\n",
            b"*x\r\n",
            b"*1\r\n:5\r\n",
            b"*1\r\n$1\r\nab\r\n",
            b"*2\r\n$18446744073709551616\r\n",
        ];
        for case in cases {
            assert!(
                parse(case, &limits).is_err(),
                "{:?}",
                String::from_utf8_lossy(case)
            );
        }
        let long = vec![b'a'; limits.max_line + 1];
        assert!(parse(&long, &limits).is_err());
        let mut many = b"*2000\r\n".to_vec();
        many.extend_from_slice(b"$1\r\na\r\n");
        assert!(parse(&many, &limits).is_err());
        let small = RespLimits {
            max_bulk: 100,
            max_command: 150,
            ..limits
        };
        let mut big = b"*2\r\n$100\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'x', 100));
        big.extend_from_slice(b"\r\n$100\r\n");
        assert!(parse(&big, &small).is_err(), "over max_command in all");
    }

    /// Pseudo-random bytes and mutations of real commands never panic and
    /// never claim more bytes than there are.
    #[test]
    fn random_and_mutated_input_never_panics() {
        let limits = RespLimits {
            max_bulk: 64,
            max_args: 8,
            max_line: 32,
            max_command: 256,
        };
        let seeds: [&[u8]; 3] = [
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
            b"GET key\r\n",
            b"*1\r\n$4\r\nPING\r\n",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..20_000 {
            let mut buf = seeds[round % seeds.len()].to_vec();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % (buf.len() + 1);
                match next() % 3 {
                    0 if at < buf.len() => buf[at] = next() as u8,
                    1 => buf.insert(at, b"*$\r\n-0123456789"[(next() % 15) as usize]),
                    _ => buf.truncate(at),
                }
            }
            if let Ok(Some(p)) = parse(&buf, &limits) {
                assert!(p.used <= buf.len());
                assert!(p.args.len() <= limits.max_args);
            }
        }
    }

    #[test]
    fn replies_encode_as_redis_writes_them() {
        let mut out = Vec::new();
        RespValue::Array(vec![
            RespValue::ok(),
            RespValue::err("bad\r\nthing"),
            RespValue::Integer(-3),
            RespValue::Bulk(b"ab".to_vec()),
            RespValue::Nil,
        ])
        .encode(&mut out);
        assert_eq!(
            out,
            b"*5\r\n+OK\r\n-ERR bad  thing\r\n:-3\r\n$2\r\nab\r\n$-1\r\n"
        );
    }
}
