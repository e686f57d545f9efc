//! What the test binaries share (a dev-dependency of both crates): bounded waits on a
//! condition, loopback peers written in the test (an echo server, a peer that answers each
//! read), free ports, named threads, child processes that end with the test, certificates
//! made with rcgen, and temporary folders that are removed.
//!
//! Nothing here knows SockScope: it is the tests' side of the wire. Every wait is bounded and
//! says what it waited for when it runs out; every thread has a name.

#![allow(
    clippy::missing_panics_doc,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers panic with the reason when the world does not do its part"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::Child;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub mod cert;

pub use tempfile::TempDir;

/// Long enough for a loaded 2-core machine running every test binary at once (and for a peer
/// started under Wine, which took more than 5 s), short enough that a hang fails in time. A
/// wait ends as soon as its condition holds: this is only what a failure costs.
pub const WAIT: Duration = Duration::from_secs(20);

/// Checks `done` every few milliseconds until it holds (true) or `within` runs out (false).
pub fn poll_until(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    let mut pause = Duration::from_millis(1);
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(pause);
        // Quick for what is nearly there, without spinning on what takes a while.
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Waits until `done` holds; after [`WAIT`] the test fails saying it waited for `what`.
#[track_caller]
pub fn wait_until(what: &str, done: impl FnMut() -> bool) {
    assert!(poll_until(WAIT, done), "timed out waiting for {what}");
}

/// A TCP port on 127.0.0.1 that nothing listens on now (a server the test starts takes it;
/// a client sent there is refused).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Waits until something accepts TCP connections at `addr` (a peer started as a process).
/// The probe connects and closes at once: do not use it on a server that takes its first
/// connection for the real one.
#[track_caller]
pub fn wait_listening(addr: impl ToSocketAddrs + Copy + std::fmt::Debug) {
    assert!(
        poll_until(WAIT, || TcpStream::connect(addr).is_ok()),
        "nothing listens on {addr:?}"
    );
}

/// Waits until something has bound TCP `port` on 127.0.0.1, without connecting to it: for a
/// peer that takes one connection only (`ncat -l`), which a probe would use up.
#[track_caller]
pub fn wait_bound(port: u16) {
    assert!(
        poll_until(WAIT, || TcpListener::bind(("127.0.0.1", port)).is_err()),
        "nothing listens on {port}"
    );
}

/// Runs `f` on a thread named `name`.
pub fn spawn<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .expect("a thread starts")
}

/// A child process that is killed and reaped when dropped (a failed assertion must not leave
/// a server running).
#[must_use = "the process is killed when this is dropped"]
pub struct Running(pub Child);

impl Running {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP echo server on 127.0.0.1: every connection on its own thread, until the test process
/// ends; a half-close is passed on once everything before it was echoed.
pub fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("the echo server binds");
    let addr = listener.local_addr().expect("its address");
    spawn("echo", move || {
        for stream in listener.incoming().flatten() {
            spawn("echo-conn", move || {
                let mut stream = stream;
                let mut buf = vec![0u8; 64 << 10];
                while let Ok(n) = stream.read(&mut buf) {
                    let Some(read) = buf.get(..n).filter(|_| n > 0) else {
                        let _ = stream.shutdown(std::net::Shutdown::Write);
                        break;
                    };
                    if stream.write_all(read).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// A TCP peer on 127.0.0.1 that answers each read with `answer(read)` (nothing when empty),
/// for up to `connections` connections one after another, each idle for at most [`WAIT`].
pub fn tcp_peer(
    connections: usize,
    answer: impl Fn(&[u8]) -> Vec<u8> + Send + 'static,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("the peer binds");
    let addr = listener.local_addr().expect("its address");
    spawn("tcp-peer", move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { return };
            let _ = stream.set_read_timeout(Some(WAIT));
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                let Some(read) = buf.get(..n).filter(|_| n > 0) else {
                    break;
                };
                let reply = answer(read);
                if !reply.is_empty() && stream.write_all(&reply).is_err() {
                    break;
                }
            }
        }
    });
    addr
}

/// A fresh temporary folder whose name starts with `sockscope-{tag}-`, removed when dropped.
pub fn temp_dir(tag: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("sockscope-{tag}-"))
        .tempdir()
        .expect("a temporary folder")
}
