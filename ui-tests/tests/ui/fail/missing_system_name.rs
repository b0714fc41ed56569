verdict::system! {
    role Client { state { held: bool = false } }
}
fn main() {}
