//! The generated binary of a system: one builder, a few lines per example.
//!
//! ```no_run
//! # use verdict::prelude::*;
//! # use verdict::cli::{App, Flag};
//! # fn demo<S: System>(client: S::Role, workload: fn(&Setup<S>, usize) -> Workload<S>) -> std::process::ExitCode {
//! const ROUNDS: Flag<usize> = Flag::usize("rounds", 1, "Lock/unlock rounds per client");
//! App::<S>::new("lockserv")
//!     .about("The lock server, checked and deployed with Verdict")
//!     .size_flag(client, "clients", 3, "Number of clients") // Role::Client
//!     .flag(ROUNDS)
//!     .workload(move |setup, flags| workload(setup, flags.get(ROUNDS)))
//!     .run()
//! # }
//! ```
//!
//! `--transform NAME` runs the system wrapped by a transformer (or replaced
//! by another one serving the same clients): register each with
//! [`App::transform`], which takes the program of the other system, and
//! `App` reads the flag, lists the choices in `--help`, rejects an unknown
//! name, and passes the choice on to the processes `cluster` starts.
//!
//! Subcommands: `check`, `simulate`, `replay`, `induct`, `describe`, `impact` always; `serve`, `client`,
//! `cluster`, `certs` and `repair` with the `runtime` feature; `explore` (a
//! local web page to walk the checked model) with the `explorer` feature. Three kinds of flags:
//! - size flags (`--clients`) size a parameterised role for `check`,
//!   `replay` and `cluster` (a cluster file says its own sizes);
//! - model flags ([`App::flag`]) shape what is checked (workload bounds);
//! - config flags ([`App::config_flag`]) choose the system's
//!   configuration, so they apply to every subcommand that runs handlers,
//!   including `serve` and `cluster`: nodes of one deployment must agree.

use std::process::ExitCode;

use clap::builder::PossibleValue;
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};

use crate::cli::check::{
    run_check, run_check_retransmitting, run_replay, trace_header, CheckArgs, ReplayArgs,
};
use crate::cli::flags::{leak, Flag, FlagSpec, Flags};
use crate::cli::induct::{run_induct, InductArgs};
use crate::cli::simulate::{run_simulate, SimulateArgs};
use crate::cli::{EXIT_OK, EXIT_USAGE};
use crate::meta::RoleEnum;
use crate::semantics::Model;
use crate::setup::{Setup, SetupError, Sizes};
use crate::system::System;
use crate::workload::Workload;

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

/// A program the binary may run instead: another system's [`App`].
trait Program {
    /// Runs it as transform `chosen` of a binary offering `choices`.
    fn run_as(self: Box<Self>, chosen: &'static str, choices: Vec<Choice>) -> ExitCode;
}

impl<S: System> Program for App<S> {
    fn run_as(mut self: Box<Self>, chosen: &'static str, choices: Vec<Choice>) -> ExitCode {
        self.transform = Some(TransformArg { chosen, choices });
        self.run_here()
    }
}

/// One value of `--transform`: its name and what it does.
#[derive(Clone, Copy)]
struct Choice {
    name: &'static str,
    help: &'static str,
}

/// The `--transform` flag of a binary with transforms, and which one this
/// program is.
#[cfg_attr(not(feature = "runtime"), allow(dead_code))]
struct TransformArg {
    chosen: &'static str,
    choices: Vec<Choice>,
}

impl TransformArg {
    fn arg(&self) -> Arg {
        let values: Vec<PossibleValue> = self
            .choices
            .iter()
            .map(|c| PossibleValue::new(c.name).help(c.help))
            .collect();
        Arg::new("transform")
            .long("transform")
            .value_name("NAME")
            .help("Run the system wrapped by a transformer")
            .value_parser(clap::builder::PossibleValuesParser::new(values))
            .default_value("none")
    }
}

/// A registered transform: its choice and how to build its program.
struct Transform {
    choice: Choice,
    make: Box<dyn FnOnce() -> Box<dyn Program>>,
}

/// A Redis-protocol front end on the nodes of one role.
#[cfg(feature = "runtime")]
struct RespFront<S: System> {
    role: usize,
    service: std::sync::Arc<dyn crate::runtime::RespService<S>>,
}

/// The command-line program of one system. See the module docs.
pub struct App<S: System> {
    name: &'static str,
    about: String,
    sizes: Vec<SizeFlag>,
    flags: Vec<FlagSpec>,
    config_flags: Vec<FlagSpec>,
    config: ConfigFn<S>,
    workload: WorkloadFn<S>,
    check_hook: Option<CheckHook>,
    ignores: Option<crate::semantics::IgnoreRule<S>>,
    deadlock_allowed: Option<&'static str>,
    memory_budget: Option<u64>,
    retransmitting: bool,
    #[cfg(feature = "runtime")]
    resp: Option<RespFront<S>>,
    #[cfg(feature = "runtime")]
    live: Option<std::sync::Arc<dyn crate::runtime::LiveUpgrade<S>>>,
    transforms: Vec<Transform>,
    transform: Option<TransformArg>,
    refusals: Vec<RefusalFn<S>>,
}

/// Where a configuration is about to be used, for [`App::refusing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Explored: `check`, `simulate`, `induct`, `explore`, `describe`.
    Check,
    /// Run on real processes: `serve` and `cluster`.
    Deploy,
}

