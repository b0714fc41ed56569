verdict::system! {
    system S;
    role Server {
        state { queue: Vec<u8> = Vec::new() }
    }
    role Client(u8) {
        state { held: bool = false }
    }
    invariant consistent reads(Client.held) {
        self.client.iter().filter(|c| *c.held).count() <= self.server.queue.len()
    }
}
fn main() {}
