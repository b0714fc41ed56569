verdict::system! {
    system S;
    role Client { state { #[domain()] level: u8 = 0 } }
}
fn main() {}
