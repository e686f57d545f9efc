//! Loopback integration tests: every mode against real std-socket peers on 127.0.0.1 and ::1,
//! a lossy link between network namespaces (`netem`, which needs root and skips without it), and
//! process-wide resources under load (`resources`, measured in a process of its own). One test
//! binary with modules, so the 2-core machine links once.

// Test helpers unwrap: a failure is a failed test with a line number.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod automation;
mod capture;
mod faults;
mod framing;
mod half_close;
#[cfg(target_os = "linux")]
mod netem;
mod relay;
#[cfg(target_os = "linux")]
mod resources;
mod sending;
mod simulators;
mod tcp_client;
mod tcp_server;
mod tls;
mod udp;
mod util;
mod ws;
