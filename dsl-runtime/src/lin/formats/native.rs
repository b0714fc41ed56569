//! Verdict's own history format: one event a line, words separated by
//! spaces, easy to write from any test harness.
//!
//! ```text
//! # Text after `#` (outside quotes) is a comment; blank lines are ignored.
//! model kvstore                # register | kv | kvstore; optional if given on the command line
//! 1 invoke put x "hello world"
//! 2 invoke get x
//! 1 ok
//! 2 ok "hello world"
//! 3 invoke cas x a b
//! 3 fail                       # the compare failed: x did not hold "a"
//! 4 invoke del x
//! 4 unknown                    # finished, result unknown: may or may not have happened
//! 5 invoke put y 1
//! 5 info                       # client 5 gave up; the put stays open to the end
//! ```
//!
//! A line is `<client> <event> ...`, where the client is a non-negative
//! integer with at most one operation pending, and the event is:
//! - `invoke <op> <args>`: the client starts an operation;
//! - `ok [<result>]`: its pending operation returned;
//! - `fail`: its compare-and-set or compare-and-delete found another value
//!   and changed nothing (an operation that certainly failed otherwise is
//!   simply left out of the file);
//! - `unknown`: it finished without a known result;
//! - `info`: the client gave up on it; it stays open (may take effect at any
//!   later point, or never) and the client may invoke again.
//!
//! Operations still pending at the end stay open too.
//!
//! | model | operations | results of `ok` |
//! |---|---|---|
//! | `register` | `read`, `write V`, `cas FROM TO` (integers) | read: `V` or `nil` (never written); others: none |
//! | `kv` | `get K`, `put K V`, `append K V` (keys start as `""`) | get: `V`; others: none |
//! | `kvstore` | `get K`, `put K V`, `del K`, `cas K EXPECTED NEW`, `cad K EXPECTED` (keys start absent) | get: `V` or `nil` (absent); others: none |
//!
//! Words are either bare (no spaces, quotes or `#`) or double-quoted with
//! `\"`, `\\`, `\n`, `\r` and `\t` escapes. A bare `nil` means "no value"; `"nil"`
//! is the three-letter string.

use super::events::{Completion, Recorder};
use super::{Model, ParseError, ParsedHistory};
use crate::lin::history::{ClientId, History, OpOutcome};
use crate::lin::specs::{KvMapOp, KvMapRet, KvStoreOp, KvStoreRet, RegisterOp, RegisterRet};
use std::collections::HashMap;
use std::fmt::Write;

/// One word of a line.
#[derive(Debug, PartialEq, Eq)]
struct Word {
    text: String,
    quoted: bool,
}

impl Word {
    fn is_nil(&self) -> bool {
        !self.quoted && self.text == "nil"
    }
}

/// Splits a line into words, dropping a trailing comment.
fn words(line: &str) -> Result<Vec<Word>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            None | Some('#') => return Ok(out),
            Some('"') => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => return Err("a quoted word is not closed with `\"`".to_string()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => text.push('\n'),
                            Some('t') => text.push('\t'),
                            Some('r') => text.push('\r'),
                            Some(c @ ('"' | '\\')) => text.push(c),
                            Some(c) => return Err(format!("unknown escape `\\{c}`")),
                            None => return Err("a quoted word ends in `\\`".to_string()),
                        },
                        Some(c) => text.push(c),
                    }
                }
                if chars
                    .peek()
                    .is_some_and(|c| !c.is_whitespace() && *c != '#')
                {
                    return Err("put a space after a closing quote".to_string());
                }
                out.push(Word { text, quoted: true });
            }
            Some(_) => {
                let mut text = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '#' {
                        break;
                    }
                    if c == '"' {
                        return Err("a quote inside a bare word; quote the whole word".to_string());
                    }
                    text.push(c);
                    chars.next();
                }
                out.push(Word {
                    text,
                    quoted: false,
                });
            }
        }
    }
}

/// The events of a native file, typed by model.
enum Typed {
    Register(Recorder<RegisterOp, RegisterRet>),
    Kv(Recorder<KvMapOp, KvMapRet>),
    KvStore(Recorder<KvStoreOp, KvStoreRet>),
}

