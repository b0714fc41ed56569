verdict::system! {
    system S;
    role Server {
        state { queue: Vec<u8> = Vec::new(), limit: usize = 4 }
        invariant small reads(queue) { self.queue.len() < *self.limit }
    }
}
fn main() {}
