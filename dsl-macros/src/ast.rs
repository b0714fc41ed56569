//! The syntax tree of a `system!` invocation, as parsed (not yet validated).

use proc_macro2::Span;
use syn::{Attribute, Block, Expr, Fields, Generics, Ident, Pat, Type, Visibility};

/// The whole invocation.
pub struct SystemDef {
    /// Doc comments and attributes before `system`.
    pub attrs: Vec<Attribute>,
    /// Visibility of the generated items.
    pub vis: Visibility,
    /// The system's name, if declared.
    pub name: Option<Ident>,
    /// Its type and const parameters, with their where clause
    /// (`system PrimaryBackup<M: StateMachine>;`).
    pub generics: Generics,
    /// `system` declared more than once: the extra names.
    pub extra_names: Vec<Ident>,
    /// `config { .. }`.
    pub config: Vec<Section<Vec<FieldDef>>>,
    /// `input ..` declarations (more than one is an error).
    pub inputs: Vec<KindDef>,
    /// `output ..` declarations.
    pub outputs: Vec<KindDef>,
    /// `message ..` declarations.
    pub messages: Vec<KindDef>,
    /// `timers { .. }` sections.
    pub timers: Vec<Section<Vec<Named>>>,
    /// Roles in declaration order.
    pub roles: Vec<RoleDef>,
    /// Global and trace invariants.
    pub invariants: Vec<InvariantDef>,
    /// `eventually` (liveness) properties, shaped like global invariants.
    pub eventually: Vec<InvariantDef>,
}

/// A section keyword and its contents (to report duplicates at the keyword).
pub struct Section<T> {
    /// The keyword.
    pub keyword: Ident,
    /// What it declares.
    pub items: T,
}

/// A name with its doc comments (timers).
pub struct Named {
    pub attrs: Vec<Attribute>,
    pub name: Ident,
}

/// Which of the three kinds a [`KindDef`] declares.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Input,
    Output,
    Message,
}

impl Kind {
    pub fn keyword(self) -> &'static str {
        match self {
            Kind::Input => "input",
            Kind::Output => "output",
            Kind::Message => "message",
        }
    }
}

/// `input enum Input { .. }` or `input type Input = path::Type;`.
pub struct KindDef {
    pub keyword: Ident,
    pub attrs: Vec<Attribute>,
    pub name: Ident,
    pub body: KindBody,
}

/// The variants of a kind.
pub enum KindBody {
    /// Declared inline: one payload struct per variant.
    Enum(Vec<VariantDef>),
    /// The user's own type: one variant, the type itself.
    Alias(Type),
}

/// One inline variant, such as `Grant { epoch: u64 }`.
pub struct VariantDef {
    pub attrs: Vec<Attribute>,
    pub name: Ident,
    pub fields: Fields,
}

/// A state or config field: `#[durable] name: Type = init`.
pub struct FieldDef {
    pub attrs: Vec<Attribute>,
    /// The `durable` attribute, if present.
    pub durable: Option<Span>,
    /// Attributes other than docs, `durable` and `domain` (rejected).
    pub bad_attrs: Vec<Attribute>,
    /// The `#[domain(..)]` attribute, if present.
    pub domain: Option<DomainAttr>,
    pub name: Ident,
    pub ty: Type,
    pub init: Option<Expr>,
}

/// `#[domain(0..=3)]` or `#[domain(a, b, c)]` on a state field: the values
/// the induction search may give the field in a pre-state.
pub struct DomainAttr {
    /// Where the attribute starts (the span generated values carry).
    pub span: Span,
    /// The whole attribute, for errors that underline it.
    pub tokens: proc_macro2::TokenStream,
    pub values: DomainValues,
}

/// What a `#[domain(..)]` lists.
pub enum DomainValues {
    /// `lo..=hi` or `lo..hi`, integer literals.
    Range { lo: i128, hi: i128, inclusive: bool },
    /// The values themselves, any expressions of the field's type.
    List(Vec<Expr>),
    /// Something else: the tokens that cannot be read, and why.
    Bad(proc_macro2::TokenStream, String),
}

/// `role Name { .. }` or `role Name(u8) { .. }`.
pub struct RoleDef {
    pub attrs: Vec<Attribute>,
    pub name: Ident,
    pub param: Option<Type>,
    pub state: Vec<Section<Vec<FieldDef>>>,
    pub handlers: Vec<HandlerDef>,
    pub invariants: Vec<InvariantDef>,
}

impl RoleDef {
    /// Its state fields, across all its `state` sections.
    pub fn fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.state.iter().flat_map(|s| &s.items)
    }

    /// The names of its state fields, for lookups and messages.
    pub fn field_names(&self) -> Vec<String> {
        self.fields().map(|f| f.name.to_string()).collect()
    }
}

/// `on <trigger> <footprint> { body }`.
pub struct HandlerDef {
    pub attrs: Vec<Attribute>,
    pub trigger: TriggerDef,
    pub footprint: Footprint,
    pub body: Block,
}

/// What a handler runs on.
pub enum TriggerDef {
    Start(Ident),
    Restart(Ident),
    Timer {
        timer: Ident,
    },
    Input {
        keyword: Ident,
        binding: Binding,
    },
    Message {
        keyword: Ident,
        binding: Binding,
        from: Pat,
    },
}

/// How a handler binds the input or message it receives.
pub enum Binding {
    /// `Put { key, value }`, `Value(v)` or `Lock`: a pattern over the
    /// variant's payload.
    Pattern { variant: Ident, pat: Pat },
    /// `req: Put`: the whole payload under a name.
    Named { name: Pat, variant: Ident },
}

impl Binding {
    pub fn variant(&self) -> &Ident {
        match self {
            Binding::Pattern { variant, .. } | Binding::Named { variant, .. } => variant,
        }
    }
}

/// The declared footprint of a handler.
#[derive(Default)]
pub struct Footprint {
    pub reads: Vec<Ident>,
    pub writes: Vec<Ident>,
    pub sends: Vec<Ident>,
    pub emits: Vec<Ident>,
    pub sets: Vec<Ident>,
    /// The `chooses` keyword, if the handler may choose.
    pub chooses: Option<Ident>,
    /// Clause keywords given more than once.
    pub repeated: Vec<Ident>,
}

/// `invariant name reads(..) { body }`.
pub struct InvariantDef {
    pub attrs: Vec<Attribute>,
    pub name: Ident,
    /// The `reads` keyword, if the clause is present.
    pub reads_keyword: Option<Ident>,
    pub reads: Vec<ReadItem>,
    pub body: Block,
}

/// One item of an invariant's `reads(..)`.
pub enum ReadItem {
    /// `Role.field` (global) or `field` (local).
    Field { role: Option<Ident>, field: Ident },
    /// `network`: the messages in flight.
    Network(Ident),
    /// `trace`: the external inputs and outputs, in order; or `history`:
    /// the same up to the order of adjacent inputs and of adjacent outputs.
    Trace(Ident),
    /// `config`: the run's configuration (`config { .. }`), the same in
    /// every state, so reading it widens no footprint.
    Config(Ident),
}
