//! Integration tests of the agent: real files, a real HTTP client against an in-process fake
//! server, canned `SpeedtestRunner`s, and the built binary.

mod cycle;
mod helpers;
mod process;
mod run;
mod set_back;
mod spool;
