//! Names the macro derives from user names.

use proc_macro2::Span;
use syn::Ident;

/// `ResourceManager` -> `resource_manager`.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// An identifier at the call site.
pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// An identifier with a chosen span (so errors about it point there).
pub fn ident_at(name: &str, span: Span) -> Ident {
    Ident::new(name, span)
}
