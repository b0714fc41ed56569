//! Parsing: tokens to [`crate::ast`]. Only syntax is checked here; meaning
//! is checked in [`crate::valid`].

use proc_macro2::TokenTree;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{
    braced, parenthesized, token, Attribute, Block, Error, Expr, Generics, Ident, Pat, Result,
    Token, Type, Variant, Visibility,
};

use crate::ast::*;

const TOP_LEVEL: &str =
    "expected `system`, `config`, `input`, `output`, `message`, `timers`, `role`, `invariant` or `eventually`";
const FOOTPRINT: &[&str] = &["reads", "writes", "sends", "emits", "sets"];

impl Parse for SystemDef {
    fn parse(input: ParseStream) -> Result<Self> {
        let mut def = SystemDef {
            attrs: Vec::new(),
            vis: Visibility::Inherited,
            name: None,
            generics: Generics::default(),
            extra_names: Vec::new(),
            config: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            messages: Vec::new(),
            timers: Vec::new(),
            roles: Vec::new(),
            invariants: Vec::new(),
            eventually: Vec::new(),
        };
        while !input.is_empty() {
            let attrs = input.call(Attribute::parse_outer)?;
            let vis: Visibility = input.parse()?;
            if !input.peek(Ident::peek_any) {
                return Err(input.error(format!("{TOP_LEVEL} here")));
            }
            let keyword = input.call(Ident::parse_any)?;
            let word = keyword.to_string();
            if !matches!(vis, Visibility::Inherited) && word != "system" {
                return Err(Error::new_spanned(
                    &vis,
                    "visibility goes on `system` only: every generated item takes the system's visibility",
                ));
            }
            match word.as_str() {
                "system" => {
                    let name: Ident = input.parse().map_err(|e| {
                        Error::new(
                            e.span(),
                            "name the system after `system`, e.g. `system LockServ;`",
                        )
                    })?;
                    let mut generics: Generics = input.parse()?;
                    if input.peek(Token![where]) {
                        generics.where_clause = Some(input.parse()?);
                    }
                    input.parse::<Token![;]>().map_err(|e| {
                        Error::new(
                            e.span(),
                            "end the system's name with `;`, e.g. `system LockServ;` or \
                             `system PrimaryBackup<M: StateMachine>;`",
                        )
                    })?;
                    if def.name.is_some() {
                        def.extra_names.push(name);
                    } else {
                        def.attrs = attrs;
                        def.vis = vis;
                        def.name = Some(name);
                        def.generics = generics;
                    }
                }
                "config" => {
                    let items = parse_fields(input)?;
                    def.config.push(Section { keyword, items });
                }
                "input" | "output" | "message" => {
                    let kind = match word.as_str() {
                        "input" => Kind::Input,
                        "output" => Kind::Output,
                        _ => Kind::Message,
                    };
                    let k = parse_kind(input, kind, keyword, attrs)?;
                    match kind {
                        Kind::Input => def.inputs.push(k),
                        Kind::Output => def.outputs.push(k),
                        Kind::Message => def.messages.push(k),
                    }
                }
                "timers" => {
                    let content;
                    braced!(content in input);
                    let mut items = Vec::new();
                    while !content.is_empty() {
                        let attrs = content.call(Attribute::parse_outer)?;
                        let name: Ident = content.parse()?;
                        items.push(Named { attrs, name });
                        if content.is_empty() {
                            break;
                        }
                        content.parse::<Token![,]>()?;
                    }
                    def.timers.push(Section { keyword, items });
                }
                "role" => def.roles.push(parse_role(input, attrs)?),
                "invariant" => def.invariants.push(parse_invariant(input, attrs)?),
                "eventually" => def.eventually.push(parse_invariant(input, attrs)?),
                _ => {
                    return Err(Error::new(
                        keyword.span(),
                        format!("{TOP_LEVEL}, found `{word}`"),
                    ))
                }
            }
        }
        Ok(def)
    }
}

