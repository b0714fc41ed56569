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
    let variants = S::meta().inputs;
    let json = if text.starts_with('{') {
        text.to_string()
    } else {
        let name_end = text
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        let (name, rest) = text.split_at(name_end);
        if !variants.contains(&name) {
            return Err(format!(
                "`{name}` is not an input of {}; inputs are: {}",
                S::meta().name,
                if variants.is_empty() {
                    "none".to_string()
                } else {
                    variants.join(", ")
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
