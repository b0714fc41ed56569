//! `lockserv`: check the lock server, or deploy it.
//!
//! ```text
//! lockserv check --clients 3                 # exits 0: mutual exclusion holds
//! lockserv check --clients 3 --faults dup    # exits 1 with a counterexample
//! lockserv cluster --clients 2               # three processes on loopback
//! lockserv client --cluster FILE --node 'Client(0)' Lock
//! ```

use std::process::ExitCode;

use verdict::cli::{App, Flag};
use verdict_examples::lockserv::{workload, LockServ};

fn main() -> ExitCode {
    App::<LockServ>::new("lockserv")
        .about("The lock server, checked and deployed with Verdict")
        .size_flag("Client", "clients", 3, "Number of clients")
        .flag(Flag::usize("rounds", 1, "Lock/unlock rounds per client"))
        .workload(|setup, flags| workload(setup, flags.usize("rounds")))
        .run()
}
