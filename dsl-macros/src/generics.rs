//! The system's type and const parameters (`system PrimaryBackup<M:
//! StateMachine>;`), threaded through everything the macro generates.
//!
//! Each generated data type (a payload struct, a kind enum, a role's state,
//! the config) takes only the parameters its fields mention, so a payload
//! such as `msg::Ack { index: u64 }` stays a plain struct users build as
//! before; views and handler markers, which users never build, take all of
//! them. Every type parameter is data ([`verdict::Data`]): generated items
//! carry that bound, and one generated check proves that the user's own
//! bounds imply it, so a missing bound is one error at the parameter
//! instead of a dozen at derived impls.

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit::Visit;
use syn::{GenericParam, Generics, Ident, WherePredicate};

/// The parameters as declared, and what each mentions.
pub struct Params {
    /// As written after the system's name, with its where clause.
    pub declared: Generics,
    /// The type and const parameters, in order.
    names: Vec<(Ident, bool)>,
}

/// Which of the parameters an item takes, by position.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Used(Vec<bool>);

impl Used {
    /// Adds the parameters of `other`.
    pub fn union(&self, other: &Used) -> Used {
        Used(self.0.iter().zip(&other.0).map(|(a, b)| *a || *b).collect())
    }

    fn any(&self) -> bool {
        self.0.iter().any(|u| *u)
    }
}

/// Collects the parameters a piece of syntax names.
struct Mentions<'a> {
    names: &'a [(Ident, bool)],
    found: Vec<bool>,
}

impl<'ast> Visit<'ast> for Mentions<'_> {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            if let Some(first) = path.segments.first() {
                for (i, (name, _)) in self.names.iter().enumerate() {
                    if first.ident == *name {
                        self.found[i] = true;
                    }
                }
            }
        }
        syn::visit::visit_path(self, path);
    }
}

impl Params {
    pub fn new(declared: &Generics) -> Self {
        let names = declared
            .params
            .iter()
            .filter_map(|p| match p {
                GenericParam::Type(t) => Some((t.ident.clone(), true)),
                GenericParam::Const(c) => Some((c.ident.clone(), false)),
                GenericParam::Lifetime(_) => None,
            })
            .collect();
        Params {
            declared: declared.clone(),
            names,
        }
    }

    /// Whether the system has no parameters.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every parameter.
    pub fn all(&self) -> Used {
        Used(vec![true; self.names.len()])
    }

    /// No parameter.
    pub fn none(&self) -> Used {
        Used(vec![false; self.names.len()])
    }

    fn mentions(&self, node: &dyn Fn(&mut Mentions)) -> Used {
        let mut m = Mentions {
            names: &self.names,
            found: vec![false; self.names.len()],
        };
        node(&mut m);
        Used(m.found)
    }

