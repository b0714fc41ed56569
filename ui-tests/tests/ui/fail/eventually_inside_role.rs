verdict::system! {
    system S;
    role Client(u8) {
        state { held: bool = false }
        eventually granted reads(held) { *self.held }
    }
}
fn main() {}
