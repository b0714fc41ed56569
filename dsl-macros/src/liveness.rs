//! `eventually` properties: the `System::eventually` list and
//! `System::check_eventually`, built from views generated exactly like a
//! global invariant's (same `reads(..)` rules, same body types).
//!
//! ```text
//! eventually <name> reads(<Role.field | network | trace>, ..) { <body> }
//! ```
//! The body returns `bool` (or `Result<(), String>`): the goal. It must
//! hold again and again in every fair run: a run that ends must end in a
//! state where it holds, and a run that cycles must pass such a state in
//! every cycle.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::SystemDef;

/// The two `System` methods for the declared `eventually` properties;
/// `arms` are their evaluation arms, by index.
pub fn system_fns(def: &SystemDef, sys: &TokenStream, arms: &[TokenStream]) -> TokenStream {
    if def.eventually.is_empty() {
        return TokenStream::new();
    }
    let names = def.eventually.iter().map(|e| e.name.to_string());
    quote! {
        fn eventually() -> &'static [::verdict::meta::EventuallyMeta] {
            static EVENTUALLY: &[::verdict::meta::EventuallyMeta] = &[
                #(::verdict::meta::EventuallyMeta { name: #names },)*
            ];
            EVENTUALLY
        }

        #[allow(unused_variables, unreachable_patterns, clippy::match_single_binding)]
        fn check_eventually(
            property: usize,
            setup: &::verdict::Setup<#sys>,
            world: &::verdict::World<#sys>,
        ) -> bool {
            let invariant = property;
            let __eval = || -> ::core::result::Result<(), ::std::string::String> {
                match invariant {
                    #(#arms)*
                    _ => ::core::result::Result::Ok(()),
                }
            };
            __eval().is_ok()
        }
    }
}
