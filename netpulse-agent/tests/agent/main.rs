//! Integration tests of the agent: real files, a real HTTP client against an in-process fake
//! server, canned `SpeedtestRunner`s, and the built binary.

mod checks;
mod cycle;
mod helpers;
mod process;
mod run;
mod spool;
