//! Expansion: the generated types, footprint-restricted handler views and
//! the `verdict::System` implementation.
//!
//! Every handler body is compiled as a method of its own view struct, which
//! holds `&` references to the fields in `reads(..)` and `&mut` references
//! to the fields in `writes(..)` and nothing else, with a `ctx` whose marker
//! type carries permission traits for exactly the declared effects.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{Fields, Ident, Pat, Type};

use crate::ast::*;
use crate::by_value;
use crate::generics::{Params, Used};
use crate::names::{ident, ident_at, snake};
use crate::scan::handler_name;

/// One kind (input, output or message) ready to generate.
struct KindGen {
    /// The enum or alias name (`Msg`).
    name: Ident,
    /// The payload module (`msg`), for inline enums.
    module: Option<Ident>,
    /// Variant names, payload types (with their generic arguments) and
    /// the parameters each payload takes.
    variants: Vec<(Ident, TokenStream, Used)>,
    /// Each payload's generic arguments (`<M>`), by variant.
    args: Vec<TokenStream>,
    /// Whether `name` aliases the user's own type.
    alias: bool,
    /// The parameters the enum or alias takes.
    used: Used,
    /// `Msg<M>`: the type with its arguments.
    ty: TokenStream,
}

impl KindGen {
    fn new(defs: &[KindDef], default: &str, params: &Params) -> Self {
        match defs.first() {
            None => KindGen {
                name: ident(default),
                module: None,
                variants: Vec::new(),
                args: Vec::new(),
                alias: false,
                used: params.none(),
                ty: ident(default).to_token_stream(),
            },
            Some(k) => match &k.body {
                KindBody::Enum(vs) => {
                    let module = ident(&snake(&k.name.to_string()));
                    let variants: Vec<(Ident, TokenStream, Used)> = vs
                        .iter()
                        .map(|v| {
                            let n = ident_at(&v.name.to_string(), v.name.span());
                            let used = params.used_by(v.fields.iter().map(|f| &f.ty));
                            let args = params.args(&used);
                            (v.name.clone(), quote!(#module::#n #args), used)
                        })
                        .collect();
                    let used = variants
                        .iter()
                        .fold(params.none(), |u, (_, _, v)| u.union(v));
                    let (name, args) = (&k.name, params.args(&used));
                    KindGen {
                        name: k.name.clone(),
                        ty: quote!(#name #args),
                        args: variants.iter().map(|(_, _, u)| params.args(u)).collect(),
                        variants,
                        module: Some(module),
                        alias: false,
                        used,
                    }
                }
                KindBody::Alias(ty) => {
                    let used = params.used_by([ty]);
                    let (name, args) = (&k.name, params.args(&used));
                    KindGen {
                        name: k.name.clone(),
                        module: None,
                        variants: vec![(k.name.clone(), ty.to_token_stream(), used.clone())],
                        args: vec![TokenStream::new()],
                        alias: true,
                        ty: quote!(#name #args),
                        used,
                    }
                }
            },
        }
    }

    fn index(&self, name: &Ident) -> Option<usize> {
        self.variants.iter().position(|(v, _, _)| v == name)
    }

    /// The payload type of a variant, spanned at `name` (the user's token
    /// naming it, so errors about it point there).
    fn payload(&self, name: &Ident) -> Option<TokenStream> {
        let i = self.index(name)?;
        match &self.module {
            Some(m) => {
                let n = ident_at(&name.to_string(), name.span());
                let args = &self.args[i];
                Some(quote!(#m::#n #args))
            }
            None => Some(self.variants[i].1.clone()),
        }
    }

    /// A pattern matching variant `name` of this kind and binding its payload.
    fn variant_pattern(&self, name: &Ident, bind: &Ident) -> TokenStream {
        let kind = &self.name;
        if self.alias {
            quote!(#bind)
        } else {
            quote!(#kind::#name(#bind))
        }
    }
}

/// What every part of the expansion needs to know about the system's type.
pub(crate) struct Sys<'a> {
    /// Its name.
    name: &'a Ident,
    /// Its parameters.
    params: Params,
    /// `PrimaryBackup<M>`: the system type as named inside generated code.
    ty: TokenStream,
}

impl<'a> Sys<'a> {
    /// `<M: Bound> .. where ..`, split for an impl over every parameter.
    fn impl_all(&self) -> (TokenStream, TokenStream, TokenStream) {
        split(&self.params.decl(&self.params.all()))
    }
}

/// A generics list split for `impl #0 Trait for Type #1 #2`.
fn split(g: &syn::Generics) -> (TokenStream, TokenStream, TokenStream) {
    let (i, t, w) = g.split_for_impl();
    (
        i.to_token_stream(),
        t.to_token_stream(),
        w.to_token_stream(),
    )
}

/// A generics list as written on a declaration (`<M: Bound>`) and its where clause.
fn decl_parts(g: &syn::Generics) -> (TokenStream, TokenStream) {
    (g.to_token_stream(), g.where_clause.to_token_stream())
}

/// Generates everything; with `bodies` false, only the types and a System
/// impl without handlers or invariants (used when validation failed, so the
/// user sees the real errors rather than follow-on ones).
/// `source_hash` is the hash of the whole invocation, for the metadata.
pub fn expand(def: &SystemDef, bodies: bool, source_hash: u64) -> TokenStream {
    let Some(name) = &def.name else {
        return TokenStream::new();
    };
    let params = Params::new(&def.generics);
    let sys_args = params.args(&params.all());
    let sys = Sys {
        name,
        ty: quote!(#name #sys_args),
        params,
    };
    let vis = &def.vis;
    let inputs = KindGen::new(&def.inputs, "Input", &sys.params);
    let outputs = KindGen::new(&def.outputs, "Output", &sys.params);
    let messages = KindGen::new(&def.messages, "Msg", &sys.params);
    let timers: Vec<&Named> = def
        .timers
        .first()
        .map(|s| s.items.iter().collect())
        .unwrap_or_default();

    let mut out = TokenStream::new();
    out.extend(system_type(def, &sys));
    out.extend(node_enum(def));
    out.extend(kind_types(def.inputs.first(), &inputs, &sys, vis, "Input"));
    out.extend(kind_types(
        def.outputs.first(),
        &outputs,
        &sys,
        vis,
        "Output",
    ));
    out.extend(kind_types(
        def.messages.first(),
        &messages,
        &sys,
        vis,
        "Msg",
    ));
    out.extend(timer_types(&timers, vis));
    let (config_items, config_ty) = config(def, &sys);
    out.extend(config_items);
    let (state_items, state_ty) = state_types(def, &sys);
    out.extend(state_items);

    let mut dispatch_arms = Vec::new();
    let mut handler_metas = Vec::new();
    let mut views = TokenStream::new();
    let mut impls = TokenStream::new();
    // Without bodies (validation failed) handlers and invariants are left
    // out entirely: they may name things that do not exist.
    let roles_with_handlers = if bodies { &def.roles[..] } else { &[] };
    let kinds = Kinds {
        inputs: &inputs,
        outputs: &outputs,
        messages: &messages,
        timers: &timers,
    };
    for (r, role) in roles_with_handlers.iter().enumerate() {
        for h in &role.handlers {
            let id = handler_metas.len();
            let g = handler(&sys, r, role, h, id, &kinds);
            views.extend(g.view);
            impls.extend(g.items);
            dispatch_arms.push(g.arm);
            handler_metas.push(g.meta);
        }
    }
    let invs = if bodies {
        invariants(def, &sys)
    } else {
        Invariants::default()
    };
    views.extend(invs.views);
    impls.extend(invs.items);
    let eventually = if bodies {
        invariant_set(def, &sys, &def.eventually, false)
    } else {
        Invariants::default()
    };
    views.extend(eventually.views);
    impls.extend(eventually.items);
    let eventually_fns = crate::liveness::system_fns(def, &sys.ty, &eventually.global_arms);

    let meta = meta(def, source_hash, &kinds, &handler_metas, &invs.metas);
    let meta_fn = if sys.params.is_empty() {
        quote!(&META)
    } else {
        // One static for every instance; each instance's copy is named
        // after its arguments (`PrimaryBackup<Store>`).
        quote!(::verdict::__private::instance_meta::<Self>(&META))
    };
    let role_arms = role_functions(def);
    let crash_arms = crash_arms(def);
    let init_arms = init_arms(def);
    let fields_arms = fields_arms(def);
    let observe_fn = observe_fn(def, &sys);
    let vary_fn = vary_fn(def);
    let changed_arms = changed_arms(def);
    let input_kind = kind_index_fn(&inputs, quote!(input));
    let output_kind = kind_index_fn(&outputs, quote!(output));
    let message_kind = kind_index_fn(&messages, quote!(msg));
    let (timer_id, timer_from) = timer_fns(&timers);
    let global_arms = &invs.global_arms;
    let local_arms = &invs.local_arms;
    let (input_ty, output_ty, msg_ty) = (&inputs.ty, &outputs.ty, &messages.ty);
    out.extend(crate::expand_symmetry::node_impl());
    let relabel_fns = crate::expand_symmetry::system_fns(def);
    let RoleFns {
        node,
        role_of,
        instance_of,
    } = role_arms;
    let data_check = sys.params.data_check();
    let (impl_g, _, where_g) = sys.impl_all();
    let sys_ty = &sys.ty;

    let module = format_ident!("__verdict_{}", name);
    out.extend(quote! {
        /// Generated by `system!`: the footprint views and the `System` impl.
        #[doc(hidden)]
        #[allow(non_snake_case, non_camel_case_types, unused_imports, dead_code)]
        mod #module {
            use super::*;

            /// One view per handler and invariant, holding only the fields it declared.
            pub mod views {
                use super::super::*;
                #views
            }
            use self::views::*;

            #impls

            #data_check

        impl #impl_g ::verdict::System for super::#sys_ty #where_g {
            type Node = Node;
            type Role = Role;
            type State = #state_ty;
            type Input = #input_ty;
            type Output = #output_ty;
            type Msg = #msg_ty;
            type Timer = Timer;
            type Config = #config_ty;

            fn meta() -> &'static ::verdict::SystemMeta {
                static META: ::verdict::SystemMeta = #meta;
                #meta_fn
            }

            fn node(role: usize, instance: usize) -> Node { #node }
            fn role_of(node: Node) -> usize { #role_of }
            fn instance_of(node: Node) -> usize { #instance_of }

            #[allow(unused_variables)]
            fn initial_state(node: Node, config: &Self::Config) -> Self::State {
                match node { #(#init_arms)* }
            }

            #[allow(unused_variables, unreachable_patterns, clippy::match_single_binding)]
            fn dispatch(
                cluster: ::verdict::Cluster<'_, Node, Self::Config>,
                node: Node,
                state: &mut Self::State,
                trigger: ::verdict::Trigger<Self>,
                effects: &mut ::verdict::Effects<Self>,
            ) -> ::core::option::Option<usize> {
                match (state, trigger) {
                    #(#dispatch_arms)*
                    _ => ::core::option::Option::None,
                }
            }

            #[allow(unused_variables)]
            fn crash(node: Node, state: &mut Self::State, config: &Self::Config) {
                match state { #(#crash_arms)* }
            }

            fn timer_id(timer: Timer) -> usize { #timer_id }
            fn timer(id: usize) -> Timer { #timer_from }
            fn input_kind(input: &Self::Input) -> usize { #input_kind }
            fn output_kind(output: &Self::Output) -> usize { #output_kind }
            fn message_kind(msg: &Self::Msg) -> usize { #message_kind }

            #[allow(unused_variables, unreachable_patterns, clippy::match_single_binding)]
            fn check_global(
                invariant: usize,
                setup: &::verdict::Setup<Self>,
                world: &::verdict::World<Self>,
            ) -> ::core::result::Result<(), ::std::string::String> {
                match invariant {
                    #(#global_arms)*
                    _ => ::core::result::Result::Ok(()),
                }
            }

            #[allow(unused_variables, unreachable_patterns, clippy::match_single_binding)]
            fn check_local(
                invariant: usize,
                node: Node,
                state: &Self::State,
                config: &Self::Config,
            ) -> ::core::result::Result<(), ::std::string::String> {
                match (invariant, state) {
                    #(#local_arms)*
                    _ => ::core::result::Result::Ok(()),
                }
            }

            fn fields(state: &Self::State) -> ::std::vec::Vec<(&'static str, ::std::string::String)> {
                match state { #(#fields_arms)* }
            }

            #observe_fn

            #vary_fn

            #[allow(unreachable_patterns, unused_mut)]
            fn changed_fields(
                role: usize,
                before: &Self::State,
                after: &Self::State,
            ) -> ::core::option::Option<::verdict::meta::FieldSet> {
                match (role, before, after) {
                    #(#changed_arms)*
                    _ => ::core::option::Option::None,
                }
            }

            #relabel_fns

            #eventually_fns
        }
        }
    });
    out
}

/// The system's marker type: a unit struct, or for a generic system a
/// struct over its parameters with the traits a unit struct derives, none
/// of them asking anything of the parameters.
fn system_type(def: &SystemDef, sys: &Sys) -> TokenStream {
    let (attrs, vis, name) = (&def.attrs, &def.vis, sys.name);
    if sys.params.is_empty() {
        return quote! {
            #(#attrs)*
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #vis struct #name;
        };
    }
    let all = sys.params.all();
    let decl = sys.params.decl(&all);
    let (params, where_g) = decl_parts(&decl);
    let (impl_g, ty_g, _) = split(&decl);
    let phantom = sys.params.phantom(&all);
    let text = name.to_string();
    quote! {
        #(#attrs)*
        #vis struct #name #params (#phantom) #where_g;

        impl #impl_g ::core::clone::Clone for #name #ty_g #where_g {
            fn clone(&self) -> Self { *self }
        }
        impl #impl_g ::core::marker::Copy for #name #ty_g #where_g {}
        impl #impl_g ::core::default::Default for #name #ty_g #where_g {
            fn default() -> Self { #name(::core::marker::PhantomData) }
        }
        impl #impl_g ::core::fmt::Debug for #name #ty_g #where_g {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(#text)
            }
        }
        impl #impl_g ::core::cmp::PartialEq for #name #ty_g #where_g {
            fn eq(&self, _: &Self) -> bool { true }
        }
        impl #impl_g ::core::cmp::Eq for #name #ty_g #where_g {}
        impl #impl_g ::core::cmp::PartialOrd for #name #ty_g #where_g {
            fn partial_cmp(&self, other: &Self) -> ::core::option::Option<::core::cmp::Ordering> {
                ::core::option::Option::Some(::core::cmp::Ord::cmp(self, other))
            }
        }
        impl #impl_g ::core::cmp::Ord for #name #ty_g #where_g {
            fn cmp(&self, _: &Self) -> ::core::cmp::Ordering { ::core::cmp::Ordering::Equal }
        }
        impl #impl_g ::core::hash::Hash for #name #ty_g #where_g {
            fn hash<__H: ::core::hash::Hasher>(&self, _: &mut __H) {}
        }
    }
}

fn role_fields(role: &RoleDef) -> Vec<&FieldDef> {
    role.fields().collect()
}

fn state_struct(role: &RoleDef) -> Ident {
    format_ident!("{}State", role.name)
}

/// `enum Node { Server, Client(u8) }` with Display.
fn node_enum(def: &SystemDef) -> TokenStream {
    let vis = &def.vis;
    let variants = def.roles.iter().map(|r| {
        let n = &r.name;
        let docs = docs(&r.attrs);
        match &r.param {
            Some(p) => quote!(#(#docs)* #n(#p)),
            None => quote!(#(#docs)* #n),
        }
    });
    let display = def.roles.iter().map(|r| {
        let n = &r.name;
        let s = n.to_string();
        match &r.param {
            Some(_) => quote!(Node::#n(i) => ::core::write!(f, "{}({})", #s, i),),
            None => quote!(Node::#n => f.write_str(#s),),
        }
    });
    let roles: Vec<&Ident> = def.roles.iter().map(|r| &r.name).collect();
    let names: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    let ids: Vec<usize> = (0..roles.len()).collect();
    let role_docs = def.roles.iter().map(|r| docs(&r.attrs));
    let node_roles = def.roles.iter().map(|r| {
        let n = &r.name;
        match &r.param {
            Some(_) => quote!(Node::#n(_) => Role::#n,),
            None => quote!(Node::#n => Role::#n,),
        }
    });
    quote! {
        /// The roles of the system, as values: for sizes
        /// (`Sizes::new().with(Role::Client, 3)`), workloads and CLI flags.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(dead_code)]
        #vis enum Role { #(#(#role_docs)* #roles,)* }

        impl ::verdict::RoleEnum for Role {
            fn id(self) -> usize {
                match self { #(Role::#roles => #ids,)* }
            }
            fn name(self) -> &'static str {
                match self { #(Role::#roles => #names,)* }
            }
        }

        impl Node {
            /// The node's role.
            #[allow(dead_code)]
            #vis fn role(self) -> Role {
                match self { #(#node_roles)* }
            }
        }

        /// A node of the system: its role and, for parameterised roles, its number.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::verdict::serde::Serialize, ::verdict::serde::Deserialize)]
        #[serde(crate = "::verdict::serde")]
        #vis enum Node { #(#variants,)* }

        impl ::core::fmt::Display for Node {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self { #(#display)* }
            }
        }

        impl ::core::fmt::Debug for Node {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(self, f)
            }
        }
    }
}

fn docs(attrs: &[syn::Attribute]) -> Vec<&syn::Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("doc")).collect()
}

const DERIVE_DATA: &str = "Clone, Debug, PartialEq, Eq, Hash";

/// The payload module and the wrapping enum of an inline kind; an alias
/// for the user's own type; or an empty enum when the kind is not declared.
fn kind_types(
    def: Option<&KindDef>,
    gen: &KindGen,
    sys: &Sys,
    vis: &syn::Visibility,
    default: &str,
) -> TokenStream {
    let derive: TokenStream = DERIVE_DATA.parse().unwrap_or_default();
    let name = &gen.name;
    let Some(def) = def else {
        let doc = format!("This system declares no {} type.", default.to_lowercase());
        return quote! {
            #[doc = #doc]
            #[derive(#derive, ::verdict::serde::Serialize, ::verdict::serde::Deserialize)]
            #[serde(crate = "::verdict::serde")]
            #vis enum #name {}
        };
    };
    let attrs = &def.attrs;
    let decl = sys.params.decl(&gen.used);
    let (params, where_g) = decl_parts(&decl);
    match &def.body {
        KindBody::Alias(ty) => quote! {
            #(#attrs)*
            #[allow(type_alias_bounds)]
            #vis type #name #params #where_g = #ty;
        },
        KindBody::Enum(variants) => {
            let Some(module) = &gen.module else {
                return TokenStream::new();
            };
            let structs = variants.iter().zip(&gen.variants).map(|(v, (_, _, used))| {
                let vattrs = &v.attrs;
                let n = &v.name;
                let (vparams, vwhere) = decl_parts(&sys.params.decl(used));
                let body = match &v.fields {
                    Fields::Unit => quote!(;),
                    Fields::Unnamed(f) => {
                        let tys = f.unnamed.iter().map(|x| {
                            let a = &x.attrs;
                            let t = &x.ty;
                            quote!(#(#a)* pub #t)
                        });
                        quote!((#(#tys),*) #vwhere;)
                    }
                    Fields::Named(f) => {
                        let fs = f.named.iter().map(|x| {
                            let a = &x.attrs;
                            let i = &x.ident;
                            let t = &x.ty;
                            quote!(#(#a)* pub #i: #t)
                        });
                        quote!(#vwhere { #(#fs),* })
                    }
                };
                quote! {
                    #(#vattrs)*
                    #[derive(#derive, ::verdict::serde::Serialize, ::verdict::serde::Deserialize)]
                    #[serde(crate = "::verdict::serde", bound = "")]
                    pub struct #n #vparams #body
                }
            });
            let names: Vec<&Ident> = variants.iter().map(|v| &v.name).collect();
            let payloads: Vec<&TokenStream> = gen.variants.iter().map(|(_, ty, _)| ty).collect();
            let (impl_g, ty_g, _) = split(&decl);
            let mod_doc = format!("Payload types of the variants of [`{name}`].");
            quote! {
                #[doc = #mod_doc]
                #[allow(unused_imports)]
                #vis mod #module {
                    use super::*;
                    #(#structs)*
                }

                #(#attrs)*
                #[derive(Clone, PartialEq, Eq, Hash, ::verdict::serde::Serialize, ::verdict::serde::Deserialize)]
                #[serde(crate = "::verdict::serde", bound = "")]
                #vis enum #name #params #where_g { #(#names(#payloads),)* }

                impl #impl_g ::core::fmt::Debug for #name #ty_g #where_g {
                    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        match self { #(#name::#names(x) => ::core::fmt::Debug::fmt(x, f),)* }
                    }
                }

                #(
                    impl #impl_g ::core::convert::From<#payloads> for #name #ty_g #where_g {
                        fn from(x: #payloads) -> Self { #name::#names(x) }
                    }
                )*
            }
        }
    }
}

fn timer_types(timers: &[&Named], vis: &syn::Visibility) -> TokenStream {
    let names: Vec<&Ident> = timers.iter().map(|t| &t.name).collect();
    let docs: Vec<Vec<&syn::Attribute>> = timers.iter().map(|t| docs(&t.attrs)).collect();
    quote! {
        /// Timer markers, one type per timer, for `ctx.set_timer(..)`.
        #[allow(unused_imports)]
        #vis mod timer {
            #(
                #(#docs)*
                #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
                pub struct #names;
            )*
        }

        /// The system's named timers.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ::verdict::serde::Serialize, ::verdict::serde::Deserialize)]
        #[serde(crate = "::verdict::serde")]
        #vis enum Timer { #(#names,)* }

        #(
            impl ::core::convert::From<timer::#names> for Timer {
                fn from(_: timer::#names) -> Self { Timer::#names }
            }
        )*
    }
}

/// `struct Config` with its defaults, or `()` when there is none; and the
/// config type as the System impl names it.
fn config(def: &SystemDef, sys: &Sys) -> (TokenStream, TokenStream) {
    let Some(section) = def.config.first() else {
        return (TokenStream::new(), quote!(()));
    };
    let vis = &def.vis;
    let used = sys.params.used_by(section.items.iter().map(|f| &f.ty));
    let decl = sys.params.decl(&used);
    let (params, where_g) = decl_parts(&decl);
    let (impl_g, ty_g, _) = split(&decl);
    let fields = section.items.iter().map(|f| {
        let (a, n, t) = (&f.attrs, &f.name, &f.ty);
        quote!(#(#a)* pub #n: #t)
    });
    let inits = section.items.iter().map(|f| {
        let n = &f.name;
        let init = f.init.as_ref().map_or_else(
            || quote!(::core::default::Default::default()),
            |e| e.to_token_stream(),
        );
        quote!(#n: #init)
    });
    let args = sys.params.args(&used);
    (
        quote! {
            /// Settings fixed for a run, readable by handlers as `ctx.config()`.
            #[derive(Clone, Debug)]
            #vis struct Config #params #where_g { #(#fields,)* }

            impl #impl_g ::core::default::Default for Config #ty_g #where_g {
                fn default() -> Self { Config { #(#inits,)* } }
            }
        },
        quote!(Config #args),
    )
}

/// The parameters a role's state takes.
fn role_used(role: &RoleDef, sys: &Sys) -> Used {
    sys.params.used_by(role.fields().map(|f| &f.ty))
}

/// Each role's state struct and the `State` enum over them; and `State`
/// as the System impl names it.
fn state_types(def: &SystemDef, sys: &Sys) -> (TokenStream, TokenStream) {
    let vis = &def.vis;
    let derive: TokenStream = DERIVE_DATA.parse().unwrap_or_default();
    let mut out = TokenStream::new();
    let mut all = sys.params.none();
    let mut variants = Vec::new();
    for role in &def.roles {
        let s = state_struct(role);
        let used = role_used(role, sys);
        all = all.union(&used);
        let (params, where_g) = decl_parts(&sys.params.decl(&used));
        let doc = format!("The state of a `{}` node.", role.name);
        let fields = role_fields(role).into_iter().map(|f| {
            let (a, n, t) = (&f.attrs, &f.name, &f.ty);
            quote!(#(#a)* pub #n: #t)
        });
        out.extend(quote! {
            #[doc = #doc]
            #[derive(#derive, ::verdict::serde::Serialize, ::verdict::serde::Deserialize)]
            #[serde(crate = "::verdict::serde", bound = "")]
            #vis struct #s #params #where_g { #(#fields,)* }
        });
        let (n, args) = (&role.name, sys.params.args(&used));
        variants.push(quote!(#n(#s #args)));
    }
    let (params, where_g) = decl_parts(&sys.params.decl(&all));
    out.extend(quote! {
        /// The state of one node, whatever its role.
        #[derive(#derive, ::verdict::serde::Serialize, ::verdict::serde::Deserialize)]
        #[serde(crate = "::verdict::serde", bound = "")]
        #vis enum State #params #where_g { #(#variants,)* }
    });
    let args = sys.params.args(&all);
    (out, quote!(State #args))
}

/// The payload pattern with its path qualified by the kind's module:
/// `Grant { epoch }` becomes `msg::Grant { epoch }`.
fn qualify(pat: &Pat, gen: &KindGen) -> TokenStream {
    let Some(module) = &gen.module else {
        return pat.to_token_stream();
    };
    // The module segment takes the span of the user's variant name, so the
    // compiler reports a pattern that does not fit at the user's pattern
    // rather than at the whole `system!` block.
    let at = |span: proc_macro2::Span| -> syn::PathSegment {
        let mut m = module.clone();
        m.set_span(span);
        m.into()
    };
    match pat {
        Pat::Ident(p) => {
            let n = &p.ident;
            let m = at(n.span());
            quote!(#m::#n)
        }
        Pat::Struct(p) => {
            let mut p = p.clone();
            let m = at(p.path.segments[0].ident.span());
            p.path.segments.insert(0, m);
            p.to_token_stream()
        }
        Pat::TupleStruct(p) => {
            let mut p = p.clone();
            let m = at(p.path.segments[0].ident.span());
            p.path.segments.insert(0, m);
            p.to_token_stream()
        }
        Pat::Path(p) => {
            let mut p = p.clone();
            let m = at(p.path.segments[0].ident.span());
            p.path.segments.insert(0, m);
            p.to_token_stream()
        }
        other => other.to_token_stream(),
    }
}

/// What one handler generates.
struct HandlerGen {
    /// Its view struct (in the views module).
    view: TokenStream,
    /// Its marker type, permissions and body (in the impl module).
    items: TokenStream,
    /// Its arm in `dispatch`.
    arm: TokenStream,
    /// Its `HandlerMeta`.
    meta: TokenStream,
}

/// The system's inputs, outputs, messages and timers, as each handler and
/// the metadata name them.
struct Kinds<'a> {
    inputs: &'a KindGen,
    outputs: &'a KindGen,
    messages: &'a KindGen,
    timers: &'a [&'a Named],
}

fn handler(
    sys: &Sys,
    r: usize,
    role: &RoleDef,
    h: &HandlerDef,
    id: usize,
    kinds: &Kinds<'_>,
) -> HandlerGen {
    let Kinds {
        inputs,
        outputs,
        messages,
        timers,
    } = *kinds;
    let role_name = &role.name;
    let label = handler_name(&h.trigger).replace(' ', "_");
    // The marker's span is the handler's event, so "not implemented for
    // this handler" points at the handler.
    let marker = ident_at(
        &format!("{}_{}", role_name, label),
        trigger_span(&h.trigger),
    );
    let view = format_ident!("{}_footprint_of_{}", role_name, label);
    let fields = role_fields(role);
    let fp = &h.footprint;
    let generic = !sys.params.is_empty();
    let all = sys.params.all();
    let (impl_g, ty_g, where_g) = sys.impl_all();
    let marker_ty = quote!(#marker #ty_g);

    // Permissions: exactly the declared effects. The two impls for
    // `Forbidden` keep the compiler from inferring an effect's type from a
    // lone permission, so a wrong effect is reported as a missing permission.
    // A kind that is the user's type named through a parameter
    // (`output type Output = M::Output;`) might be `Forbidden` for all
    // coherence knows, so it goes without: it has one variant, and any
    // other type is a plain type mismatch.
    let projected = |kind: &KindGen, declared: &[Ident]| {
        kind.alias && kind.used != sys.params.none() && !declared.is_empty()
    };
    let mut perms = TokenStream::new();
    for (may, skip) in [
        ("MaySend", projected(messages, &fp.sends)),
        ("MayEmit", projected(outputs, &fp.emits)),
        ("MaySet", false),
    ] {
        if skip {
            continue;
        }
        let may = ident(may);
        for n in [0u8, 1] {
            perms.extend(quote! {
                #[diagnostic::do_not_recommend]
                impl #impl_g ::verdict::#may<::verdict::__private::Forbidden<#n>> for #marker_ty #where_g {}
            });
        }
    }
    for m in &fp.sends {
        if let Some(ty) = messages.payload(m) {
            perms.extend(quote_spanned!(m.span()=> impl #impl_g ::verdict::MaySend<#ty> for #marker_ty #where_g {}));
        }
    }
    for o in &fp.emits {
        if let Some(ty) = outputs.payload(o) {
            perms.extend(quote_spanned!(o.span()=> impl #impl_g ::verdict::MayEmit<#ty> for #marker_ty #where_g {}));
        }
    }
    if let Some(kw) = &fp.chooses {
        perms.extend(quote_spanned!(kw.span()=> impl #impl_g ::verdict::MayChoose for #marker_ty #where_g {}));
    }
    for t in &fp.sets {
        if timers.iter().any(|x| &x.name == t) {
            perms.extend(
                quote_spanned!(t.span()=> impl #impl_g ::verdict::MaySet<timer::#t> for #marker_ty #where_g {}),
            );
        }
    }

    // The view: declared fields only, `&mut` to write, and to read a copy
    // or a `&` (see `by_value`).
    let mut view_fields = Vec::new();
    let mut view_inits = Vec::new();
    let (mut reads, mut writes) = (Vec::new(), Vec::new());
    let mut borrows = false;
    for (i, f) in fields.iter().enumerate() {
        let (n, t) = (&f.name, &f.ty);
        if fp.writes.iter().any(|w| w == n) {
            writes.push(i);
            borrows = true;
            view_fields.push(quote!(pub #n: &'a mut #t));
            view_inits.push(quote!(#n: &mut __s.#n));
        } else if fp.reads.iter().any(|w| w == n) {
            reads.push(i);
            if by_value::copied(t) {
                view_fields.push(quote!(pub #n: #t));
                view_inits.push(quote!(#n: __s.#n));
            } else {
                borrows = true;
                view_fields.push(quote!(pub #n: &'a #t));
                view_inits.push(quote!(#n: &__s.#n));
            }
        }
    }
    // A generic view also takes every parameter, which its body may name
    // even where its fields do not.
    let view_decl = if !borrows {
        sys.params.decl(&all)
    } else {
        sys.params.decl_with_lifetime(&all)
    };
    if generic {
        let phantom = sys.params.phantom(&all);
        view_fields.push(quote!(#[doc(hidden)] pub __parameters: #phantom));
        view_inits.push(quote!(__parameters: ::core::marker::PhantomData));
    }
    let (view_params, view_where) = decl_parts(&view_decl);
    let (view_impl_g, view_ty_g, _) = split(&view_decl);

    let sys_ty = &sys.ty;
    let ctx_ty = quote!(::verdict::Ctx<'_, #sys_ty, #marker_ty>);
    let view_fish = if view_decl.lifetimes().next().is_some() {
        sys.params.turbofish_with_lifetime()
    } else {
        sys.params.turbofish()
    };
    let ctx = ident("ctx");
    let p = ident("__payload");
    let (params, args, trigger_pat, trigger_meta, bind) = match &h.trigger {
        TriggerDef::Start(_) => (
            quote!(),
            quote!(),
            quote!(::verdict::Trigger::Start),
            quote!(Start),
            quote!(),
        ),
        TriggerDef::Restart(_) => (
            quote!(),
            quote!(),
            quote!(::verdict::Trigger::Restart),
            quote!(Restart),
            quote!(),
        ),
        TriggerDef::Timer { timer, .. } => {
            let t = timers.iter().position(|x| &x.name == timer).unwrap_or(0);
            (
                quote!(),
                quote!(),
                quote!(::verdict::Trigger::Timer(Timer::#timer)),
                quote!(Timer(#t)),
                quote!(),
            )
        }
        TriggerDef::Input { binding, .. } => {
            let v = binding.variant();
            let ty = inputs.payload(v).unwrap_or_else(|| quote!(()));
            let k = inputs.index(v).unwrap_or(0);
            let pat = inputs.variant_pattern(v, &p);
            (
                quote!(, #p: #ty),
                quote!(, #p),
                quote!(::verdict::Trigger::Input(#pat)),
                quote!(Input(#k)),
                bind_payload(binding, inputs, &p),
            )
        }
        TriggerDef::Message { binding, from, .. } => {
            let v = binding.variant();
            let ty = messages.payload(v).unwrap_or_else(|| quote!(()));
            let k = messages.index(v).unwrap_or(0);
            let pat = messages.variant_pattern(v, &p);
            (
                quote!(, #from: Node, #p: #ty),
                quote!(, __from, #p),
                quote!(::verdict::Trigger::Message { from: __from, msg: #pat }),
                quote!(Message(#k)),
                bind_payload(binding, messages, &p),
            )
        }
    };
    let body = &h.body;
    let docs = docs(&h.attrs);
    let view_doc = format!(
        "The fields `{} {}` declared, and nothing else.",
        role_name,
        handler_name(&h.trigger)
    );
    let view_item = quote! {
        #[doc = #view_doc]
        pub struct #view #view_params #view_where { #(#view_fields,)* }
    };
    let marker_item = if generic {
        let (params, where_m) = decl_parts(&sys.params.decl(&all));
        let phantom = sys.params.phantom(&all);
        quote!(pub struct #marker #params (#phantom) #where_m;)
    } else {
        quote!(pub struct #marker;)
    };
    let items = quote! {
        #marker_item
        #perms

        impl #view_impl_g #view #view_ty_g #view_where {
            #(#docs)*
            #[allow(unused_variables, unused_mut)]
            fn __run(self, #ctx: &mut #ctx_ty #params) { #bind #body }
        }
    };
    let state_variant = role_name;
    let arm = quote! {
        (State::#state_variant(__s), #trigger_pat) => {
            let __view = #view #view_fish { #(#view_inits,)* };
            let mut __ctx = ::verdict::__private::ctx(node, cluster, effects);
            __view.__run(&mut __ctx #args);
            ::core::option::Option::Some(#id)
        }
    };
    let name = format!("{} {}", role_name, handler_name(&h.trigger));
    let sends: Vec<usize> = fp.sends.iter().filter_map(|m| messages.index(m)).collect();
    let emits: Vec<usize> = fp.emits.iter().filter_map(|o| outputs.index(o)).collect();
    let sets: Vec<usize> = fp
        .sets
        .iter()
        .filter_map(|t| timers.iter().position(|x| &x.name == t))
        .collect();
    let (reads, writes) = (field_set(reads), field_set(writes));
    let chooses = fp.chooses.is_some();
    let hash = crate::hash::handler(h);
    let meta = quote! {
        ::verdict::meta::HandlerMeta {
            role: #r,
            trigger: ::verdict::meta::TriggerMeta::#trigger_meta,
            name: #name,
            reads: #reads,
            writes: #writes,
            sends: &[#(#sends),*],
            emits: &[#(#emits),*],
            sets: &[#(#sets),*],
            chooses: #chooses,
            hash: #hash,
        }
    };
    HandlerGen {
        view: view_item,
        items,
        arm,
        meta,
    }
}

/// Where a handler's event is named.
fn trigger_span(t: &TriggerDef) -> proc_macro2::Span {
    match t {
        TriggerDef::Start(k) | TriggerDef::Restart(k) => k.span(),
        TriggerDef::Timer { timer } => timer.span(),
        TriggerDef::Input { binding, .. } | TriggerDef::Message { binding, .. } => {
            binding.variant().span()
        }
    }
}

/// `let <pattern> = __payload;` for the handler's binding.
fn bind_payload(binding: &Binding, gen: &KindGen, p: &Ident) -> TokenStream {
    match binding {
        Binding::Named { name, .. } => quote!(let #name = #p;),
        Binding::Pattern { pat, .. } => {
            let pat = qualify(pat, gen);
            quote!(let #pat = #p;)
        }
    }
}

/// What the invariants generate.
#[derive(Default)]
pub(crate) struct Invariants {
    /// View structs (in the views module).
    views: TokenStream,
    /// Bodies (in the impl module).
    items: TokenStream,
    global_arms: Vec<TokenStream>,
    local_arms: Vec<TokenStream>,
    metas: Vec<TokenStream>,
}

/// A view of one node for an invariant: the read fields, public; the node
/// and whether it is up, behind methods. A generic system's views take all
/// its parameters (the invariant's body may name them).
fn node_view(
    name: &Ident,
    fields: &[&FieldDef],
    doc: &str,
    sys: &Sys,
    config: bool,
) -> TokenStream {
    let mut fnames: Vec<Ident> = fields.iter().map(|f| f.name.clone()).collect();
    let mut ftys: Vec<TokenStream> = fields.iter().map(|f| f.ty.to_token_stream()).collect();
    // How each field is held (a copy or a `&'a`, see `by_value`) and taken
    // from the reference `__new` is given.
    let mut held: Vec<TokenStream> = Vec::new();
    let mut take: Vec<TokenStream> = Vec::new();
    for f in fields {
        let (n, t) = (&f.name, &f.ty);
        if by_value::copied(t) {
            held.push(quote!(#t));
            take.push(quote!(#n: *#n));
        } else {
            held.push(quote!(&'a #t));
            take.push(quote!(#n));
        }
    }
    if config {
        let sys_ty = &sys.ty;
        fnames.push(ident("config"));
        ftys.push(quote!(<#sys_ty as ::verdict::System>::Config));
        held.push(quote!(&'a <#sys_ty as ::verdict::System>::Config));
        take.push(quote!(config));
    }
    let all = sys.params.all();
    let decl = sys.params.decl_with_lifetime(&all);
    let (params, where_g) = decl_parts(&decl);
    let (impl_g, ty_g, _) = split(&decl);
    let phantom = sys.params.phantom(&all);
    quote! {
        #[doc = #doc]
        pub struct #name #params #where_g {
            #(pub #fnames: #held,)*
            node: Node,
            up: bool,
            __parameters: (#phantom, ::core::marker::PhantomData<&'a ()>),
        }
        impl #impl_g ::core::clone::Clone for #name #ty_g #where_g {
            fn clone(&self) -> Self { *self }
        }
        impl #impl_g ::core::marker::Copy for #name #ty_g #where_g {}
        impl #impl_g #name #ty_g #where_g {
            #[doc(hidden)]
            pub fn __new(#(#fnames: &'a #ftys,)* node: Node, up: bool) -> Self {
                #name { #(#take,)* node, up, __parameters: (::core::marker::PhantomData, ::core::marker::PhantomData) }
            }
            /// The node this view shows.
            pub fn node(&self) -> Node { self.node }
            /// Whether the node is running (a down node keeps only its durable fields).
            pub fn is_up(&self) -> bool { self.up }
        }
    }
}

fn invariants(def: &SystemDef, sys: &Sys) -> Invariants {
    invariant_set(def, sys, &def.invariants, true)
}

/// Views, bodies and arms for the global invariants in `list`, and for the
/// local ones of every role when `with_roles`. `eventually` properties are
/// generated the same way (see `liveness.rs`).
fn invariant_set(
    def: &SystemDef,
    sys: &Sys,
    list: &[InvariantDef],
    with_roles: bool,
) -> Invariants {
    let mut inv = Invariants::default();
    let all = sys.params.all();
    let view_decl = sys.params.decl_with_lifetime(&all);
    let (view_params, view_where) = decl_parts(&view_decl);
    let (view_impl_g, view_ty_g, _) = split(&view_decl);
    let sys_ty = &sys.ty;
    let phantom = sys.params.phantom(&all);
    let view_fish = sys.params.turbofish_with_lifetime();
    let role_index = |name: &Ident| def.roles.iter().position(|r| &r.name == name);
    for d in list {
        let id = inv.metas.len();
        let view = format_ident!("{}_reads", d.name);
        let mut fields = Vec::new();
        let mut inits = Vec::new();
        let mut reads_fields: Vec<(usize, Vec<usize>)> = Vec::new();
        let (mut network, mut trace, mut history, mut config) = (false, false, false, false);
        for item in &d.reads {
            match item {
                ReadItem::Config(_) => config = true,
                ReadItem::Network(_) => network = true,
                ReadItem::Trace(i) if i == "history" => history = true,
                ReadItem::Trace(_) => trace = true,
                ReadItem::Field {
                    role: Some(role),
                    field,
                } => {
                    let Some(r) = role_index(role) else { continue };
                    let Some(i) = role_fields(&def.roles[r])
                        .iter()
                        .position(|f| &f.name == field)
                    else {
                        continue;
                    };
                    match reads_fields.iter_mut().find(|(x, _)| *x == r) {
                        Some((_, m)) => m.push(i),
                        None => reads_fields.push((r, vec![i])),
                    }
                }
                ReadItem::Field { role: None, .. } => {}
            }
        }
        for (r, read) in &reads_fields {
            let (r, role) = (*r, &def.roles[*r]);
            let rn = &role.name;
            let node_view_name = format_ident!("{}_fields_read_by_{}", rn, d.name);
            let chosen: Vec<&FieldDef> = role_fields(role)
                .into_iter()
                .enumerate()
                .filter(|(i, _)| read.contains(i))
                .map(|(_, f)| f)
                .collect();
            let doc = format!(
                "The fields of a `{rn}` node that invariant `{}` reads.",
                d.name
            );
            inv.views
                .extend(node_view(&node_view_name, &chosen, &doc, sys, false));
            let fnames: Vec<&Ident> = chosen.iter().map(|f| &f.name).collect();
            let field_name = ident(&snake(&rn.to_string()));
            let project = quote! {
                |__n: Node, __up: bool, __st: &'a <#sys_ty as ::verdict::System>::State| match __st {
                    State::#rn(__s) => ::core::option::Option::Some(#node_view_name #view_fish::__new(#(&__s.#fnames,)* __n, __up)),
                    _ => ::core::option::Option::None,
                }
            };
            if role.param.is_some() {
                fields.push(quote!(pub #field_name: ::verdict::view::NodesOf<'a, #sys_ty, #node_view_name #view_ty_g>));
                inits.push(
                    quote!(#field_name: ::verdict::__private::nodes_of(setup, world, #r, #project)),
                );
            } else {
                fields.push(quote!(pub #field_name: #node_view_name #view_ty_g));
                inits.push(quote! {
                    #field_name: match ::verdict::__private::nodes_of::<#sys_ty, _>(setup, world, #r, #project).get(0) {
                        ::core::option::Option::Some(v) => v,
                        ::core::option::Option::None => return ::core::result::Result::Err(
                            ::std::string::String::from("the world does not match the setup")),
                    }
                });
            }
        }
        if config {
            fields.push(quote!(pub config: &'a <#sys_ty as ::verdict::System>::Config));
            inits.push(quote!(config: setup.config()));
        }
        if network {
            fields.push(quote!(pub network: &'a [::verdict::Packet<#sys_ty>]));
            inits.push(quote!(network: world.network.packets()));
        }
        if trace {
            fields.push(quote!(pub trace: &'a [::verdict::TraceEvent<#sys_ty>]));
            inits.push(quote!(trace: &world.trace));
        }
        if history {
            fields.push(quote!(pub history: &'a [::verdict::TraceEvent<#sys_ty>]));
            inits.push(quote!(history: &world.trace));
        }
        if !sys.params.is_empty() {
            fields.push(quote!(#[doc(hidden)] pub __parameters: #phantom));
            inits.push(quote!(__parameters: ::core::marker::PhantomData));
        }
        let body = &d.body;
        let docs = docs(&d.attrs);
        let doc = format!("What invariant `{}` reads, and nothing else.", d.name);
        inv.views.extend(quote! {
            #[doc = #doc]
            pub struct #view #view_params #view_where { #(#fields,)* }
        });
        inv.items.extend(quote! {
            impl #view_impl_g #view #view_ty_g #view_where {
                #(#docs)*
                fn __run(self) -> impl ::verdict::InvariantResult #body
            }
        });
        inv.global_arms.push(quote! {
            #id => {
                fn __build #view_impl_g (setup: &'a ::verdict::Setup<#sys_ty>, world: &'a ::verdict::World<#sys_ty>)
                    -> ::core::result::Result<#view #view_ty_g, ::std::string::String> #view_where {
                    ::core::result::Result::Ok(#view { #(#inits,)* })
                }
                ::verdict::InvariantResult::into_result(__build(setup, world)?.__run())
            }
        });
        let name = d.name.to_string();
        let hash = crate::hash::invariant(d);
        let only_trace = (trace || history) && !network && reads_fields.is_empty();
        let scope = if only_trace {
            quote!(Trace)
        } else {
            quote!(Global)
        };
        let rf = reads_fields.iter().map(|(r, read)| {
            let set = field_set(read.iter().copied());
            quote!((#r, #set))
        });
        inv.metas.push(quote! {
            ::verdict::meta::InvariantMeta {
                name: #name,
                scope: ::verdict::meta::InvariantScope::#scope,
                reads_fields: &[#(#rf),*],
                reads_network: #network,
                reads_trace: #trace,
                reads_history: #history,
                hash: #hash,
            }
        });
    }
    let roles = if with_roles { &def.roles[..] } else { &[] };
    for (r, role) in roles.iter().enumerate() {
        let rn = &role.name;
        for d in &role.invariants {
            let id = inv.metas.len();
            let view = format_ident!("{}_fields_read_by_{}", rn, d.name);
            let mut read = Vec::new();
            let mut chosen = Vec::new();
            for (i, f) in role_fields(role).into_iter().enumerate() {
                let reads_it = d.reads.iter().any(
                    |it| matches!(it, ReadItem::Field { role: None, field } if field == &f.name),
                );
                if reads_it {
                    read.push(i);
                    chosen.push(f);
                }
            }
            let mask = field_set(read);
            let doc = format!(
                "The fields of a `{rn}` node that invariant `{}` reads.",
                d.name
            );
            let config = d.reads.iter().any(|it| matches!(it, ReadItem::Config(_)));
            inv.views
                .extend(node_view(&view, &chosen, &doc, sys, config));
            let mut fnames: Vec<TokenStream> = chosen
                .iter()
                .map(|f| {
                    let n = &f.name;
                    quote!(&__s.#n)
                })
                .collect();
            if config {
                fnames.push(quote!(config));
            }
            let body = &d.body;
            let docs = docs(&d.attrs);
            inv.items.extend(quote! {
                impl #view_impl_g #view #view_ty_g #view_where {
                    #(#docs)*
                    fn __run(self) -> impl ::verdict::InvariantResult #body
                }
            });
            inv.local_arms.push(quote! {
                (#id, State::#rn(__s)) => {
                    let __v = #view #view_fish::__new(#(#fnames,)* node, true);
                    ::verdict::InvariantResult::into_result(__v.__run())
                }
            });
            let name = d.name.to_string();
            let hash = crate::hash::invariant(d);
            inv.metas.push(quote! {
                ::verdict::meta::InvariantMeta {
                    name: #name,
                    scope: ::verdict::meta::InvariantScope::Local(#r),
                    reads_fields: &[(#r, #mask)],
                    reads_network: false,
                    reads_trace: false,
                    reads_history: false,
                    hash: #hash,
                }
            });
        }
    }
    inv
}

/// The `verdict::meta::FieldSet` of these field indices, as static words.
fn field_set(indices: impl IntoIterator<Item = usize>) -> TokenStream {
    let mut words: Vec<u64> = Vec::new();
    for i in indices {
        if words.len() <= i / 64 {
            words.resize(i / 64 + 1, 0);
        }
        words[i / 64] |= 1 << (i % 64);
    }
    quote!(::verdict::meta::FieldSet::from_words(&[#(#words),*]))
}

/// A type or expression as compact text for metadata.
fn text(t: &impl ToTokens) -> String {
    let s = t.to_token_stream().to_string();
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = if i > 0 { chars[i - 1] } else { ' ' };
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            let tight_after = matches!(prev, '<' | ':' | '(' | '[' | '&' | '!' | '.');
            let tight_before = matches!(next, '<' | '>' | ':' | ')' | ']' | ',' | '(' | '.' | '!');
            if tight_after || tight_before {
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn meta(
    def: &SystemDef,
    source_hash: u64,
    kinds: &Kinds<'_>,
    handlers: &[TokenStream],
    invariants: &[TokenStream],
) -> TokenStream {
    let Kinds {
        inputs,
        outputs,
        messages,
        timers,
    } = *kinds;
    let name = def.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
    let roles = def.roles.iter().map(|r| {
        let rn = r.name.to_string();
        let view = snake(&rn);
        let param = match &r.param {
            Some(p) => {
                let s = text(p);
                quote!(::core::option::Option::Some(#s))
            }
            None => quote!(::core::option::Option::None),
        };
        let fields = role_fields(r).into_iter().map(|f| {
            let n = f.name.to_string();
            let ty = text(&f.ty);
            let init = f.init.as_ref().map(text).unwrap_or_default();
            let durable = f.durable.is_some();
            quote!(::verdict::meta::FieldMeta { name: #n, ty: #ty, init: #init, durable: #durable })
        });
        quote!(::verdict::meta::RoleMeta { name: #rn, view: #view, param: #param, fields: &[#(#fields),*] })
    });
    let names =
        |g: &KindGen| -> Vec<String> { g.variants.iter().map(|(v, _, _)| v.to_string()).collect() };
    let (i, o, m) = (names(inputs), names(outputs), names(messages));
    let t: Vec<String> = timers.iter().map(|t| t.name.to_string()).collect();
    let (hi, ho, hm) = (
        kind_hashes(def.inputs.first()),
        kind_hashes(def.outputs.first()),
        kind_hashes(def.messages.first()),
    );
    let config_hash = config_hash(def);
    quote! {
        ::verdict::SystemMeta {
            name: #name,
            roles: &[#(#roles),*],
            inputs: &[#(#i),*],
            outputs: &[#(#o),*],
            messages: &[#(#m),*],
            timers: &[#(#t),*],
            handlers: &[#(#handlers),*],
            invariants: &[#(#invariants),*],
            hashes: ::verdict::meta::SystemHashes {
                source: #source_hash,
                config: #config_hash,
                inputs: &[#(#hi),*],
                outputs: &[#(#ho),*],
                messages: &[#(#hm),*],
            },
        }
    }
}

/// Per variant of a kind, the hash of its payload's declaration (of the
/// type itself for a kind that is the user's own type).
fn kind_hashes(def: Option<&KindDef>) -> Vec<u64> {
    match def.map(|k| &k.body) {
        None => Vec::new(),
        Some(KindBody::Enum(vs)) => vs
            .iter()
            .map(|v| {
                crate::hash::Fnv::new()
                    .tokens(&v.name)
                    .tokens(&v.fields)
                    .finish()
            })
            .collect(),
        Some(KindBody::Alias(ty)) => vec![crate::hash::Fnv::new().tokens(ty).finish()],
    }
}

/// The hash of the `config { .. }` section: its fields' names, types and defaults.
fn config_hash(def: &SystemDef) -> u64 {
    let mut f = crate::hash::Fnv::new();
    for field in def.config.iter().flat_map(|s| &s.items) {
        f.tokens(&field.name).tokens(&field.ty);
        if let Some(init) = &field.init {
            f.tokens(init);
        }
    }
    f.finish()
}

struct RoleFns {
    node: TokenStream,
    role_of: TokenStream,
    instance_of: TokenStream,
}

fn role_functions(def: &SystemDef) -> RoleFns {
    let mut node_arms = Vec::new();
    let mut role_arms = Vec::new();
    let mut inst_arms = Vec::new();
    for (r, role) in def.roles.iter().enumerate() {
        let n = &role.name;
        match &role.param {
            Some(p) => {
                node_arms.push(quote!(#r => Node::#n(instance as #p),));
                role_arms.push(quote!(Node::#n(_) => #r,));
                inst_arms.push(quote!(Node::#n(i) => i as usize,));
            }
            None => {
                node_arms.push(quote!(#r => Node::#n,));
                role_arms.push(quote!(Node::#n => #r,));
                inst_arms.push(quote!(Node::#n => 0,));
            }
        }
    }
    let fallback = match def.roles.first() {
        Some(first) => {
            let n = &first.name;
            if first.param.is_some() {
                quote!(Node::#n(0))
            } else {
                quote!(Node::#n)
            }
        }
        None => quote!(::core::unreachable!()),
    };
    RoleFns {
        node: quote! {
            #[allow(clippy::cast_possible_truncation)]
            match role { #(#node_arms)* _ => #fallback }
        },
        role_of: quote!(match node { #(#role_arms)* }),
        instance_of: quote!(match node { #(#inst_arms)* }),
    }
}

fn init_arms(def: &SystemDef) -> Vec<TokenStream> {
    def.roles
        .iter()
        .map(|role| {
            let n = &role.name;
            let s = state_struct(role);
            let pat = if role.param.is_some() {
                quote!(Node::#n(_))
            } else {
                quote!(Node::#n)
            };
            let inits = role_fields(role).into_iter().map(|f| {
                let fname = &f.name;
                let init = f.init.as_ref().map_or_else(
                    || quote!(::core::default::Default::default()),
                    |e| e.to_token_stream(),
                );
                quote!(#fname: #init)
            });
            quote!(#pat => State::#n(#s { #(#inits,)* }),)
        })
        .collect()
}

fn crash_arms(def: &SystemDef) -> Vec<TokenStream> {
    def.roles
        .iter()
        .map(|role| {
            let n = &role.name;
            let resets = role_fields(role)
                .into_iter()
                .filter(|f| f.durable.is_none())
                .map(|f| {
                    let fname = &f.name;
                    let init = f.init.as_ref().map_or_else(
                        || quote!(::core::default::Default::default()),
                        |e| e.to_token_stream(),
                    );
                    quote!(__s.#fname = #init;)
                });
            quote!(State::#n(__s) => { #(#resets)* })
        })
        .collect()
}

fn fields_arms(def: &SystemDef) -> Vec<TokenStream> {
    def.roles
        .iter()
        .map(|role| {
            let n = &role.name;
            let entries = role_fields(role).into_iter().map(|f| {
                let fname = &f.name;
                let s = fname.to_string();
                quote!((#s, ::std::format!("{:?}", __s.#fname)))
            });
            quote!(State::#n(__s) => ::std::vec![#(#entries),*],)
        })
        .collect()
}

/// `observe`, for invariant inference: each field through its
/// `verdict::induct::observe::Observe` impl, else by its `Debug` text (the
/// probe picks which at compile time). A generic system keeps the default
/// (observes nothing): its fields' types are not known here.
fn observe_fn(def: &SystemDef, sys: &Sys) -> TokenStream {
    if !sys.params.is_empty() {
        return TokenStream::new();
    }
    let arms = def.roles.iter().map(|role| {
        let n = &role.name;
        let probes = role_fields(role).into_iter().enumerate().map(|(i, f)| {
            let fname = &f.name;
            quote!((&::verdict::__private::Probe(&__s.#fname)).observe_field(#i, out);)
        });
        quote!(State::#n(__s) => { #(#probes)* })
    });
    quote! {
        #[allow(unreachable_patterns, unused_variables)]
        fn observe(state: &Self::State, out: &mut ::std::vec::Vec<::verdict::__private::Atom>) {
            #[allow(unused_imports)]
            use ::verdict::__private::{ByDebug as _, ByParts as _};
            match state { #(#arms)* _ => {} }
        }
    }
}

/// `vary`, for the induction search: per field with a bounded domain
/// (`#[domain(..)]`, or both values of a `bool`), the state with that
/// field set to each other value of it. Values are typed by the field, so
/// a listed value of another type is a type error at that value.
fn vary_fn(def: &SystemDef) -> TokenStream {
    let arms = def.roles.iter().filter_map(|role| {
        let n = &role.name;
        let fields: Vec<TokenStream> = role_fields(role)
            .into_iter()
            .filter_map(|f| {
                let (fname, ty) = (&f.name, &f.ty);
                let values = domain_values(f)?;
                let count = values.len();
                Some(quote! {{
                    let __values: [#ty; #count] = [#(#values),*];
                    for __v in __values {
                        if __v != __s.#fname {
                            let mut __t = __s.clone();
                            __t.#fname = __v;
                            out.push(State::#n(__t));
                        }
                    }
                }})
            })
            .collect();
        (!fields.is_empty()).then(|| quote!(State::#n(__s) => { #(#fields)* }))
    });
    let arms: Vec<TokenStream> = arms.collect();
    if arms.is_empty() {
        return TokenStream::new();
    }
    quote! {
        #[allow(unreachable_patterns)]
        fn vary(state: &Self::State, out: &mut ::std::vec::Vec<Self::State>) {
            match state { #(#arms)* _ => {} }
        }
    }
}

/// The values of a field's bounded domain as expressions, if it has one.
fn domain_values(f: &FieldDef) -> Option<Vec<TokenStream>> {
    match &f.domain {
        Some(DomainAttr {
            span,
            values: DomainValues::Range { lo, hi, inclusive },
            ..
        }) => {
            let end = if *inclusive { *hi } else { *hi - 1 };
            Some(
                (*lo..=end)
                    .map(|v| {
                        let mut lit = proc_macro2::Literal::i128_unsuffixed(v);
                        lit.set_span(*span);
                        quote!(#lit)
                    })
                    .collect(),
            )
        }
        Some(DomainAttr {
            values: DomainValues::List(values),
            ..
        }) => Some(values.iter().map(|v| quote!(#v)).collect()),
        Some(_) => None,
        None => {
            let is_bool =
                matches!(&f.ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident("bool"));
            is_bool.then(|| vec![quote!(false), quote!(true)])
        }
    }
}

/// Arms of `changed_fields`: per role, the fields whose values differ.
fn changed_arms(def: &SystemDef) -> Vec<TokenStream> {
    def.roles
        .iter()
        .enumerate()
        .map(|(r, role)| {
            let n = &role.name;
            let checks = role_fields(role).into_iter().enumerate().map(|(i, f)| {
                let fname = &f.name;
                quote!(if __b.#fname != __a.#fname { __set.insert(#i); })
            });
            quote! {
                (#r, State::#n(__b), State::#n(__a)) => {
                    let mut __set = ::verdict::meta::FieldSet::EMPTY;
                    #(#checks)*
                    ::core::option::Option::Some(__set)
                }
            }
        })
        .collect()
}

fn kind_index_fn(gen: &KindGen, arg: TokenStream) -> TokenStream {
    if gen.alias {
        return quote!({ let _ = #arg; 0 });
    }
    if gen.variants.is_empty() {
        return quote!(match *#arg {});
    }
    let name = &gen.name;
    let arms = gen
        .variants
        .iter()
        .enumerate()
        .map(|(i, (v, _, _))| quote!(#name::#v(_) => #i,));
    quote!(match #arg { #(#arms)* })
}

fn timer_fns(timers: &[&Named]) -> (TokenStream, TokenStream) {
    if timers.is_empty() {
        return (
            quote!(match timer {}),
            quote!({
                let _ = id;
                ::core::unreachable!("this system declares no timers, so none can fire")
            }),
        );
    }
    let names: Vec<&Ident> = timers.iter().map(|t| &t.name).collect();
    let ids: Vec<usize> = (0..names.len()).collect();
    let first = names[0];
    (
        quote!(match timer { #(Timer::#names => #ids,)* }),
        quote!(match id { #(#ids => Timer::#names,)* _ => Timer::#first }),
    )
}
