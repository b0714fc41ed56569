//! Friendlier errors for footprint violations visible in handler and
//! invariant bodies.
//!
//! Soundness does not depend on this pass: bodies are compiled against
//! views that hold only the declared fields and contexts that accept only
//! the declared effects, so anything missed here is still a type error.
//! This pass catches the common cases first and says exactly what to add
//! to the footprint.

use std::collections::HashSet;

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;

use crate::ast::*;
use crate::by_value;
use crate::names::snake;
use crate::valid::{Errors, KindNames};

/// Calls `visit` on every token sequence in `ts`, the top level and the
/// inside of every group.
fn each_level(ts: TokenStream, visit: &mut impl FnMut(&[TokenTree])) {
    let tokens: Vec<TokenTree> = ts.into_iter().collect();
    visit(&tokens);
    for t in &tokens {
        if let TokenTree::Group(g) = t {
            each_level(g.stream(), visit);
        }
    }
}

fn is_ident(t: Option<&TokenTree>, name: &str) -> bool {
    matches!(t, Some(TokenTree::Ident(i)) if i == name)
}

fn is_punct(t: Option<&TokenTree>, c: char) -> bool {
    matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

/// At `i`: `self . name`? Returns the field identifier.
fn self_field(tokens: &[TokenTree], i: usize) -> Option<&proc_macro2::Ident> {
    if !is_ident(tokens.get(i), "self") || !is_punct(tokens.get(i + 1), '.') {
        return None;
    }
    match tokens.get(i + 2) {
        Some(TokenTree::Ident(name)) => {
            let call = matches!(tokens.get(i + 3), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis);
            (!call).then_some(name)
        }
        _ => None,
    }
}

/// Whether `self.<field>` at `i` is dereferenced as a whole (`*self.held`,
/// not `*self.held.get(..)`).
fn is_dereferenced(tokens: &[TokenTree], i: usize) -> bool {
    i >= 1
        && is_punct(tokens.get(i - 1), '*')
        && !is_punct(tokens.get(i + 3), '.')
        && !matches!(tokens.get(i + 3), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket)
}

/// The error for `*self.<field>` where a view holds the field as a copy.
fn copied_field_deref(field: &proc_macro2::Ident, user: &str, errors: &mut Errors) {
    errors.at(
        field.span(),
        format!(
            "{user} only reads `{field}`, so its view holds a copy of it, not a reference: \
             write `self.{field}` without the `*`"
        ),
    );
}

/// Whether a read-only view holds `field` of `role` as a copy (a type
/// `by_value` copies, other than a reference, which `*` may mean to follow).
fn held_as_copy(role: &RoleDef, field: &str) -> bool {
    role.fields()
        .find(|f| f.name == field)
        .is_some_and(|f| by_value::copied(&f.ty) && !matches!(f.ty, syn::Type::Reference(_)))
}

/// Whether `self.<field>` at `i` is the target of an assignment or of `&mut`.
fn is_written(tokens: &[TokenTree], i: usize) -> bool {
    if i >= 2 && is_punct(tokens.get(i - 2), '&') && is_ident(tokens.get(i - 1), "mut") {
        return true;
    }
    // Skip `.field` and `[index]` after `self.name`.
    let mut j = i + 3;
    loop {
        match tokens.get(j) {
            Some(TokenTree::Punct(p)) if p.as_char() == '.' => {
                let field = matches!(
                    tokens.get(j + 1),
                    Some(TokenTree::Ident(_)) | Some(TokenTree::Literal(_))
                );
                let call = matches!(tokens.get(j + 2), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis);
                if field && !call {
                    j += 2;
                } else {
                    return false;
                }
            }
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => j += 1,
            _ => break,
        }
    }
    let mut op = String::new();
    while let Some(TokenTree::Punct(p)) = tokens.get(j) {
        op.push(p.as_char());
        if p.spacing() == Spacing::Alone {
            break;
        }
        j += 1;
    }
    matches!(
        op.as_str(),
        "=" | "+=" | "-=" | "*=" | "/=" | "%=" | "^=" | "&=" | "|=" | "<<=" | ">>="
    )
}

/// One kind of effect a handler declares, and how bodies name it.
struct EffectKind<'a> {
    /// The footprint clause: `sends`, `emits`, `sets`.
    clause: &'static str,
    /// The `ctx` methods that produce it.
    methods: &'static [&'static str],
    /// The module its payload types live in (`msg`, `output`, `timer`).
    module: Option<String>,
    /// What the handler declared.
    declared: &'a [syn::Ident],
    /// A word for messages: `message`, `output`, `timer`.
    what: &'static str,
}

