//! Stable hashes of declarations, for change impact (`impact`) and the
//! check cache: the same text hashes the same in every build.
//!
//! A declaration is hashed by the string form of its tokens, which keeps
//! no spans and no comments and prints tokens with one fixed spacing, so
//! moving code or reformatting it does not change its hash. The hash is
//! 64-bit FNV-1a, the same function as `verdict::meta::text_hash`.

use quote::ToTokens;

use crate::ast::{Binding, Footprint, HandlerDef, InvariantDef, ReadItem, TriggerDef};

/// An FNV-1a hash fed piece by piece; pieces are separated so `ab`,`c`
/// and `a`,`bc` differ.
pub struct Fnv(u64);

impl Fnv {
    pub fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    /// Adds a piece of text.
    pub fn text(&mut self, s: &str) -> &mut Self {
        for b in s.bytes().chain([0xff]) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    /// Adds the string form of some tokens.
    pub fn tokens(&mut self, t: &impl ToTokens) -> &mut Self {
        self.text(&t.to_token_stream().to_string())
    }

    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// The hash of one piece of text.
pub fn text(s: &str) -> u64 {
    Fnv::new().text(s).finish()
}

/// A handler's trigger (with its patterns), footprint and body: what it
/// runs on, may touch and does. Doc comments are left out.
pub fn handler(h: &HandlerDef) -> u64 {
    let mut f = Fnv::new();
    match &h.trigger {
        TriggerDef::Start(_) => f.text("start"),
        TriggerDef::Restart(_) => f.text("restart"),
        TriggerDef::Timer { timer } => f.text("timer").tokens(timer),
        TriggerDef::Input { binding, .. } => binding_hash(f.text("input"), binding),
        TriggerDef::Message { binding, from, .. } => {
            binding_hash(f.text("message"), binding).tokens(from)
        }
    };
    footprint(&mut f, &h.footprint);
    f.tokens(&h.body).finish()
}

fn binding_hash<'a>(f: &'a mut Fnv, b: &Binding) -> &'a mut Fnv {
    match b {
        Binding::Pattern { variant, pat } => f.text("pattern").tokens(variant).tokens(pat),
        Binding::Named { name, variant } => f.text("named").tokens(name).tokens(variant),
    }
}

fn footprint(f: &mut Fnv, fp: &Footprint) {
    for (word, items) in [
        ("reads", &fp.reads),
        ("writes", &fp.writes),
        ("sends", &fp.sends),
        ("emits", &fp.emits),
        ("sets", &fp.sets),
    ] {
        f.text(word);
        for i in items {
            f.tokens(i);
        }
    }
    f.text(if fp.chooses.is_some() { "chooses" } else { "" });
}

/// An invariant's reads clause and body.
pub fn invariant(d: &InvariantDef) -> u64 {
    let mut f = Fnv::new();
    for item in &d.reads {
        match item {
            ReadItem::Field { role, field } => {
                if let Some(r) = role {
                    f.tokens(r);
                }
                f.tokens(field)
            }
            ReadItem::Network(k) | ReadItem::Trace(k) | ReadItem::Config(k) => f.tokens(k),
        };
    }
    f.tokens(&d.body).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_and_comments_do_not_change_a_hash_and_content_does() {
        let a: syn::Block = syn::parse_str("{ let x = 1 ;  x + 2 }").unwrap();
        let b: syn::Block = syn::parse_str("{\n  let x = 1; // one\n  x + 2\n}").unwrap();
        let c: syn::Block = syn::parse_str("{ let x = 1; x + 3 }").unwrap();
        let h = |t: &syn::Block| Fnv::new().tokens(t).finish();
        assert_eq!(h(&a), h(&b));
        assert_ne!(h(&a), h(&c));
        assert_ne!(text("ab"), text("a"));
    }
}