/// A check of the setup the flags describe: `Err` says why the program
/// refuses it and what to give instead.
type RefusalFn<S> = Box<dyn Fn(&Setup<S>, Use) -> Result<(), String>>;

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
            deadlock_allowed: None,
            memory_budget: None,
            retransmitting: false,
            #[cfg(feature = "runtime")]
            resp: None,
            #[cfg(feature = "runtime")]
            live: None,
            transforms: Vec::new(),
            transform: None,
            refusals: Vec::new(),
        }
    }

    /// The one-line description `--help` shows.
    pub fn about(mut self, about: impl Into<String>) -> Self {
        self.about = about.into();
        self
    }

    /// `--flag N` sizes the parameterised role `role` (`Role::Client`;
    /// default `default`).
    pub fn size_flag(
        mut self,
        role: S::Role,
        flag: &'static str,
        default: usize,
        help: &'static str,
    ) -> Self {
        self.sizes.push(SizeFlag {
            role: role.name(),
            flag: Some(flag),
            default,
            help,
        });
        self
    }

    /// The parameterised role `role` always has `count` nodes (the system
    /// is written for that many, like Paxos for three servers).
    pub fn fixed_size(mut self, role: S::Role, count: usize) -> Self {
        self.sizes.push(SizeFlag {
            role: role.name(),
            flag: None,
            default: count,
            help: "",
        });
        self
    }

    /// A flag of the checked model (workload bounds and the like), for
    /// `check` and `replay`; read it with `flags.get(FLAG)` in
    /// [`App::workload`] or [`App::on_check`].
    pub fn flag<T>(mut self, flag: Flag<T>) -> Self {
        self.flags.push(flag.spec);
        self
    }

    /// A flag choosing the system's configuration; applies to `serve` and
    /// `cluster` too. Read it in [`App::config`].
    pub fn config_flag<T>(mut self, flag: Flag<T>) -> Self {
        self.config_flags.push(flag.spec);
        self
    }

    /// `--transform name` runs `make()`'s program instead: usually this
    /// system wrapped by a transformer (`App::<Reliable<LockServ>>`), or
    /// another system serving the same clients. Give it the same size and
    /// model flags, so one command line suits every choice; a flag only
    /// some choices have is rejected by the others.
    pub fn transform<T: System>(
        mut self,
        name: &'static str,
        help: &'static str,
        make: impl FnOnce() -> App<T> + 'static,
    ) -> Self {
        self.transforms.push(Transform {
            choice: Choice { name, help },
            make: Box::new(move || Box::new(make())),
        });
        self
    }

    /// The system retransmits on a timer (it is wrapped by
    /// [`crate::transform::Reliable`]): `check` takes the bounds, or the
    /// exact set-of-packets network, [`crate::transform::plan_retransmitting`]
    /// chooses for it.
    /// Gives the nodes of `role` a Redis-protocol front end speaking
    /// through `service`: `cluster` assigns each a RESP port (the cluster
    /// file's `resp`), and `serve` opens it. See
    /// [`crate::runtime::resp_gateway`].
    #[cfg(feature = "runtime")]
    pub fn resp(mut self, role: S::Role, service: impl crate::runtime::RespService<S>) -> Self {
        self.resp = Some(RespFront {
            role: role.id(),
            service: std::sync::Arc::new(service),
        });
        self
    }

    pub fn retransmitting(mut self) -> Self {
        self.retransmitting = true;
        self
    }

    /// Builds the system's configuration from the flags.
    pub fn config(mut self, make: impl Fn(&Flags) -> S::Config + 'static) -> Self {
        self.config = Box::new(make);
        self
    }

    /// Refuses a setup the flags describe but the system cannot use as
    /// meant: every subcommand that builds one from the flags (and `serve`,
    /// on the cluster file's) exits 2 with `check`'s sentence instead of
    /// running something other than what was asked.
    pub fn refusing(
        mut self,
        check: impl Fn(&Setup<S>, Use) -> Result<(), String> + 'static,
    ) -> Self {
        self.refusals.push(Box::new(check));
        self
    }

    /// The first refusal of `setup` for `use_`, if any.
    fn refused(&self, setup: &Setup<S>, use_: Use) -> Result<(), SetupError> {
        self.refusals
            .iter()
            .try_for_each(|check| check(setup, use_))
            .map_err(SetupError::Refused)
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

    /// Runs stop normally with a node still waiting in this system, for
    /// the reason `why` (see [`Model::allowing_deadlock`]): `check` does
    /// not report them as deadlocks.
    pub fn allowing_deadlock(mut self, why: &'static str) -> Self {
        self.deadlock_allowed = Some(why);
        self
    }

    /// Lets `check` hold at most `bytes` by default (see
    /// [`Model::with_memory_budget`]); `check --memory` overrides it.
    pub fn memory_budget(mut self, bytes: u64) -> Self {
        self.memory_budget = Some(bytes);
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
        if let Some(t) = &self.transform {
            cmd = cmd.arg(t.arg());
        }
        cmd
    }

    /// The clap command, for tests and completions.
    pub fn command(&self) -> Command {
        let check = self.model_args(
            CheckArgs::augment_args(Command::new("check"))
                .about("Explore every reachable state and report any violated invariant")
                .after_help(
                    "Exit codes: 0 no violation (every state explored, or within the --depth/--max-states bound given), \
                     1 violation found, 2 bad usage or configuration, \
                     3 stopped at the memory budget (--memory) with no violation so far: the state space was not covered.",
                ),
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
        let induct = self.model_args(
            InductArgs::augment_args(Command::new("induct")).about(
                "Check which invariants each step preserves: by footprint, or by a search for counterexamples to induction",
            ),
            true,
        );
        let describe = self.model_args(
            Command::new("describe")
                .about("Print the system's roles, fields, handlers with footprints, and invariants")
                .arg(
                    Arg::new("json")
                        .long("json")
                        .action(clap::ArgAction::SetTrue)
                        .help(
                            "Print the footprint graph with hashes as JSON, for `impact --against`",
                        ),
                ),
            true,
        );
        let impact = self.model_args(
            super::ImpactArgs::augment_args(Command::new("impact"))
                .about("Say which invariants the changes since an earlier build (`describe --json`) can affect")
                .after_help(
                    "Exit codes: 0 no verdict can change, 1 some verdict may change (re-check), 2 bad usage or an unreadable description.",
                ),
            true,
        );
        #[allow(unused_mut)]
        let mut cmd = Command::new(self.name)
            .about(self.about.clone())
            .version(env!("CARGO_PKG_VERSION"))
            .subcommand_required(true)
            .arg_required_else_help(true)
            .subcommand(check)
            .subcommand(simulate)
            .subcommand(replay)
            .subcommand(induct)
            .subcommand(describe)
            .subcommand(impact);
        #[cfg(feature = "explorer")]
        {
            cmd = cmd.subcommand(
                self.model_args(
                    super::explore::ExploreArgs::augment_args(Command::new("explore"))
                        .about("Serve a local web page to walk the checked model step by step"),
                    true,
                ),
            );
        }
        #[cfg(feature = "runtime")]
        {
            cmd = cmd
                .subcommand(self.config_args(super::deploy::serve_command()))
                .subcommand(self.config_args(super::deploy::client_command()))
                .subcommand(self.config_args(super::deploy::repair_command()))
                .subcommand(super::deploy::certs_command())
                .subcommand(self.model_args(super::deploy::cluster_command(), false));
        }
        cmd
    }

    /// The setup the size and config flags describe (`cluster` builds one).
    #[cfg(feature = "runtime")]
    fn setup(&self, m: &ArgMatches) -> Result<Setup<S>, SetupError> {
        self.setup_with(m, 0, Use::Deploy)
    }

    fn setup_with(&self, m: &ArgMatches, extra: usize, use_: Use) -> Result<Setup<S>, SetupError> {
        let flags = Flags { matches: m.clone() };
        let mut sizes = Sizes::new();
        for s in &self.sizes {
            let count = match s.flag.and_then(|f| flags.size(f)) {
                Some(n) => n + extra,
                None if s.flag.is_some() => s.default + extra,
                None => s.default,
            };
            sizes = sizes.with_name(s.role, count);
        }
        let setup = Setup::with_config(&sizes, (self.config)(&flags))?;
        self.refused(&setup, use_)?;
        Ok(setup)
    }

    fn model(&self, m: &ArgMatches, faults: crate::Faults) -> Result<Model<S>, SetupError> {
        self.model_with(m, faults, 0)
    }

    /// The model with every size flag's role `extra` nodes larger (what
    /// `induct --infer` re-checks its result at).
    fn model_with(
        &self,
        m: &ArgMatches,
        faults: crate::Faults,
        extra: usize,
    ) -> Result<Model<S>, SetupError> {
        if faults.upgrade.is_on() && S::upgrade_timer().is_none() {
            return Err(SetupError::Unsupported(format!(
                "the fault model has `upgrade`, but {} is not a rolling upgrade: \
                 choose an upgrade with --transform (see --help), or drop `upgrade`",
                S::meta().name
            )));
        }
        let setup = self.setup_with(m, extra, Use::Check)?;
        let workload = (self.workload)(&setup, &Flags { matches: m.clone() });
        let mut model = Model::new(setup, faults, workload);
        model.ignores = self.ignores;
        model.deadlock_allowed = self.deadlock_allowed;
        model.memory_budget = self.memory_budget;
        Ok(model)
    }

    /// The ids of the size, model and config flags (and `--transform`).
    fn model_flag_ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        let sizes = self.sizes.iter().filter_map(|s| s.flag);
        let flags = self.flags.iter().chain(&self.config_flags).map(|f| f.name);
        let transform = self.transform.as_ref().map(|_| "transform");
        sizes.chain(flags).chain(transform)
    }

    /// The size, model and config flags of `flags` (and `--transform`) as
    /// a command line would give them, for trace files.
    fn model_flags(&self, flags: &Flags) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.sizes {
            let Some(flag) = s.flag else { continue };
            let count = flags.size(flag).unwrap_or(s.default);
            out.extend([format!("--{flag}"), count.to_string()]);
        }
        for f in self.flags.iter().chain(&self.config_flags) {
            out.extend(f.reproduce(flags));
        }
        if let Some(t) = self.transform.as_ref().filter(|t| t.chosen != "none") {
            out.extend(["--transform".to_string(), t.chosen.to_string()]);
        }
        out
    }

    /// Parses the command line and runs the subcommand, as this system or
    /// as the transform `--transform` names.
    pub fn run(mut self) -> ExitCode {
        if self.transforms.is_empty() {
            return self.run_here();
        }
        let mut choices = vec![Choice {
            name: "none",
            help: "the system as written",
        }];
        choices.extend(self.transforms.iter().map(|t| t.choice));
        // The choice decides the system's type, hence the command line's
        // meaning, so it is read before clap parses the rest; an unknown
        // name falls through to this program, whose clap rejects it with
        // the list of choices.
        let asked = transform_arg(std::env::args().skip(1))
            .or_else(|| replay_transform(std::env::args().skip(1)));
        let picked = asked.and_then(|name| {
            let i = self.transforms.iter().position(|t| t.choice.name == name)?;
            Some(self.transforms.swap_remove(i))
        });
        match picked {
            Some(t) => (t.make)().run_as(t.choice.name, choices),
            None => {
                self.transform = Some(TransformArg {
                    chosen: "none",
                    choices,
                });
                self.run_here()
            }
        }
    }

    /// Parses the command line as this program's.
    fn run_here(self) -> ExitCode {
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
                let mut args = match CheckArgs::from_arg_matches(m) {
                    Ok(a) => a,
                    Err(e) => return usage(e),
                };
                args.model_flags = self.model_flags(&flags);
                if let Some(n) = args.upgrades.take() {
                    if args.faults.upgrade.is_on() {
                        eprintln!(
                            "error: --upgrades {n} and an `upgrade` in --faults {} both give \
                             the upgrade budget: give one",
                            args.faults
                        );
                        return ExitCode::from(2);
                    }
                    args.faults = args.faults.upgrades(Some(n));
                }
                if let Some(deepen) = &args.deepen {
                    let flags = self.model_flag_ids();
                    return super::run_deepening(deepen, flags, |argv| {
                        match self.command().try_get_matches_from(argv) {
                            Ok(all) => self.run_matches(&all),
                            Err(e) => usage(e.kind()),
                        }
                    });
                }
                if let Some(hook) = &self.check_hook {
                    if let Some(code) = hook(&flags, &args) {
                        return code;
                    }
                }
                match self.model(m, args.faults) {
                    Ok(model) if args.cache.is_some() => {
                        let dir = args.cache.clone().unwrap_or_default();
                        super::run_cached_check(model, &args, self.retransmitting, &dir)
                    }
                    Ok(model) if self.retransmitting => run_check_retransmitting(model, &args),
                    Ok(model) => run_check(&model, &args),
                    Err(e) => usage(e),
                }
            }
            "simulate" => {
                let mut args = match SimulateArgs::from_arg_matches(m) {
                    Ok(a) => a,
                    Err(e) => return usage(e),
                };
                args.model_flags = self.model_flags(&flags);
                match self.model(m, args.faults.faults) {
                    Ok(model) => run_simulate(&model, &args),
                    Err(e) => usage(e),
                }
            }
            "replay" => {
                let args = match ReplayArgs::from_arg_matches(m) {
                    Ok(a) => a,
                    Err(e) => return usage(e),
                };
                let (faults, recorded) = match trace_header(&args.file) {
                    Ok(h) => h,
                    Err(e) => return usage(e),
                };
                // The trace's own flags, unless the command line gives some.
                let given = self
                    .model_flag_ids()
                    .any(|id| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine));
                let reparsed;
                let m = if recorded.is_empty() || given {
                    m
                } else {
                    let mut argv = vec![self.name.to_string(), "replay".to_string()];
                    argv.push(args.file.display().to_string());
                    argv.extend(recorded);
                    match self.command().try_get_matches_from(argv) {
                        Ok(all) => {
                            reparsed = all;
                            match reparsed.subcommand() {
                                Some((_, sub)) => sub,
                                None => m,
                            }
                        }
                        Err(e) => {
                            return usage(format!(
                                "{}: the flags recorded in the trace are not this program's: {}",
                                args.file.display(),
                                e.kind()
                            ))
                        }
                    }
                };
                match self.model(m, faults) {
                    Ok(model) => run_replay(&model, &args),
                    Err(e) => usage(e),
                }
            }
            "induct" => match InductArgs::from_arg_matches(m) {
                Ok(args) => match self.model(m, args.faults) {
                    Ok(model) => {
                        let larger = args.infer.then(|| self.model_with(m, args.faults, 1).ok());
                        run_induct(&model, &args, larger.flatten())
                    }
                    Err(e) => usage(e),
                },
                Err(e) => usage(e),
            },
            "describe" if m.get_flag("json") => match self.model(m, crate::Faults::none()) {
                Ok(model) => {
                    super::print_description(&crate::change::Description::of(Some(&model)))
                }
                Err(e) => usage(e),
            },
            "impact" => {
                let args = match super::ImpactArgs::from_arg_matches(m) {
                    Ok(a) => a,
                    Err(e) => return usage(e),
                };
                match self.model(m, crate::Faults::none()) {
                    Ok(model) => {
                        super::run_impact(&crate::change::Description::of(Some(&model)), &args)
                    }
                    Err(e) => usage(e),
                }
            }
            "describe" => {
                print!("{}", S::meta());
                for e in S::eventually() {
                    println!(
                        "  eventually {} (liveness: checked with check --liveness)",
                        e.name
                    );
                }
                ExitCode::from(EXIT_OK)
            }
            #[cfg(feature = "explorer")]
            "explore" => {
                let args = match super::explore::ExploreArgs::from_arg_matches(m) {
                    Ok(a) => a,
                    Err(e) => return usage(e),
                };
                let faults = match super::explore::explore_faults(&args) {
                    Ok(f) => f,
                    Err(e) => return usage(e),
                };
                match self.model(m, faults) {
                    Ok(mut model) => {
                        if self.retransmitting {
                            // The model `check` would explore (a set of
                            // packets where that is exact).
                            let plan = crate::transform::plan_retransmitting(&mut model, true);
                            for note in &plan.notes {
                                println!("{note}");
                            }
                        }
                        super::explore::run_explore(self.name, &model, &args)
                    }
                    Err(e) => usage(e),
                }
            }
            #[cfg(feature = "runtime")]
            "serve" => super::deploy::run_serve::<S>(
                m,
                (self.config)(&flags),
                &|setup| self.refused(setup, Use::Deploy),
                self.resp.as_ref().map(|r| r.service.clone()),
                self.live.clone(),
            ),
            #[cfg(feature = "runtime")]
            "client" => super::deploy::run_client::<S>(m),
            #[cfg(feature = "runtime")]
            "repair" => super::deploy::run_repair::<S>(m, (self.config)(&flags)),
            #[cfg(feature = "runtime")]
            "certs" => super::deploy::run_certs::<S>(m),
            #[cfg(feature = "runtime")]
            "cluster" => {
                let setup = match self.setup(m) {
                    Ok(s) => s,
                    Err(e) => return usage(e),
                };
                let mut config_args: Vec<String> = self
                    .config_flags
                    .iter()
                    .flat_map(|f| f.reproduce(&flags))
                    .collect();
                if let Some(t) = self.transform.as_ref().filter(|t| t.chosen != "none") {
                    config_args.extend(["--transform".to_string(), t.chosen.to_string()]);
                }
                let resp_role = self.resp.as_ref().map(|r| r.role);
                let live = self.live.is_some();
                super::deploy::run_cluster::<S>(self.name, m, &setup, &config_args, resp_role, live)
            }
            other => usage(format!("unknown subcommand `{other}`")),
        }
    }
}

