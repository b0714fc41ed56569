//! EDN key-value logs: a map of string keys with get, put and append.
//!
//! One event a line, an EDN map such as
//! `{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}`.
//! `:type` is `:invoke`, `:ok`, `:fail` or `:info`; `:f` is `:get`, `:put`
//! or `:append`; `:key` is a string (or an integer, read as its digits);
//! `:value` is a string, or `nil` for an invoked get. An `:ok` get returns its
//! `:value` (`nil` reads as `""`). A `:fail` get finished with an unknown
//! result; a `:fail` put or append did not happen and is left out; `:info`
//! leaves the operation open. Other keys of the map are ignored.

use super::events::{Completion, Recorder};
use super::ParseError;
use crate::lin::history::History;
use crate::lin::specs::{KvMapOp, KvMapRet};
use std::borrow::Cow;

/// A value of a flat EDN map.
#[derive(Debug, PartialEq)]
enum Value<'a> {
    Keyword(&'a str),
    Integer(i64),
    Text(Cow<'a, str>),
    Nil,
}

/// Reads a key-value EDN log.
pub fn parse(text: &str) -> Result<History<KvMapOp, KvMapRet>, ParseError> {
    let mut recorder = Recorder::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with(';') {
            continue;
        }
        let fields = read_map(trimmed).map_err(|m| ParseError::at(number, m))?;
        event(&mut recorder, number, &fields)?;
    }
    Ok(recorder.finish())
}

fn field<'f, 'a>(fields: &'f [(&'a str, Value<'a>)], name: &str) -> Option<&'f Value<'a>> {
    fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
}

