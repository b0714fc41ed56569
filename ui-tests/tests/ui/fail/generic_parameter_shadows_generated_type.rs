// `Msg` is a type the macro generates; a parameter cannot take its name.
verdict::system! {
    system Relay<Msg: verdict::Data>;
    role Server {
        state { last: Option<Msg> = None }
    }
}
fn main() {}
