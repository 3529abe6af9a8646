//! The one timing abstraction the core needs: "wake me after this long". Native transports, the
//! browser and the simulator's virtual clock each provide one; the client uses it for timeouts.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A future that completes once its duration has elapsed. Not `Send`, so that browser timers fit.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + 'static>>;

/// A source of sleeps. Implementations: `FuturesTimer` (feature `futures-timer`: a helper thread
/// natively, `setTimeout` in the browser) and the simulator's virtual clock.
pub trait Timer {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

impl<T: Timer + ?Sized> Timer for &T {
    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
}

impl<T: Timer + ?Sized> Timer for std::rc::Rc<T> {
    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
}

impl<T: Timer + ?Sized> Timer for std::sync::Arc<T> {
    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
}

/// Real time through the `futures-timer` crate (works natively and, with its `wasm-bindgen`
/// feature, in the browser).
#[cfg(feature = "futures-timer")]
#[derive(Debug, Clone, Copy, Default)]
pub struct FuturesTimer;

#[cfg(feature = "futures-timer")]
impl Timer for FuturesTimer {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(futures_timer::Delay::new(duration))
    }
}

#[cfg(all(test, feature = "futures-timer", not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn futures_timer_sleeps_at_least_the_duration() {
        let start = std::time::Instant::now();
        futures::executor::block_on(FuturesTimer.sleep(Duration::from_millis(20)));
        assert!(start.elapsed() >= Duration::from_millis(20));
    }
}
