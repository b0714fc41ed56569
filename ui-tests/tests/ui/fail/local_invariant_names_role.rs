verdict::system! {
    system S;
    role Server {
        state { queue: Vec<u8> = Vec::new() }
        invariant small reads(Server.queue) { self.queue.len() < 4 }
    }
}
fn main() {}
