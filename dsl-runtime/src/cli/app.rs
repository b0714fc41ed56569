//! The generated binary of a system: one builder, a few lines per example.
//!
//! ```no_run
//! # use verdict::prelude::*;
//! # fn demo<S: System>(workload: fn(&Setup<S>, usize) -> Workload<S>) -> std::process::ExitCode {
//! verdict::cli::App::<S>::new("lockserv")
//!     .about("The lock server, checked and deployed with Verdict")
//!     .size_flag("Client", "clients", 3, "Number of clients")
//!     .flag(verdict::cli::Flag::usize("rounds", 1, "Lock/unlock rounds per client"))
//!     .workload(move |setup, flags| workload(setup, flags.usize("rounds")))
//!     .run()
//! # }
//! ```
//!
//! Subcommands: `check`, `simulate`, `replay`, `describe` always; `serve`, `client`,
//! `cluster`, `certs` and `repair` with the `runtime` feature. Three kinds of flags:
//! - size flags (`--clients`) size a parameterised role for `check`,
//!   `replay` and `cluster` (a cluster file says its own sizes);
//! - model flags ([`App::flag`]) shape what is checked (workload bounds);
//! - config flags ([`App::config_flag`]) choose the system's
//!   configuration, so they apply to every subcommand that runs handlers,
//!   including `serve` and `cluster`: nodes of one deployment must agree.

use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

use crate::cli::check::{run_check, run_replay, trace_faults, CheckArgs, ReplayArgs};
use crate::cli::simulate::{run_simulate, SimulateArgs};
use crate::cli::{EXIT_OK, EXIT_USAGE};
use crate::semantics::Model;
use crate::setup::{Setup, SetupError, Sizes};
use crate::system::System;
use crate::workload::Workload;

/// A flag a system's binary adds.
#[derive(Debug, Clone)]
pub struct Flag {
    name: &'static str,
    help: &'static str,
    kind: FlagKind,
}

#[derive(Debug, Clone)]
enum FlagKind {
    Usize(usize),
    Bool,
    Str(Option<&'static str>),
}

impl Flag {
    /// `--name N`, a number with a default.
    pub fn usize(name: &'static str, default: usize, help: &'static str) -> Self {
        Flag {
            name,
            help,
            kind: FlagKind::Usize(default),
        }
    }

    /// `--name`, a switch.
    pub fn bool(name: &'static str, help: &'static str) -> Self {
        Flag {
            name,
            help,
            kind: FlagKind::Bool,
        }
    }

    /// `--name TEXT`, optionally with a default.
    pub fn string(name: &'static str, default: Option<&'static str>, help: &'static str) -> Self {
        Flag {
            name,
            help,
            kind: FlagKind::Str(default),
        }
    }

    fn arg(&self) -> Arg {
        let arg = Arg::new(self.name).long(self.name).help(self.help);
        match &self.kind {
            FlagKind::Usize(d) => arg
                .value_name("N")
                .value_parser(clap::value_parser!(usize))
                .default_value(leak(d.to_string())),
            FlagKind::Bool => arg.action(ArgAction::SetTrue),
            FlagKind::Str(Some(d)) => arg.value_name("TEXT").default_value(*d),
            FlagKind::Str(None) => arg.value_name("TEXT"),
        }
    }

    /// The flag as it would be written to reproduce `flags` (for children).
    #[cfg_attr(not(feature = "runtime"), allow(dead_code))]
    fn reproduce(&self, flags: &Flags) -> Vec<String> {
        let long = format!("--{}", self.name);
        match &self.kind {
            FlagKind::Usize(_) => vec![long, flags.usize(self.name).to_string()],
            FlagKind::Bool if flags.bool(self.name) => vec![long],
            FlagKind::Bool => vec![],
            FlagKind::Str(_) => match flags.string(self.name) {
                Some(v) => vec![long, v.to_string()],
                None => vec![],
            },
        }
    }
}

/// The values of a binary's own flags, by name.
pub struct Flags {
    matches: ArgMatches,
}

impl Flags {
    /// A number flag (its default when not given; 0 if no such flag).
    pub fn usize(&self, name: &str) -> usize {
        self.matches
            .try_get_one::<usize>(name)
            .ok()
            .flatten()
            .copied()
            .unwrap_or(0)
    }

    /// A switch (false if no such flag).
    pub fn bool(&self, name: &str) -> bool {
        self.matches
            .try_get_one::<bool>(name)
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false)
    }

    /// A text flag, if given or defaulted.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.matches
            .try_get_one::<String>(name)
            .ok()
            .flatten()
            .map(String::as_str)
    }
}

struct SizeFlag {
    role: &'static str,
    /// The flag, or `None` for a size fixed by the program.
    flag: Option<&'static str>,
    default: usize,
    help: &'static str,
}

