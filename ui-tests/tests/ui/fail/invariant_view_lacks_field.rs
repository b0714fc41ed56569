verdict::system! {
    system S;
    role Client(u8) {
        state { held: bool = false, waiting: bool = false }
    }
    invariant not_both reads(Client.held) {
        self.client.iter().all(|c| !(c.held && c.waiting))
    }
}
fn main() {}
