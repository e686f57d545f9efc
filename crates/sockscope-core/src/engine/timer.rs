//! Timer resolution for the I/O loop's waits. Windows wakes a timed wait on its timer tick,
//! about 15.6 ms unless a program asks for finer: a 1 ms cyclic send then leaves in bursts of
//! fifteen, a relay's added latency and a rule's delayed reply come up to a tick late, and the
//! 2 ms back-off waits 15 ms. While the loop keeps waiting on short timers, it asks Windows for
//! 1 ms (`timeBeginPeriod`, which since Windows 10 2004 concerns this process alone) and gives
//! it back a second after the last short wait. Elsewhere waits are already that fine and this
//! does nothing.

use std::time::{Duration, Instant};

/// A wait shorter than this asks for the fine timer: on the default tick it could be late by
/// most of itself (a 30 ms period jitters by up to 15.6 ms).
pub(crate) const SHORT_WAIT: Duration = Duration::from_millis(50);

/// The fine timer is kept this long after the last short wait (timers that fire every few
/// tens of ms do not toggle it each time).
pub(crate) const LINGER: Duration = Duration::from_secs(1);

/// Whether the I/O loop holds the fine timer, and since when it last needed it.
#[derive(Debug, Default)]
pub(crate) struct FineTimer {
    /// The fine timer is asked for now.
    on: bool,
    /// The last wait that needed it.
    last_short: Option<Instant>,
}

impl FineTimer {
    /// Called before each wait of `timeout` (`None`: until something happens; zero: a
    /// look without waiting). Asks for the fine timer or gives it back as the waits need.
    pub fn before_wait(&mut self, timeout: Option<Duration>, now: Instant) {
        if let Some(on) = self.change(timeout, now) {
            set_fine(on);
        }
    }

    /// What to do before a wait of `timeout`: `Some(true)` ask for the fine timer,
    /// `Some(false)` give it back, `None` nothing.
    fn change(&mut self, timeout: Option<Duration>, now: Instant) -> Option<bool> {
        if timeout.is_some_and(|t| !t.is_zero() && t < SHORT_WAIT) {
            self.last_short = Some(now);
            if !self.on {
                self.on = true;
                return Some(true);
            }
            return None;
        }
        // No timer at all (waiting for events only): nothing needs the fine one.
        let idle = timeout.is_none()
            || self
                .last_short
                .is_none_or(|last| now.saturating_duration_since(last) >= LINGER);
        if self.on && idle {
            self.on = false;
            return Some(false);
        }
        None
    }

    /// True while the fine timer is asked for.
    #[cfg(test)]
    fn is_on(&self) -> bool {
        self.on
    }
}

impl Drop for FineTimer {
    fn drop(&mut self) {
        if self.on {
            set_fine(false);
        }
    }
}

/// Asks Windows for 1 ms timer resolution, or gives it back (each ask is matched by one give).
#[cfg(windows)]
#[expect(
    unsafe_code,
    reason = "timeBeginPeriod has no safe wrapper in std or mio"
)]
fn set_fine(on: bool) {
    use windows_sys::Win32::Media::{timeBeginPeriod, timeEndPeriod};
    // SAFETY: both take a number and touch no memory of ours; a refused period (it never is
    // for 1 ms) leaves the default tick.
    unsafe {
        if on {
            timeBeginPeriod(1);
        } else {
            timeEndPeriod(1);
        }
    }
}

/// Other systems' timed waits already wake within a millisecond or so.
#[cfg(not(windows))]
fn set_fine(_on: bool) {}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn short_waits_ask_for_the_fine_timer_and_a_second_without_one_gives_it_back() {
        let mut fine = FineTimer::default();
        let t0 = Instant::now();
        // Waiting for events only, or not waiting at all, needs no timer.
        assert_eq!(fine.change(None, t0), None);
        assert_eq!(fine.change(Some(Duration::ZERO), t0), None);
        // A long wait (a 1 s cyclic send) neither.
        assert_eq!(fine.change(Some(Duration::from_secs(1)), t0), None);
        // A 1 ms cyclic send does; asked once, not at every wait.
        assert_eq!(fine.change(Some(MS), t0), Some(true));
        assert_eq!(fine.change(Some(MS), t0 + MS), None);
        assert!(fine.is_on());
        // Long waits within the linger keep it (a timer every 100 ms does not toggle it).
        assert_eq!(fine.change(Some(100 * MS), t0 + 500 * MS), None);
        assert_eq!(
            fine.change(Some(Duration::from_secs(5)), t0 + 999 * MS),
            None
        );
        // A second after the last short wait it goes back, once.
        assert_eq!(
            fine.change(Some(Duration::from_secs(5)), t0 + MS + LINGER),
            Some(false)
        );
        assert_eq!(
            fine.change(Some(Duration::from_secs(5)), t0 + 3 * LINGER),
            None
        );
        assert!(!fine.is_on());
        // It comes back with the next short wait (the 2 ms back-off, say), and goes at once
        // when no timer is left at all.
        assert_eq!(fine.change(Some(2 * MS), t0 + 4 * LINGER), Some(true));
        assert_eq!(fine.change(None, t0 + 4 * LINGER + MS), Some(false));
    }
}
