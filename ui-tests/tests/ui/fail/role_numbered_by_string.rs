verdict::system! {
    system S;
    role Client(String) { state { held: bool = false } }
}
fn main() {}
