//! Example systems written with Verdict, one module each; each has a binary
//! in `src/bin/` with `check` (and more) subcommands.

pub mod balancer;
pub mod batcher;
pub mod bgp;
pub mod chang_roberts;
pub mod counter;
pub mod desk;
pub mod distributed_lock;
pub mod keypad;
pub mod kv;
pub mod lockserv;
pub mod lockserv_upgrade;
pub mod paxos;
pub mod pingpong;
pub mod raft_election;
pub mod redis_store;
pub mod ricart_agrawala;
pub mod twophase;

pub mod allocator;

/// The checker allocates and frees a world for every new state; mimalloc's
/// thread-local free lists make that markedly cheaper than glibc's malloc.
#[global_allocator]
static ALLOCATOR: allocator::Allocator = allocator::Allocator;
