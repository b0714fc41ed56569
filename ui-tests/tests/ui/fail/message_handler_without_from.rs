verdict::system! {
    system S;
    message enum Msg { Hello }
    role Server {
        on message Hello {}
    }
}
fn main() {}
