//! `kv`: the key-value store on one server or replicated by primary-backup,
//! checked for linearizability and deployed with the same handlers.
//!
//! ```text
//! kv check                                                  # exits 0: one server, reliable network
//! kv check --faults crash=1                                 # exits 1: a crash loses the store
//! kv check --faults crash=1 --transform primary-backup      # exits 0
//! kv check --transform primary-backup --broken reply-before-ack                     # exits 1
//! kv check --faults crash=1 --transform primary-backup --broken no-state-transfer   # exits 1
//! kv check --faults drop,dup,reorder,crash=1 --transform reliable-primary-backup --clients 1 --ops 1
//! kv cluster --clients 2 --transform primary-backup
//! kv client --cluster FILE --node 'Client(0)' '{"Put": [0, 1]}'
//! ```

use std::process::ExitCode;

use verdict::cli::{run_check_retransmitting, App, CheckArgs, Flag, Flags, EXIT_USAGE};
use verdict::transform::{
    reliable_model, PbBug, PbConfig, PrimaryBackup, Reliable, ReliableConfig,
};
use verdict::{Model, System};
use verdict_examples::kv::{self, Kv, KvInput, Store};

/// The ways `--transform` can serve the store.
const TRANSFORMS: [&str; 3] = ["none", "primary-backup", "reliable-primary-backup"];

fn main() -> ExitCode {
    // The transformer decides the system's type, so it is read before the
    // rest of the command line; it and `--broken` are also config flags of
    // every variant, so `cluster` passes them on to the processes it starts.
    let transform = value_of("--transform");
    let bug = match value_of("--broken").as_deref() {
        None => None,
        Some("reply-before-ack") => Some(PbBug::ReplyBeforeAck),
        Some("no-state-transfer") => Some(PbBug::NoStateTransfer),
        Some(other) => {
            return usage(format!(
                "unknown bug `{other}`; use reply-before-ack or no-state-transfer"
            ))
        }
    };
    let pb = PbConfig {
        bug,
        ..PbConfig::default()
    };
    match transform.as_deref() {
        None | Some("none") if bug.is_some() => {
            usage("--broken applies to a primary-backup transform")
        }
        None | Some("none") => app::<Kv>().run(),
        Some("primary-backup") => app::<PrimaryBackup<Store>>()
            .config(move |_| pb.clone())
            .run(),
        Some("reliable-primary-backup") => {
            let config = ReliableConfig::new(pb);
            app::<Reliable<PrimaryBackup<Store>>>()
                .config(move |_| config.clone())
                .on_check(move |flags, check| Some(check_reliable(flags, check, bug)))
                .run()
        }
        Some(other) => usage(format!(
            "unknown transform `{other}`; use one of {}",
            TRANSFORMS.join(", ")
        )),
    }
}

/// The value of `name X` or `name=X` on the command line, if given.
fn value_of(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    let prefix = format!("{name}=");
    while let Some(arg) = args.next() {
        if arg == name {
            return args.next();
        }
        if let Some(value) = arg.strip_prefix(&prefix) {
            return Some(value.to_string());
        }
    }
    None
}

/// The program for the store served as `S`.
fn app<S: System<Input = KvInput>>() -> App<S> {
    App::<S>::new("kv")
        .about("The key-value store, single-server or replicated, checked for linearizability")
        .size_flag("Client", "clients", 2, "Number of clients")
        .flag(Flag::usize(
            "ops",
            3,
            "Commands each client runs from its script",
        ))
        .config_flag(Flag::string(
            "transform",
            Some("none"),
            "How the store is served: none (one server), primary-backup, or \
             reliable-primary-backup",
        ))
        .config_flag(Flag::string(
            "broken",
            None,
            "A deliberate primary-backup bug: reply-before-ack or no-state-transfer",
        ))
        .workload(|setup, flags| kv::workload(setup, flags.usize("ops")))
}

/// Checks the reliable primary-backup store, with the bounds (or the exact
/// set-of-packets network) a retransmitting system's state space needs.
fn check_reliable(flags: &Flags, check: &CheckArgs, bug: Option<PbBug>) -> ExitCode {
    let faults = check.faults;
    let base = match kv::primary_backup(flags.usize("clients"), flags.usize("ops"), faults, bug) {
        Ok(m) => m,
        Err(e) => return usage(e),
    };
    let model: Model<Reliable<PrimaryBackup<Store>>> = reliable_model(&base, faults);
    run_check_retransmitting(model, check)
}

fn usage(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_USAGE)
}
