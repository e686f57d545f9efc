//! The address a datagram was sent to, for a UDP socket bound to all addresses (`0.0.0.0`,
//! `::`): a broadcast, a multicast group or one of this machine's addresses. Linux gives it
//! with each datagram once asked (IP_PKTINFO, IPV6_RECVPKTINFO); elsewhere it stays unknown.

use std::io;
use std::net::{IpAddr, SocketAddr};

/// Asks the kernel to say each datagram's destination; false where it cannot.
#[cfg(target_os = "linux")]
#[expect(
    unsafe_code,
    reason = "IP_PKTINFO has no setter in std, mio or socket2"
)]
pub(crate) fn enable(socket: &impl std::os::fd::AsRawFd, v6: bool) -> bool {
    let on: libc::c_int = 1;
    let set = |level, name| {
        // SAFETY: a valid socket and a c_int option of its size.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                level,
                name,
                (&raw const on).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ) == 0
        }
    };
    if v6 {
        // A dual-stack socket says an IPv4 datagram's destination as IPv4-mapped.
        set(libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO)
    } else {
        set(libc::IPPROTO_IP, libc::IP_PKTINFO)
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn enable<S>(_socket: &S, _v6: bool) -> bool {
    false
}

/// Receives one datagram: its length, sender and (when the kernel said it) destination.
#[cfg(target_os = "linux")]
#[expect(
    unsafe_code,
    reason = "recvmsg with control messages has no safe wrapper in std or mio"
)]
pub(crate) fn recv(
    socket: &impl std::os::fd::AsRawFd,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Option<IpAddr>)> {
    // SAFETY: zeroed C structs are valid; recvmsg gets pointers to buffers that live through
    // the call, with their sizes; the control messages are walked with the libc macros within
    // `controllen` bytes the kernel wrote.
    unsafe {
        let mut from: libc::sockaddr_storage = std::mem::zeroed();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // Room for one IPv6 packet-info message (the larger), aligned.
        let mut control = [0u64; 16];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_name = (&raw mut from).cast();
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let n = libc::recvmsg(socket.as_raw_fd(), &raw mut msg, 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let sender = match libc::c_int::from(from.ss_family) {
            libc::AF_INET => {
                let v4 = std::ptr::read_unaligned((&raw const from).cast::<libc::sockaddr_in>());
                SocketAddr::new(
                    IpAddr::from(u32::from_be(v4.sin_addr.s_addr).to_be_bytes()),
                    u16::from_be(v4.sin_port),
                )
            }
            libc::AF_INET6 => {
                let v6 = std::ptr::read_unaligned((&raw const from).cast::<libc::sockaddr_in6>());
                SocketAddr::V6(std::net::SocketAddrV6::new(
                    std::net::Ipv6Addr::from(v6.sin6_addr.s6_addr),
                    u16::from_be(v6.sin6_port),
                    v6.sin6_flowinfo,
                    v6.sin6_scope_id,
                ))
            }
            _ => {
                return Err(io::Error::other(
                    "a datagram from an address that is not IP",
                ));
            }
        };
        let mut to = None;
        let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        while !cmsg.is_null() {
            let header = &*cmsg;
            if header.cmsg_level == libc::IPPROTO_IP && header.cmsg_type == libc::IP_PKTINFO {
                let info =
                    std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::in_pktinfo>());
                to = Some(IpAddr::from(
                    u32::from_be(info.ipi_addr.s_addr).to_be_bytes(),
                ));
            } else if header.cmsg_level == libc::IPPROTO_IPV6
                && header.cmsg_type == libc::IPV6_PKTINFO
            {
                let info =
                    std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::in6_pktinfo>());
                let v6 = std::net::Ipv6Addr::from(info.ipi6_addr.s6_addr);
                to = Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4));
            }
            cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
        }
        Ok((n as usize, sender, to))
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn recv<S>(
    _socket: &S,
    _buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Option<IpAddr>)> {
    Err(io::ErrorKind::Unsupported.into())
}