/// `#[domain(lo..=hi)]`, `#[domain(lo..hi)]` or `#[domain(a, b, ..)]`;
/// what cannot be read is kept as [`DomainValues::Bad`] for validation to
/// report with the rest.
fn parse_domain(attr: &Attribute) -> DomainAttr {
    use syn::spanned::Spanned;
    let span = attr.span();
    let tokens = quote::ToTokens::to_token_stream(attr);
    let bad = |at: proc_macro2::TokenStream, why: &str| DomainAttr {
        span,
        tokens: tokens.clone(),
        values: DomainValues::Bad(at, why.to_string()),
    };
    let syn::Meta::List(list) = &attr.meta else {
        return bad(
            tokens.clone(),
            "a domain lists its values: write `#[domain(0..=3)]` (integers) or `#[domain(a, b, c)]`",
        );
    };
    let parser = syn::punctuated::Punctuated::<Expr, Token![,]>::parse_terminated;
    let exprs = match list.parse_args_with(parser) {
        Ok(e) => e,
        Err(_) => {
            return bad(
                list.tokens.clone(),
                "cannot read this domain: write `#[domain(0..=3)]` (integers) or `#[domain(a, b, c)]` (values of the field's type)",
            )
        }
    };
    let exprs: Vec<Expr> = exprs.into_iter().collect();
    if let [Expr::Range(r)] = exprs.as_slice() {
        let bound = |e: &Option<Box<Expr>>| e.as_deref().and_then(int_literal);
        let (Some(lo), Some(hi)) = (bound(&r.start), bound(&r.end)) else {
            return bad(
                quote::ToTokens::to_token_stream(r),
                "a range domain needs integer literals at both ends, such as `0..=3`; list other values instead: `#[domain(a, b, c)]`",
            );
        };
        let inclusive = matches!(r.limits, syn::RangeLimits::Closed(_));
        return DomainAttr {
            span,
            tokens,
            values: DomainValues::Range { lo, hi, inclusive },
        };
    }
    DomainAttr {
        span,
        tokens,
        values: DomainValues::List(exprs),
    }
}

/// The value of an integer literal, possibly negated.
fn int_literal(e: &Expr) -> Option<i128> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => int_literal(expr).map(|v: i128| -v),
        _ => None,
    }
}

