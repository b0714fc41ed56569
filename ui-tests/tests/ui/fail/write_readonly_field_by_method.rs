verdict::system! {
    system S;
    input enum Input { Go }
    role Server {
        state { queue: Vec<u8> = Vec::new() }
        on input Go reads(queue) {
            self.queue.push(1);
        }
    }
}
fn main() {}