/// Reads a native history. The model comes from a `model` line, or from
/// `model` when the file has none; both present and different is an error.
pub fn parse(text: &str, model: Option<Model>) -> Result<ParsedHistory, ParseError> {
    let mut typed: Option<Typed> = None;
    let start = |m: Model| match m {
        Model::Register => Typed::Register(Recorder::new()),
        Model::Kv => Typed::Kv(Recorder::new()),
        Model::KvStore => Typed::KvStore(Recorder::new()),
    };
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let words = words(line).map_err(|m| ParseError::at(number, m))?;
        let Some(first) = words.first() else {
            continue;
        };
        if first.text == "model" && !first.quoted {
            let [_, name] = &words[..] else {
                return Err(ParseError::at(
                    number,
                    "expected `model register|kv|kvstore`",
                ));
            };
            let named = Model::from_name(&name.text).ok_or_else(|| {
                ParseError::at(
                    number,
                    format!(
                        "unknown model `{}`; expected register, kv or kvstore",
                        name.text
                    ),
                )
            })?;
            if typed.is_some() {
                return Err(ParseError::at(
                    number,
                    "the model line must come before every event",
                ));
            }
            if let Some(asked) = model {
                if asked != named {
                    return Err(ParseError::at(
                        number,
                        format!(
                            "the file is a {} history but {} was asked for",
                            named.name(),
                            asked.name()
                        ),
                    ));
                }
            }
            typed = Some(start(named));
            continue;
        }
        let recorder =
            match &mut typed {
                Some(t) => t,
                None => match model {
                    Some(m) => typed.insert(start(m)),
                    None => return Err(ParseError::at(
                        number,
                        "no model: start the file with `model register|kv|kvstore` or pass --model",
                    )),
                },
            };
        let client: ClientId = first.text.parse().map_err(|_| {
            ParseError::at(
                number,
                format!("expected a client number first, found `{}`", first.text),
            )
        })?;
        let event = words.get(1).ok_or_else(|| {
            ParseError::at(
                number,
                "expected an event after the client: invoke, ok, fail, unknown or info",
            )
        })?;
        let args = &words[2..];
        match recorder {
            Typed::Register(r) => line_event(
                r,
                number,
                client,
                &event.text,
                args,
                register_op,
                register_ret,
            ),
            Typed::Kv(r) => line_event(r, number, client, &event.text, args, kv_op, kv_ret),
            Typed::KvStore(r) => line_event(
                r,
                number,
                client,
                &event.text,
                args,
                kvstore_op,
                kvstore_ret,
            ),
        }?;
    }
    Ok(match typed {
        Some(Typed::Register(r)) => ParsedHistory::Register(r.finish()),
        Some(Typed::Kv(r)) => ParsedHistory::Kv(r.finish()),
        Some(Typed::KvStore(r)) => ParsedHistory::KvStore(r.finish()),
        None => match model {
            Some(Model::Register) | None => ParsedHistory::Register(Recorder::new().finish()),
            Some(Model::Kv) => ParsedHistory::Kv(Recorder::new().finish()),
            Some(Model::KvStore) => ParsedHistory::KvStore(Recorder::new().finish()),
        },
    })
}

/// What `ok` / `fail` mean for a pending operation of some model.
enum Ending<Ret> {
    Ret(Ret),
    Invalid(String),
}

fn line_event<Op, Ret>(
    recorder: &mut Recorder<Op, Ret>,
    line: usize,
    client: ClientId,
    event: &str,
    args: &[Word],
    op_of: fn(&[Word]) -> Result<Op, String>,
    ret_of: fn(&Op, bool, &[Word]) -> Ending<Ret>,
) -> Result<(), ParseError> {
    let no_args = |what: &str| -> Result<(), ParseError> {
        if args.is_empty() {
            Ok(())
        } else {
            Err(ParseError::at(
                line,
                format!("`{what}` takes nothing after it"),
            ))
        }
    };
    match event {
        "invoke" => {
            let op = op_of(args).map_err(|m| ParseError::at(line, m))?;
            recorder.invoke(line, client, op)
        }
        "ok" | "fail" => {
            let Some(op) = recorder.pending(client) else {
                return Err(ParseError::at(
                    line,
                    format!("client {client} has no pending operation to complete"),
                ));
            };
            if event == "fail" {
                no_args("fail")?;
            }
            match ret_of(op, event == "ok", args) {
                Ending::Ret(ret) => recorder.complete(line, client, Completion::Returned(ret)),
                Ending::Invalid(m) => Err(ParseError::at(line, m)),
            }
        }
        "unknown" => {
            no_args("unknown")?;
            recorder.complete(line, client, Completion::Unknown)
        }
        "info" => {
            no_args("info")?;
            recorder.complete(line, client, Completion::Abandoned)
        }
        other => Err(ParseError::at(
            line,
            format!("expected invoke, ok, fail, unknown or info, found `{other}`"),
        )),
    }
}

