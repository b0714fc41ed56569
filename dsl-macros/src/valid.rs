//! Validation: everything that makes a parsed system meaningless, reported
//! with the offending span and a sentence that says what to change.

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;
use syn::{Error, Ident, Type};

use crate::ast::*;
use crate::scan;

/// Collects errors; they are reported together.
#[derive(Default)]
pub struct Errors(Vec<Error>);

impl Errors {
    pub fn at(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.0.push(Error::new(span, msg));
    }

    pub fn push(&mut self, e: Error) {
        self.0.push(e);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_compile_error(&self) -> proc_macro2::TokenStream {
        self.0.iter().map(Error::to_compile_error).collect()
    }
}

/// What a kind (input, output, message) declares, by variant name.
pub struct KindNames {
    pub declared: bool,
    pub type_name: String,
    pub alias: bool,
    pub variants: Vec<String>,
    /// Per variant, the names of its fields (`None` for tuple and unit
    /// variants, and for the user's own type).
    pub named: Vec<Option<Vec<String>>>,
    /// Per variant, whether it carries no data at all.
    pub unit: Vec<bool>,
}

impl KindNames {
    pub fn of(kinds: &[KindDef], default: &str) -> Self {
        match kinds.first() {
            None => KindNames {
                declared: false,
                type_name: default.to_string(),
                alias: false,
                variants: Vec::new(),
                named: Vec::new(),
                unit: Vec::new(),
            },
            Some(k) => KindNames {
                declared: true,
                type_name: k.name.to_string(),
                alias: matches!(k.body, KindBody::Alias(_)),
                variants: match &k.body {
                    KindBody::Enum(vs) => vs.iter().map(|v| v.name.to_string()).collect(),
                    KindBody::Alias(_) => vec![k.name.to_string()],
                },
                named: match &k.body {
                    KindBody::Enum(vs) => vs
                        .iter()
                        .map(|v| match &v.fields {
                            syn::Fields::Named(f) => Some(
                                f.named
                                    .iter()
                                    .filter_map(|f| f.ident.as_ref().map(|i| i.to_string()))
                                    .collect(),
                            ),
                            _ => None,
                        })
                        .collect(),
                    KindBody::Alias(_) => vec![None],
                },
                unit: match &k.body {
                    KindBody::Enum(vs) => vs
                        .iter()
                        .map(|v| matches!(v.fields, syn::Fields::Unit))
                        .collect(),
                    KindBody::Alias(_) => vec![false],
                },
            },
        }
    }

    fn has(&self, name: &str) -> bool {
        self.variants.iter().any(|v| v == name)
    }

