verdict::system! {
    system S;
    message enum Msg { Hello }
    role Client {
        on start sends(Hello) { ctx.send(Node::Server, msg::Hello); }
    }
    role Server {
        state { seen: u8 = 0 }
        on message Hello from _ writes(seen) { *self.seen += 1; }
        on message Hello from _c writes(seen) { *self.seen += 2; }
    }
}
fn main() {}
