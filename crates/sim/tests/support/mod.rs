//! Helpers shared by the simulator's tests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use mailtrail_sim::{Generator, Scenario, TenantConfig};

/// A generator for a tenant of `users` people over `days` days, with these attacks.
pub fn generator(seed: u64, users: u32, days: u32, scenarios: &[Scenario]) -> Generator {
    let config = TenantConfig::builder()
        .users(users)
        .days(days)
        .seed(seed)
        .scenarios(scenarios)
        .build()
        .unwrap();
    Generator::new(config)
}