    fn list(&self) -> String {
        if self.variants.is_empty() {
            "(none)".to_string()
        } else {
            self.variants.join(", ")
        }
    }
}

/// Checks the whole system; `Err` holds every problem found.
pub fn validate(def: &SystemDef) -> Result<(), Errors> {
    let mut errors = Errors::default();
    check_structure(def, &mut errors);
    let inputs = KindNames::of(&def.inputs, "Input");
    let outputs = KindNames::of(&def.outputs, "Output");
    let messages = KindNames::of(&def.messages, "Msg");
    let timers: Vec<String> = def
        .timers
        .first()
        .map(|s| s.items.iter().map(|t| t.name.to_string()).collect())
        .unwrap_or_default();
    let received: HashSet<String> = def
        .roles
        .iter()
        .flat_map(|r| &r.handlers)
        .filter_map(|h| match &h.trigger {
            TriggerDef::Message { binding, .. } => Some(binding.variant().to_string()),
            _ => None,
        })
        .collect();
    for role in &def.roles {
        check_role(
            role,
            &inputs,
            &outputs,
            &messages,
            &timers,
            &received,
            &mut errors,
        );
    }
    check_invariants(def, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Whether the system's types can still be generated despite errors, so the
/// user sees only the real errors.
pub fn expandable(def: &SystemDef) -> bool {
    let mut errors = Errors::default();
    check_structure(def, &mut errors);
    errors.is_empty()
}

/// Declarations that must be unique and well-formed for expansion to work.
fn check_structure(def: &SystemDef, errors: &mut Errors) {
    if def.name.is_none() {
        errors.at(
            Span::call_site(),
            "name the system: start `system!` with a line such as `system LockServ;`",
        );
    }
    for extra in &def.extra_names {
        errors.at(
            extra.span(),
            "a `system!` declares one system: remove this second `system` line, or declare the other system in its own module",
        );
    }
    for (what, sections) in [
        (
            "config",
            def.config.iter().map(|s| &s.keyword).collect::<Vec<_>>(),
        ),
        ("timers", def.timers.iter().map(|s| &s.keyword).collect()),
        ("input", def.inputs.iter().map(|k| &k.keyword).collect()),
        ("output", def.outputs.iter().map(|k| &k.keyword).collect()),
        ("message", def.messages.iter().map(|k| &k.keyword).collect()),
    ] {
        for kw in sections.iter().skip(1) {
            errors.at(
                kw.span(),
                format!(
                    "`{what}` is declared twice: a system has one `{what}` declaration; merge them"
                ),
            );
        }
    }
    for kind in def.inputs.iter().chain(&def.outputs).chain(&def.messages) {
        if let KindBody::Enum(variants) = &kind.body {
            unique(variants.iter().map(|v| &v.name), errors, |n| {
                format!(
                    "`{}` already has a variant `{n}`; rename one of them",
                    kind.name
                )
            });
        }
    }
    if let Some(t) = def.timers.first() {
        unique(t.items.iter().map(|t| &t.name), errors, |n| {
            format!("timer `{n}` is declared twice; remove one")
        });
        if t.items.len() > 64 {
            errors.at(t.keyword.span(), "a system can have at most 64 timers");
        }
    }
    check_generics(def, errors);
    if def.roles.is_empty() {
        errors.at(
            Span::call_site(),
            "declare at least one role, e.g. `role Server { state { .. } on input .. { .. } }`",
        );
    }
    unique(def.roles.iter().map(|r| &r.name), errors, |n| {
        format!("role `{n}` is declared twice; put all of its state and handlers in one `role {n} {{ .. }}`")
    });
    for role in &def.roles {
        if let Some(param) = &role.param {
            if !is_unsigned_int(param) {
                errors.push(Error::new_spanned(
                    param,
                    "number a parameterised role with an unsigned integer type: `u8`, `u16`, `u32`, `u64` or `usize`",
                ));
            }
        }
        for extra in role.state.iter().skip(1) {
            errors.at(
                extra.keyword.span(),
                format!(
                    "role `{}` has two `state` blocks; merge them into one",
                    role.name
                ),
            );
        }
        let fields: Vec<&FieldDef> = role.fields().collect();
        unique(fields.iter().map(|f| &f.name), errors, |n| {
            format!(
                "role `{}` already has a field `{n}`; rename one of them",
                role.name
            )
        });
        for f in fields {
            check_field(f, errors, false);
        }
    }
    for f in def.config.iter().flat_map(|s| &s.items) {
        check_field(f, errors, true);
    }
    let all_invariants = def
        .invariants
        .iter()
        .chain(&def.eventually)
        .chain(def.roles.iter().flat_map(|r| &r.invariants));
    unique(all_invariants.map(|i| &i.name), errors, |n| {
        format!("invariant `{n}` is declared twice; invariant names are unique across the system")
    });
}

/// The system's parameters: types and consts, without defaults, named
/// apart from the types the macro generates.
fn check_generics(def: &SystemDef, errors: &mut Errors) {
    let mut generated: Vec<String> = ["Node", "Role", "State", "Timer", "Config"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    generated.push(KindNames::of(&def.inputs, "Input").type_name);
    generated.push(KindNames::of(&def.outputs, "Output").type_name);
    generated.push(KindNames::of(&def.messages, "Msg").type_name);
    generated.extend(def.roles.iter().map(|r| format!("{}State", r.name)));
    if let Some(name) = &def.name {
        generated.push(name.to_string());
    }
    for param in &def.generics.params {
        let (ident, default) = match param {
            syn::GenericParam::Lifetime(l) => {
                errors.at(
                    l.lifetime.span(),
                    format!(
                        "a system cannot borrow: its state lives in worlds the checker keeps, clones \
                         and sends between threads; remove `{}` and own the data instead",
                        l.lifetime
                    ),
                );
                continue;
            }
            syn::GenericParam::Type(t) => (&t.ident, t.default.is_some()),
            syn::GenericParam::Const(c) => (&c.ident, c.default.is_some()),
        };
        if default {
            errors.at(
                ident.span(),
                format!(
                    "a system parameter cannot have a default: remove `= ..` and name the type where \
                     the system is used, e.g. `{}<{ident}>` with a concrete `{ident}`",
                    def.name.as_ref().map_or("System".to_string(), |n| n.to_string())
                ),
            );
        }
        if generated.iter().any(|g| ident == g) {
            let short: String = ident.to_string().chars().take(1).collect();
            errors.at(
                ident.span(),
                format!(
                    "`{ident}` is the name of a type `system!` generates for this system; \
                     rename the parameter, e.g. `{short}`"
                ),
            );
        }
    }
}

fn check_field(f: &FieldDef, errors: &mut Errors, config: bool) {
    let name = &f.name;
    if f.init.is_none() {
        let ty = &f.ty;
        let ty = quote::quote!(#ty).to_string();
        errors.at(
            name.span(),
            format!("field `{name}` has no initial value: write `{name}: {ty} = <value>`"),
        );
    }
    for attr in &f.bad_attrs {
        errors.push(Error::new_spanned(
            attr,
            "only doc comments, `#[durable]` and one `#[domain(..)]` may go on a field; `#[durable]` keeps the field across a crash, `#[domain(0..=3)]` names the values `induct` may give it",
        ));
    }
    if let Some(domain) = &f.domain {
        check_domain(f, domain, errors, config);
    }
    if let (true, Some(span)) = (config, f.durable) {
        errors.at(
            span,
            "config never changes, so nothing in it needs to survive a crash: remove `#[durable]`",
        );
    }
}

/// A `#[domain(..)]` must be readable, non-empty, on a state field, and a
/// range only on an integer field.
fn check_domain(f: &FieldDef, domain: &DomainAttr, errors: &mut Errors, config: bool) {
    let name = &f.name;
    if config {
        errors.push(Error::new_spanned(
            &domain.tokens,
            "config never changes, so the induction search never varies it: remove `#[domain(..)]` (it belongs on state fields)",
        ));
        return;
    }
    match &domain.values {
        DomainValues::Bad(tokens, why) => errors.push(Error::new_spanned(tokens, why)),
        DomainValues::List(values) if values.is_empty() => errors.push(Error::new_spanned(
            &domain.tokens,
            format!("the domain of `{name}` lists no values: give at least one, e.g. `#[domain(0..=3)]` or `#[domain(a, b)]`"),
        )),
        DomainValues::List(_) => {}
        DomainValues::Range { lo, hi, inclusive } => {
            let op = if *inclusive { "..=" } else { ".." };
            if !is_int(&f.ty) {
                let ty = &f.ty;
                let ty = quote::quote!(#ty).to_string();
                errors.push(Error::new_spanned(
                    &domain.tokens,
                    format!("a range domain fits only an integer field, and `{name}` is `{ty}`: list its values instead, e.g. `#[domain(a, b)]`"),
                ));
            } else if (*inclusive && lo > hi) || (!*inclusive && lo >= hi) {
                errors.push(Error::new_spanned(
                    &domain.tokens,
                    format!(
                        "the domain of `{name}` is an empty range: `{lo}{op}{hi}` holds no value; give a range whose start is not past its end, such as `{}..={}`",
                        lo.min(hi),
                        lo.max(hi),
                    ),
                ));
            } else if hi - lo > 1024 {
                errors.push(Error::new_spanned(
                    &domain.tokens,
                    format!("the domain of `{name}` has {} values; the induction search tries each, so keep it small (at most 1024)", hi - lo + 1),
                ));
            }
        }
    }
}

/// Whether `ty` is a primitive integer type, by name.
fn is_int(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
    && p.path.get_ident().is_some_and(|i| {
        ["u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize"]
            .iter()
            .any(|t| i == t)
    }))
}

fn is_unsigned_int(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
        && p.path.get_ident().is_some_and(|i| ["u8", "u16", "u32", "u64", "usize"].iter().any(|t| i == t)))
}

/// Reports the second and later occurrence of each name.
fn unique<'a>(
    names: impl Iterator<Item = &'a Ident>,
    errors: &mut Errors,
    msg: impl Fn(&Ident) -> String,
) {
    let mut seen = HashSet::new();
    for n in names {
        if !seen.insert(n.to_string()) {
            errors.at(n.span(), msg(n));
        }
    }
}

/// A handler's event, for finding two handlers of the same event.
fn trigger_key(t: &TriggerDef) -> (String, Span) {
    match t {
        TriggerDef::Start(k) => ("on start".into(), k.span()),
        TriggerDef::Restart(k) => ("on restart".into(), k.span()),
        TriggerDef::Timer { timer, .. } => (format!("on timer {timer}"), timer.span()),
        TriggerDef::Input { binding, .. } => (
            format!("on input {}", binding.variant()),
            binding.variant().span(),
        ),
        TriggerDef::Message { binding, .. } => (
            format!("on message {}", binding.variant()),
            binding.variant().span(),
        ),
    }
}

fn check_role(
    role: &RoleDef,
    inputs: &KindNames,
    outputs: &KindNames,
    messages: &KindNames,
    timers: &[String],
    received: &HashSet<String>,
    errors: &mut Errors,
) {
    let fields: Vec<String> = role.field_names();
    let field_list = if fields.is_empty() {
        "(none)".to_string()
    } else {
        fields.join(", ")
    };
    let mut handled: HashMap<String, Span> = HashMap::new();
    for h in &role.handlers {
        let (key, span) = trigger_key(&h.trigger);
        if handled.insert(key.clone(), span).is_some() {
            errors.at(
                span,
                format!(
                    "role `{}` already has a handler `{key}`: a role handles each event once; merge the two bodies",
                    role.name
                ),
            );
        }
        match &h.trigger {
            TriggerDef::Input { keyword, binding } => {
                check_binding(binding, keyword, inputs, errors)
            }
            TriggerDef::Message {
                keyword, binding, ..
            } => check_binding(binding, keyword, messages, errors),
            TriggerDef::Timer { timer, .. } => {
                if !timers.iter().any(|t| timer == t) {
                    errors.at(
                        timer.span(),
                        format!(
                            "no timer is named `{timer}`; declare it in `timers {{ {timer} }}` (declared: {})",
                            if timers.is_empty() { "(none)".to_string() } else { timers.join(", ") }
                        ),
                    );
                }
            }
            TriggerDef::Start(_) | TriggerDef::Restart(_) => {}
        }
        let fp = &h.footprint;
        for kw in &fp.repeated {
            let message = if kw == "chooses" {
                "`chooses` is given twice in one handler; once is enough".to_string()
            } else {
                format!(
                    "`{kw}(..)` is given twice in one handler; list all its items in one clause"
                )
            };
            errors.at(kw.span(), message);
        }
        if let (Some(kw), TriggerDef::Start(_) | TriggerDef::Restart(_)) = (&fp.chooses, &h.trigger)
        {
            errors.at(
                kw.span(),
                "`on start` and `on restart` cannot choose: they build the state a node starts or \
                 comes back with, which is one state; choose in the handler of a later event, \
                 such as a timer the start handler sets",
            );
        }
        let mut listed = HashSet::new();
        for f in fp.reads.iter().chain(&fp.writes) {
            if !fields.iter().any(|x| f == x) {
                errors.at(
                    f.span(),
                    format!(
                        "role `{}` has no field `{f}`; its fields are: {field_list}",
                        role.name
                    ),
                );
            } else if !listed.insert(f.to_string()) {
                let also_written =
                    fp.writes.iter().any(|w| w == f) && fp.reads.iter().any(|r| r == f);
                if also_written {
                    errors.at(
                        f.span(),
                        format!("`{f}` is in both `reads(..)` and `writes(..)`; keep it only in `writes(..)`, which also allows reading it"),
                    );
                } else {
                    errors.at(f.span(), format!("`{f}` is listed twice; remove one"));
                }
            }
        }
        for m in &fp.sends {
            if !messages.declared {
                errors.at(
                    m.span(),
                    "this handler sends a message but the system declares no message type: add `message enum Msg { .. }`",
                );
            } else if !messages.has(&m.to_string()) {
                errors.at(
                    m.span(),
                    format!(
                        "`{}` has no variant `{m}`; its variants are: {}",
                        messages.type_name,
                        messages.list()
                    ),
                );
            } else if !received.contains(&m.to_string()) {
                errors.at(
                    m.span(),
                    format!(
                        "message `{m}` is sent here but no role handles it, so it could never be delivered: \
                         add `on message {m} from <sender> {{ .. }}` to the role that receives it"
                    ),
                );
            }
        }
        for o in &fp.emits {
            if !outputs.declared {
                errors.at(
                    o.span(),
                    "this handler emits an output but the system declares no output type: add `output enum Output { .. }`",
                );
            } else if !outputs.has(&o.to_string()) {
                errors.at(
                    o.span(),
                    format!(
                        "`{}` has no variant `{o}`; its variants are: {}",
                        outputs.type_name,
                        outputs.list()
                    ),
                );
            }
        }
        for t in &fp.sets {
            if !timers.iter().any(|x| t == x) {
                errors.at(
                    t.span(),
                    format!("no timer is named `{t}`; declare it in `timers {{ {t} }}`"),
                );
            }
        }
        for (what, list) in [
            ("sends", &fp.sends),
            ("emits", &fp.emits),
            ("sets", &fp.sets),
        ] {
            unique(list.iter(), errors, |n| {
                format!("`{n}` is listed twice in `{what}(..)`; remove one")
            });
        }
        scan::handler_body(role, h, messages, outputs, errors);
    }
}

fn check_binding(binding: &Binding, keyword: &Ident, kind: &KindNames, errors: &mut Errors) {
    let variant = binding.variant();
    let word = keyword.to_string();
    if !kind.declared {
        let example = if word == "input" {
            "input enum Input { .. }"
        } else {
            "message enum Msg { .. }"
        };
        errors.at(
            keyword.span(),
            format!("this handler receives an {word} but the system declares no {word} type: add `{example}`"),
        );
    } else if !kind.has(&variant.to_string()) {
        errors.at(
            variant.span(),
            format!(
                "`{}` has no variant `{variant}`; its variants are: {}",
                kind.type_name,
                kind.list()
            ),
        );
    } else if kind.alias && matches!(binding, Binding::Pattern { .. }) {
        errors.at(
            variant.span(),
            format!("`{variant}` is your own type: bind it whole with a name, e.g. `on {word} x: {variant}`"),
        );
    } else if let Binding::Pattern { pat, .. } = binding {
        check_pattern_shape(pat, variant, &word, kind, errors);
    }
}

/// A pattern that does not fit its variant's shape, reported at the user's
/// pattern (the compiler would point at the generated code instead).
fn check_pattern_shape(
    pat: &syn::Pat,
    variant: &Ident,
    word: &str,
    kind: &KindNames,
    errors: &mut Errors,
) {
    let Some(i) = kind.variants.iter().position(|v| variant == v) else {
        return;
    };
    let unit = kind.unit.get(i).copied().unwrap_or(false);
    match pat {
        syn::Pat::TupleStruct(p) if unit => errors.at(
            p.paren_token.span.join(),
            format!("`{variant}` carries no data, so it takes no parentheses: write `on {word} {variant}`"),
        ),
        syn::Pat::Struct(p) if unit => errors.at(
            p.brace_token.span.join(),
            format!("`{variant}` carries no data, so it takes no braces: write `on {word} {variant}`"),
        ),
        syn::Pat::Struct(p) if p.rest.is_none() => {
            let Some(Some(fields)) = kind.named.get(i) else {
                return;
            };
            let given: Vec<String> = p
                .fields
                .iter()
                .filter_map(|f| match &f.member {
                    syn::Member::Named(n) => Some(n.to_string()),
                    syn::Member::Unnamed(_) => None,
                })
                .collect();
            let missing: Vec<&String> = fields.iter().filter(|f| !given.contains(f)).collect();
            if missing.is_empty() {
                return;
            }
            let list = missing
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut bound = given.clone();
            bound.push("..".into());
            errors.at(
                p.brace_token.span.join(),
                format!(
                    "this pattern leaves out {list} of `{variant}`: name every field, or end with `..` to ignore the rest, e.g. `{variant} {{ {} }}`",
                    bound.join(", ")
                ),
            );
        }
        _ => {}
    }
}

fn check_invariants(def: &SystemDef, errors: &mut Errors) {
    let role_fields = |name: &Ident| -> Option<Vec<String>> {
        def.roles
            .iter()
            .find(|r| &r.name == name)
            .map(|r| r.field_names())
    };
    for inv in def.invariants.iter().chain(&def.eventually) {
        require_reads(
            inv,
            errors,
            "`reads(Client.held)`, `reads(network)` or `reads(trace)`",
        );
        let mut seen = HashSet::new();
        for item in &inv.reads {
            match item {
                ReadItem::Field { role: None, field } => errors.at(
                    field.span(),
                    format!("a global invariant names the role of each field it reads: write `Role.{field}`"),
                ),
                ReadItem::Field { role: Some(role), field } => match role_fields(role) {
                    None => errors.at(
                        role.span(),
                        format!(
                            "no role is named `{role}`; roles are: {}",
                            def.roles.iter().map(|r| r.name.to_string()).collect::<Vec<_>>().join(", ")
                        ),
                    ),
                    Some(fields) if !fields.iter().any(|f| field == f) => errors.at(
                        field.span(),
                        format!(
                            "role `{role}` has no field `{field}`; its fields are: {}",
                            if fields.is_empty() { "(none)".to_string() } else { fields.join(", ") }
                        ),
                    ),
                    Some(_) => {
                        if !seen.insert(format!("{role}.{field}")) {
                            errors.at(field.span(), format!("`{role}.{field}` is listed twice; remove one"));
                        }
                    }
                },
                ReadItem::Network(i) | ReadItem::Trace(i) | ReadItem::Config(i) => {
                    if !seen.insert(i.to_string()) {
                        errors.at(i.span(), format!("`{i}` is listed twice; remove one"));
                    }
                }
            }
        }
        scan::global_invariant_body(def, inv, errors);
    }
    for role in &def.roles {
        let fields: Vec<String> = role.field_names();
        for inv in &role.invariants {
            require_reads(inv, errors, "`reads(queue)`");
            let mut seen = HashSet::new();
            for item in &inv.reads {
                match item {
                    ReadItem::Field { role: Some(r), field } => errors.at(
                        r.span(),
                        format!(
                            "a local invariant reads its own node's fields: write `{field}` instead of `{r}.{field}`, \
                             or move the invariant out of `role {}` to make it global",
                            role.name
                        ),
                    ),
                    ReadItem::Field { role: None, field } => {
                        if !fields.iter().any(|f| field == f) {
                            errors.at(
                                field.span(),
                                format!(
                                    "role `{}` has no field `{field}`; its fields are: {}",
                                    role.name,
                                    if fields.is_empty() { "(none)".to_string() } else { fields.join(", ") }
                                ),
                            );
                        } else if !seen.insert(field.to_string()) {
                            errors.at(field.span(), format!("`{field}` is listed twice; remove one"));
                        }
                    }
                    ReadItem::Network(i) | ReadItem::Trace(i) => errors.at(
                        i.span(),
                        format!(
                            "a local invariant sees one node only, not the {i}: move it out of `role {}` to make it global",
                            role.name
                        ),
                    ),
                    ReadItem::Config(i) => {
                        if fields.iter().any(|f| f == "config") {
                            errors.at(
                                i.span(),
                                format!(
                                    "`config` in `reads(..)` is the run's configuration, but role `{}` also has a field named `config`: rename the field to read either",
                                    role.name
                                ),
                            );
                        } else if !seen.insert(i.to_string()) {
                            errors.at(i.span(), format!("`{i}` is listed twice; remove one"));
                        }
                    }
                }
            }
            scan::local_invariant_body(role, inv, errors);
        }
    }
}

fn require_reads(inv: &InvariantDef, errors: &mut Errors, example: &str) {
    if inv.reads.is_empty() {
        let span = inv
            .reads_keyword
            .as_ref()
            .map_or(inv.name.span(), Ident::span);
        errors.at(
            span,
            format!(
                "declare what invariant `{}` reads, e.g. {example}",
                inv.name
            ),
        );
    }
}