/// `{ #[durable] name: Type = init, .. }`
fn parse_fields(input: ParseStream) -> Result<Vec<FieldDef>> {
    let content;
    braced!(content in input);
    let mut fields = Vec::new();
    while !content.is_empty() {
        let all = content.call(Attribute::parse_outer)?;
        let mut attrs = Vec::new();
        let mut durable = None;
        let mut bad_attrs = Vec::new();
        let mut domain = None;
        for attr in all {
            if attr.path().is_ident("doc") {
                attrs.push(attr);
            } else if attr.path().is_ident("domain") && domain.is_none() {
                domain = Some(parse_domain(&attr));
            } else if attr.path().is_ident("durable") && matches!(attr.meta, syn::Meta::Path(_)) {
                durable = Some(
                    attr.path()
                        .get_ident()
                        .map_or_else(proc_macro2::Span::call_site, Ident::span),
                );
            } else {
                bad_attrs.push(attr);
            }
        }
        let name: Ident = content.parse()?;
        content.parse::<Token![:]>().map_err(|e| {
            Error::new(
                e.span(),
                format!("give field `{name}` a type and an initial value: `{name}: Type = value`"),
            )
        })?;
        let ty: Type = content.parse()?;
        let init = if content.peek(Token![=]) {
            content.parse::<Token![=]>()?;
            Some(content.parse::<Expr>()?)
        } else {
            None
        };
        fields.push(FieldDef {
            attrs,
            durable,
            bad_attrs,
            domain,
            name,
            ty,
            init,
        });
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(fields)
}

/// `enum Name { .. }` or `type Name = Type;` after `input`/`output`/`message`.
fn parse_kind(
    input: ParseStream,
    kind: Kind,
    keyword: Ident,
    attrs: Vec<Attribute>,
) -> Result<KindDef> {
    let word = kind.keyword();
    if input.peek(Token![enum]) {
        input.parse::<Token![enum]>()?;
        let name: Ident = input.parse()?;
        let content;
        braced!(content in input);
        let variants = content.parse_terminated(Variant::parse, Token![,])?;
        let mut out = Vec::new();
        for v in variants {
            if let Some((_, expr)) = &v.discriminant {
                return Err(Error::new_spanned(
                    expr,
                    "variants carry data, not discriminants: remove `= ...`",
                ));
            }
            out.push(VariantDef {
                attrs: v.attrs,
                name: v.ident,
                fields: v.fields,
            });
        }
        Ok(KindDef {
            keyword,
            attrs,
            name,
            body: KindBody::Enum(out),
        })
    } else if input.peek(Token![type]) {
        input.parse::<Token![type]>()?;
        let name: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let ty: Type = input.parse()?;
        input.parse::<Token![;]>()?;
        Ok(KindDef {
            keyword,
            attrs,
            name,
            body: KindBody::Alias(ty),
        })
    } else {
        Err(input.error(format!(
            "declare the {word} type inline, `{word} enum Name {{ A, B(u64) }}`, or name your own, `{word} type Name = path::Type;`"
        )))
    }
}

/// `Name [(Type)] { state { .. } on .. invariant .. }` after `role`.
fn parse_role(input: ParseStream, attrs: Vec<Attribute>) -> Result<RoleDef> {
    let name: Ident = input.parse()?;
    let param = if input.peek(token::Paren) {
        let content;
        parenthesized!(content in input);
        Some(content.parse::<Type>()?)
    } else {
        None
    };
    let content;
    braced!(content in input);
    let mut role = RoleDef {
        attrs,
        name,
        param,
        state: Vec::new(),
        handlers: Vec::new(),
        invariants: Vec::new(),
    };
    while !content.is_empty() {
        let attrs = content.call(Attribute::parse_outer)?;
        if !content.peek(Ident::peek_any) {
            return Err(content.error(ROLE_ITEMS));
        }
        let keyword = content.call(Ident::parse_any)?;
        match keyword.to_string().as_str() {
            "state" => {
                let items = parse_fields(&content)?;
                role.state.push(Section { keyword, items });
            }
            "on" => role.handlers.push(parse_handler(&content, attrs)?),
            "invariant" => role.invariants.push(parse_invariant(&content, attrs)?),
            "eventually" => return Err(Error::new(
                keyword.span(),
                "an `eventually` property is about the whole system: declare it outside `role`, \
                     next to the global invariants, and name the role of each field it reads",
            )),
            other => {
                return Err(Error::new(
                    keyword.span(),
                    format!("{ROLE_ITEMS}, found `{other}`"),
                ))
            }
        }
    }
    Ok(role)
}

const ROLE_ITEMS: &str =
    "inside a role, expected `state { .. }`, `on <event> .. { .. }` or `invariant <name> reads(..) { .. }`";

/// `<trigger> <footprint> { body }` after `on`.
fn parse_handler(input: ParseStream, attrs: Vec<Attribute>) -> Result<HandlerDef> {
    let keyword = input
        .call(Ident::parse_any)
        .map_err(|e| Error::new(e.span(), TRIGGERS))?;
    let trigger = match keyword.to_string().as_str() {
        "start" => TriggerDef::Start(keyword),
        "restart" => TriggerDef::Restart(keyword),
        "timer" => {
            let timer: Ident = input
                .parse()
                .map_err(|e| Error::new(e.span(), "name the timer: `on timer Retry { .. }`"))?;
            TriggerDef::Timer { timer }
        }
        "input" => {
            let binding = parse_binding(input, false)?;
            TriggerDef::Input { keyword, binding }
        }
        "message" => {
            let binding = parse_binding(input, true)?;
            let from_ok =
                input.peek(Ident) && input.fork().parse::<Ident>().is_ok_and(|i| i == "from");
            if !from_ok {
                return Err(input.error(
                    "a message handler names its sender: add `from <name>` (or `from _`) after the message",
                ));
            }
            input.parse::<Ident>()?;
            let from = parse_sender(input)?;
            TriggerDef::Message {
                keyword,
                binding,
                from,
            }
        }
        other => {
            return Err(Error::new(
                keyword.span(),
                format!("{TRIGGERS}, found `{other}`"),
            ))
        }
    };
    let footprint = parse_footprint(input)?;
    let body: Block = input.parse()?;
    Ok(HandlerDef {
        attrs,
        trigger,
        footprint,
        body,
    })
}

/// The sender binding after `from`: a name or `_` (a fuller pattern could
/// swallow the handler's body as a struct pattern).
fn parse_sender(input: ParseStream) -> Result<Pat> {
    if input.peek(Token![_]) {
        let underscore: Token![_] = input.parse()?;
        return Ok(Pat::Wild(syn::PatWild {
            attrs: Vec::new(),
            underscore_token: underscore,
        }));
    }
    let ident: Ident = input.parse().map_err(|e| {
        Error::new(
            e.span(),
            "name the sender after `from`, e.g. `from client`, or write `from _`",
        )
    })?;
    if input.peek(Token![::]) || input.peek(token::Paren) {
        return Err(Error::new(
            ident.span(),
            "the sender is bound to a name, not matched against a pattern: write `from sender` \
             and compare it in the body, e.g. `if sender == Node::Server { .. }`",
        ));
    }
    Ok(Pat::Ident(syn::PatIdent {
        attrs: Vec::new(),
        by_ref: None,
        mutability: None,
        ident,
        subpat: None,
    }))
}

const TRIGGERS: &str = "expected `input`, `message`, `timer`, `start` or `restart` after `on`";

/// Whether the tokens at `input` start with a footprint keyword or `from`.
fn peek_clause(input: ParseStream, message: bool) -> bool {
    let fork = input.fork();
    match fork.call(Ident::parse_any) {
        Ok(i) => FOOTPRINT.iter().any(|k| i == k) || (message && i == "from"),
        Err(_) => false,
    }
}

/// `Variant`, `Variant(a, b)`, `Variant { a, .. }` or `name: Variant`.
fn parse_binding(input: ParseStream, message: bool) -> Result<Binding> {
    if input.peek(Ident) && input.peek2(Token![:]) && !input.peek2(Token![::]) {
        let name = Pat::parse_single(input)?;
        input.parse::<Token![:]>()?;
        let variant: Ident = input.parse()?;
        return Ok(Binding::Named { name, variant });
    }
    let what = if message { "message" } else { "input" };
    let variant: Ident = input.fork().parse().map_err(|e| {
        Error::new(
            e.span(),
            format!("name the {what} variant this handler receives, e.g. `on {what} Lock`"),
        )
    })?;
    if input.peek2(Token![::]) {
        return Err(Error::new(
            variant.span(),
            format!("write the {what} variant alone, e.g. `Grant`, not a path: the macro knows which type it belongs to"),
        ));
    }
    // `Variant { .. }` is a pattern only if more follows before the body:
    // otherwise the braces are the handler's body.
    let pattern_follows = {
        let ahead = input.fork();
        ahead.parse::<Ident>()?;
        if ahead.peek(token::Paren) {
            true
        } else if ahead.peek(token::Brace) {
            let _: TokenTree = ahead.parse()?;
            ahead.peek(token::Brace) || peek_clause(&ahead, message)
        } else {
            false
        }
    };
    if pattern_follows {
        let pat = Pat::parse_single(input)?;
        Ok(Binding::Pattern { variant, pat })
    } else {
        let ident: Ident = input.parse()?;
        let pat = Pat::Ident(syn::PatIdent {
            attrs: Vec::new(),
            by_ref: None,
            mutability: None,
            ident,
            subpat: None,
        });
        Ok(Binding::Pattern { variant, pat })
    }
}

/// `reads(a, b) writes(c) sends(M) emits(O) sets(T) chooses`, in any order.
fn parse_footprint(input: ParseStream) -> Result<Footprint> {
    let mut fp = Footprint::default();
    let mut seen: Vec<String> = Vec::new();
    while !input.peek(token::Brace) {
        let keyword = input
            .call(Ident::parse_any)
            .map_err(|e| Error::new(e.span(), CLAUSES))?;
        let word = keyword.to_string();
        if word == "chooses" {
            if fp.chooses.is_some() {
                fp.repeated.push(keyword.clone());
            }
            if input.peek(token::Paren) {
                return Err(Error::new(
                    keyword.span(),
                    "`chooses` takes no list: write `chooses` alone, then call `ctx.choose(n)` in the body",
                ));
            }
            fp.chooses = Some(keyword);
            continue;
        }
        if !FOOTPRINT.contains(&word.as_str()) {
            return Err(Error::new(
                keyword.span(),
                format!("{CLAUSES}, found `{word}`"),
            ));
        }
        let content;
        parenthesized!(content in input);
        let items: Punctuated<syn::Path, Token![,]> =
            content.parse_terminated(syn::Path::parse_mod_style, Token![,])?;
        let mut names = Vec::new();
        for path in items {
            match path.get_ident() {
                Some(i) => names.push(i.clone()),
                None => {
                    let last = path
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default();
                    return Err(Error::new_spanned(
                        path,
                        format!("write the name alone in `{word}(..)`, e.g. `{last}`, not a path"),
                    ));
                }
            }
        }
        if seen.contains(&word) {
            fp.repeated.push(keyword.clone());
        }
        seen.push(word.clone());
        let list = match word.as_str() {
            "reads" => &mut fp.reads,
            "writes" => &mut fp.writes,
            "sends" => &mut fp.sends,
            "emits" => &mut fp.emits,
            _ => &mut fp.sets,
        };
        list.extend(names);
    }
    Ok(fp)
}

const CLAUSES: &str = "expected a footprint clause — `reads(..)`, `writes(..)`, `sends(..)`, `emits(..)`, `sets(..)`, `chooses` — or the handler body `{ .. }`";

/// `name reads(..) { body }` after `invariant`.
fn parse_invariant(input: ParseStream, attrs: Vec<Attribute>) -> Result<InvariantDef> {
    let name: Ident = input.parse().map_err(|e| {
        Error::new(
            e.span(),
            "name the invariant: `invariant mutual_exclusion reads(..) { .. }`",
        )
    })?;
    let mut reads = Vec::new();
    let mut reads_keyword = None;
    if !input.peek(token::Brace) {
        let kw = input.call(Ident::parse_any)?;
        if kw != "reads" {
            return Err(Error::new(
                kw.span(),
                "expected `reads(..)`: an invariant declares the state it reads, e.g. `reads(Client.held)`",
            ));
        }
        reads_keyword = Some(kw);
        let content;
        parenthesized!(content in input);
        while !content.is_empty() {
            let first = content.call(Ident::parse_any)?;
            if content.peek(Token![.]) {
                content.parse::<Token![.]>()?;
                let field = content.call(Ident::parse_any)?;
                reads.push(ReadItem::Field {
                    role: Some(first),
                    field,
                });
            } else if first == "config" {
                reads.push(ReadItem::Config(first));
            } else if first == "network" {
                reads.push(ReadItem::Network(first));
            } else if first == "trace" || first == "history" {
                reads.push(ReadItem::Trace(first));
            } else {
                reads.push(ReadItem::Field {
                    role: None,
                    field: first,
                });
            }
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
    }
    let body: Block = input.parse()?;
    Ok(InvariantDef {
        attrs,
        name,
        reads_keyword,
        reads,
        body,
    })
}
