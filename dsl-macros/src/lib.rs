//! The `system!` macro of Verdict. Use it through the `verdict` crate, which
//! re-exports it; the book's reference chapter documents the grammar.
//!
//! The macro is three passes: `parse` reads the tokens into `ast`,
//! `valid` rejects what cannot be a correct system (each error with a span
//! and a sentence saying what to change), with `scan` adding friendlier
//! messages for footprint violations it can see in handler bodies, and
//! `expand` generates the types, the footprint-restricted views and the
//! `verdict::System` implementation.

mod ast;
mod by_value;
mod derive_relabel;
mod expand;
mod expand_symmetry;
mod generics;
mod hash;
mod liveness;
mod names;
mod parse;
mod scan;
mod valid;

use proc_macro::TokenStream;

/// Declares a distributed system: its nodes, messages, state, handlers with
/// footprints, and invariants. See the `verdict` crate and the book.
#[proc_macro]
pub fn system(input: TokenStream) -> TokenStream {
    let source_hash = hash::text(&proc_macro2::TokenStream::from(input.clone()).to_string());
    let def = match syn::parse::<ast::SystemDef>(input) {
        Ok(def) => def,
        Err(e) => return e.to_compile_error().into(),
    };
    match valid::validate(&def) {
        Ok(()) => expand::expand(&def, true, source_hash).into(),
        Err(errors) => {
            // Report every problem, and still declare the system's types
            // (with empty handler bodies) so the rest of the crate does not
            // drown the real errors in "cannot find type" noise.
            let mut out = errors.to_compile_error();
            if valid::expandable(&def) {
                out.extend(expand::expand(&def, false, source_hash));
            }
            out.into()
        }
    }
}

/// `#[derive(Relabel)]` on a type of your own used in state, messages,
/// inputs or outputs: renames the node ids inside it field by field (none,
/// for a type that holds none), so symmetry reduction can apply.
#[proc_macro_derive(Relabel)]
pub fn derive_relabel(input: TokenStream) -> TokenStream {
    match syn::parse::<syn::DeriveInput>(input) {
        Ok(input) => derive_relabel::expand(&input).into(),
        Err(e) => e.to_compile_error().into(),
    }
}