fn event(
    recorder: &mut Recorder<KvMapOp, KvMapRet>,
    line: usize,
    fields: &[(&str, Value<'_>)],
) -> Result<(), ParseError> {
    let missing = |name: &str| ParseError::at(line, format!("the map has no {name}"));
    let client = match field(fields, ":process").ok_or_else(|| missing(":process"))? {
        Value::Integer(p) if *p >= 0 => *p as u64,
        other => {
            return Err(ParseError::at(
                line,
                format!(":process must be a non-negative integer, found {other:?}"),
            ))
        }
    };
    let kind = keyword(line, fields, ":type")?;
    let f = keyword(line, fields, ":f")?;
    let key = match field(fields, ":key").ok_or_else(|| missing(":key"))? {
        Value::Text(k) => k.to_string(),
        Value::Integer(k) => k.to_string(),
        other => {
            return Err(ParseError::at(
                line,
                format!(":key must be a string, found {other:?}"),
            ))
        }
    };
    let value = field(fields, ":value");
    let text = |what: &str| match value {
        Some(Value::Text(v)) => Ok(v.to_string()),
        Some(Value::Integer(v)) => Ok(v.to_string()),
        Some(Value::Nil) | None if what == "get" => Ok(String::new()),
        _ => Err(ParseError::at(
            line,
            format!("the {what} needs a string :value"),
        )),
    };
    match kind {
        ":invoke" => {
            let op = match f {
                ":get" => KvMapOp::Get { key },
                ":put" => KvMapOp::Put {
                    key,
                    value: text("put")?,
                },
                ":append" => KvMapOp::Append {
                    key,
                    value: text("append")?,
                },
                other => {
                    return Err(ParseError::at(
                        line,
                        format!("expected :get, :put or :append, found `{other}`"),
                    ))
                }
            };
            recorder.invoke(line, client, op)
        }
        ":ok" | ":fail" => {
            let is_get = match recorder.pending(client) {
                Some(op) => {
                    let expected = match op {
                        KvMapOp::Get { .. } => ":get",
                        KvMapOp::Put { .. } => ":put",
                        KvMapOp::Append { .. } => ":append",
                    };
                    if f != expected || op.key() != key {
                        return Err(ParseError::at(
                            line,
                            format!("this completion does not match the operation client {client} invoked"),
                        ));
                    }
                    expected == ":get"
                }
                None => false,
            };
            let how = match (kind, is_get) {
                (":ok", true) => Completion::Returned(KvMapRet::Value(text("get")?)),
                (":ok", false) => Completion::Returned(KvMapRet::Ok),
                (_, true) => Completion::Unknown,
                (_, false) => Completion::Failed,
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

fn keyword<'a>(
    line: usize,
    fields: &[(&'a str, Value<'a>)],
    name: &str,
) -> Result<&'a str, ParseError> {
    match field(fields, name) {
        Some(Value::Keyword(k)) => Ok(k),
        Some(other) => Err(ParseError::at(
            line,
            format!("{name} must be a keyword, found {other:?}"),
        )),
        None => Err(ParseError::at(line, format!("the map has no {name}"))),
    }
}

/// Reads a flat EDN map of keyword keys to simple values.
fn read_map(line: &str) -> Result<Vec<(&str, Value<'_>)>, String> {
    let mut rest = line
        .strip_prefix('{')
        .ok_or("expected an EDN map starting with `{`")?;
    let mut fields = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if let Some(after) = rest.strip_prefix('}') {
            if !after.trim().is_empty() {
                return Err("unexpected text after the closing `}`".to_string());
            }
            return Ok(fields);
        }
        if rest.is_empty() {
            return Err("the map is not closed with `}`".to_string());
        }
        let (key, after) = read_atom(rest);
        if !key.starts_with(':') || key.len() < 2 {
            return Err(format!("expected a keyword such as :type, found `{key}`"));
        }
        rest = after.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        let (value, after) = read_value(rest)?;
        fields.push((key, value));
        rest = after;
    }
}

/// Splits off a bare token (up to whitespace, a comma or a closing brace).
fn read_atom(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| c.is_whitespace() || c == ',' || c == '}')
        .unwrap_or(text.len());
    text.split_at(end)
}

fn read_value(text: &str) -> Result<(Value<'_>, &str), String> {
    if let Some(body) = text.strip_prefix('"') {
        // Most strings have no escapes: take them whole.
        if let Some(end) = body.find(['"', '\\']) {
            if body.as_bytes()[end] == b'"' {
                return Ok((Value::Text(Cow::Borrowed(&body[..end])), &body[end + 1..]));
            }
        }
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Ok((Value::Text(Cow::Owned(out)), &body[i + 1..])),
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, other @ ('"' | '\\'))) => out.push(other),
                    Some((_, other)) => {
                        return Err(format!("unknown escape `\\{other}` in a string"))
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        return Err("a string is not closed with `\"`".to_string());
    }
    let (atom, rest) = read_atom(text);
    let value = if atom == "nil" {
        Value::Nil
    } else if atom.starts_with(':') && atom.len() > 1 {
        Value::Keyword(atom)
    } else if let Ok(i) = atom.parse() {
        Value::Integer(i)
    } else if atom.is_empty() {
        return Err("expected a value".to_string());
    } else {
        return Err(format!(
            "expected a string, integer, keyword or nil, found `{atom}`"
        ));
    };
    Ok((value, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lin::history::OpOutcome;

    #[test]
    fn reads_invocations_and_results() {
        let log = r#"{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
{:process 1, :type :invoke, :f :get, :key "0", :value nil}
{:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
{:process 1, :type :ok, :f :get, :key "0", :value "x \"0\" 0 y"}
{:process 2, :type :invoke, :f :put, :key 7, :value "v"}
"#;
        let h = parse(log).unwrap();
        let ops = h.operations();
        assert_eq!(ops.len(), 3);
        assert_eq!(
            ops[0].op,
            KvMapOp::Append {
                key: "0".into(),
                value: "x 0 0 y".into()
            }
        );
        assert_eq!(
            ops[1].outcome,
            OpOutcome::Returned(KvMapRet::Value("x \"0\" 0 y".into()))
        );
        assert_eq!(ops[2].outcome, OpOutcome::Open);
        assert_eq!(ops[2].op.key(), "7");
    }

    #[test]
    fn malformed_maps_are_errors_with_line_numbers() {
        let cases = [
            r#"{:process 0, :type :invoke, :f :get, :key "0""#,
            r#"{:process 0, :type :invoke, :f :get, :key "0}"#,
            r#"{:process x, :type :invoke, :f :get, :key "0"}"#,
            r#"{:process 0, :type :invoke, :f :frob, :key "0"}"#,
            r#"{:process 0, :type :invoke, :f :put, :key "0"}"#,
            r#"{:process 0, :type :ok, :f :get, :key "0", :value "a"}"#,
            r#"process 0"#,
            r#"{:process 0 :type}"#,
        ];
        for case in cases {
            let text =
                format!("{{:process 9, :type :invoke, :f :get, :key \"1\", :value nil}}\n{case}\n");
            let err = parse(&text).unwrap_err();
            assert_eq!(err.line, 2, "{case}: {err}");
        }
    }
}
