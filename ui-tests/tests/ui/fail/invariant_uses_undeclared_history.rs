verdict::system! {
    system S;
    role Client(u8) {
        state { held: bool = false }
    }
    invariant short reads(Client.held) {
        self.history.len() < 10
    }
}
fn main() {}
