//! Port choice for test servers: a free control port, and passive port ranges that parallel
//! tests (threads of one test binary, or several test binaries) are unlikely to share.

use std::io;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU32, Ordering};

/// First port of the area passive ranges are cut from. The area lies below Linux's default
/// ephemeral range (32768-60999), so outgoing connections do not take these ports either.
const AREA_START: u16 = 20_000;
/// Ports in the area.
const AREA_LEN: u16 = 12_700;
/// Ports per range: plenty for one server (each waits at most one data connection per session).
const BLOCK: u16 = 50;

static NEXT_BLOCK: AtomicU32 = AtomicU32::new(0);

/// A passive port range (50 ports) for one test server.
///
/// Successive calls walk through 254 blocks in 20000-32699, starting at an offset derived from
/// the process id, so servers started at the same time by parallel tests, in this process or
/// another, get different ranges. Collisions are still possible after a wrap-around; the
/// servers then simply try another port of their range.
///
/// ```
/// let a = ftp_tests::passive_range();
/// let b = ftp_tests::passive_range();
/// assert_eq!(a.end() - a.start() + 1, 50);
/// assert!(a.end() < b.start() || b.end() < a.start());
/// ```
pub fn passive_range() -> RangeInclusive<u16> {
    let blocks = u32::from(AREA_LEN / BLOCK);
    let offset = std::process::id().wrapping_mul(2_654_435_761) % blocks;
    let n = (NEXT_BLOCK.fetch_add(1, Ordering::Relaxed) + offset) % blocks;
    let start = AREA_START + n as u16 * BLOCK;
    start..=start + BLOCK - 1
}

/// `n` adjacent blocks of [`passive_range`] as one range (`n` × 50 ports), taken at once so
/// that parallel tests cannot interleave with them: for a server under heavy load whose
/// passive ports linger in TIME_WAIT.
///
/// ```
/// let wide = ftp_tests::passive_ranges(8);
/// assert_eq!(wide.end() - wide.start() + 1, 400);
/// let next = ftp_tests::passive_range();
/// assert!(wide.end() < next.start() || next.end() < wide.start());
/// ```
pub fn passive_ranges(n: u16) -> RangeInclusive<u16> {
    let blocks = u32::from(AREA_LEN / BLOCK);
    let n = u32::from(n.clamp(1, AREA_LEN / BLOCK));
    let offset = std::process::id().wrapping_mul(2_654_435_761) % blocks;
    loop {
        let first = (NEXT_BLOCK.fetch_add(n, Ordering::Relaxed) + offset) % blocks;
        // A run that would wrap past the end of the area is skipped: the next one starts low.
        if first + n <= blocks {
            let start = AREA_START + first as u16 * BLOCK;
            return start..=start + n as u16 * BLOCK - 1;
        }
    }
}

/// A TCP port on `ip` that nothing listens on right now (asked from the kernel by binding port
/// 0). Someone else may take it before the caller binds it: callers retry on failure.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// let port = ftp_tests::free_port(IpAddr::V4(Ipv4Addr::LOCALHOST)).unwrap();
/// assert_ne!(port, 0);
/// ```
pub fn free_port(ip: IpAddr) -> io::Result<u16> {
    let listener = TcpListener::bind((ip, 0))?;
    Ok(listener.local_addr()?.port())
}

/// True when this machine has an IPv6 loopback (`::1` can be bound). Some containers run
/// with IPv6 disabled; IPv6 tests check this first and say so when they cannot run.
///
/// ```
/// if ftp_tests::ipv6_available() {
///     std::net::TcpListener::bind("[::1]:0").unwrap();
/// }
/// ```
pub fn ipv6_available() -> bool {
    TcpListener::bind((std::net::Ipv6Addr::LOCALHOST, 0)).is_ok()
}

/// `127.0.0.1`.
pub(crate) const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