type ConfigFn<S> = Box<dyn Fn(&Flags) -> <S as System>::Config>;
type WorkloadFn<S> = Box<dyn Fn(&Setup<S>, &Flags) -> Workload<S>>;
type CheckHook = Box<dyn Fn(&Flags, &CheckArgs) -> Option<ExitCode>>;

/// The command-line program of one system. See the module docs.
pub struct App<S: System> {
    name: &'static str,
    about: String,
    sizes: Vec<SizeFlag>,
    flags: Vec<Flag>,
    config_flags: Vec<Flag>,
    config: ConfigFn<S>,
    workload: WorkloadFn<S>,
    check_hook: Option<CheckHook>,
    ignores: Option<crate::semantics::IgnoreRule<S>>,
}

impl<S: System> App<S> {
    /// A program named `name` with no flags, the default configuration and
    /// no inputs in checks.
    pub fn new(name: &'static str) -> Self {
        App {
            name,
            about: format!("{}, checked and deployed with Verdict", S::meta().name),
            sizes: Vec::new(),
            flags: Vec::new(),
            config_flags: Vec::new(),
            config: Box::new(|_| S::Config::default()),
            workload: Box::new(|setup, _| Workload::none(setup)),
            check_hook: None,
            ignores: None,
        }
    }

    /// The one-line description `--help` shows.
    pub fn about(mut self, about: impl Into<String>) -> Self {
        self.about = about.into();
        self
    }

    /// `--flag N` sizes the parameterised role `role` (default `default`).
    pub fn size_flag(
        mut self,
        role: &'static str,
        flag: &'static str,
        default: usize,
        help: &'static str,
    ) -> Self {
        self.sizes.push(SizeFlag {
            role,
            flag: Some(flag),
            default,
            help,
        });
        self
    }

    /// The parameterised role `role` always has `count` nodes (the system
    /// is written for that many, like Paxos for three servers).
    pub fn fixed_size(mut self, role: &'static str, count: usize) -> Self {
        self.sizes.push(SizeFlag {
            role,
            flag: None,
            default: count,
            help: "",
        });
        self
    }

    /// A flag of the checked model (workload bounds and the like), for
    /// `check` and `replay`; read it in [`App::workload`] or [`App::on_check`].
    pub fn flag(mut self, flag: Flag) -> Self {
        self.flags.push(flag);
        self
    }

    /// A flag choosing the system's configuration; applies to `serve` and
    /// `cluster` too. Read it in [`App::config`].
    pub fn config_flag(mut self, flag: Flag) -> Self {
        self.config_flags.push(flag);
        self
    }

    /// Builds the system's configuration from the flags.
    pub fn config(mut self, make: impl Fn(&Flags) -> S::Config + 'static) -> Self {
        self.config = Box::new(make);
        self
    }

    /// Builds the checked workload from the setup and the flags.
    pub fn workload(mut self, make: impl Fn(&Setup<S>, &Flags) -> Workload<S> + 'static) -> Self {
        self.workload = Box::new(make);
        self
    }

    /// The system's ignore rule, for every model the program builds (see
    /// [`Model::ignoring`]; `check --no-ignore-rule` leaves it out).
    pub fn ignoring(mut self, rule: crate::semantics::IgnoreRule<S>) -> Self {
        self.ignores = Some(rule);
        self
    }

    /// Runs before the default `check`: return `Some(exit code)` to check
    /// something else instead — for example the system wrapped by a
    /// transformer when a `--transform` flag asks for it — or `None` to go
    /// on with the default.
    pub fn on_check(
        mut self,
        hook: impl Fn(&Flags, &CheckArgs) -> Option<ExitCode> + 'static,
    ) -> Self {
        self.check_hook = Some(Box::new(hook));
        self
    }

    fn model_args(&self, mut cmd: Command, with_model_flags: bool) -> Command {
        for s in &self.sizes {
            let Some(flag) = s.flag else { continue };
            cmd = cmd.arg(
                Arg::new(flag)
                    .long(flag)
                    .help(s.help)
                    .value_name("N")
                    .value_parser(clap::value_parser!(usize))
                    .default_value(leak(s.default.to_string())),
            );
        }
        if with_model_flags {
            for f in &self.flags {
                cmd = cmd.arg(f.arg());
            }
        }
        self.config_args(cmd)
    }

    fn config_args(&self, mut cmd: Command) -> Command {
        for f in &self.config_flags {
            cmd = cmd.arg(f.arg());
        }
        cmd
    }

