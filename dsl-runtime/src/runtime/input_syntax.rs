//! Inputs written on a command line.
//!
//! An input is its variant name, optionally with arguments:
//!
//! | written            | means                                  |
//! |--------------------|----------------------------------------|
//! | `Lock`             | `Input::Lock(input::Lock)`             |
//! | `Add(5)`           | `Input::Add(input::Add(5))`            |
//! | `Put(1, "x")`      | `Input::Put(input::Put(1, "x".into()))`|
//! | `Put{"key": 1}`    | a variant with named fields            |
//! | `{"Add": 5}`       | JSON, as serde writes the input enum   |
//!
//! Arguments are JSON values (numbers, strings in double quotes, arrays,
//! objects), so anything serde can read can be written.

use crate::system::System;

/// Parses one input of system `S`.
pub fn parse_input<S: System>(text: &str) -> Result<S::Input, String> {
    let text = text.trim();
    let json = if text.starts_with('{') {
        text.to_string()
    } else {
        let name_end = text
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        let (name, rest) = text.split_at(name_end);
        let names = input_names::<S>();
        if !names.iter().any(|n| n == name) {
            return Err(format!(
                "`{name}` is not an input of {}; inputs are: {}",
                S::meta().name,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ));
        }
        let rest = rest.trim();
        let payload = if rest.is_empty() {
            "null".to_string()
        } else if let Some(args) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            let list: serde_json::Value = serde_json::from_str(&format!("[{args}]"))
                .map_err(|e| format!("`{text}`: arguments must be JSON values: {e}"))?;
            match list {
                serde_json::Value::Array(mut items) if items.len() == 1 => {
                    items.remove(0).to_string()
                }
                other => other.to_string(),
            }
        } else if rest.starts_with('{') {
            rest.to_string()
        } else {
            return Err(format!(
                "`{text}`: write an input as `Name`, `Name(args)` or `Name{{\"field\": value}}`"
            ));
        };
        format!("{{\"{name}\": {payload}}}")
    };
    serde_json::from_str(&json).map_err(|e| format!("`{text}` is not a valid input: {e}"))
}

/// The names of `S`'s inputs, as they are written.
///
/// A system declared with `input enum` lists its variants in its metadata;
/// one whose input is the user's own type (`input type Command = M::Input`,
/// as the transformers are) lists only the alias, and the variants are the
/// user's type's. Those are read from what the type's deserializer says it
/// expects when it is handed a variant no enum has; a type that says
/// nothing (not an enum) keeps the metadata's names.
pub fn input_names<S: System>() -> Vec<String> {
    let listed = || S::meta().inputs.iter().map(|s| s.to_string()).collect();
    let Err(e) = serde_json::from_str::<S::Input>("{\"?\": null}") else {
        return listed();
    };
    let text = e.to_string();
    let Some(expected) = text
        .strip_prefix("unknown variant `?`, expected ")
        .map(|rest| rest.split(" at line ").next().unwrap_or(rest))
    else {
        return listed();
    };
    let names: Vec<String> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    if names.is_empty() {
        listed()
    } else {
        names
    }
}
