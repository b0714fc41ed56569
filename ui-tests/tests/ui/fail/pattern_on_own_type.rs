#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Command(u8);
verdict::system! {
    system S;
    input type Input = Command;
    role Client {
        on input Input(n) {}
    }
}
fn main() {}
