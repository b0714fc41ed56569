verdict::system! {
    system S;
    role Client {
        on input Lock {}
    }
}
fn main() {}