fn arity(name: &str, args: &[Word], want: usize, usage: &str) -> Result<(), String> {
    if args.len() == want + 1 {
        Ok(())
    } else {
        Err(format!("`{name}` is written `{usage}`"))
    }
}

fn integer(word: &Word) -> Result<i64, String> {
    word.text
        .parse()
        .map_err(|_| format!("expected an integer, found `{}`", word.text))
}

fn register_op(args: &[Word]) -> Result<RegisterOp, String> {
    let name = args.first().map_or("", |w| w.text.as_str());
    match name {
        "read" => arity(name, args, 0, "read").map(|_| RegisterOp::Read),
        "write" => {
            arity(name, args, 1, "write V")?;
            Ok(RegisterOp::Write(integer(&args[1])?))
        }
        "cas" => {
            arity(name, args, 2, "cas FROM TO")?;
            Ok(RegisterOp::Cas {
                from: integer(&args[1])?,
                to: integer(&args[2])?,
            })
        }
        _ => Err(format!(
            "expected a register operation (read, write, cas), found `{name}`"
        )),
    }
}

fn register_ret(op: &RegisterOp, ok: bool, args: &[Word]) -> Ending<RegisterRet> {
    match (op, ok, args) {
        (RegisterOp::Read, true, [v]) if v.is_nil() => Ending::Ret(RegisterRet::Value(None)),
        (RegisterOp::Read, true, [v]) => match integer(v) {
            Ok(i) => Ending::Ret(RegisterRet::Value(Some(i))),
            Err(m) => Ending::Invalid(m),
        },
        (RegisterOp::Read, true, _) => {
            Ending::Invalid("a read returns one value: `ok V` or `ok nil`".into())
        }
        (RegisterOp::Write(_) | RegisterOp::Cas { .. }, true, []) => Ending::Ret(RegisterRet::Ok),
        (RegisterOp::Cas { .. }, false, _) => Ending::Ret(RegisterRet::Fail),
        (_, true, _) => Ending::Invalid("only a read returns a value; write `ok` alone".into()),
        (_, false, _) => fail_only_for_compare(),
    }
}

fn fail_only_for_compare<Ret>() -> Ending<Ret> {
    Ending::Invalid(
        "`fail` is for compare operations whose compare failed; leave a failed operation out, or say `unknown`"
            .into(),
    )
}

fn kv_op(args: &[Word]) -> Result<KvMapOp, String> {
    let name = args.first().map_or("", |w| w.text.as_str());
    match name {
        "get" => {
            arity(name, args, 1, "get K")?;
            Ok(KvMapOp::Get {
                key: args[1].text.clone(),
            })
        }
        "put" => {
            arity(name, args, 2, "put K V")?;
            Ok(KvMapOp::Put {
                key: args[1].text.clone(),
                value: args[2].text.clone(),
            })
        }
        "append" => {
            arity(name, args, 2, "append K V")?;
            Ok(KvMapOp::Append {
                key: args[1].text.clone(),
                value: args[2].text.clone(),
            })
        }
        _ => Err(format!(
            "expected a kv operation (get, put, append), found `{name}`"
        )),
    }
}

fn kv_ret(op: &KvMapOp, ok: bool, args: &[Word]) -> Ending<KvMapRet> {
    match (op, ok, args) {
        (KvMapOp::Get { .. }, true, [v]) => Ending::Ret(KvMapRet::Value(v.text.clone())),
        (KvMapOp::Get { .. }, true, _) => {
            Ending::Invalid("a get returns one value: `ok V` (`ok \"\"` when empty)".into())
        }
        (_, true, []) => Ending::Ret(KvMapRet::Ok),
        (_, true, _) => Ending::Invalid("only a get returns a value; write `ok` alone".into()),
        (_, false, _) => fail_only_for_compare(),
    }
}