/// Handler bodies: undeclared reads, writes to read-only fields, and
/// effects named directly in `ctx.send(..)`, `ctx.output(..)`,
/// `ctx.set_timer(..)` that the footprint does not declare.
pub fn handler_body(
    role: &RoleDef,
    h: &HandlerDef,
    messages: &KindNames,
    outputs: &KindNames,
    errors: &mut Errors,
) {
    let fields: Vec<String> = role.field_names();
    let fp = &h.footprint;
    let reads: HashSet<String> = fp.reads.iter().map(|i| i.to_string()).collect();
    let writes: HashSet<String> = fp.writes.iter().map(|i| i.to_string()).collect();
    let name = handler_name(&h.trigger);
    let mut reported = HashSet::new();
    let effect_kinds = [
        EffectKind {
            clause: "sends",
            methods: &["send", "broadcast"],
            module: (!messages.alias).then(|| snake(&messages.type_name)),
            declared: &fp.sends,
            what: "message",
        },
        EffectKind {
            clause: "emits",
            methods: &["output"],
            module: (!outputs.alias).then(|| snake(&outputs.type_name)),
            declared: &fp.emits,
            what: "output",
        },
        EffectKind {
            clause: "sets",
            methods: &["set_timer", "cancel_timer"],
            module: Some("timer".to_string()),
            declared: &fp.sets,
            what: "timer",
        },
    ];
    each_level(h.body.to_token_stream(), &mut |tokens| {
        for i in 0..tokens.len() {
            if let Some(field) = self_field(tokens, i) {
                let f = field.to_string();
                if !fields.contains(&f) {
                    continue; // the compiler names the missing field
                }
                if !reads.contains(&f) && !writes.contains(&f) {
                    if reported.insert(format!("read {f}")) {
                        let msg = if is_written(tokens, i) {
                            format!(
                                "handler `{name}` changes `{f}`, which is not in its footprint: \
                                 add `{f}` to `writes(..)`"
                            )
                        } else {
                            format!(
                                "handler `{name}` uses `{f}`, which is not in its footprint: \
                                 add `{f}` to `reads(..)`, or to `writes(..)` to change it"
                            )
                        };
                        errors.at(field.span(), msg);
                    }
                } else if !writes.contains(&f)
                    && is_written(tokens, i)
                    && reported.insert(format!("write {f}"))
                {
                    errors.at(
                        field.span(),
                        format!(
                            "handler `{name}` changes `{f}`, which its footprint declares read-only: \
                             move `{f}` from `reads(..)` to `writes(..)`"
                        ),
                    );
                } else if !writes.contains(&f)
                    && is_dereferenced(tokens, i)
                    && held_as_copy(role, &f)
                    && reported.insert(format!("copy {f}"))
                {
                    copied_field_deref(field, &format!("handler `{name}`"), errors);
                }
            }
            // ctx.<method>( .. module::Variant .. )
            if !is_ident(tokens.get(i), "ctx") || !is_punct(tokens.get(i + 1), '.') {
                continue;
            }
            let (Some(TokenTree::Ident(method)), Some(TokenTree::Group(args))) =
                (tokens.get(i + 2), tokens.get(i + 3))
            else {
                continue;
            };
            for EffectKind {
                clause,
                methods,
                module,
                declared,
                what,
            } in &effect_kinds
            {
                let Some(module) = module else { continue };
                if !methods.iter().any(|m| method == m) {
                    continue;
                }
                each_level(args.stream(), &mut |inner| {
                    for k in 0..inner.len() {
                        if !is_ident(inner.get(k), module)
                            || !is_punct(inner.get(k + 1), ':')
                            || !is_punct(inner.get(k + 2), ':')
                        {
                            continue;
                        }
                        if let Some(TokenTree::Ident(variant)) = inner.get(k + 3) {
                            if !declared.iter().any(|d| d == variant)
                                && reported.insert(format!("{clause} {variant}"))
                            {
                                errors.at(
                                    variant.span(),
                                    format!(
                                        "handler `{name}` {clause} {what} `{variant}`, which is not in its footprint: \
                                         add `{variant}` to `{clause}(..)`"
                                    ),
                                );
                            }
                        }
                    }
                });
            }
        }
    });
}

