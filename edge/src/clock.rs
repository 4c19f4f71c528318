//! The clock of scheduled work — broadcast schedules, local times, quiet hours: the real time,
//! or, where the deployment sets `TEST_CLOCK=on` (the tests do; production never does), the
//! real time shifted by an offset set with `PUT /api/v1/admin/test-clock`, so a test can walk
//! through a day in seconds. Everything else (tokens, rate limits, timestamps of messages)
//! keeps the real time.

use crate::error::Result;
use crate::http;
use crate::storage::test_clock;
use worker::Env;

#[derive(Clone, Copy, Debug, Default)]
pub struct Clock {
    offset: i64,
}

/// Whether tests may set the clock (`PUT /api/v1/admin/test-clock`).
pub fn settable(env: &Env) -> bool {
    env.var("TEST_CLOCK").is_ok_and(|v| v.to_string() == "on")
}

impl Clock {
    /// The deployment's clock: one D1 read where it is settable, none otherwise.
    pub async fn read(env: &Env) -> Result<Clock> {
        if !settable(env) {
            return Ok(Clock::default());
        }
        let offset = test_clock::offset(&env.d1("DB")?).await?;
        Ok(Clock { offset })
    }

    /// Milliseconds since the epoch, by this clock.
    pub fn now(&self) -> i64 {
        http::now_ms() + self.offset
    }

    /// The real time at which this clock reads `at` (for alarms and queue delays).
    pub fn real(&self, at: i64) -> i64 {
        at - self.offset
    }
}
