//! Generated relabelling, for automatic symmetry reduction: `Relabel` for
//! the node type, and the `System::relabel_*` functions, which rename node
//! ids in every field of states, messages, inputs and outputs.
//!
//! Each field goes through an autoref probe, so a field type that does not
//! implement `verdict::Relabel` does not break compilation: its function
//! returns `Err("Role.field")` and the checker turns symmetry off with a note.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Fields, Ident, Index};

use crate::ast::{KindBody, KindDef, SystemDef};
use crate::names::ident;

/// Relabels the place `place`, returning early with `Err(what)` when its
/// type cannot be relabelled.
fn probe(place: TokenStream, what: &str) -> TokenStream {
    quote! {
        if !(&::verdict::__private::relabel::Probe::<_, Node>::new(&mut #place)).__relabel(map) {
            return ::core::result::Result::Err(#what);
        }
    }
}

/// `impl Relabel<Node> for Node`.
pub fn node_impl() -> TokenStream {
    quote! {
        impl ::verdict::Relabel<Node> for Node {
            #[inline]
            fn relabel(&mut self, map: &dyn Fn(Node) -> Node) {
                *self = map(*self);
            }
        }
    }
}

/// The body of one `relabel_*` function for a kind, matching on `value`.
fn kind_body(def: Option<&KindDef>, default: &str) -> TokenStream {
    let Some(def) = def else {
        // The kind is an empty enum: there is no value to relabel.
        return quote!(match *value {});
    };
    let name = &def.name;
    match &def.body {
        KindBody::Alias(_) => {
            let what = format!("{name}");
            let p = probe(quote!(*value), &what);
            quote! { #p ::core::result::Result::Ok(()) }
        }
        KindBody::Enum(variants) => {
            let arms = variants.iter().map(|v| {
                let vn = &v.name;
                let what = format!("{default} {vn}");
                let probes: Vec<TokenStream> = match &v.fields {
                    Fields::Unit => Vec::new(),
                    Fields::Unnamed(f) => (0..f.unnamed.len())
                        .map(|i| {
                            let i = Index::from(i);
                            probe(quote!(x.#i), &what)
                        })
                        .collect(),
                    Fields::Named(f) => f
                        .named
                        .iter()
                        .filter_map(|x| x.ident.as_ref())
                        .map(|i| probe(quote!(x.#i), &what))
                        .collect(),
                };
                quote!(#name::#vn(x) => { let _ = &x; #(#probes)* })
            });
            quote! {
                match value { #(#arms)* }
                ::core::result::Result::Ok(())
            }
        }
    }
}

/// The `relabel_state`, `relabel_msg`, `relabel_input` and `relabel_output`
/// methods of the `System` impl.
pub fn system_fns(def: &SystemDef) -> TokenStream {
    let state_arms = def.roles.iter().map(|r| {
        let rn = &r.name;
        let probes = r.fields().map(|f| {
            let fname: &Ident = &f.name;
            probe(quote!(s.#fname), &format!("{rn}.{fname}"))
        });
        quote!(State::#rn(s) => { let _ = &s; #(#probes)* })
    });
    let msg = kind_body(def.messages.first(), "message");
    let input = kind_body(def.inputs.first(), "input");
    let output = kind_body(def.outputs.first(), "output");
    let _ = ident("unused");
    quote! {
        #[allow(unused_variables, unreachable_code, unused_imports)]
        fn relabel_state(
            state: &mut <Self as ::verdict::System>::State,
            map: &dyn Fn(Node) -> Node,
        ) -> ::core::result::Result<(), &'static str> {
            use ::verdict::__private::relabel::{__ViaFallback as _, __ViaRelabel as _};
            match state { #(#state_arms)* }
            ::core::result::Result::Ok(())
        }

        #[allow(unused_variables, unreachable_code, unused_imports)]
        fn relabel_msg(
            value: &mut <Self as ::verdict::System>::Msg,
            map: &dyn Fn(Node) -> Node,
        ) -> ::core::result::Result<(), &'static str> {
            use ::verdict::__private::relabel::{__ViaFallback as _, __ViaRelabel as _};
            #msg
        }

        #[allow(unused_variables, unreachable_code, unused_imports)]
        fn relabel_input(
            value: &mut <Self as ::verdict::System>::Input,
            map: &dyn Fn(Node) -> Node,
        ) -> ::core::result::Result<(), &'static str> {
            use ::verdict::__private::relabel::{__ViaFallback as _, __ViaRelabel as _};
            #input
        }

        #[allow(unused_variables, unreachable_code, unused_imports)]
        fn relabel_output(
            value: &mut <Self as ::verdict::System>::Output,
            map: &dyn Fn(Node) -> Node,
        ) -> ::core::result::Result<(), &'static str> {
            use ::verdict::__private::relabel::{__ViaFallback as _, __ViaRelabel as _};
            #output
        }
    }
}