/// A readable handler name: `on message Lock`.
pub fn handler_name(t: &TriggerDef) -> String {
    match t {
        TriggerDef::Start(_) => "on start".into(),
        TriggerDef::Restart(_) => "on restart".into(),
        TriggerDef::Timer { timer, .. } => format!("on timer {timer}"),
        TriggerDef::Input { binding, .. } => format!("on input {}", binding.variant()),
        TriggerDef::Message { binding, .. } => format!("on message {}", binding.variant()),
    }
}

/// Local invariants: fields used but not in `reads(..)`.
pub fn local_invariant_body(role: &RoleDef, inv: &InvariantDef, errors: &mut Errors) {
    let fields: Vec<String> = role.field_names();
    let reads: HashSet<String> = inv
        .reads
        .iter()
        .filter_map(|r| match r {
            ReadItem::Field { field, .. } => Some(field.to_string()),
            _ => None,
        })
        .collect();
    let reads_config = inv.reads.iter().any(|r| matches!(r, ReadItem::Config(_)));
    let mut reported = HashSet::new();
    each_level(inv.body.to_token_stream(), &mut |tokens| {
        for i in 0..tokens.len() {
            if let Some(field) = self_field(tokens, i) {
                let f = field.to_string();
                if f == "config" && !reads_config && reported.insert(f.clone()) {
                    errors.at(
                        field.span(),
                        format!("invariant `{}` uses the config without reading it: add `config` to its `reads(..)`", inv.name),
                    );
                } else if fields.contains(&f) && !reads.contains(&f) && reported.insert(f.clone()) {
                    errors.at(
                        field.span(),
                        format!("invariant `{}` uses `{f}`, which is not in its `reads(..)`: add `{f}` to it", inv.name),
                    );
                } else if reads.contains(&f)
                    && is_dereferenced(tokens, i)
                    && held_as_copy(role, &f)
                    && reported.insert(format!("copy {f}"))
                {
                    copied_field_deref(field, &format!("invariant `{}`", inv.name), errors);
                }
            }
        }
    });
}

/// Global invariants: roles, the network or the trace used but not read.
pub fn global_invariant_body(def: &SystemDef, inv: &InvariantDef, errors: &mut Errors) {
    let mut declared: HashSet<String> = HashSet::new();
    for r in &inv.reads {
        match r {
            ReadItem::Field {
                role: Some(role), ..
            } => {
                declared.insert(snake(&role.to_string()));
            }
            ReadItem::Network(_) => {
                declared.insert("network".into());
            }
            ReadItem::Trace(i) | ReadItem::Config(i) => {
                declared.insert(i.to_string());
            }
            ReadItem::Field { role: None, .. } => {}
        }
    }
    let roles: Vec<(String, String)> = def
        .roles
        .iter()
        .map(|r| (snake(&r.name.to_string()), r.name.to_string()))
        .collect();
    let mut reported = HashSet::new();
    each_level(inv.body.to_token_stream(), &mut |tokens| {
        for i in 0..tokens.len() {
            let Some(field) = self_field(tokens, i) else {
                continue;
            };
            let f = field.to_string();
            if declared.contains(&f) || !reported.insert(f.clone()) {
                continue;
            }
            if f == "network" || f == "trace" || f == "history" || f == "config" {
                errors.at(
                    field.span(),
                    format!("invariant `{}` uses the {f} without reading it: add `{f}` to its `reads(..)`", inv.name),
                );
            } else if let Some((_, role)) = roles.iter().find(|(s, _)| *s == f) {
                errors.at(
                    field.span(),
                    format!(
                        "invariant `{}` uses role `{role}` without reading any of its fields: \
                         add the fields it needs to `reads(..)`, e.g. `{role}.<field>`",
                        inv.name
                    ),
                );
            }
        }
    });
}
