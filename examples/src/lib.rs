//! Example systems written with Verdict, one module each; each has a binary
//! in `src/bin/` with `check` (and more) subcommands.

pub mod counter;
pub mod kv;
pub mod lockserv;
pub mod paxos;
pub mod pingpong;
pub mod twophase;
