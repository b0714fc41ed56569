verdict::system! {
    system S;
    config { limit: u32 = 2 }
    input enum Input { Take }
    role Worker(u8) {
        state { taken: u32 = 0 }
        on input Take writes(taken) { *self.taken += 1; }
        invariant within_limit reads(taken) {
            self.taken <= self.config.limit
        }
    }
    invariant within_total reads(Worker.taken) {
        self.worker.iter().map(|w| w.taken).sum::<u32>() <= 2 * self.config.limit
    }
}
fn main() {}