fn kvstore_op(args: &[Word]) -> Result<KvStoreOp, String> {
    let name = args.first().map_or("", |w| w.text.as_str());
    let text = |i: usize| args[i].text.clone();
    match name {
        "get" => arity(name, args, 1, "get K").map(|_| KvStoreOp::Get(text(1))),
        "put" => arity(name, args, 2, "put K V").map(|_| KvStoreOp::Put(text(1), text(2))),
        "del" => arity(name, args, 1, "del K").map(|_| KvStoreOp::Del(text(1))),
        "cas" => arity(name, args, 3, "cas K EXPECTED NEW").map(|_| KvStoreOp::Cas {
            key: text(1),
            expected: text(2),
            new: text(3),
        }),
        "cad" => arity(name, args, 2, "cad K EXPECTED").map(|_| KvStoreOp::Cad {
            key: text(1),
            expected: text(2),
        }),
        _ => Err(format!(
            "expected a kvstore operation (get, put, del, cas, cad), found `{name}`"
        )),
    }
}

fn kvstore_ret(op: &KvStoreOp, ok: bool, args: &[Word]) -> Ending<KvStoreRet> {
    match (op, ok, args) {
        (KvStoreOp::Get(_), true, [v]) if v.is_nil() => Ending::Ret(KvStoreRet::Value(None)),
        (KvStoreOp::Get(_), true, [v]) => Ending::Ret(KvStoreRet::Value(Some(v.text.clone()))),
        (KvStoreOp::Get(_), true, _) => {
            Ending::Invalid("a get returns one value: `ok V` or `ok nil`".into())
        }
        (KvStoreOp::Cas { .. } | KvStoreOp::Cad { .. }, true, []) => {
            Ending::Ret(KvStoreRet::Success(true))
        }
        (KvStoreOp::Cas { .. } | KvStoreOp::Cad { .. }, false, _) => {
            Ending::Ret(KvStoreRet::Success(false))
        }
        (KvStoreOp::Put(..) | KvStoreOp::Del(_), true, []) => Ending::Ret(KvStoreRet::Ok),
        (_, true, _) => Ending::Invalid("only a get returns a value; write `ok` alone".into()),
        (_, false, _) => fail_only_for_compare(),
    }
}

/// Why a history cannot be written in the native format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A client invoked an operation while an earlier one was pending.
    #[error(
        "client {client} has two operations pending at once (#{operation} and an earlier one)"
    )]
    Overlapping {
        /// The client.
        client: ClientId,
        /// The later operation's index in the history.
        operation: usize,
    },
    /// A result that does not fit its operation (a read that returned `ok`).
    #[error("operation #{operation}: its result does not fit the operation")]
    UnfitResult {
        /// The operation's index in the history.
        operation: usize,
    },
}

/// Writes `history` in the native format, with a `model` line, so that
/// `parse` reads back the same history (a runtime test can save what it
/// recorded and check it later with `lincheck`).
///
/// Fails, saying why, when the history cannot be written: a client with two
/// operations pending at once, or a result that does not fit its operation
/// (a read that returned `Ok`).
pub fn render(history: &ParsedHistory) -> Result<String, RenderError> {
    match history {
        ParsedHistory::Register(h) => render_with(h, Model::Register, register_words),
        ParsedHistory::Kv(h) => render_with(h, Model::Kv, kv_words),
        ParsedHistory::KvStore(h) => render_with(h, Model::KvStore, kvstore_words),
    }
}

/// The words of an invocation and of an `ok`/`fail` line (`None` when the
/// result does not fit the operation).
type Words = (Vec<String>, Option<(bool, Vec<String>)>);