    /// The clap command, for tests and completions.
    pub fn command(&self) -> Command {
        let check = self.model_args(
            CheckArgs::augment_args(Command::new("check"))
                .about("Explore every reachable state and report any violated invariant"),
            true,
        );
        let replay = self.model_args(
            ReplayArgs::augment_args(Command::new("replay"))
                .about("Replay a counterexample written by `check --trace-json`"),
            true,
        );
        let simulate = self.model_args(
            SimulateArgs::augment_args(Command::new("simulate"))
                .about("Run seeded random executions and report any violated invariant"),
            true,
        );
        let describe = Command::new("describe")
            .about("Print the system's roles, fields, handlers with footprints, and invariants");
        #[allow(unused_mut)]
        let mut cmd = Command::new(self.name)
            .about(self.about.clone())
            .version(env!("CARGO_PKG_VERSION"))
            .subcommand_required(true)
            .arg_required_else_help(true)
            .subcommand(check)
            .subcommand(simulate)
            .subcommand(replay)
            .subcommand(describe);
        #[cfg(feature = "runtime")]
        {
            cmd = cmd
                .subcommand(self.config_args(super::deploy::serve_command()))
                .subcommand(self.config_args(super::deploy::client_command()))
                .subcommand(self.config_args(super::deploy::repair_command()))
                .subcommand(self.model_args(super::deploy::cluster_command(), false));
        }
        cmd
    }

    /// The setup the size and config flags describe.
    fn setup(&self, m: &ArgMatches) -> Result<Setup<S>, SetupError> {
        let flags = Flags { matches: m.clone() };
        let mut sizes = Sizes::new();
        for s in &self.sizes {
            let count = s.flag.map_or(s.default, |f| flags.usize(f));
            sizes = sizes.with(s.role, count);
        }
        Setup::with_config(&sizes, (self.config)(&flags))
    }

    fn model(&self, m: &ArgMatches, faults: crate::Faults) -> Result<Model<S>, SetupError> {
        let setup = self.setup(m)?;
        let workload = (self.workload)(&setup, &Flags { matches: m.clone() });
        let mut model = Model::new(setup, faults, workload);
        model.ignores = self.ignores;
        Ok(model)
    }

    /// Parses the command line and runs the subcommand.
    pub fn run(self) -> ExitCode {
        let matches = self.command().get_matches();
        self.run_matches(&matches)
    }

    /// Runs an already parsed command line.
    pub fn run_matches(&self, matches: &ArgMatches) -> ExitCode {
        let Some((sub, m)) = matches.subcommand() else {
            return usage("no subcommand given; see --help");
        };
        let flags = Flags { matches: m.clone() };
        match sub {
            "check" => {
                let args = match CheckArgs::from_arg_matches(m) {
                    Ok(a) => a,
                    Err(e) => return usage(e),
                };
                if let Some(hook) = &self.check_hook {
                    if let Some(code) = hook(&flags, &args) {
                        return code;
                    }
                }
                match self.model(m, args.faults) {
                    Ok(model) => run_check(&model, &args),
                    Err(e) => usage(e),
                }
            }
            "simulate" => {
                let args = match SimulateArgs::from_arg_matches(m) {
                    Ok(a) => a,
                    Err(e) => return usage(e),
                };
                match self.model(m, args.faults) {
                    Ok(model) => run_simulate(&model, &args),
                    Err(e) => usage(e),
                }
            }
            "replay" => {
                let args = match ReplayArgs::from_arg_matches(m) {
                    Ok(a) => a,
                    Err(e) => return usage(e),
                };
                let faults = match trace_faults(&args.file) {
                    Ok(f) => f,
                    Err(e) => return usage(e),
                };
                match self.model(m, faults) {
                    Ok(model) => run_replay(&model, &args),
                    Err(e) => usage(e),
                }
            }
            "describe" => {
                print!("{}", S::meta());
                ExitCode::from(EXIT_OK)
            }
            #[cfg(feature = "runtime")]
            "serve" => super::deploy::run_serve::<S>(m, (self.config)(&flags)),
            #[cfg(feature = "runtime")]
            "client" => super::deploy::run_client::<S>(m),
            #[cfg(feature = "runtime")]
            "repair" => super::deploy::run_repair::<S>(m, (self.config)(&flags)),
            #[cfg(feature = "runtime")]
            "cluster" => {
                let setup = match self.setup(m) {
                    Ok(s) => s,
                    Err(e) => return usage(e),
                };
                let config_args: Vec<String> = self
                    .config_flags
                    .iter()
                    .flat_map(|f| f.reproduce(&flags))
                    .collect();
                super::deploy::run_cluster::<S>(self.name, m, &setup, &config_args)
            }
            other => usage(format!("unknown subcommand `{other}`")),
        }
    }
}

/// Prints `error: ...` and returns the usage exit code.
pub(crate) fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_USAGE)
}

/// A default value as clap wants it: `'static`. Flags are built once per
/// process, so the few bytes leaked are bounded.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
