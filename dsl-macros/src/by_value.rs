//! Which read-only fields a view holds by value instead of by reference.
//!
//! A handler or invariant that only reads `held: bool` should be able to
//! write `if self.held`, not `if *self.held`. A macro cannot ask the
//! compiler whether a type is `Copy`, so the rule is syntactic: the
//! primitive scalars, `Node`, and `Option`s, tuples and shared references
//! built from them. Anything else (a user's own `Copy` type included) stays
//! a `&T`, which is always correct; the rule only decides where the `*`
//! can go. Written fields stay `&mut T` whatever their type.

use syn::{GenericArgument, PathArguments, Type};

/// The scalar types, by the name a field type spells them with.
const SCALARS: &[&str] = &[
    "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128",
    "isize", "f32", "f64", "Node",
];

/// Whether a read-only field of type `ty` is copied into its view.
pub fn copied(ty: &Type) -> bool {
    match ty {
        Type::Paren(t) => copied(&t.elem),
        Type::Group(t) => copied(&t.elem),
        Type::Tuple(t) => t.elems.iter().all(copied),
        Type::Reference(r) => r.mutability.is_none(),
        Type::Path(p) if p.qself.is_none() => {
            let segments = &p.path.segments;
            let Some(last) = segments.last() else {
                return false;
            };
            let name = last.ident.to_string();
            match &last.arguments {
                PathArguments::None => segments.len() == 1 && SCALARS.contains(&name.as_str()),
                PathArguments::AngleBracketed(args) if name == "Option" => {
                    let mut types = args.args.iter();
                    matches!(
                        (types.next(), types.next()),
                        (Some(GenericArgument::Type(inner)), None) if copied(inner)
                    )
                }
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::copied;

    fn ty(s: &str) -> syn::Type {
        syn::parse_str(s).expect("a type")
    }

    #[test]
    fn scalars_options_and_tuples_of_them_are_copied() {
        for s in [
            "u64",
            "bool",
            "Node",
            "Option<Node>",
            "(u64, Option<bool>)",
            "()",
            "&'static str",
            "std::option::Option<u8>",
        ] {
            assert!(copied(&ty(s)), "{s}");
        }
    }

    #[test]
    fn everything_else_stays_a_reference() {
        for s in [
            "Vec<u64>",
            "String",
            "M",
            "Option<Vec<u8>>",
            "std::u64",
            "(u64, String)",
            "[u8; 4]",
            "BTreeMap<Node, u64>",
            "<M as StateMachine>::State",
        ] {
            assert!(!copied(&ty(s)), "{s}");
        }
    }
}
