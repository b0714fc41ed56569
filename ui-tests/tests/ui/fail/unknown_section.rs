verdict::system! {
    system S;
    roles { Client }
}
fn main() {}
