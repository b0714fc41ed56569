//! Depth-first search on all threads, for memory: besides the visited set
//! it keeps only each thread's path.
//!
//! Without symmetry each thread searches in place (`Worker::dive`): it
//! takes a world from the shared pool and walks everything below it on
//! that one world, taking steps and undoing them. When some thread is idle
//! and the pool is empty, a busy thread builds the unentered successors
//! nearest its root (with the most work under them) as worlds and puts
//! them in the pool. Under symmetry, which renames whole worlds, each
//! thread keeps a stack of worlds instead and shares the older half of it.
//! The search ends when every thread is idle and the pool is empty; both
//! are only changed under the pool's lock, so that test is exact. A busy
//! thread learns that another is idle from an atomic copy of the idle
//! count, so it takes no lock on the way.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::{Engine, Item, Share, Sink, Worker};
use crate::system::System;

struct Pool<S: System> {
    items: Vec<Item<S>>,
    idle: usize,
}

pub(crate) fn run<S: System>(eng: &Engine<'_, S>, init: Item<S>, threads: usize) {
    let threads = threads.max(1);
    let pool = Mutex::new(Pool {
        items: vec![init],
        idle: 0,
    });
    // Mirrors `Pool::idle`, for the lock-free check before sharing.
    let idle = AtomicUsize::new(0);
    // Symmetry renames whole worlds, so its successors are always built.
    let in_place = eng.sym.is_none();
    let work = || {
        let mut worker = Worker::new();
        let mut stack: Vec<Item<S>> = Vec::new();
        loop {
            if eng.stopped() {
                break;
            }
            let mut item = match stack.pop() {
                Some(item) => item,
                None => match take(&pool, &idle, threads, eng) {
                    Some(item) => item,
                    None => break,
                },
            };
            if in_place {
                let want = || pool_hungry(&idle);
                let mut give = |items: Vec<Item<S>>| {
                    let mut p = pool.lock().unwrap_or_else(|e| e.into_inner());
                    p.items.extend(items);
                    // The waiting threads will find work: no more sharing
                    // until one of them looks again and finds none.
                    idle.store(0, Ordering::Relaxed);
                };
                let share = (threads > 1).then_some(Share {
                    want: &want,
                    give: &mut give,
                });
                worker.dive(eng, item, share);
                continue;
            }
            worker.expand(eng, &mut item, &mut Sink::Build(&mut |new| stack.push(new)));
            drop(item);
            worker.released();
            if threads > 1 && stack.len() > 8 && idle.load(Ordering::Relaxed) > 0 {
                let mut p = pool.lock().unwrap_or_else(|e| e.into_inner());
                if p.idle > 0 && p.items.is_empty() {
                    let half = stack.len() / 2;
                    p.items.extend(stack.drain(..half));
                }
            }
        }
        worker.flush(eng);
    };
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(work);
            }
        });
    }
}

/// Waits for work from the pool; `None` when the search is over.
fn take<S: System>(
    pool: &Mutex<Pool<S>>,
    idle: &AtomicUsize,
    threads: usize,
    eng: &Engine<'_, S>,
) -> Option<Item<S>> {
    let mut p = pool.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(item) = p.items.pop() {
        return Some(item);
    }
    p.idle += 1;
    idle.store(p.idle, Ordering::Relaxed);
    loop {
        if p.idle == threads && p.items.is_empty() {
            return None;
        }
        if eng.stopped() {
            return None;
        }
        if let Some(item) = p.items.pop() {
            p.idle -= 1;
            idle.store(p.idle, Ordering::Relaxed);
            return Some(item);
        }
        idle.store(p.idle, Ordering::Relaxed);
        drop(p);
        std::thread::sleep(Duration::from_micros(50));
        p = pool.lock().unwrap_or_else(|e| e.into_inner());
    }
}

/// Whether some thread waits for work (a cheap, lock-free test).
fn pool_hungry(idle: &AtomicUsize) -> bool {
    idle.load(Ordering::Relaxed) > 0
}
