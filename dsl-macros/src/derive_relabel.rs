//! `#[derive(Relabel)]`: renames node ids inside a user's type by renaming
//! them inside each of its fields.
//!
//! A type that holds no node ids gets a relabelling that does nothing (its
//! fields' own relabellings do nothing), and one that does — a `Node` field,
//! a `Vec<Node>` — has them renamed, so symmetry reduction stays on for
//! systems whose state or messages use the type. Each field's type must be
//! `Relabel` itself; the generated impl says so in its where clause, so a
//! field that is not is reported at the derive with the field's type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields};

/// The `impl verdict::Relabel<N>` for `input`.
pub fn expand(input: &DeriveInput) -> TokenStream {
    let name = &input.ident;
    let n = format_ident!("__VerdictNode");
    let mut generics = input.generics.clone();
    generics.params.push(syn::parse_quote!(#n));
    let mut bounds: Vec<TokenStream> = Vec::new();
    let mut bound = |ty: &syn::Type| bounds.push(quote!(#ty: ::verdict::Relabel<#n>));
    let body = match &input.data {
        Data::Struct(s) => {
            let (pattern, calls) = destructure(&s.fields, &mut bound);
            quote! {
                let #name #pattern = self;
                #(#calls)*
            }
        }
        Data::Enum(e) => {
            let arms = e.variants.iter().map(|v| {
                let vn = &v.ident;
                let (pattern, calls) = destructure(&v.fields, &mut bound);
                quote!(#name::#vn #pattern => { #(#calls)* })
            });
            quote! {
                #[allow(unreachable_patterns)]
                match self { #(#arms)* _ => {} }
            }
        }
        Data::Union(u) => {
            return syn::Error::new(
                u.union_token.span,
                "`Relabel` cannot be derived for a union: implement `verdict::Relabel` by hand",
            )
            .to_compile_error();
        }
    };
    let (impl_g, _, _) = generics.split_for_impl();
    let (_, ty_g, where_g) = input.generics.split_for_impl();
    let mut preds: Vec<TokenStream> = where_g
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();
    preds.extend(bounds);
    quote! {
        impl #impl_g ::verdict::Relabel<#n> for #name #ty_g where #(#preds,)* {
            #[allow(unused_variables)]
            fn relabel(&mut self, map: &dyn ::core::ops::Fn(#n) -> #n) {
                #body
            }
        }
    }
}

/// A pattern binding every field of `fields` by reference, and one
/// `relabel` call per field; records each field's type for the bounds.
fn destructure(
    fields: &Fields,
    bound: &mut impl FnMut(&syn::Type),
) -> (TokenStream, Vec<TokenStream>) {
    match fields {
        Fields::Unit => (TokenStream::new(), Vec::new()),
        Fields::Named(f) => {
            let names: Vec<_> = f.named.iter().map(|f| f.ident.clone().unwrap()).collect();
            for f in &f.named {
                bound(&f.ty);
            }
            let calls = names
                .iter()
                .map(|n| quote!(::verdict::Relabel::relabel(#n, map);))
                .collect();
            (quote!({ #(#names),* }), calls)
        }
        Fields::Unnamed(f) => {
            let names: Vec<_> = (0..f.unnamed.len())
                .map(|i| format_ident!("__field{}", i))
                .collect();
            for f in &f.unnamed {
                bound(&f.ty);
            }
            let calls = names
                .iter()
                .map(|n| quote!(::verdict::Relabel::relabel(#n, map);))
                .collect();
            (quote!(( #(#names),* )), calls)
        }
    }
}
