//! Jepsen's etcd logs: a single register with read, write and
//! compare-and-set.
//!
//! One event a line, fields separated by tabs or spaces:
//! `INFO  jepsen.util - <process> :<type> :<f> <value>`, where type is
//! `invoke`, `ok`, `fail` or `info` and f is `read`, `write` or `cas`.
//!
//! - `:ok :read V` returns `V` (`nil`: never written).
//! - `:ok :cas [A B]` / `:fail :cas [A B]`: the compare found / did not
//!   find `A`.
//! - `:fail :read ...` (a timed-out read): finished with an unknown result.
//! - `:fail :write ...`: did not happen; left out.
//! - `:info ...`: the outcome is unknown and the process moves on; the
//!   operation stays open to the end.
//!
//! Lines of other loggers (starting with a log level such as `INFO` or
//! `WARN` but without `jepsen.util -`) are skipped; any other line is an
//! error.

use super::events::{Completion, Recorder};
use super::ParseError;
use crate::lin::history::History;
use crate::lin::specs::{RegisterOp, RegisterRet};

const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

/// Reads a Jepsen register log.
pub fn parse(text: &str) -> Result<History<RegisterOp, RegisterRet>, ParseError> {
    let mut recorder = Recorder::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let Some(at) = trimmed.find("jepsen.util -") else {
            let first = trimmed.split_whitespace().next().unwrap_or("");
            if LEVELS.contains(&first) {
                continue;
            }
            return Err(ParseError::at(
                number,
                "expected a Jepsen log line such as `INFO  jepsen.util - 3 :invoke :read nil`",
            ));
        };
        let fields: Vec<&str> = trimmed[at + "jepsen.util -".len()..]
            .split_whitespace()
            .collect();
        event(&mut recorder, number, &fields)?;
    }
    Ok(recorder.finish())
}

fn event(
    recorder: &mut Recorder<RegisterOp, RegisterRet>,
    line: usize,
    fields: &[&str],
) -> Result<(), ParseError> {
    let [process, kind, f, value @ ..] = fields else {
        return Err(ParseError::at(
            line,
            "expected `<process> :<type> :<f> <value>` after `jepsen.util -`",
        ));
    };
    let client: u64 = process.parse().map_err(|_| {
        ParseError::at(
            line,
            format!("expected a process number, found `{process}`"),
        )
    })?;
    let value = value.join(" ");
    match *kind {
        ":invoke" => {
            let op = match *f {
                ":read" => RegisterOp::Read,
                ":write" => RegisterOp::Write(integer(line, &value)?),
                ":cas" => {
                    let (from, to) = pair(line, &value)?;
                    RegisterOp::Cas { from, to }
                }
                other => return Err(unknown_f(line, other)),
            };
            recorder.invoke(line, client, op)
        }
        ":ok" => {
            let Some(pending) = recorder.pending(client).copied() else {
                return recorder.complete(line, client, Completion::Unknown);
            };
            let ret = match (*f, pending) {
                (":read", RegisterOp::Read) => RegisterRet::Value(optional_integer(line, &value)?),
                (":write", RegisterOp::Write(v)) => {
                    expect_same(line, integer(line, &value)?, v)?;
                    RegisterRet::Ok
                }
                (":cas", RegisterOp::Cas { from, to }) => {
                    expect_same(line, pair(line, &value)?, (from, to))?;
                    RegisterRet::Ok
                }
                (other, _) => return Err(mismatch(line, other, client)),
            };
            recorder.complete(line, client, Completion::Returned(ret))
        }
        ":fail" => {
            let Some(pending) = recorder.pending(client).copied() else {
                return recorder.complete(line, client, Completion::Unknown);
            };
            let how = match (*f, pending) {
                (":read", RegisterOp::Read) => Completion::Unknown,
                (":write", RegisterOp::Write(_)) => Completion::Failed,
                (":cas", RegisterOp::Cas { .. }) => Completion::Returned(RegisterRet::Fail),
                (other, _) => return Err(mismatch(line, other, client)),
            };
            recorder.complete(line, client, how)
        }
        ":info" => recorder.complete(line, client, Completion::Abandoned),
        other => Err(ParseError::at(
            line,
            format!("expected :invoke, :ok, :fail or :info, found `{other}`"),
        )),
    }
}

