verdict::system! {
    system S;
    role Client { state { #[persist] held: bool = false } }
}
fn main() {}
