//! Parsing the addresses and ports users type. Bad input never reaches a socket: it becomes
//! an [`AddrError`] whose message says what is wrong with it.

use std::fmt;

use crate::i18n::{S, t, tf};
use std::net::{IpAddr, Ipv4Addr};

/// Why a typed address or port is not usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddrError {
    /// Nothing typed.
    Empty,
    /// An IPv4-looking address with a part above 255.
    OctetTooLarge {
        /// What was typed.
        input: String,
        /// The part that is too large.
        octet: String,
    },
    /// Not an IPv4 or IPv6 literal.
    NotAnIp(String),
    /// Not a number.
    PortNotNumber(String),
    /// A number above 65535.
    PortTooLarge(String),
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrError::Empty => f.write_str(t(S::ErrRequired)),
            AddrError::OctetTooLarge { input, octet } => {
                f.write_str(&tf(S::ErrOctetTooLarge, &[input, octet]))
            }
            AddrError::NotAnIp(input) => f.write_str(&tf(S::ErrNotAnIp, &[input])),
            AddrError::PortNotNumber(input) => f.write_str(&tf(S::ErrPortNotNumber, &[input])),
            AddrError::PortTooLarge(input) => f.write_str(&tf(S::ErrPortTooLarge, &[input])),
        }
    }
}

impl std::error::Error for AddrError {}

/// Parses an IPv4 or IPv6 literal, or `localhost`. Surrounding spaces and IPv6 brackets are allowed.
pub fn parse_ip(input: &str) -> Result<IpAddr, AddrError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(AddrError::Empty);
    }
    if text.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let unbracketed = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return Ok(ip);
    }
    // Say which part is wrong for the common slip of a dotted quad with a part over 255.
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && let Some(octet) = parts
            .iter()
            .find(|p| p.parse::<u32>().map_or(true, |n| n > 255))
    {
        return Err(AddrError::OctetTooLarge {
            input: text.to_owned(),
            octet: (*octet).to_owned(),
        });
    }
    Err(AddrError::NotAnIp(text.to_owned()))
}

/// Parses a port number 0–65535 (0 = any free port when binding).
pub fn parse_port(input: &str) -> Result<u16, AddrError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(AddrError::Empty);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddrError::PortNotNumber(text.to_owned()));
    }
    text.parse::<u16>()
        .map_err(|_| AddrError::PortTooLarge(text.to_owned()))
}

/// This machine's interface addresses, for the local-address picker: (interface name, address),
/// IPv4 first. Empty if the OS will not tell.
pub fn local_addresses() -> Vec<(String, IpAddr)> {
    let mut found: Vec<(String, IpAddr)> = if_addrs::get_if_addrs()
        .map(|list| list.into_iter().map(|i| (i.name.clone(), i.ip())).collect())
        .unwrap_or_default();
    found.sort_by_key(|(name, ip)| (ip.is_ipv6(), ip.is_loopback(), name.clone()));
    found.dedup_by(|a, b| a.1 == b.1);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octet_over_255_names_the_octet() {
        let e = parse_ip("300.1.1.1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "300.1.1.1 is not an IP address: 300 is more than 255"
        );
    }

    #[test]
    fn ipv6_with_brackets_and_localhost_parse() {
        assert_eq!(parse_ip("[::1]").unwrap(), "::1".parse::<IpAddr>().unwrap());
        assert_eq!(
            parse_ip(" localhost ").unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            parse_ip("0.0.0.0").unwrap(),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
    }

    #[test]
    fn port_70000_is_too_large_and_letters_are_not_a_port() {
        assert_eq!(
            parse_port("70000"),
            Err(AddrError::PortTooLarge("70000".into()))
        );
        assert_eq!(parse_port("9x"), Err(AddrError::PortNotNumber("9x".into())));
        assert_eq!(parse_port(""), Err(AddrError::Empty));
        assert_eq!(parse_port(" 0 "), Ok(0));
        assert_eq!(parse_port("65535"), Ok(65535));
    }

    #[test]
    fn words_are_not_addresses() {
        assert!(matches!(
            parse_ip("device.local"),
            Err(AddrError::NotAnIp(_))
        ));
        assert!(matches!(parse_ip("1.2.3"), Err(AddrError::NotAnIp(_))));
    }
}
