//! Opening sockets with the options std and mio do not expose (socket2), each failure turned
//! into an [`EngineError`] that names the address.

use std::io;
use std::net::SocketAddr;

use mio::net::{TcpListener, TcpStream, UdpSocket};
use socket2::{Domain, Protocol, Socket, Type};

use super::EngineError;

/// Backlog of the TCP listener: enough for a burst of devices reconnecting at once.
const BACKLOG: i32 = 1024;

fn new_socket(addr: SocketAddr, ty: Type, protocol: Protocol) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), ty, Some(protocol))?;
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        // `::` accepts IPv4 clients too, as users of "listen on all addresses" expect.
        // Not every OS allows this; IPv6-only is still a working listener.
        let _ = socket.set_only_v6(false);
    }
    Ok(socket)
}

/// A nonblocking TCP listener on `addr`, with SO_REUSEADDR so a restart on the same port works
/// at once (not on Windows, where SO_REUSEADDR would let two programs share the port).
pub fn listen(addr: SocketAddr) -> Result<TcpListener, EngineError> {
    let bind_err = |source| EngineError::Bind { addr, source };
    let socket = new_socket(addr, Type::STREAM, Protocol::TCP).map_err(bind_err)?;
    #[cfg(not(windows))]
    socket.set_reuse_address(true).map_err(bind_err)?;
    socket.bind(&addr.into()).map_err(bind_err)?;
    socket.listen(BACKLOG).map_err(bind_err)?;
    socket.set_nonblocking(true).map_err(bind_err)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// Starts a nonblocking connect to `remote`, bound first to `local` unless it is "any address,
/// any port". The result is known when the stream turns writable.
pub fn start_connect(local: SocketAddr, remote: SocketAddr) -> Result<TcpStream, EngineError> {
    let connect_err = |source| EngineError::Connect {
        addr: remote,
        source,
    };
    let socket = Socket::new(
        Domain::for_address(remote),
        Type::STREAM,
        Some(Protocol::TCP),
    )
    .map_err(connect_err)?;
    if !local.ip().is_unspecified() || local.port() != 0 {
        let bind_err = |source| EngineError::Bind {
            addr: local,
            source,
        };
        #[cfg(not(windows))]
        socket.set_reuse_address(true).map_err(bind_err)?;
        socket.bind(&local.into()).map_err(bind_err)?;
    }
    socket.set_nonblocking(true).map_err(connect_err)?;
    match socket.connect(&remote.into()) {
        Ok(()) => {}
        Err(e) if connect_in_progress(&e) => {}
        Err(e) => return Err(connect_err(e)),
    }
    Ok(TcpStream::from_std(socket.into()))
}

fn connect_in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    e.kind() == io::ErrorKind::WouldBlock
}

/// The receive buffer a UDP socket asks for.
const UDP_RECV_BUFFER: usize = 4 << 20;

/// A nonblocking UDP socket bound to `addr`, that keeps receiving after an ICMP
/// "port unreachable" (which Windows otherwise reports as a reset on the next receive).
///
/// Broadcast sends are allowed. With `shared` (a multicast receiver) the port may be bound by
/// other receivers of the group too (SO_REUSEADDR), as multicast tools expect.
pub fn bind_udp(addr: SocketAddr, shared: bool) -> Result<UdpSocket, EngineError> {
    let bind_err = |source| EngineError::Bind { addr, source };
    let socket = new_socket(addr, Type::DGRAM, Protocol::UDP).map_err(bind_err)?;
    socket.set_broadcast(true).map_err(bind_err)?;
    if shared {
        socket.set_reuse_address(true).map_err(bind_err)?;
    }
    // A burst waits in the kernel while the I/O thread is not running (a busy machine, a
    // debugger): the default buffer (208 KiB on Linux, 64 KiB on Windows) holds a few hundred
    // small datagrams, and the rest were dropped before anyone could count them. The OS may
    // grant less (Linux caps it at net.core.rmem_max); that is no error.
    let _ = socket.set_recv_buffer_size(UDP_RECV_BUFFER);
    socket.bind(&addr.into()).map_err(bind_err)?;
    socket.set_nonblocking(true).map_err(bind_err)?;
    let socket: std::net::UdpSocket = socket.into();
    #[cfg(windows)]
    windows::disable_udp_connreset(&socket).map_err(bind_err)?;
    Ok(UdpSocket::from_std(socket))
}

/// Bytes written to a TCP socket that its peer has not acknowledged yet (the kernel's send
/// queue, Linux's SIOCOUTQ): a slow reader still taking what was written shows as this
/// shrinking. `None` where the OS does not say.
#[cfg(target_os = "linux")]
pub fn unsent(stream: &TcpStream) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let mut queued: libc::c_int = 0;
    // SAFETY: the descriptor is the live socket borrowed for the call; TIOCOUTQ (SIOCOUTQ on
    // a socket) writes one int to the pointer given, which points at a live c_int.
    #[expect(
        unsafe_code,
        reason = "SIOCOUTQ has no safe wrapper in std, mio, socket2 or libc"
    )]
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &raw mut queued) };
    if rc == 0 {
        u64::try_from(queued).ok()
    } else {
        None
    }
}

/// Bytes written to a TCP socket that its peer has not acknowledged yet: not known here.
#[cfg(not(target_os = "linux"))]
pub fn unsent(stream: &TcpStream) -> Option<u64> {
    let _ = stream;
    None
}

#[cfg(windows)]
mod windows {
    use std::io;
    use std::os::windows::io::AsRawSocket;

    use windows_sys::Win32::Networking::WinSock::{SIO_UDP_CONNRESET, SOCKET_ERROR, WSAIoctl};

    /// Turns off SIO_UDP_CONNRESET. Without it, an ICMP port-unreachable answering one of our
    /// datagrams makes the next `recv_from` fail with WSAECONNRESET, and naive loops stop receiving.
    #[expect(
        unsafe_code,
        reason = "WSAIoctl has no safe wrapper in std, mio or socket2"
    )]
    pub fn disable_udp_connreset(socket: &std::net::UdpSocket) -> io::Result<()> {
        let enable: u32 = 0;
        let mut returned: u32 = 0;
        // SAFETY: the socket handle is valid for the call; the in-buffer is a live u32 of the
        // size given; no out-buffer, overlapped structure or completion routine is used.
        let rc = unsafe {
            WSAIoctl(
                socket.as_raw_socket() as usize,
                SIO_UDP_CONNRESET,
                std::ptr::from_ref(&enable).cast(),
                std::mem::size_of::<u32>() as u32,
                std::ptr::null_mut(),
                0,
                &raw mut returned,
                std::ptr::null_mut(),
                None,
            )
        };
        if rc == SOCKET_ERROR {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A burst of 3,000 small datagrams while nobody reads (the I/O thread descheduled on a
    /// busy machine) is all still there when reading resumes; with the default buffer
    /// about 270 were.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_burst_waits_in_the_socket_while_nobody_reads() {
        let max = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if max < 3 << 20 {
            eprintln!("skipped: net.core.rmem_max is {max}, under what the test needs");
            return;
        }
        let socket = bind_udp("127.0.0.1:0".parse().unwrap(), false).unwrap();
        let to = socket.local_addr().unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..3_000u32 {
            sender.send_to(&i.to_be_bytes(), to).unwrap();
        }
        let mut buf = [0u8; 16];
        let mut got = 0u32;
        while let Ok((n, _)) = socket.recv_from(&mut buf) {
            assert_eq!(&buf[..n], &got.to_be_bytes(), "in order, none missing");
            got += 1;
        }
        assert_eq!(got, 3_000, "datagrams the kernel dropped");
    }
}