fn unknown_f(line: usize, f: &str) -> ParseError {
    ParseError::at(line, format!("expected :read, :write or :cas, found `{f}`"))
}

fn mismatch(line: usize, f: &str, client: u64) -> ParseError {
    ParseError::at(
        line,
        format!("`{f}` does not match the operation client {client} invoked"),
    )
}

fn expect_same<T: PartialEq + std::fmt::Debug>(
    line: usize,
    got: T,
    invoked: T,
) -> Result<(), ParseError> {
    if got == invoked {
        Ok(())
    } else {
        Err(ParseError::at(
            line,
            format!("the completion carries {got:?} but the invocation had {invoked:?}"),
        ))
    }
}

fn integer(line: usize, text: &str) -> Result<i64, ParseError> {
    text.trim()
        .parse()
        .map_err(|_| ParseError::at(line, format!("expected an integer, found `{text}`")))
}

fn optional_integer(line: usize, text: &str) -> Result<Option<i64>, ParseError> {
    if text.trim() == "nil" {
        Ok(None)
    } else {
        integer(line, text).map(Some)
    }
}

fn pair(line: usize, text: &str) -> Result<(i64, i64), ParseError> {
    let inner = text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| ParseError::at(line, format!("expected `[FROM TO]`, found `{text}`")))?;
    let mut parts = inner.split([' ', ',']).filter(|p| !p.is_empty());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), None) => Ok((integer(line, a)?, integer(line, b)?)),
        _ => Err(ParseError::at(
            line,
            format!("expected `[FROM TO]`, found `{text}`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lin::history::OpOutcome;

    #[test]
    fn reads_every_kind_of_event() {
        let log = "INFO  jepsen.util - 0\t:invoke\t:write\t4\n\
                   INFO  jepsen.util - 1 :invoke :cas [4 5]\n\
                   INFO  jepsen.util - 2\t:invoke\t:read\tnil\n\
                   INFO  jepsen.core - some other logger\n\
                   INFO  jepsen.util - 0\t:ok\t:write\t4\n\
                   INFO  jepsen.util - 1\t:fail\t:cas\t[4 5]\n\
                   INFO  jepsen.util - 2\t:fail\t:read\t:timed-out\n\
                   INFO  jepsen.util - 3\t:invoke\t:write\t1\n\
                   INFO  jepsen.util - 3\t:info\t:write\t:timed-out\n\
                   INFO  jepsen.util - 4\t:invoke\t:read\tnil\n\
                   INFO  jepsen.util - 4\t:ok\t:read\t4\n";
        let h = parse(log).unwrap();
        let outcomes: Vec<_> = h.operations().iter().map(|o| o.outcome.clone()).collect();
        assert_eq!(
            outcomes,
            vec![
                OpOutcome::Returned(RegisterRet::Ok),
                OpOutcome::Returned(RegisterRet::Fail),
                OpOutcome::Unknown,
                OpOutcome::Open,
                OpOutcome::Returned(RegisterRet::Value(Some(4))),
            ]
        );
        assert_eq!(h.operations()[1].op, RegisterOp::Cas { from: 4, to: 5 });
    }

    #[test]
    fn failed_writes_are_left_out() {
        let log = "INFO  jepsen.util - 0 :invoke :write 4\nINFO  jepsen.util - 0 :fail :write 4\n";
        assert!(parse(log).unwrap().is_empty());
    }

    #[test]
    fn bad_lines_name_their_number() {
        let cases = [
            "INFO  jepsen.util - x :invoke :read nil",
            "INFO  jepsen.util - 1 :invoke :cas [1]",
            "INFO  jepsen.util - 1 :ok :read 3",
            "INFO  jepsen.util - 1 :bogus :read nil",
            "INFO  jepsen.util - 1",
            "what is this",
        ];
        for case in cases {
            let text = format!("INFO  jepsen.util - 9 :invoke :read nil\n{case}\n");
            let err = parse(&text).unwrap_err();
            assert_eq!(err.line, 2, "{case}: {err}");
        }
    }
}
