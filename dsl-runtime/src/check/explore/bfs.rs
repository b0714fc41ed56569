//! Breadth-first search, level by level on all threads: the first violation
//! found has a shortest counterexample.
//!
//! Each level is a list of chunks; threads take chunks, expand their worlds
//! and collect the new ones into chunks of the next level. A chunk is freed
//! as soon as it is expanded, so memory is the visited set plus about two
//! levels of worlds.

use std::sync::Mutex;

use super::{Engine, Item, Sink, Worker};
use crate::system::System;

const CHUNK: usize = 1024;

pub(crate) fn run<S: System>(eng: &Engine<'_, S>, init: Item<S>, threads: usize) {
    let mut level: Vec<Vec<Item<S>>> = vec![vec![init]];
    while !level.is_empty() && !eng.stopped() {
        let work = Mutex::new(level);
        let next: Mutex<Vec<Vec<Item<S>>>> = Mutex::new(Vec::new());
        let expand_level = || {
            let mut worker = Worker::new();
            let mut out: Vec<Item<S>> = Vec::with_capacity(CHUNK);
            loop {
                let chunk = work.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let Some(chunk) = chunk else { break };
                for mut item in chunk {
                    if eng.stopped() {
                        break;
                    }
                    let mut push = |new| {
                        out.push(new);
                        if out.len() >= CHUNK {
                            let full = std::mem::replace(&mut out, Vec::with_capacity(CHUNK));
                            next.lock().unwrap_or_else(|e| e.into_inner()).push(full);
                        }
                    };
                    worker.expand(eng, &mut item, &mut Sink::Build(&mut push));
                    worker.released();
                }
            }
            if !out.is_empty() {
                next.lock().unwrap_or_else(|e| e.into_inner()).push(out);
            }
            worker.flush(eng);
        };
        if threads <= 1 {
            expand_level();
        } else {
            std::thread::scope(|scope| {
                for _ in 0..threads {
                    scope.spawn(expand_level);
                }
            });
        }
        level = next.into_inner().unwrap_or_else(|e| e.into_inner());
        let found: usize = level.iter().map(Vec::len).sum();
        if found > 0 {
            eng.levels
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(found as u64);
        }
    }
}