fn render_with<Op, Ret>(
    history: &History<Op, Ret>,
    model: Model,
    words_of: fn(&Op, Option<&Ret>) -> Words,
) -> Result<String, RenderError> {
    // Lines keyed by event position; an operation left open gets an
    // `info` just before its client's next invocation.
    let mut lines: Vec<(u64, String)> = Vec::new();
    let mut open_of: HashMap<ClientId, usize> = HashMap::new();
    let mut pending_until: HashMap<ClientId, u64> = HashMap::new();
    for (index, op) in history.operations().iter().enumerate() {
        let (invoke, ending) = words_of(&op.op, op.outcome.returned());
        if let Some(&until) = pending_until.get(&op.client) {
            if until > op.invoked_at {
                return Err(RenderError::Overlapping {
                    client: op.client,
                    operation: index,
                });
            }
        }
        if let Some(previous) = open_of.remove(&op.client) {
            let _ = previous;
            lines.push((op.invoked_at, format!("{} info", op.client)));
        }
        lines.push((
            op.invoked_at,
            format!("{} invoke {}", op.client, invoke.join(" ")),
        ));
        match (&op.outcome, op.finished_at) {
            (OpOutcome::Returned(_), Some(at)) => {
                let Some((ok, result)) = ending else {
                    return Err(RenderError::UnfitResult { operation: index });
                };
                let mut line = format!("{} {}", op.client, if ok { "ok" } else { "fail" });
                for word in result {
                    line.push(' ');
                    line.push_str(&word);
                }
                lines.push((at, line));
                pending_until.insert(op.client, at);
            }
            (OpOutcome::Unknown, Some(at)) => {
                lines.push((at, format!("{} unknown", op.client)));
                pending_until.insert(op.client, at);
            }
            _ => {
                open_of.insert(op.client, index);
                pending_until.insert(op.client, op.invoked_at);
            }
        }
    }
    // Stable: an `info` stays before the invocation pushed after it.
    lines.sort_by_key(|(at, _)| *at);
    let mut out = format!("model {}\n", model.name());
    for (_, line) in lines {
        let _ = writeln!(out, "{line}");
    }
    Ok(out)
}

