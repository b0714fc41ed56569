//! The tutorial's mistake: the client's grant handler changes `held`
//! without declaring it.

verdict::system! {
    system LockServ;
    input enum Input { Lock, Unlock }
    output enum Output { Locked }
    message enum Msg { Lock, Unlock, Grant }

    role Server {
        on message Lock from client sends(Grant) {
            ctx.send(client, msg::Grant);
        }
        on message Unlock from _client {}
    }

    role Client(u8) {
        state { held: bool = false }

        on input Lock sends(Lock) {
            ctx.send(Node::Server, msg::Lock);
        }

        on message Grant from _server emits(Locked) {
            *self.held = true;
            ctx.output(output::Locked);
        }
    }
}

fn main() {}