#[cfg(feature = "runtime")]
impl<P: crate::transform::UpgradePlan> App<crate::transform::Upgrade<P>> {
    /// Lets `serve` run this upgrade live: on a data directory of the old
    /// version it migrates the node's state, and it talks to old peers
    /// through the plan's adapters ([`crate::runtime::live_upgrade`]).
    /// Without it, `serve` and `cluster` refuse an upgrade model.
    pub fn live_upgrade(mut self) -> Self {
        self.live = Some(std::sync::Arc::new(crate::runtime::LivePlan::<P>::new()));
        self
    }
}

/// Prints `error: ...` and returns the usage exit code.
pub(crate) fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_USAGE)
}

/// For `replay FILE` without `--transform`: the transform the trace file
/// records, if any, so a trace replays from its file alone.
fn replay_transform(args: impl Iterator<Item = String>) -> Option<String> {
    let mut args = args.skip_while(|a| a != "replay").skip(1);
    let file = args.find(|a| !a.starts_with('-'))?;
    let (_, flags) = trace_header(std::path::Path::new(&file)).ok()?;
    transform_arg(flags.into_iter())
}

/// The value of `--transform X` or `--transform=X` among `args`, if given.
fn transform_arg(mut args: impl Iterator<Item = String>) -> Option<String> {
    while let Some(arg) = args.next() {
        if arg == "--transform" {
            return args.next();
        }
        if let Some(value) = arg.strip_prefix("--transform=") {
            return Some(value.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::transform_arg;

    #[test]
    fn the_transform_is_read_in_either_form_anywhere() {
        let args = |s: &str| {
            s.split(' ')
                .map(str::to_string)
                .collect::<Vec<_>>()
                .into_iter()
        };
        assert_eq!(
            transform_arg(args("check --transform reliable")).as_deref(),
            Some("reliable")
        );
        assert_eq!(
            transform_arg(args("check --transform=reliable --x")).as_deref(),
            Some("reliable")
        );
        assert_eq!(transform_arg(args("check --clients 3")), None);
    }
}