    /// The parameters that `types` name, and those their bounds need in
    /// turn (`M: Codec<K>` brings `K` along with `M`).
    pub fn used_by<'a>(&self, types: impl IntoIterator<Item = &'a syn::Type>) -> Used {
        let mut used = self.none();
        for ty in types {
            used = used.union(&self.mentions(&|m| m.visit_type(ty)));
        }
        loop {
            let mut grown = used.clone();
            for (i, param) in self.params() {
                if used.0[i] {
                    grown = grown.union(&self.mentions(&|m| m.visit_generic_param(param)));
                }
            }
            for pred in self.predicates() {
                let named = self.mentions(&|m| m.visit_where_predicate(pred));
                if named.0.iter().zip(&used.0).any(|(n, u)| *n && *u) {
                    grown = grown.union(&named);
                }
            }
            if grown == used {
                return used;
            }
            used = grown;
        }
    }

    /// The type and const parameters, numbered as in [`Used`].
    fn params(&self) -> impl Iterator<Item = (usize, &GenericParam)> {
        self.declared
            .params
            .iter()
            .filter(|p| !matches!(p, GenericParam::Lifetime(_)))
            .enumerate()
    }

    fn predicates(&self) -> impl Iterator<Item = &WherePredicate> {
        self.declared
            .where_clause
            .iter()
            .flat_map(|w| w.predicates.iter())
    }

    /// The generics of an item that takes the `used` parameters: their
    /// declarations, the where predicates that name only them, and
    /// `T: verdict::Data` for each type parameter among them.
    pub fn decl(&self, used: &Used) -> Generics {
        let mut g = Generics::default();
        for (i, param) in self.params() {
            if used.0[i] {
                let mut param = param.clone();
                if let GenericParam::Type(t) = &mut param {
                    t.eq_token = None;
                    t.default = None;
                }
                if let GenericParam::Const(c) = &mut param {
                    c.eq_token = None;
                    c.default = None;
                }
                g.params.push(param);
            }
        }
        let mut predicates: Vec<WherePredicate> = self
            .predicates()
            .filter(|pred| {
                let named = self.mentions(&|m| m.visit_where_predicate(pred));
                named.0.iter().zip(&used.0).all(|(n, u)| !*n || *u)
            })
            .cloned()
            .collect();
        // Each type parameter is data; the bound joins the parameter's own
        // bounds where they are written (one place, as clippy likes).
        let data: syn::TypeParamBound = syn::parse_quote!(::verdict::Data);
        for param in g.params.iter_mut() {
            let GenericParam::Type(t) = param else {
                continue;
            };
            let in_where = predicates.iter_mut().find_map(|p| match p {
                WherePredicate::Type(pt) => match &pt.bounded_ty {
                    syn::Type::Path(tp) if tp.qself.is_none() && tp.path.is_ident(&t.ident) => {
                        Some(pt)
                    }
                    _ => None,
                },
                _ => None,
            });
            match in_where {
                Some(pt) => pt.bounds.push(data.clone()),
                None => {
                    if t.colon_token.is_none() {
                        t.colon_token = Some(Default::default());
                    }
                    t.bounds.push(data.clone());
                }
            }
        }
        if !predicates.is_empty() {
            g.make_where_clause().predicates.extend(predicates);
        }
        g
    }

    /// `decl(used)` with lifetime `'a` first (for views that borrow state).
    pub fn decl_with_lifetime(&self, used: &Used) -> Generics {
        let mut g = self.decl(used);
        g.params.insert(0, syn::parse_quote!('a));
        g
    }

    /// `<M, N>`: the arguments naming an item that takes the `used`
    /// parameters (nothing when it takes none).
    pub fn args(&self, used: &Used) -> TokenStream {
        if !used.any() {
            return TokenStream::new();
        }
        let names = self.used_names(used);
        quote!(<#(#names),*>)
    }

    /// `::<'_, M, N>`: every parameter, after an elided lifetime, to name a
    /// view whose fields may not mention them all.
    pub fn turbofish_with_lifetime(&self) -> TokenStream {
        let names = self.used_names(&self.all());
        quote!(::<'_ #(, #names)*>)
    }

    /// `::<M, N>`, or nothing for a system without parameters.
    pub fn turbofish(&self) -> TokenStream {
        if self.names.is_empty() {
            return TokenStream::new();
        }
        let names = self.used_names(&self.all());
        quote!(::<#(#names),*>)
    }

    fn used_names(&self, used: &Used) -> Vec<&Ident> {
        self.names
            .iter()
            .zip(&used.0)
            .filter(|(_, u)| **u)
            .map(|((n, _), _)| n)
            .collect()
    }

    /// A `PhantomData` over the used type parameters, for items that must
    /// take parameters their fields may not mention.
    pub fn phantom(&self, used: &Used) -> TokenStream {
        let types = self
            .names
            .iter()
            .zip(&used.0)
            .filter(|((_, is_type), u)| **u && *is_type)
            .map(|((n, _), _)| n);
        quote!(::core::marker::PhantomData<fn() -> (#(#types,)*)>)
    }

    /// A function whose body asks, under the user's own bounds only, that
    /// each type parameter is data: the one place a missing bound is
    /// reported, at the parameter.
    pub fn data_check(&self) -> TokenStream {
        if !self.names.iter().any(|(_, t)| *t) {
            return TokenStream::new();
        }
        let mut g = self.declared.clone();
        for p in g.params.iter_mut() {
            if let GenericParam::Type(t) = p {
                t.eq_token = None;
                t.default = None;
            }
        }
        let (impl_generics, _, where_clause) = g.split_for_impl();
        let asserts = self.names.iter().filter(|(_, t)| *t).map(
            |(n, _)| quote::quote_spanned!(n.span()=> ::verdict::__private::param_is_data::<#n>();),
        );
        quote! {
            #[allow(dead_code, clippy::extra_unused_type_parameters)]
            fn __parameters_are_data #impl_generics () #where_clause {
                #(#asserts)*
            }
        }
    }
}
