verdict::system! {
    system S;
    role Client {
        state { held: bool = false, held: bool = true }
    }
}
fn main() {}
