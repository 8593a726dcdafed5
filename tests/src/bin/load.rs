//! `custadmin-load`: drives a live `custadmin serve` (normally a release build) over loopback
//! and reports throughput, latencies and server memory. See `BENCHMARKS.md` for how it is run.

#[path = "../load/mod.rs"]
mod load;

fn main() -> std::process::ExitCode {
    load::main()
}
