//! Windows Defender Firewall asks the user, the first time a program listens (or binds UDP) on
//! an address other machines can reach, whether to allow it. "Cancel" blocks other machines
//! without a word, while this PC (127.0.0.1) still gets through: the server looks fine locally
//! and a device on the LAN cannot reach it. The log says so on the first such listen.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

/// A listen or bind on `local` can raise the firewall's question: it is reachable from other
/// machines (all interfaces, or a LAN address), not loopback alone.
pub fn reachable_from_outside(local: SocketAddr) -> bool {
    !local.ip().is_loopback()
}

/// True once per program run, at the first listen or bind on `local` that the firewall may
/// ask about — on Windows; elsewhere never (no such question).
pub fn first_question(local: SocketAddr) -> bool {
    static SAID: AtomicBool = AtomicBool::new(false);
    cfg!(windows) && reachable_from_outside(local) && !SAID.swap(true, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_other_machines_reach_raise_the_question() {
        for (addr, asks) in [
            ("0.0.0.0:9000", true),
            ("[::]:9000", true),
            ("192.168.1.20:502", true),
            ("127.0.0.1:9000", false),
            ("[::1]:9000", false),
        ] {
            let local: SocketAddr = addr.parse().unwrap_or_else(|_| unreachable!());
            assert_eq!(reachable_from_outside(local), asks, "{addr}");
        }
    }
}