/// A word as the reader reads it back: bare when possible, else quoted.
fn word(text: &str) -> String {
    let bare = !text.is_empty()
        && text != "nil"
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '#' || c == '\\');
    if bare {
        return text.to_string();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn register_words(op: &RegisterOp, ret: Option<&RegisterRet>) -> Words {
    let invoke = match op {
        RegisterOp::Read => vec!["read".to_string()],
        RegisterOp::Write(v) => vec!["write".to_string(), v.to_string()],
        RegisterOp::Cas { from, to } => vec!["cas".to_string(), from.to_string(), to.to_string()],
    };
    let ending = match (op, ret) {
        (RegisterOp::Read, Some(RegisterRet::Value(v))) => {
            Some((true, vec![v.map_or("nil".to_string(), |v| v.to_string())]))
        }
        (RegisterOp::Write(_) | RegisterOp::Cas { .. }, Some(RegisterRet::Ok)) => {
            Some((true, vec![]))
        }
        (RegisterOp::Cas { .. }, Some(RegisterRet::Fail)) => Some((false, vec![])),
        _ => None,
    };
    (invoke, ending)
}

fn kv_words(op: &KvMapOp, ret: Option<&KvMapRet>) -> Words {
    let invoke = match op {
        KvMapOp::Get { key } => vec!["get".to_string(), word(key)],
        KvMapOp::Put { key, value } => vec!["put".to_string(), word(key), word(value)],
        KvMapOp::Append { key, value } => vec!["append".to_string(), word(key), word(value)],
    };
    let ending = match (op, ret) {
        (KvMapOp::Get { .. }, Some(KvMapRet::Value(v))) => Some((true, vec![word(v)])),
        (KvMapOp::Put { .. } | KvMapOp::Append { .. }, Some(KvMapRet::Ok)) => Some((true, vec![])),
        _ => None,
    };
    (invoke, ending)
}

fn kvstore_words(op: &KvStoreOp, ret: Option<&KvStoreRet>) -> Words {
    let invoke = match op {
        KvStoreOp::Get(k) => vec!["get".to_string(), word(k)],
        KvStoreOp::Put(k, v) => vec!["put".to_string(), word(k), word(v)],
        KvStoreOp::Del(k) => vec!["del".to_string(), word(k)],
        KvStoreOp::Cas { key, expected, new } => {
            vec!["cas".to_string(), word(key), word(expected), word(new)]
        }
        KvStoreOp::Cad { key, expected } => vec!["cad".to_string(), word(key), word(expected)],
    };
    let ending = match (op, ret) {
        (KvStoreOp::Get(_), Some(KvStoreRet::Value(v))) => {
            Some((true, vec![v.as_deref().map_or("nil".to_string(), word)]))
        }
        (KvStoreOp::Put(..) | KvStoreOp::Del(_), Some(KvStoreRet::Ok)) => Some((true, vec![])),
        (KvStoreOp::Cas { .. } | KvStoreOp::Cad { .. }, Some(KvStoreRet::Success(hit))) => {
            Some((*hit, vec![]))
        }
        _ => None,
    };
    (invoke, ending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lin::history::OpOutcome;

    #[test]
    fn the_documented_example_reads() {
        let text = r#"
# comment
model kvstore
1 invoke put x "hello world"
2 invoke get x
1 ok
2 ok "hello world"
3 invoke cas x a b
3 fail                       # the compare failed
4 invoke del x
4 unknown
5 invoke put y 1
5 info
5 invoke get "nil"
5 ok nil
"#;
        let ParsedHistory::KvStore(h) = parse(text, None).unwrap() else {
            panic!("wrong model")
        };
        let ops = h.operations();
        assert_eq!(ops.len(), 6);
        assert_eq!(ops[0].op, KvStoreOp::Put("x".into(), "hello world".into()));
        assert_eq!(
            ops[1].outcome,
            OpOutcome::Returned(KvStoreRet::Value(Some("hello world".into())))
        );
        assert_eq!(
            ops[2].outcome,
            OpOutcome::Returned(KvStoreRet::Success(false))
        );
        assert_eq!(ops[3].outcome, OpOutcome::Unknown);
        assert_eq!(ops[4].outcome, OpOutcome::Open);
        assert_eq!(ops[5].op, KvStoreOp::Get("nil".into()));
        assert_eq!(ops[5].outcome, OpOutcome::Returned(KvStoreRet::Value(None)));
    }

    #[test]
    fn the_model_comes_from_the_file_or_the_caller() {
        assert!(parse("1 invoke read\n", None).is_err());
        let h = parse("1 invoke read\n1 ok 3\n", Some(Model::Register)).unwrap();
        assert_eq!(h.model(), Model::Register);
        let err = parse("model kv\n", Some(Model::Register)).unwrap_err();
        assert_eq!(err.line, 1);
    }

    #[test]
    fn rendered_histories_read_back_the_same() {
        let text = "model kvstore\n1 invoke put x \"a b\"\n2 invoke get \"nil\"\n1 ok\n2 ok nil\n\
                    3 invoke cas x \"\" \"q\\\"#\"\n3 fail\n4 invoke del x\n4 unknown\n5 invoke put y 1\n\
                    5 info\n5 invoke get y\n";
        let history = parse(text, None).unwrap();
        let rendered = render(&history).unwrap();
        assert_eq!(parse(&rendered, None).unwrap(), history, "{rendered}");
        assert!(rendered.contains("5 info\n5 invoke get y"), "{rendered}");
    }

    #[test]
    fn unwritable_histories_are_refused() {
        let mut h = History::new();
        let a = h.invoke(1, RegisterOp::Read);
        h.complete(a, RegisterRet::Ok).unwrap();
        assert_eq!(
            render(&ParsedHistory::Register(h)),
            Err(RenderError::UnfitResult { operation: 0 })
        );
        let mut h = History::new();
        h.invoke(1, RegisterOp::Read);
        let b = h.invoke(1, RegisterOp::Read);
        h.complete(b, RegisterRet::Value(None)).unwrap();
        // The first read is still open when the second starts: `info` first.
        let text = render(&ParsedHistory::Register(h.clone())).unwrap();
        assert_eq!(parse(&text, None).unwrap(), ParsedHistory::Register(h));
    }

    #[test]
    fn bad_lines_name_their_number() {
        let cases = [
            "1 invoke write",
            "1 invoke write x",
            "1 invoke frob",
            "x invoke read",
            "1",
            "1 ok",
            "2 invoke read\n2 ok 1 2",
            "2 invoke write 1\n2 fail",
            "2 invoke write 1\n2 ok 1",
            "1 invoke read \"unterminated",
            "1 invoke re\"ad",
            "model nope",
            "1 unknown extra",
        ];
        for case in cases {
            let text = format!("model register\n{case}\n");
            let err = parse(&text, None).unwrap_err();
            let last = text.lines().count();
            assert_eq!(err.line, last, "{case}: {err}");
        }
    }
}
