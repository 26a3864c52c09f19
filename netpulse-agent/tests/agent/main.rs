//! Integration tests of the agent: real files, a real HTTP client against an in-process fake
//! server, canned `SpeedtestRunner`s, and the built binary.

mod checks;
mod cycle;
mod helpers;
#[path = "../../../netpulse-adapters/tests/adapters/netns.rs"]
#[allow(dead_code)] // the agent's tests use part of the rig
mod netns;
mod process;
mod run;
mod spool;
mod test_flag;
