//! `lockserv`: check the lock server, or deploy it — as written, or
//! wrapped by a system transformer.
//!
//! ```text
//! lockserv check --clients 3                 # exits 0: mutual exclusion holds
//! lockserv check --clients 3 --faults dup    # exits 1 with a counterexample
//! lockserv check --clients 3 --faults drop,dup,reorder --transform reliable   # exits 0
//! lockserv cluster --clients 2               # three processes on loopback
//! lockserv cluster --clients 2 --transform reliable --faults drop,dup,reorder
//! lockserv client --cluster FILE --node 'Client(0)' Lock
//! ```

use std::process::ExitCode;

use verdict::cli::{run_check_retransmitting, App, CheckArgs, Flag, Flags, EXIT_USAGE};
use verdict::transform::{recovering_model, reliable_model, CrashRecovery, Reliable};
use verdict::{Model, Setup, System, Workload};
use verdict_examples::lockserv::{self, Input, LockServ, Node};

/// The transformers `--transform` can apply.
const TRANSFORMS: [&str; 4] = [
    "none",
    "reliable",
    "crash-recovery",
    "reliable-crash-recovery",
];

fn main() -> ExitCode {
    // The transformer decides the system's type, so it is read before the
    // rest of the command line; it is also a config flag of every variant,
    // so `cluster` passes it on to the processes it starts.
    match transform_arg().as_deref() {
        None | Some("none") => app::<LockServ>().run(),
        Some("reliable") => app::<Reliable<LockServ>>()
            .on_check(|flags, check| {
                Some(match base_model(flags, check) {
                    Ok(base) => {
                        run_check_retransmitting(reliable_model(&base, check.faults), check)
                    }
                    Err(code) => code,
                })
            })
            .run(),
        Some("crash-recovery") => app::<CrashRecovery<LockServ>>().run(),
        Some("reliable-crash-recovery") => app::<Reliable<CrashRecovery<LockServ>>>()
            .on_check(|flags, check| {
                Some(match base_model(flags, check) {
                    Ok(base) => {
                        let recovering = recovering_model(&base, check.faults);
                        run_check_retransmitting(reliable_model(&recovering, check.faults), check)
                    }
                    Err(code) => code,
                })
            })
            .run(),
        Some(other) => {
            eprintln!(
                "error: unknown transform `{other}`; use one of {}",
                TRANSFORMS.join(", ")
            );
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// The value of `--transform` (`--transform X` or `--transform=X`), if given.
fn transform_arg() -> Option<String> {
    let mut args = std::env::args().skip(1);
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

/// The program for the lock server wrapped as `S`.
fn app<S: System<Node = Node, Input = Input>>() -> App<S> {
    App::<S>::new("lockserv")
        .about("The lock server, checked and deployed with Verdict")
        .size_flag("Client", "clients", 3, "Number of clients")
        .flag(Flag::usize("rounds", 1, "Lock/unlock rounds per client"))
        .config_flag(Flag::string(
            "transform",
            Some("none"),
            "Wrap the lock server in a transformer: none, reliable, crash-recovery or \
             reliable-crash-recovery",
        ))
        .workload(|setup, flags| workload(setup, flags.usize("rounds")))
}

/// The lock server's workload, for the lock server wrapped as `S`.
fn workload<S: System<Node = Node, Input = Input>>(setup: &Setup<S>, rounds: usize) -> Workload<S> {
    let base = setup.with_system::<LockServ>(());
    lockserv::workload(&base, rounds).with_system::<S>()
}

/// The unwrapped model the flags describe, or the usage exit code after
/// reporting a bad size.
fn base_model(flags: &Flags, check: &CheckArgs) -> Result<Model<LockServ>, ExitCode> {
    lockserv::model(flags.usize("clients"), flags.usize("rounds"), check.faults).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_USAGE)
    })
}
