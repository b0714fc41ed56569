//! A system binary's own flags, typed: a [`Flag<T>`] is declared once (a
//! `const` is fine) and read back through the same value, so a lookup can
//! neither misspell a name nor get the wrong type.
//!
//! ```
//! use verdict::cli::Flag;
//! const ROUNDS: Flag<usize> = Flag::usize("rounds", 1, "Lock/unlock rounds per client");
//! // App::new(..).flag(ROUNDS).workload(|setup, flags| workload(setup, flags.get(ROUNDS)))
//! ```

use std::marker::PhantomData;

use clap::{Arg, ArgAction, ArgMatches};

/// A flag a system's binary adds, whose value has type `T`: `usize` for
/// [`Flag::usize`], `bool` for [`Flag::bool`], `Option<String>` for
/// [`Flag::string`] and [`Flag::choice`], `Option<usize>` for
/// [`Flag::optional_usize`].
pub struct Flag<T> {
    pub(crate) spec: FlagSpec,
    _value: PhantomData<fn() -> T>,
}

impl<T> Clone for Flag<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Flag<T> {}

impl<T> std::fmt::Debug for Flag<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--{}", self.spec.name)
    }
}

/// A flag without its value type, as the program keeps it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct FlagSpec {
    pub(crate) name: &'static str,
    help: &'static str,
    kind: FlagKind,
}

#[derive(Debug, Clone, Copy)]
enum FlagKind {
    Usize(usize),
    OptionalUsize,
    Bool,
    Str(Option<&'static str>),
    Choice(&'static [&'static str]),
}

impl<T> Flag<T> {
    const fn new(name: &'static str, help: &'static str, kind: FlagKind) -> Self {
        Flag {
            spec: FlagSpec { name, help, kind },
            _value: PhantomData,
        }
    }

    /// The flag's name, without the dashes.
    pub fn name(&self) -> &'static str {
        self.spec.name
    }
}

impl Flag<usize> {
    /// `--name N`, a number with a default.
    pub const fn usize(name: &'static str, default: usize, help: &'static str) -> Self {
        Flag::new(name, help, FlagKind::Usize(default))
    }
}

impl Flag<Option<usize>> {
    /// `--name N`, a number that may be left out (then `None`: for a limit
    /// whose absence means "none"). clap refuses anything but a number.
    pub const fn optional_usize(name: &'static str, help: &'static str) -> Self {
        Flag::new(name, help, FlagKind::OptionalUsize)
    }
}

impl Flag<bool> {
    /// `--name`, a switch.
    pub const fn bool(name: &'static str, help: &'static str) -> Self {
        Flag::new(name, help, FlagKind::Bool)
    }
}

impl Flag<Option<String>> {
    /// `--name TEXT`, optionally with a default.
    pub const fn string(
        name: &'static str,
        default: Option<&'static str>,
        help: &'static str,
    ) -> Self {
        Flag::new(name, help, FlagKind::Str(default))
    }

    /// `--name VALUE` where VALUE is one of `choices` (clap rejects any
    /// other and lists them); absent by default.
    pub const fn choice(
        name: &'static str,
        choices: &'static [&'static str],
        help: &'static str,
    ) -> Self {
        Flag::new(name, help, FlagKind::Choice(choices))
    }
}

impl FlagSpec {
    pub(crate) fn arg(&self) -> Arg {
        let arg = Arg::new(self.name).long(self.name).help(self.help);
        match self.kind {
            FlagKind::Usize(d) => arg
                .value_name("N")
                .value_parser(clap::value_parser!(usize))
                .default_value(leak(d.to_string())),
            FlagKind::OptionalUsize => arg.value_name("N").value_parser(clap::value_parser!(usize)),
            FlagKind::Bool => arg.action(ArgAction::SetTrue),
            FlagKind::Str(Some(d)) => arg.value_name("TEXT").default_value(d),
            FlagKind::Str(None) => arg.value_name("TEXT"),
            FlagKind::Choice(choices) => arg
                .value_name("VALUE")
                .value_parser(clap::builder::PossibleValuesParser::new(choices)),
        }
    }

    /// The flag as it would be written to reproduce `flags` (for children).
    #[cfg_attr(not(feature = "runtime"), allow(dead_code))]
    pub(crate) fn reproduce(&self, flags: &Flags) -> Vec<String> {
        let long = format!("--{}", self.name);
        match self.kind {
            FlagKind::Usize(_) => vec![long, flags.number(self).to_string()],
            FlagKind::OptionalUsize => match flags.size(self.name) {
                Some(n) => vec![long, n.to_string()],
                None => vec![],
            },
            FlagKind::Bool if flags.switch(self) => vec![long],
            FlagKind::Bool => vec![],
            FlagKind::Str(_) | FlagKind::Choice(_) => match flags.text(self) {
                Some(v) => vec![long, v],
                None => vec![],
            },
        }
    }
}

/// The values of a binary's own flags.
pub struct Flags {
    pub(crate) matches: ArgMatches,
}

/// A type a [`Flag`] can hold.
pub trait FlagValue: Sized {
    #[doc(hidden)]
    fn read(flags: &Flags, spec: &FlagSpec) -> Self;
}

impl FlagValue for usize {
    fn read(flags: &Flags, spec: &FlagSpec) -> Self {
        flags.number(spec)
    }
}

impl FlagValue for Option<usize> {
    fn read(flags: &Flags, spec: &FlagSpec) -> Self {
        flags.size(spec.name)
    }
}

impl FlagValue for bool {
    fn read(flags: &Flags, spec: &FlagSpec) -> Self {
        flags.switch(spec)
    }
}

impl FlagValue for Option<String> {
    fn read(flags: &Flags, spec: &FlagSpec) -> Self {
        flags.text(spec)
    }
}

impl Flags {
    /// The value of `flag`: as given on the command line, or its default.
    /// A flag the program never added to its `App` has its default too
    /// (and the command line cannot give it: clap rejects it).
    pub fn get<T: FlagValue>(&self, flag: Flag<T>) -> T {
        T::read(self, &flag.spec)
    }

    fn number(&self, spec: &FlagSpec) -> usize {
        let default = match spec.kind {
            FlagKind::Usize(d) => d,
            _ => 0,
        };
        self.matches
            .try_get_one::<usize>(spec.name)
            .ok()
            .flatten()
            .copied()
            .unwrap_or(default)
    }

    fn switch(&self, spec: &FlagSpec) -> bool {
        self.matches
            .try_get_one::<bool>(spec.name)
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false)
    }

    fn text(&self, spec: &FlagSpec) -> Option<String> {
        let given = self
            .matches
            .try_get_one::<String>(spec.name)
            .ok()
            .flatten()
            .cloned();
        given.or(match spec.kind {
            FlagKind::Str(d) => d.map(str::to_string),
            _ => None,
        })
    }

    /// A number flag the program itself declared by name (a size flag).
    pub(crate) fn size(&self, name: &str) -> Option<usize> {
        self.matches
            .try_get_one::<usize>(name)
            .ok()
            .flatten()
            .copied()
    }
}

/// A default value as clap wants it: `'static`. Flags are built once per
/// process, so the few bytes leaked are bounded.
pub(crate) fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
