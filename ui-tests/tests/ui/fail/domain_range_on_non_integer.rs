verdict::system! {
    system S;
    role Client { state { #[domain(0..=3)] name: String = String::new() } }
}
fn main() {}
