//! End-to-end: `ryz014 provision` against `ryz014-sim` on a pseudo-terminal.

mod common;

use common::*;

#[test]
fn the_simulator_starts_on_a_pty_and_stops_with_its_state() {
    let sim = Sim::start(&[]);
    assert!(sim.path.starts_with("/dev/"), "{}", sim.path);
    let state = sim.stop();
    assert_eq!(state["imei"], SIM_IMEI);
}
