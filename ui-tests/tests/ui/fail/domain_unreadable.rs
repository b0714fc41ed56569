verdict::system! {
    system S;
    role Client { state { #[domain(0..=x)] level: u8 = 0 } }
}
fn main() {}
