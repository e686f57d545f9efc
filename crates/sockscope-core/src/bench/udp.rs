//! UDP throughput: datagrams sent as fast as the limit allows from connected sockets, in
//! batches of 64 with `sendmmsg` on Linux (one system call per batch), one `send` at a time
//! elsewhere.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{Cause, Limiter, Progress, Report, Spec};

/// Datagrams per system call.
const BATCH: usize = 64;

pub(super) fn flood(spec: &Spec, stop: &AtomicBool, progress: Option<&Mutex<Progress>>) -> Report {
    let mut report = Report::new(spec);
    let local = if spec.target.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let sockets: Result<Vec<UdpSocket>, _> = (0..spec.connections.max(1))
        .map(|_| {
            let socket = UdpSocket::bind(local)?;
            socket.connect(spec.target)?;
            Ok::<_, std::io::Error>(socket)
        })
        .collect();
    let sockets = match sockets {
        Ok(s) => s,
        Err(e) => {
            report.fail(Cause::of(&e), Instant::now());
            report.finish(Instant::now());
            return report;
        }
    };
    report.connects = sockets.len() as u64;
    let start = Instant::now();
    let mut limiter = Limiter::new(spec.rate, spec.ramp, start);
    let mut last_progress = start;
    let mut next = 0usize;
    loop {
        let now = Instant::now();
        if stop.load(Ordering::Relaxed)
            || spec
                .duration
                .is_some_and(|d| now.duration_since(start) >= d)
            || spec.count.is_some_and(|n| report.sent >= n)
        {
            break;
        }
        let left = spec
            .count
            .map_or(BATCH as u64, |n| (n - report.sent).min(BATCH as u64));
        let allowed = limiter.take_up_to(now, left);
        if allowed == 0 {
            let wait = limiter
                .next_slot(now)
                .map_or(Duration::ZERO, |at| at.saturating_duration_since(now));
            std::thread::sleep(wait.min(Duration::from_millis(5)));
            continue;
        }
        let Some(socket) = sockets.get(next % sockets.len()) else {
            break;
        };
        next = next.wrapping_add(1);
        match send_batch(socket, &spec.payload, allowed as usize) {
            Ok(sent) => {
                report.sent += sent as u64;
                report.bytes_sent += (sent * spec.payload.len()) as u64;
                report.seconds_sent(now, sent as u64);
            }
            // ICMP port unreachable for an earlier datagram: counted, and the flood goes on.
            Err(e) => report.fail_requests(Cause::of_datagram(&e), now, 1),
        }
        if let Some(progress) = progress
            && now.duration_since(last_progress) >= Duration::from_millis(100)
        {
            last_progress = now;
            report.progress_into(progress, now);
        }
    }
    let now = Instant::now();
    report.finish(now);
    if let Some(progress) = progress {
        report.progress_into(progress, now);
    }
    report
}

#[cfg(target_os = "linux")]
#[expect(
    unsafe_code,
    reason = "sendmmsg has no safe wrapper in std, socket2 or mio"
)]
fn send_batch(socket: &UdpSocket, payload: &[u8], n: usize) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let n = n.min(BATCH);
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr().cast_mut().cast(),
        iov_len: payload.len(),
    };
    // SAFETY: every header points at the one iovec, which points at `payload`; both outlive
    // the call, and the kernel only reads them (sendmmsg does not write through iov_base).
    // `msgs` holds `n` initialised headers; the socket is connected, so no address is given.
    let sent = unsafe {
        let mut msgs: [libc::mmsghdr; BATCH] = std::mem::zeroed();
        for msg in msgs.iter_mut().take(n) {
            msg.msg_hdr.msg_iov = &raw mut iov;
            msg.msg_hdr.msg_iovlen = 1;
        }
        libc::sendmmsg(socket.as_raw_fd(), msgs.as_mut_ptr(), n as libc::c_uint, 0)
    };
    if sent < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(sent as usize)
    }
}

#[cfg(not(target_os = "linux"))]
fn send_batch(socket: &UdpSocket, payload: &[u8], n: usize) -> std::io::Result<usize> {
    let mut sent = 0;
    for _ in 0..n {
        socket.send(payload)?;
        sent += 1;
    }
    Ok(sent)
}
